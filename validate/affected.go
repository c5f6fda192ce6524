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
// changed files may alter.
func (c *changeCtx) affected(changed map[string]bool) map[string]bool {
	all := false
	services, schedules, releases, dml := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for p := range changed {
		switch {
		case p == registry.ConfigFile || p == registry.ApproversFile:
			all = true
		case strings.HasPrefix(p, registry.ServicesDir+"/"):
			services[strings.TrimSuffix(strings.TrimPrefix(p, registry.ServicesDir+"/"), ".yaml")] = true
		case strings.HasPrefix(p, registry.SchedulesDir+"/"):
			schedules[strings.TrimSuffix(strings.TrimPrefix(p, registry.SchedulesDir+"/"), ".yaml")] = true
		}
	}
	for _, reg := range []*registry.Registry{c.base, c.head} {
		for _, d := range reg.Files {
			if changed[d.Path] && d.Kind == registry.KindRelease {
				if r := reg.Releases[d.ID]; r != nil {
					services[serviceOf(d.ID)] = true
					schedules[r.Spec.Deployment.Schedule] = true
					releases[d.ID] = true
				}
			}
			if changed[d.Path] && d.Kind == registry.KindDMLEntry {
				dml[d.ID] = true
			}
		}
	}
	out := map[string]bool{}
	for id, r := range c.head.Releases {
		hit := all || services[serviceOf(id)] || schedules[r.Spec.Deployment.Schedule]
		for _, dep := range r.Spec.DependsOn {
			hit = hit || releases[dep]
		}
		for _, comp := range r.Spec.Components {
			hit = hit || dml[comp.Name+"@"+comp.Version]
		}
		if hit {
			out[r.Doc.Path] = true
		}
	}
	if all {
		for _, d := range c.head.Files {
			out[d.Path] = true
		}
	}
	return out
}

// serviceOf returns the service of a release id "service@version".
func serviceOf(id string) string {
	s, _, _ := strings.Cut(id, "@")
	return s
}
