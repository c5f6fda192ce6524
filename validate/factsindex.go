package validate

import (
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// releaseFacts answers the questions affectedReleases and scopeOf ask of
// the releases of one registry, each at a cost in the size of its answer
// (factsIndex), so that an audit can ask them at every commit of a long
// history.
type releaseFacts interface {
	factsGetter
	// Service yields the releases of a service.
	Service(svc string) iter.Seq2[string, registry.Facts]
	// Schedule yields the releases deployed through a schedule.
	Schedule(name string) iter.Seq2[string, registry.Facts]
	// Overlapping yields the releases of a schedule whose windows (when
	// they parse) overlap iv.
	Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts]
	// Dependents yields the releases that depend on id directly.
	Dependents(id string) iter.Seq2[string, registry.Facts]
	// Users yields the releases naming the DML entry "component@version".
	Users(entry string) iter.Seq2[string, registry.Facts]
}

// factsGetter gives the facts of a release by id.
type factsGetter interface {
	Get(id string) (registry.Facts, bool)
}

// factsIndex holds the facts of a registry's releases, indexed by every
// question releaseFacts asks. Set keeps it current as releases change.
type factsIndex struct {
	facts      map[string]registry.Facts
	services   map[string]idSet
	schedules  map[string]*scheduleIndex
	dependents map[string]idSet // by the release depended on
	users      map[string]idSet // by "component@version"
}

type idSet = map[string]struct{}

// scheduleIndex holds the releases of one schedule, and those whose
// windows parse by window start.
type scheduleIndex struct {
	ids     idSet
	windows []indexedWindow // by start, then id
	// maxLen is at least the length of every window in windows: a window
	// overlapping [s, e) starts after s-maxLen and before e. It only grows.
	maxLen time.Duration
}

type indexedWindow struct {
	start, end time.Time
	id         string
}

// unboundedLen is a window length past which the index stops bounding its
// search: time.Duration cannot measure much longer ones.
const unboundedLen = 100 * 365 * 24 * time.Hour

// newFactsIndex indexes facts by release id.
func newFactsIndex(facts iter.Seq2[string, registry.Facts]) *factsIndex {
	x := &factsIndex{facts: map[string]registry.Facts{}, services: map[string]idSet{}, schedules: map[string]*scheduleIndex{},
		dependents: map[string]idSet{}, users: map[string]idSet{}}
	for id, f := range facts {
		x.add(id, f)
	}
	return x
}

// indexRegistry indexes the releases of a loaded registry.
func indexRegistry(reg *registry.Registry) *factsIndex {
	return newFactsIndex(func(yield func(string, registry.Facts) bool) {
		for id, rel := range reg.Releases {
			if !yield(id, rel.Facts()) {
				return
			}
		}
	})
}

// Set makes f the facts of release id, or removes id when f is nil.
func (x *factsIndex) Set(id string, f *registry.Facts) {
	x.remove(id)
	if f != nil {
		x.add(id, *f)
	}
}

func (x *factsIndex) add(id string, f registry.Facts) {
	x.remove(id)
	x.facts[id] = f
	addTo(x.services, serviceOf(id), id)
	s := x.schedules[f.Schedule]
	if s == nil {
		s = &scheduleIndex{ids: idSet{}}
		x.schedules[f.Schedule] = s
	}
	s.ids[id] = struct{}{}
	if f.WindowOK {
		w := indexedWindow{f.Window.Start, f.Window.End, id}
		at, _ := slices.BinarySearchFunc(s.windows, w, compareWindows)
		s.windows = slices.Insert(s.windows, at, w)
		if l := f.Window.End.Sub(f.Window.Start); l > s.maxLen {
			s.maxLen = l
		}
	}
	for _, dep := range f.DependsOn {
		addTo(x.dependents, dep, id)
	}
	for _, c := range f.Components {
		addTo(x.users, c.Name+"@"+c.Version, id)
	}
}

func (x *factsIndex) remove(id string) {
	f, ok := x.facts[id]
	if !ok {
		return
	}
	delete(x.facts, id)
	removeFrom(x.services, serviceOf(id), id)
	s := x.schedules[f.Schedule]
	delete(s.ids, id)
	if f.WindowOK {
		if at, found := slices.BinarySearchFunc(s.windows, indexedWindow{f.Window.Start, f.Window.End, id}, compareWindows); found {
			s.windows = slices.Delete(s.windows, at, at+1)
		}
	}
	if len(s.ids) == 0 {
		delete(x.schedules, f.Schedule)
	}
	for _, dep := range f.DependsOn {
		removeFrom(x.dependents, dep, id)
	}
	for _, c := range f.Components {
		removeFrom(x.users, c.Name+"@"+c.Version, id)
	}
}

