package validate

import (
	"slices"
	"strings"
	"testing"
)

// specLifecycle is the table of lifecycle edges of the contract (SPEC.md
// section 3), as written there.
const specLifecycle = `
draft -> planned | cancelled          planned -> building | cancelled
building -> testing | cancelled       testing -> building | accepted | cancelled
accepted -> deploying | cancelled     deploying -> deployed | rolled-back
deployed -> closed | rolled-back      rolled-back -> closed
closed -> retired                     cancelled, retired: final
`

// specEdges parses specLifecycle: each phase's next phases, in the
// table's order, and every phase in the order the table names them.
func specEdges(tb testing.TB) (map[string][]string, []string) {
	tb.Helper()
	edges := map[string][]string{}
	var phases []string
	see := func(p string) {
		if !slices.Contains(phases, p) {
			phases = append(phases, p)
		}
	}
	fields := strings.Fields(specLifecycle)
	for i := 0; i < len(fields); i++ {
		switch {
		case i+1 < len(fields) && fields[i+1] == "->":
			from := fields[i]
			see(from)
			edges[from] = []string{}
			for i += 2; i < len(fields); i += 2 {
				edges[from] = append(edges[from], fields[i])
				see(fields[i])
				if i+1 >= len(fields) || fields[i+1] != "|" {
					break
				}
			}
		case strings.HasSuffix(fields[i], ",") || strings.HasSuffix(fields[i], ":"):
			p := strings.TrimRight(fields[i], ",:")
			if p == "final" {
				continue
			}
			see(p)
			edges[p] = []string{}
		case fields[i] == "final":
		default:
			tb.Fatalf("cannot read the lifecycle table at %q", fields[i])
		}
	}
	return edges, phases
}

// shortestPaths returns every shortest path from one phase to another over
// edges (excluding from, including to), by breadth-first search: [[]] when
// from is to, nil when to cannot be reached.
func shortestPaths(edges map[string][]string, from, to string) [][]string {
	if from == to {
		return [][]string{{}}
	}
	dist := map[string]int{from: 0}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, n := range edges[p] {
			if _, ok := dist[n]; !ok {
				dist[n] = dist[p] + 1
				queue = append(queue, n)
			}
		}
	}
	if _, ok := dist[to]; !ok {
		return nil
	}
	// Walk every path whose phases are one step further each time.
	var out [][]string
	var walk func(p string, path []string)
	walk = func(p string, path []string) {
		if p == to {
			out = append(out, slices.Clone(path))
			return
		}
		for _, n := range edges[p] {
			if d, ok := dist[n]; ok && d == dist[p]+1 && d <= dist[to] {
				walk(n, append(path, n))
			}
		}
	}
	walk(from, nil)
	return out
}

// FuzzPhasePath checks the path finder of the change rules against the
// lifecycle table of the contract, for any pair of phases or junk: the
// path is a shortest one (as long as a breadth-first search over the table
// finds), every edge of it is an edge of the table, it ends at the target,
// it is the first of the shortest paths in the table's order, and
// phasePaths lists exactly the shortest paths.
func FuzzPhasePath(f *testing.F) {
	edges, phases := specEdges(f)
	if len(phases) != 11 {
		f.Fatalf("the lifecycle table names %d phases, want 11: %v", len(phases), phases)
	}
	for _, p := range phases {
		if got := lifecycle[p].next; !slices.Equal(got, edges[p]) && !(len(got) == 0 && len(edges[p]) == 0) {
			f.Fatalf("lifecycle[%s].next = %v, but the contract says %v", p, got, edges[p])
		}
	}
	for p := range lifecycle {
		if !slices.Contains(phases, p) {
			f.Fatalf("lifecycle has phase %s, which the contract does not", p)
		}
	}
	for _, from := range phases {
		for _, to := range phases {
			f.Add(from, to)
		}
	}
	for _, junk := range []string{"", "Draft", "draft ", "rolled_back", "final", "deployed\x00"} {
		f.Add(junk, "closed")
		f.Add("draft", junk)
		f.Add(junk, junk)
	}
	// rank orders paths by the position of each step in its phase's list
	// of next phases: the table's order.
	rank := func(from string, path []string) []int {
		r := make([]int, len(path))
		prev := from
		for i, p := range path {
			r[i] = slices.Index(edges[prev], p)
			prev = p
		}
		return r
	}
	f.Fuzz(func(t *testing.T, from, to string) {
		got, all := phasePath(from, to), phasePaths(from, to)
		want := shortestPaths(edges, from, to)
		if want == nil {
			if got != nil || all != nil {
				t.Fatalf("phasePath(%q, %q) = %v (all %v), but the table has no path", from, to, got, all)
			}
			return
		}
		if got == nil || len(all) == 0 {
			t.Fatalf("phasePath(%q, %q) = nil, want a path of %d steps such as %v", from, to, len(want[0]), want[0])
		}
		if !slices.Equal(got, all[0]) {
			t.Errorf("phasePath(%q, %q) = %v, want the first of phasePaths %v", from, to, got, all)
		}
		if len(got) != len(want[0]) {
			t.Fatalf("phasePath(%q, %q) = %v, %d steps; the shortest takes %d: %v", from, to, got, len(got), len(want[0]), want[0])
		}
		for _, path := range all {
			prev := from
			for _, p := range path {
				if !slices.Contains(edges[prev], p) {
					t.Fatalf("phasePaths(%q, %q) holds %v, whose step %s -> %s is not an edge of the table", from, to, path, prev, p)
				}
				prev = p
			}
			if prev != to {
				t.Fatalf("phasePaths(%q, %q) holds %v, which ends at %s", from, to, path, prev)
			}
		}
		key := func(p []string) string { return strings.Join(p, " ") }
		gotSet, wantSet := make([]string, len(all)), make([]string, len(want))
		for i := range all {
			gotSet[i] = key(all[i])
		}
		for i := range want {
			wantSet[i] = key(want[i])
		}
		slices.Sort(gotSet)
		slices.Sort(wantSet)
		if !slices.Equal(gotSet, wantSet) {
			t.Fatalf("phasePaths(%q, %q) = %v, want every shortest path %v", from, to, all, want)
		}
		for _, w := range want {
			if slices.Compare(rank(from, w), rank(from, got)) < 0 {
				t.Fatalf("phasePath(%q, %q) = %v, but %v comes first in the table's order", from, to, got, w)
			}
		}
	})
}
