package validate

import (
	"cmp"
	"slices"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/relreg/relreg/registry"
)

// intervalSet answers whether any of a set of intervals overlaps another
// in O(log n), so that judging every release of a service against every
// window a large change moved stays n log n.
type intervalSet struct {
	starts []time.Time // sorted
	maxEnd []time.Time // maxEnd[i]: the latest end among the intervals of starts[:i+1]
}

func newIntervalSet(ivs []registry.Interval) intervalSet {
	ivs = slices.SortedFunc(slices.Values(ivs), func(a, b registry.Interval) int { return a.Start.Compare(b.Start) })
	s := intervalSet{starts: make([]time.Time, len(ivs)), maxEnd: make([]time.Time, len(ivs))}
	for i, iv := range ivs {
		s.starts[i], s.maxEnd[i] = iv.Start, iv.End
		if i > 0 && s.maxEnd[i-1].After(iv.End) {
			s.maxEnd[i] = s.maxEnd[i-1]
		}
	}
	return s
}

// Overlaps reports whether an interval of the set overlaps iv, as
// registry.Interval.Overlaps judges two.
func (s intervalSet) Overlaps(iv registry.Interval) bool {
	// The intervals that start before iv ends; one of them overlaps iv if
	// the latest of their ends lies after iv's start.
	n, _ := slices.BinarySearchFunc(s.starts, iv.End, func(start, end time.Time) int {
		if start.Before(end) {
			return -1
		}
		return 1
	})
	return n > 0 && s.maxEnd[n-1].After(iv.Start)
}

// coreOrder holds the releases of one service by core version, so that
// the releases nearest a version are found in O(log n).
type coreOrder struct {
	cores []*semver.Version // sorted
	ids   []string          // ids[i] has core cores[i]
}

// newCoreOrder orders the releases ids of one service; those whose path
// gives no version are left out.
func newCoreOrder(ids []string) coreOrder {
	type entry struct {
		core *semver.Version
		id   string
	}
	var es []entry
	for _, id := range ids {
		if v := versionOf(id); v != nil {
			es = append(es, entry{registry.VersionCore(v), id})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Or(a.core.Compare(b.core), cmp.Compare(a.id, b.id)) })
	o := coreOrder{cores: make([]*semver.Version, len(es)), ids: make([]string, len(es))}
	for i, e := range es {
		o.cores[i], o.ids[i] = e.core, e.id
	}
	return o
}

// next returns the releases of the lowest core version above id's: the
// releases whose previous release (semver/bump-mismatch) id is, or would be.
func (o coreOrder) next(id string) []string { return o.nearest(id, 1) }

// previous returns the releases of the highest core version below id's:
// the one the version bump of id is judged against is among them.
func (o coreOrder) previous(id string) []string { return o.nearest(id, -1) }

// same returns the other releases of id's core version: those whose
// version may equal id's in precedence (semver/invalid).
func (o coreOrder) same(id string) []string {
	v := versionOf(id)
	if v == nil {
		return nil
	}
	core := registry.VersionCore(v)
	lo, _ := slices.BinarySearchFunc(o.cores, core, (*semver.Version).Compare)
	var out []string
	for i := lo; i < len(o.cores) && o.cores[i].Equal(core); i++ {
		if o.ids[i] != id {
			out = append(out, o.ids[i])
		}
	}
	return out
}

// nearest returns the releases whose core version is the nearest to id's
// on one side: above for side 1, below for side -1.
func (o coreOrder) nearest(id string, side int) []string {
	v := versionOf(id)
	if v == nil {
		return nil
	}
	core := registry.VersionCore(v)
	// lo is the first core at or above core, hi the first above it.
	lo, _ := slices.BinarySearchFunc(o.cores, core, (*semver.Version).Compare)
	hi := lo
	for hi < len(o.cores) && o.cores[hi].Equal(core) {
		hi++
	}
	var from, to int
	if side > 0 {
		if hi == len(o.cores) {
			return nil
		}
		from, to = hi, hi
		for to < len(o.cores) && o.cores[to].Equal(o.cores[hi]) {
			to++
		}
	} else {
		if lo == 0 {
			return nil
		}
		from, to = lo-1, lo
		for from > 0 && o.cores[from-1].Equal(o.cores[lo-1]) {
			from--
		}
	}
	return slices.Clone(o.ids[from:to])
}