func compareWindows(a, b indexedWindow) int {
	if c := a.start.Compare(b.start); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

func addTo(m map[string]idSet, key, id string) {
	s := m[key]
	if s == nil {
		s = idSet{}
		m[key] = s
	}
	s[id] = struct{}{}
}

func removeFrom(m map[string]idSet, key, id string) {
	if s := m[key]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(m, key)
		}
	}
}

func (x *factsIndex) Get(id string) (registry.Facts, bool) { f, ok := x.facts[id]; return f, ok }

// yieldIDs yields the facts of ids.
func (x *factsIndex) yieldIDs(ids idSet) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		for id := range ids {
			if !yield(id, x.facts[id]) {
				return
			}
		}
	}
}

func (x *factsIndex) Service(svc string) iter.Seq2[string, registry.Facts] {
	return x.yieldIDs(x.services[svc])
}

func (x *factsIndex) Schedule(name string) iter.Seq2[string, registry.Facts] {
	if s := x.schedules[name]; s != nil {
		return x.yieldIDs(s.ids)
	}
	return x.yieldIDs(nil)
}

func (x *factsIndex) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		s := x.schedules[schedule]
		if s == nil {
			return
		}
		from := 0
		if s.maxLen < unboundedLen {
			from, _ = slices.BinarySearchFunc(s.windows, iv.Start.Add(-s.maxLen), func(w indexedWindow, t time.Time) int { return w.start.Compare(t) })
		}
		for _, w := range s.windows[from:] {
			if !w.start.Before(iv.End) {
				return
			}
			if f := x.facts[w.id]; f.Window.Overlaps(iv) && !yield(w.id, f) {
				return
			}
		}
	}
}

func (x *factsIndex) Dependents(id string) iter.Seq2[string, registry.Facts] {
	return x.yieldIDs(x.dependents[id])
}

func (x *factsIndex) Users(entry string) iter.Seq2[string, registry.Facts] {
	return x.yieldIDs(x.users[entry])
}

// overlay is the releases of a registry with a change applied: changed
// maps an id to its facts after the change, or to nil when the change
// deletes the release or leaves it unreadable.
type overlay struct {
	base    releaseFacts
	changed map[string]*registry.Facts
}

func (o overlay) Get(id string) (registry.Facts, bool) {
	if f, ok := o.changed[id]; ok {
		if f == nil {
			return registry.Facts{}, false
		}
		return *f, true
	}
	return o.base.Get(id)
}

// filter yields what the base yields for ids the change leaves alone, then
// the changed releases that match.
func (o overlay) filter(base iter.Seq2[string, registry.Facts], match func(id string, f registry.Facts) bool) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		for id, f := range base {
			if _, ok := o.changed[id]; ok {
				continue
			}
			if !yield(id, f) {
				return
			}
		}
		for id, f := range o.changed {
			if f != nil && match(id, *f) && !yield(id, *f) {
				return
			}
		}
	}
}

func (o overlay) Service(svc string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Service(svc), func(id string, _ registry.Facts) bool { return serviceOf(id) == svc })
}

func (o overlay) Schedule(name string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Schedule(name), func(_ string, f registry.Facts) bool { return f.Schedule == name })
}

func (o overlay) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Overlapping(schedule, iv), func(_ string, f registry.Facts) bool {
		return f.Schedule == schedule && f.WindowOK && f.Window.Overlaps(iv)
	})
}

func (o overlay) Dependents(id string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Dependents(id), func(_ string, f registry.Facts) bool { return slices.Contains(f.DependsOn, id) })
}

func (o overlay) Users(entry string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Users(entry), func(_ string, f registry.Facts) bool {
		return slices.ContainsFunc(f.Components, func(c registry.ComponentRef) bool { return c.Name+"@"+c.Version == entry })
	})
}

// registryFacts gives the facts of a loaded registry's releases. It
// indexes them on the first question Get does not answer.
type registryFacts struct {
	reg *registry.Registry
	ix  *factsIndex
}

func newRegistryFacts(reg *registry.Registry) *registryFacts { return &registryFacts{reg: reg} }

func (r *registryFacts) Get(id string) (registry.Facts, bool) {
	if rel := r.reg.Releases[id]; rel != nil {
		return rel.Facts(), true
	}
	return registry.Facts{}, false
}

func (r *registryFacts) index() *factsIndex {
	if r.ix == nil {
		r.ix = indexRegistry(r.reg)
	}
	return r.ix
}

func (r *registryFacts) Service(svc string) iter.Seq2[string, registry.Facts] {
	return r.index().Service(svc)
}

func (r *registryFacts) Schedule(name string) iter.Seq2[string, registry.Facts] {
	return r.index().Schedule(name)
}

func (r *registryFacts) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	return r.index().Overlapping(schedule, iv)
}

func (r *registryFacts) Dependents(id string) iter.Seq2[string, registry.Facts] {
	return r.index().Dependents(id)
}

func (r *registryFacts) Users(entry string) iter.Seq2[string, registry.Facts] {
	return r.index().Users(entry)
}
