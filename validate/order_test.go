package validate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/relreg/relreg/registry"
)

// TestIntervalSetMatchesBruteForce compares intervalSet.Overlaps with
// asking Interval.Overlaps of every interval, empty and inverted ones
// included.
func TestIntervalSetMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := func() time.Time { return time.Unix(int64(rng.IntN(100)), 0) }
	for round := range 500 {
		ivs := make([]registry.Interval, rng.IntN(12))
		for i := range ivs {
			ivs[i] = registry.Interval{Start: at(), End: at()}
		}
		set := newIntervalSet(ivs)
		for range 20 {
			iv := registry.Interval{Start: at(), End: at()}
			want := slices.ContainsFunc(ivs, iv.Overlaps)
			if got := set.Overlaps(iv); got != want {
				t.Fatalf("round %d: Overlaps(%v) = %v, want %v over %v", round, iv, got, want, ivs)
			}
		}
	}
}

// TestCoreOrderMatchesBruteForce compares coreOrder's next and previous
// with a walk over every release, versions with pre-releases and
// unparsable ones included.
func TestCoreOrderMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	version := func() string {
		v := fmt.Sprintf("%d.%d.%d", rng.IntN(3), rng.IntN(3), rng.IntN(3))
		switch rng.IntN(5) {
		case 0:
			v += "-rc." + fmt.Sprint(rng.IntN(3))
		case 1:
			v = "x" + v
		}
		return v
	}
	nearest := func(ids []string, id string, side int) []string {
		v := versionOf(id)
		if v == nil {
			return nil
		}
		core := registry.VersionCore(v)
		var best []string
		var bestCore string
		for _, other := range ids {
			ov := versionOf(other)
			if ov == nil {
				continue
			}
			oc := registry.VersionCore(ov)
			if oc.Compare(core)*side <= 0 {
				continue
			}
			switch {
			case best == nil || oc.Compare(versionOf("s@"+bestCore))*side < 0:
				best, bestCore = []string{other}, oc.String()
			case oc.String() == bestCore:
				best = append(best, other)
			}
		}
		slices.Sort(best)
		return best
	}
	for round := range 300 {
		var ids []string
		for range rng.IntN(10) {
			id := "s@" + version()
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		o := newCoreOrder(ids)
		for range 10 {
			id := "s@" + version()
			for _, side := range []int{1, -1} {
				got := o.nearest(id, side)
				slices.Sort(got)
				if want := nearest(ids, id, side); !slices.Equal(got, want) {
					t.Fatalf("round %d: nearest(%s, %d) = %v, want %v over %v", round, id, side, got, want, ids)
				}
			}
		}
	}
}
