package validate

import (
	"strings"

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
// changed; the releases of a changed service or schedule; for a changed
// release, the other releases of its service (version bumps), the releases
// of its schedule whose windows overlap its window before or after the
// change (conflicts), the releases that depend on it and those it depends
// on, directly or not (cycles); and the releases naming a changed DML entry.
func (c *changeCtx) affected(changed map[string]bool) map[string]bool {
	out := map[string]bool{}
	services, schedules, releases, dml := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	windows := map[string][]registry.Interval{} // schedule -> windows of changed releases
	for p := range changed {
		kind, id, ok := registry.PathKind(p)
		if !ok {
			continue
		}
		switch kind {
		case registry.KindRegistry, registry.KindApprovers:
			for _, d := range c.head.Files {
				out[d.Path] = true
			}
			return out
		case registry.KindService:
			services[id] = true
		case registry.KindSchedule:
			schedules[id] = true
		case registry.KindDMLEntry:
			dml[id] = true
		case registry.KindRelease:
			releases[id] = true
			for _, reg := range []*registry.Registry{c.base, c.head} {
				if r := reg.Releases[id]; r != nil {
					if iv, err := r.Interval(); err == nil {
						windows[r.Spec.Deployment.Schedule] = append(windows[r.Spec.Deployment.Schedule], iv)
					}
				}
			}
		}
	}
	changedServices := map[string]bool{}
	for id := range releases {
		changedServices[serviceOf(id)] = true
	}
	var deps []*registry.Release
	for id, r := range c.head.Releases {
		sched := r.Spec.Deployment.Schedule
		hit := services[serviceOf(id)] || changedServices[serviceOf(id)] || schedules[sched]
		if !hit && len(windows[sched]) > 0 {
			if iv, err := r.Interval(); err == nil {
				for _, cw := range windows[sched] {
					hit = hit || iv.Overlaps(cw)
				}
			}
		}
		for _, dep := range r.Spec.DependsOn {
			hit = hit || releases[dep]
		}
		for _, comp := range r.Spec.Components {
			hit = hit || dml[comp.Name+"@"+comp.Version]
		}
		if hit {
			out[r.Doc.Path] = true
		}
		if releases[id] {
			deps = append(deps, r)
		}
	}
	for _, r := range dependencyClosure(c.head, deps) {
		out[r.Doc.Path] = true
	}
	return out
}

// serviceOf returns the service of a release id "service@version".
func serviceOf(id string) string {
	s, _, _ := strings.Cut(id, "@")
	return s
}
