package validate

import (
	"io/fs"
	"maps"
	"slices"

	"github.com/relreg/relreg/registry"
)

// checkScope returns the services, releases and DML entries a check must
// load to judge a change exactly as over the whole registry, or nil when it
// must load them all (a change to relreg.yaml or approvers.yaml affects
// every file; a stray file in a layout folder is left to a whole load).
// Schedules, relreg.yaml and approvers.yaml are always loaded. The facts of
// the releases come from the facts cache.
func checkScope(baseFS, headFS fs.FS, changes []registry.FileChange, fc *registry.FactsCache, pc *registry.ParseCache) (map[string]bool, error) {
	changed, whole := changedDocs(changes)
	if whole {
		return nil, nil
	}
	var headReleases []string
	for _, ch := range changes {
		if kind, _, _ := registry.PathKind(ch.Path); kind == registry.KindRelease && ch.To != "" {
			headReleases = append(headReleases, ch.Path)
		}
	}
	baseFacts, err := registry.ReleaseFacts(baseFS, fc, pc)
	if err != nil {
		return nil, err
	}
	base := newFactsIndex(baseFacts)
	changedFacts, err := registry.FactsOf(headFS, headReleases, pc)
	if err != nil {
		return nil, err
	}
	after := map[string]*registry.Facts{}
	for p := range changed {
		if kind, id, _ := registry.PathKind(p); kind == registry.KindRelease {
			after[id] = nil
			if f, ok := changedFacts[id]; ok {
				after[id] = &f
			}
		}
	}
	return scopeOf(changed, base, newOverlay(base, after)), nil
}

// changedDocs returns the documents a change touches, or whole true when
// the change needs the whole registry: it touches relreg.yaml or
// approvers.yaml, or a file the layout does not admit.
func changedDocs(changes []registry.FileChange) (changed map[string]bool, whole bool) {
	changed = map[string]bool{}
	for _, ch := range changes {
		kind, _, ok := registry.PathKind(ch.Path)
		switch {
		case !ok && registry.InLayout(ch.Path):
			return nil, true
		case !ok:
			continue
		case kind == registry.KindRegistry || kind == registry.KindApprovers:
			return nil, true
		}
		changed[ch.Path] = true
	}
	return changed, false
}

// scopeOf returns the services, releases and DML entries the rules read to
// judge a change to the changed documents, given the facts of the releases
// at base and head.
//
// The scope is the changed files, the releases the change affects (the
// same affectedReleases the change rules use, here over the facts of every
// release, from the facts cache), and what the rules read to judge each of
// those at base and head: its service, the previous release of its service
// (the version bump), the releases of its service that overlap it or are
// deploying (conflicts, the deploying gate), the releases of its schedule
// whose windows overlap its own (conflicts), the releases it depends on,
// directly or not (references, cycles, the deploying gate) and the DML
// entries it names.
func scopeOf(changed map[string]bool, base, head releaseFacts) map[string]bool {
	want := map[string]bool{}
	for p := range changed {
		want[p] = true
	}
	affected, _ := affectedReleases(changed, base, head)
	judged := map[string]bool{} // release ids the rules judge
	for p := range changed {
		if kind, id, _ := registry.PathKind(p); kind == registry.KindRelease {
			judged[id] = true
		}
	}
	for p := range affected {
		if _, id, ok := registry.PathKind(p); ok {
			judged[id] = true
		}
	}
	// The judged releases as they are at base and at head, by service and
	// by schedule.
	byService, bySchedule := map[string][]judgedFacts{}, map[string][]judgedFacts{}
	for id := range judged {
		svc := serviceOf(id)
		want[registry.ServicesDir+"/"+svc+".yaml"] = true
		for _, side := range []releaseFacts{base, head} {
			if f, ok := side.Get(id); ok {
				j := judgedFacts{id, f}
				byService[svc] = append(byService[svc], j)
				if f.WindowOK {
					bySchedule[f.Schedule] = append(bySchedule[f.Schedule], j)
				}
				for _, c := range f.Components {
					want[c.DMLPath()] = true
				}
			}
		}
	}
	// Keep the releases of a judged release's service that overlap it or
	// are deploying, and those of its schedule that overlap it: at head,
	// and the changed ones as they were at base (loading a file more than
	// needed never changes a verdict, so the union serves both sides).
	serviceWindows, scheduleWindows := windowSets(byService), windowSets(bySchedule)
	serviceIDs := map[string][]string{}
	keep := func(id string, f registry.Facts) {
		svc := serviceOf(id)
		serviceIDs[svc] = append(serviceIDs[svc], id)
		if f.Phase == registry.PhaseDeploying || f.WindowOK && serviceWindows[svc].Overlaps(f.Window) {
			want[registry.ReleasePath(id)] = true
		}
	}
	for svc := range byService {
		for id, f := range head.Service(svc) {
			keep(id, f)
		}
	}
	for name, js := range bySchedule {
		for _, j := range js {
			for id := range head.Overlapping(name, j.f.Window) {
				want[registry.ReleasePath(id)] = true
			}
		}
	}
	for p := range changed {
		kind, id, _ := registry.PathKind(p)
		if kind != registry.KindRelease {
			continue
		}
		f, ok := base.Get(id)
		if !ok {
			continue
		}
		if _, judgedSvc := byService[serviceOf(id)]; judgedSvc {
			keep(id, f)
		}
		if f.WindowOK && scheduleWindows[f.Schedule].Overlaps(f.Window) {
			want[registry.ReleasePath(id)] = true
		}
	}
	orders := make(map[string]coreOrder, len(serviceIDs))
	for svc, ids := range serviceIDs {
		orders[svc] = newCoreOrder(ids)
	}
	for id := range judged {
		for _, prev := range orders[serviceOf(id)].previous(id) {
			want[registry.ReleasePath(prev)] = true
		}
	}
	ids := slices.Collect(maps.Keys(judged))
	for _, side := range []releaseFacts{base, head} {
		for _, id := range factsClosure(side, ids) {
			want[registry.ReleasePath(id)] = true
		}
	}
	return want
}

// judgedFacts is a judged release as it is at one side of a change.
type judgedFacts struct {
	id string
	f  registry.Facts
}

// windowSets returns, by key, the set of the windows of the releases that
// have one.
func windowSets(by map[string][]judgedFacts) map[string]intervalSet {
	out := make(map[string]intervalSet, len(by))
	for key, js := range by {
		var ivs []registry.Interval
		for _, j := range js {
			if j.f.WindowOK {
				ivs = append(ivs, j.f.Window)
			}
		}
		out[key] = newIntervalSet(ivs)
	}
	return out
}
