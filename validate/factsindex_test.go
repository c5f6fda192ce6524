package validate

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relreg/relreg/registry"
)

// bruteFacts answers releaseFacts by walking every release: the
// definition factsIndex and overlay must match.
type bruteFacts map[string]registry.Facts

func (b bruteFacts) Get(id string) (registry.Facts, bool) { f, ok := b[id]; return f, ok }

func (b bruteFacts) where(match func(id string, f registry.Facts) bool) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		for id, f := range b {
			if match(id, f) && !yield(id, f) {
				return
			}
		}
	}
}

func (b bruteFacts) Service(svc string) iter.Seq2[string, registry.Facts] {
	return b.where(func(id string, _ registry.Facts) bool { return strings.HasPrefix(id, svc+"@") })
}

func (b bruteFacts) Schedule(name string) iter.Seq2[string, registry.Facts] {
	return b.where(func(_ string, f registry.Facts) bool { return f.Schedule == name })
}

func (b bruteFacts) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	return b.where(func(_ string, f registry.Facts) bool {
		return f.Schedule == schedule && f.WindowOK && iv.Start.Before(f.Window.End) && f.Window.Start.Before(iv.End)
	})
}

func (b bruteFacts) Dependents(id string) iter.Seq2[string, registry.Facts] {
	return b.where(func(_ string, f registry.Facts) bool { return slices.Contains(f.DependsOn, id) })
}

func (b bruteFacts) Users(entry string) iter.Seq2[string, registry.Facts] {
	return b.where(func(_ string, f registry.Facts) bool {
		return slices.ContainsFunc(f.Components, func(c registry.ComponentRef) bool { return c.Name+"@"+c.Version == entry })
	})
}

// randomFacts makes the facts of a release with few enough services,
// schedules, versions and hours that questions have several answers,
// windows of every length (some inverted, some decades long) and some that
// do not parse.
func randomFacts(r *rand.Rand) (string, registry.Facts) {
	id := fmt.Sprintf("svc-%d@1.%d.0", r.IntN(4), r.IntN(12))
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	start := base.Add(time.Duration(r.IntN(200)) * time.Hour)
	length := time.Duration(r.IntN(12)-2) * time.Hour
	long := r.IntN(40) == 0 // 300 years, from 1732: past what a Duration measures
	f := registry.Facts{
		Schedule: []string{"production", "staging", ""}[r.IntN(3)],
		Window:   registry.Interval{Start: start, End: start.Add(length)},
		WindowOK: r.IntN(8) != 0,
		Phase:    []string{"planned", "deploying", "closed"}[r.IntN(3)],
	}
	if long {
		f.Window = registry.Interval{Start: base.AddDate(-295, 0, 0), End: base.AddDate(5, 0, 0)}
	}
	for range r.IntN(3) {
		f.DependsOn = append(f.DependsOn, fmt.Sprintf("svc-%d@1.%d.0", r.IntN(4), r.IntN(12)))
	}
	for range 1 + r.IntN(2) {
		f.Components = append(f.Components, registry.ComponentRef{Name: fmt.Sprintf("app-%d", r.IntN(3)), Version: fmt.Sprintf("1.%d.0", r.IntN(4))})
	}
	return id, f
}

// answers runs the questions of the kinds ask allows on src and returns
// the answers, sorted.
func answers(src releaseFacts, r *rand.Rand, ask func(kind string) bool) []string {
	var out []string
	add := func(q string, seq iter.Seq2[string, registry.Facts]) {
		kind, _, _ := strings.Cut(q, "(")
		if !ask(kind) {
			return
		}
		var ids []string
		for id, f := range seq {
			if g, ok := src.Get(id); !ok || fmt.Sprint(g) != fmt.Sprint(f) {
				ids = append(ids, id+"(facts differ from Get)")
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out = append(out, q+": "+strings.Join(ids, " "))
	}
	for s := range 4 {
		add(fmt.Sprintf("Service(svc-%d)", s), src.Service(fmt.Sprintf("svc-%d", s)))
		add(fmt.Sprintf("Dependents(svc-%d@1.3.0)", s), src.Dependents(fmt.Sprintf("svc-%d@1.3.0", s)))
	}
	for _, name := range []string{"production", "staging", "", "other"} {
		add("Schedule("+name+")", src.Schedule(name))
		for range 5 {
			start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(220)-10) * time.Hour)
			iv := registry.Interval{Start: start, End: start.Add(time.Duration(r.IntN(10)-1) * time.Hour)}
			add("Overlapping("+name+", "+iv.String()+")", src.Overlapping(name, iv))
		}
	}
	for c := range 3 {
		add(fmt.Sprintf("Users(app-%d@1.1.0)", c), src.Users(fmt.Sprintf("app-%d@1.1.0", c)))
	}
	return out
}

// TestFactsIndexMatchesBruteForce keeps an index and an overlay over it
// through random changes and asks both questions after each, against the
// same questions answered by walking every release. Each kind of question
// is first asked at a different step, so its index is built from facts
// changed before, and kept current after.
func TestFactsIndexMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	truth := bruteFacts{}
	for range 60 {
		id, f := randomFacts(r)
		truth[id] = f
	}
	initial := map[string]registry.Facts{}
	for id, f := range truth {
		initial[id] = f
	}
	x := newFactsIndex(initial)
	indexed := 0 // overlays that indexed their changed releases
	firstAsked := map[string]int{}
	for _, kind := range []string{"Service", "Dependents", "Schedule", "Overlapping", "Users"} {
		firstAsked[kind] = r.IntN(30)
	}
	for step := range 400 {
		ask := func(kind string) bool { return step >= firstAsked[kind] }
		// A change of a few releases, seen first as an overlay; one step
		// in eight changes enough releases for the overlay to index them.
		changed := map[string]*registry.Facts{}
		n := 1 + r.IntN(3)
		if step%8 == 0 {
			n = overlayIndexMin + r.IntN(overlayIndexMin)
		}
		for range n {
			id, f := randomFacts(r)
			if r.IntN(4) == 0 {
				changed[id] = nil
			} else {
				changed[id] = &f
			}
		}
		after := bruteFacts{}
		for id, f := range truth {
			after[id] = f
		}
		for id, f := range changed {
			delete(after, id)
			if f != nil {
				after[id] = *f
			}
		}
		seed := r.Uint64()
		o := newOverlay(x, changed)
		if o.added != nil {
			indexed++
		}
		got := answers(o, rand.New(rand.NewPCG(seed, 1)), ask)
		want := answers(after, rand.New(rand.NewPCG(seed, 1)), ask)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: overlay answers\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for id, f := range changed {
			x.Set(id, f)
		}
		truth = after
		got = answers(x, rand.New(rand.NewPCG(seed, 2)), ask)
		want = answers(truth, rand.New(rand.NewPCG(seed, 2)), ask)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: index answers\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if len(truth) < 20 || indexed < 20 {
		t.Fatalf("only %d releases at the end and %d indexed overlays: the test exercised too little", len(truth), indexed)
	}
}
