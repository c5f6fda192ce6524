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
// question releaseFacts asks. The first few questions of a kind walk the
// facts (scanLimit); then the index for that kind is built in one pass, and
// Set keeps the built ones current as releases change.
type factsIndex struct {
	facts      map[string]registry.Facts
	services   map[string]idSet          // nil until built
	schedules  map[string]*scheduleIndex // nil until built
	dependents map[string]idSet          // by the release depended on; nil until built
	users      map[string]idSet          // by "component@version"; nil until built
	scans      map[string]int            // questions answered by walking every release, by kind
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

// newFactsIndex indexes facts by release id. It keeps facts, which the
// caller must not change after.
func newFactsIndex(facts map[string]registry.Facts) *factsIndex {
	return &factsIndex{facts: facts}
}

// indexRegistry indexes the releases of a loaded registry.
func indexRegistry(reg *registry.Registry) *factsIndex {
	facts := make(map[string]registry.Facts, len(reg.Releases))
	for id, rel := range reg.Releases {
		facts[id] = rel.Facts()
	}
	return newFactsIndex(facts)
}

// Set makes f the facts of release id, or removes id when f is nil.
func (x *factsIndex) Set(id string, f *registry.Facts) {
	if old, ok := x.facts[id]; ok {
		x.unindex(id, old)
		delete(x.facts, id)
	}
	if f != nil {
		x.facts[id] = *f
		x.index(id, *f)
	}
}

// index adds a release to the indexes built so far, each schedule's
// windows kept sorted.
func (x *factsIndex) index(id string, f registry.Facts) {
	if x.services != nil {
		addTo(x.services, serviceOf(id), id)
	}
	if x.schedules != nil {
		x.addToSchedule(id, f, true)
	}
	if x.dependents != nil {
		x.addDependent(id, f)
	}
	if x.users != nil {
		x.addUser(id, f)
	}
}

// unindex removes a release with facts f from the indexes built so far.
func (x *factsIndex) unindex(id string, f registry.Facts) {
	if x.services != nil {
		removeFrom(x.services, serviceOf(id), id)
	}
	if s := x.schedules[f.Schedule]; s != nil {
		delete(s.ids, id)
		if f.WindowOK {
			if at, found := slices.BinarySearchFunc(s.windows, indexedWindow{f.Window.Start, f.Window.End, id}, compareWindows); found {
				s.windows = slices.Delete(s.windows, at, at+1)
			}
		}
		if len(s.ids) == 0 {
			delete(x.schedules, f.Schedule)
		}
	}
	if x.dependents != nil {
		for _, dep := range f.DependsOn {
			removeFrom(x.dependents, dep, id)
		}
	}
	if x.users != nil {
		for _, c := range f.Components {
			removeFrom(x.users, c.Name+"@"+c.Version, id)
		}
	}
}

// addToSchedule adds a release to its schedule's index; sorted keeps the
// windows sorted, else the window is appended.
func (x *factsIndex) addToSchedule(id string, f registry.Facts, sorted bool) {
	s := x.schedules[f.Schedule]
	if s == nil {
		s = &scheduleIndex{ids: idSet{}}
		x.schedules[f.Schedule] = s
	}
	s.ids[id] = struct{}{}
	if !f.WindowOK {
		return
	}
	w := indexedWindow{f.Window.Start, f.Window.End, id}
	if sorted {
		at, _ := slices.BinarySearchFunc(s.windows, w, compareWindows)
		s.windows = slices.Insert(s.windows, at, w)
	} else {
		s.windows = append(s.windows, w)
	}
	if l := f.Window.End.Sub(f.Window.Start); l > s.maxLen {
		s.maxLen = l
	}
}

func (x *factsIndex) addDependent(id string, f registry.Facts) {
	for _, dep := range f.DependsOn {
		addTo(x.dependents, dep, id)
	}
}

func (x *factsIndex) addUser(id string, f registry.Facts) {
	for _, c := range f.Components {
		addTo(x.users, c.Name+"@"+c.Version, id)
	}
}

// The indexes, each built on first use.

func (x *factsIndex) byService() map[string]idSet {
	if x.services == nil {
		x.services = map[string]idSet{}
		for id := range x.facts {
			addTo(x.services, serviceOf(id), id)
		}
	}
	return x.services
}

func (x *factsIndex) bySchedule() map[string]*scheduleIndex {
	if x.schedules == nil {
		// Windows are appended, then sorted once: inserting each in order
		// would cost the square of a schedule's size.
		x.schedules = map[string]*scheduleIndex{}
		for id, f := range x.facts {
			x.addToSchedule(id, f, false)
		}
		for _, s := range x.schedules {
			slices.SortFunc(s.windows, compareWindows)
		}
	}
	return x.schedules
}

func (x *factsIndex) byDependency() map[string]idSet {
	if x.dependents == nil {
		x.dependents = map[string]idSet{}
		for id, f := range x.facts {
			x.addDependent(id, f)
		}
	}
	return x.dependents
}

func (x *factsIndex) byComponent() map[string]idSet {
	if x.users == nil {
		x.users = map[string]idSet{}
		for id, f := range x.facts {
			x.addUser(id, f)
		}
	}
	return x.users
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

// scanLimit is how many questions of one kind an index answers by walking
// every release before it builds the index for them: a check asks a few,
// an audit asks at every commit.
const scanLimit = 8

// scan reports whether a question of a kind whose index is not built
// should walk every release instead, and counts it.
func (x *factsIndex) scan(kind string, built bool) bool {
	if built || x.scans[kind] >= scanLimit {
		return false
	}
	if x.scans == nil {
		x.scans = map[string]int{}
	}
	x.scans[kind]++
	return true
}

// where yields the releases that match.
func (x *factsIndex) where(match func(string, registry.Facts) bool) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		for id, f := range x.facts {
			if match(id, f) && !yield(id, f) {
				return
			}
		}
	}
}

