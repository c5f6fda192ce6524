package validate

import (
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/relreg/relreg/registry"
)

// affectedStatic runs the static rules on the head and keeps what concerns
// the change: diagnostics on the files it changed, and new diagnostics on
// files it affects (a release overlapping a changed one, a dependent of a
// changed release, a release naming a changed DML entry). A file that was
// broken at the base and is untouched does not fail an unrelated change.
func (c *changeCtx) affectedStatic(changed map[string]bool) []registry.Diagnostic {
	if len(changed) == 0 {
		return nil
	}
	affected := c.affected(changed)
	only := make(map[string]bool, len(changed)+len(affected))
	for p := range changed {
		only[p] = true
	}
	for p := range affected {
		only[p] = true
	}
	var out, unchanged []registry.Diagnostic
	for _, d := range Static(c.head, Options{Now: c.now, Only: only, PerFile: changed}) {
		if changed[d.File] {
			out = append(out, d)
		} else {
			unchanged = append(unchanged, d)
		}
	}
	if len(unchanged) == 0 {
		return out
	}
	// Keep only what the base did not already report on those files.
	type key struct{ file, rule, msg string }
	before := map[key]bool{}
	baseOnly := map[string]bool{}
	for _, d := range unchanged {
		baseOnly[d.File] = true
	}
	for _, d := range Static(c.base, Options{Now: c.now, Only: baseOnly, PerFile: map[string]bool{}}) {
		before[key{d.File, d.Rule, d.Message}] = true
	}
	for _, d := range unchanged {
		if !before[key{d.File, d.Rule, d.Message}] {
			out = append(out, d)
		}
	}
	return out
}

// affected returns the files whose static diagnostics a change to the
// changed files may alter: every file when relreg.yaml or approvers.yaml
// changed, otherwise the releases affectedReleases finds.
func (c *changeCtx) affected(changed map[string]bool) map[string]bool {
	out, all := affectedReleases(changed, newRegistryFacts(c.base), newRegistryFacts(c.head))
	if all {
		out = map[string]bool{}
		for _, d := range c.head.Files {
			out[d.Path] = true
		}
	}
	return out
}

// affectedReleases returns the paths of the releases whose static
// diagnostics a change to the changed files may alter: the releases of a
// changed service or schedule; for a changed release, the releases of its
// service or schedule whose windows overlap its window before or after the
// change (conflicts), the releases that depend on it and those it depends
// on, directly or not (cycles), and, when it is added, deleted or becomes
// unreadable, the releases just above it in its service, whose previous
// release it is or was (version bumps), and those of its core version
// (equal precedence); and the releases naming a changed
// DML entry. all is true when relreg.yaml or approvers.yaml changed: then
// every file is affected.
func affectedReleases(changed map[string]bool, base, head releaseFacts) (out map[string]bool, all bool) {
	out = map[string]bool{}
	services, schedules, releases, dml := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	// Windows of changed releases, before and after, by schedule and service.
	bySchedule, byService := map[string][]registry.Interval{}, map[string][]registry.Interval{}
	for p := range changed {
		kind, id, ok := registry.PathKind(p)
		if !ok {
			continue
		}
		switch kind {
		case registry.KindRegistry, registry.KindApprovers:
			return nil, true
		case registry.KindService:
			services[id] = true
		case registry.KindSchedule:
			schedules[id] = true
		case registry.KindDMLEntry:
			dml[id] = true
		case registry.KindRelease:
			releases[id] = true
			for _, src := range []releaseFacts{base, head} {
				if f, ok := src.Get(id); ok && f.WindowOK {
					bySchedule[f.Schedule] = append(bySchedule[f.Schedule], f.Window)
					byService[serviceOf(id)] = append(byService[serviceOf(id)], f.Window)
				}
			}
		}
	}
	// Releases added, deleted or made unreadable change the version order
	// of their services.
	moved := map[string]bool{}
	for id := range releases {
		_, before := base.Get(id)
		_, after := head.Get(id)
		if before != after {
			moved[id] = true
		}
	}
	hit := func(seq iter.Seq2[string, registry.Facts]) {
		for id := range seq {
			out[registry.ReleasePath(id)] = true
		}
	}
	for svc := range services {
		hit(head.Service(svc))
	}
	for name := range schedules {
		hit(head.Schedule(name))
	}
	for name, windows := range bySchedule {
		for _, iv := range windows {
			hit(head.Overlapping(name, iv))
		}
	}
	for svc, windows := range byService {
		set := newIntervalSet(windows)
		for id, f := range head.Service(svc) {
			if f.WindowOK && set.Overlaps(f.Window) {
				out[registry.ReleasePath(id)] = true
			}
		}
	}
	var deps []string
	for id := range releases {
		hit(head.Dependents(id))
		if _, ok := head.Get(id); ok {
			deps = append(deps, id)
		}
	}
	for entry := range dml {
		hit(head.Users(entry))
	}
	ordered := map[string][]string{} // by service: the moved releases and the others at head
	for id := range moved {
		ordered[serviceOf(id)] = append(ordered[serviceOf(id)], id)
	}
	for svc := range ordered {
		for id := range head.Service(svc) {
			if !moved[id] {
				ordered[svc] = append(ordered[svc], id)
			}
		}
	}
	orders := make(map[string]coreOrder, len(ordered))
	for svc, ids := range ordered {
		orders[svc] = newCoreOrder(ids)
	}
	for id := range moved {
		order := orders[serviceOf(id)]
		for _, other := range append(order.next(id), order.same(id)...) {
			out[registry.ReleasePath(other)] = true
		}
	}
	for _, id := range factsClosure(head, deps) {
		out[registry.ReleasePath(id)] = true
	}
	return out, false
}

// versionOf returns the version a release id's path gives, or nil.
func versionOf(id string) *semver.Version {
	_, s, _ := strings.Cut(id, "@")
	v, err := registry.ParseVersion(s)
	if err != nil {
		return nil
	}
	return v
}

// factsClosure returns ids and every release they depend on, directly or
// not: every cycle through one of them lies inside it.
func factsClosure(src factsGetter, ids []string) []string {
	seen := map[string]bool{}
	queue := slices.Clone(ids)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		f, ok := src.Get(id)
		if !ok {
			continue
		}
		seen[id] = true
		for _, dep := range f.DependsOn {
			if !seen[dep] {
				queue = append(queue, dep)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// serviceOf returns the service of a release id "service@version".
func serviceOf(id string) string {
	s, _, _ := strings.Cut(id, "@")
	return s
}