func (x *factsIndex) Service(svc string) iter.Seq2[string, registry.Facts] {
	if x.scan("service", x.services != nil) {
		return x.where(inService(svc))
	}
	return x.yieldIDs(x.byService()[svc])
}

func (x *factsIndex) Schedule(name string) iter.Seq2[string, registry.Facts] {
	if x.scan("schedule", x.schedules != nil) {
		return x.where(onSchedule(name))
	}
	if s := x.bySchedule()[name]; s != nil {
		return x.yieldIDs(s.ids)
	}
	return x.yieldIDs(nil)
}

func (x *factsIndex) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	if x.scan("schedule", x.schedules != nil) {
		return x.where(overlapping(schedule, iv))
	}
	s := x.bySchedule()[schedule]
	return func(yield func(string, registry.Facts) bool) {
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
	if x.scan("dependents", x.dependents != nil) {
		return x.where(dependsOn(id))
	}
	return x.yieldIDs(x.byDependency()[id])
}

func (x *factsIndex) Users(entry string) iter.Seq2[string, registry.Facts] {
	if x.scan("users", x.users != nil) {
		return x.where(uses(entry))
	}
	return x.yieldIDs(x.byComponent()[entry])
}

// What each question asks of one release.

func inService(svc string) func(string, registry.Facts) bool {
	return func(id string, _ registry.Facts) bool { return serviceOf(id) == svc }
}

func onSchedule(name string) func(string, registry.Facts) bool {
	return func(_ string, f registry.Facts) bool { return f.Schedule == name }
}

func overlapping(schedule string, iv registry.Interval) func(string, registry.Facts) bool {
	return func(_ string, f registry.Facts) bool {
		return f.Schedule == schedule && f.WindowOK && f.Window.Overlaps(iv)
	}
}

func dependsOn(id string) func(string, registry.Facts) bool {
	return func(_ string, f registry.Facts) bool { return slices.Contains(f.DependsOn, id) }
}

func uses(entry string) func(string, registry.Facts) bool {
	return func(_ string, f registry.Facts) bool {
		return slices.ContainsFunc(f.Components, func(c registry.ComponentRef) bool { return c.Name+"@"+c.Version == entry })
	}
}

// overlay is the releases of a registry with a change applied: changed
// maps an id to its facts after the change, or to nil when the change
// deletes the release or leaves it unreadable. A large change has its
// releases indexed too (added), so that each question costs the size of
// its answer however many releases one change touches: a migration that
// adds a whole registry in one commit is a normal push.
type overlay struct {
	base    releaseFacts
	changed map[string]*registry.Facts
	added   *factsIndex // the changed releases that exist after the change; nil for a small change
}

// overlayIndexMin is the number of changed releases from which an overlay
// indexes them instead of walking them for every question.
const overlayIndexMin = 2 * scanLimit

func newOverlay(base releaseFacts, changed map[string]*registry.Facts) overlay {
	o := overlay{base: base, changed: changed}
	if len(changed) >= overlayIndexMin {
		facts := make(map[string]registry.Facts, len(changed))
		for id, f := range changed {
			if f != nil {
				facts[id] = *f
			}
		}
		o.added = newFactsIndex(facts)
		// Every question is answered from the index from the first on.
		o.added.scans = map[string]int{"service": scanLimit, "schedule": scanLimit, "dependents": scanLimit, "users": scanLimit}
	}
	return o
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
// the changed releases that match: those the index of added releases
// answers with ask, or, for a small change, those match accepts.
func (o overlay) filter(base iter.Seq2[string, registry.Facts], match func(id string, f registry.Facts) bool, ask func(*factsIndex) iter.Seq2[string, registry.Facts]) iter.Seq2[string, registry.Facts] {
	return func(yield func(string, registry.Facts) bool) {
		for id, f := range base {
			if _, ok := o.changed[id]; ok {
				continue
			}
			if !yield(id, f) {
				return
			}
		}
		if o.added != nil {
			for id, f := range ask(o.added) {
				if !yield(id, f) {
					return
				}
			}
			return
		}
		for id, f := range o.changed {
			if f != nil && match(id, *f) && !yield(id, *f) {
				return
			}
		}
	}
}

func (o overlay) Service(svc string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Service(svc), inService(svc), func(x *factsIndex) iter.Seq2[string, registry.Facts] { return x.Service(svc) })
}

func (o overlay) Schedule(name string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Schedule(name), onSchedule(name), func(x *factsIndex) iter.Seq2[string, registry.Facts] { return x.Schedule(name) })
}

func (o overlay) Overlapping(schedule string, iv registry.Interval) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Overlapping(schedule, iv), overlapping(schedule, iv), func(x *factsIndex) iter.Seq2[string, registry.Facts] { return x.Overlapping(schedule, iv) })
}

func (o overlay) Dependents(id string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Dependents(id), dependsOn(id), func(x *factsIndex) iter.Seq2[string, registry.Facts] { return x.Dependents(id) })
}

func (o overlay) Users(entry string) iter.Seq2[string, registry.Facts] {
	return o.filter(o.base.Users(entry), uses(entry), func(x *factsIndex) iter.Seq2[string, registry.Facts] { return x.Users(entry) })
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
