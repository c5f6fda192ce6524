package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/relreg/relreg/registry"
)

// changeIDRule checks that every change id of a release matches the
// registry's changePattern and every incident id of its review matches
// incidentPattern (ref/change-id). Each pattern is compiled once. A pattern
// that does not compile is the schema rule's to report (the schemas declare
// format: regex, which the validator checks with Go's regexp, as here), so
// this rule only skips the check it cannot make.
func changeIDRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	compile := func(field, def string) *regexp.Regexp {
		pattern := def
		if reg.Config != nil {
			if p, ok := stringAt(reg.Config.Doc, "spec", field); ok {
				pattern = p
			}
		}
		return compilePattern(pattern) // nil when it does not compile: the schema reports it
	}
	changeRE := compile("changePattern", registry.DefaultChangePattern)
	incidentRE := compile("incidentPattern", registry.DefaultIncidentPattern)

	// bad counts the ids of the release being checked that do not match:
	// past the cap they are counted, not described (CapDiagnostics).
	var bad int
	check := func(rel *registry.Release, re *regexp.Regexp, what, field string, path ...string) {
		if re == nil {
			return
		}
		for i, v := range listAt(rel.Doc, path...) {
			id, ok := v.(string)
			if !ok || re.MatchString(id) {
				continue
			}
			if bad++; bad > registry.MaxDiagnosticsPerRule {
				if last := &ds[len(ds)-1]; last.Omitted > 0 {
					last.Omitted++
					continue
				}
				d := rel.Doc.Diag("ref/change-id", "", append(path, strconv.Itoa(i))...)
				d.Omitted = 1
				ds = append(ds, d)
				continue
			}
			ds = append(ds, rel.Doc.Diag("ref/change-id",
				fmt.Sprintf("%s id %q does not match the registry's %s %s: correct the id, or the pattern in relreg.yaml", what, id, field, re),
				append(path, strconv.Itoa(i))...))
		}
	}
	for _, rel := range sortedReleases(reg, opts.perFileScope()) {
		bad = 0
		check(rel, changeRE, "change", "changePattern", "spec", "changes")
		check(rel, incidentRE, "incident", "incidentPattern", "status", "review", "incidents")
	}
	return ds
}

// patterns holds the change and incident patterns compiled so far: every
// check of an audit compiles the same two.
var patterns struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

// compilePattern compiles a pattern of relreg.yaml once, or returns nil
// when it does not compile.
func compilePattern(pattern string) *regexp.Regexp {
	patterns.mu.Lock()
	defer patterns.mu.Unlock()
	if re, ok := patterns.m[pattern]; ok {
		return re
	}
	if patterns.m == nil || len(patterns.m) >= 64 {
		patterns.m = map[string]*regexp.Regexp{}
	}
	re, _ := regexp.Compile(pattern) // nil when it does not compile
	patterns.m[pattern] = re
	return re
}

// referenceRule checks that what a release refers to exists: its service
// (ref/unknown-service), schedule (ref/unknown-schedule), dependsOn releases
// (ref/unknown-dependency) and owner (ref/unknown-owner); that dependsOn has
// no cycle (ref/dependency-cycle); and that its components are in the
// service's allow-list, when the service has one (ref/component-not-allowed).
//
// Existence is decided by the files in the layout, parsed or not, so a file
// with a syntax error is reported once, by the yaml rules, and not again as
// missing here.
func referenceRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	exists := reg.Has
	// Owners can only be judged when approvers.yaml is readable; a missing
	// approvers.yaml knows no one.
	var approvers map[string]bool
	if reg.Approvers != nil || !exists(registry.ApproversFile) {
		approvers = map[string]bool{}
		if reg.Approvers != nil {
			for _, a := range reg.Approvers.Spec.Approvers {
				approvers[a.ID] = true
			}
		}
	}

	rels := sortedReleases(reg, opts.Only)
	for _, rel := range rels {
		d := rel.Doc
		service := releaseService(d)
		if registry.ValidName(service) && !exists(registry.ServicesDir+"/"+service+".yaml") {
			ds = append(ds, d.Diag("ref/unknown-service",
				fmt.Sprintf("service %s has no services/%s.yaml: add the service, or move the release to the folder of an existing one", service, service),
				"metadata", "service"))
		}
		if s, ok := stringAt(d, "spec", "deployment", "schedule"); ok && registry.ValidName(s) && !exists(registry.SchedulesDir+"/"+s+".yaml") {
			ds = append(ds, d.Diag("ref/unknown-schedule",
				fmt.Sprintf("schedule %s has no schedules/%s.yaml: name an existing schedule or add it", s, s),
				"spec", "deployment", "schedule"))
		}
		for i, v := range listAt(d, "spec", "dependsOn") {
			s, ok := v.(string)
			if !ok {
				continue
			}
			ref, err := registry.ParseReleaseRef(s)
			if err != nil {
				continue // not service@version: the schema's pattern reports it
			}
			if _, err := registry.ParseVersion(ref.Version); err != nil {
				continue // semver/invalid
			}
			if !exists(releasePath(ref)) {
				ds = append(ds, d.Diag("ref/unknown-dependency",
					fmt.Sprintf("dependsOn %s: there is no release %s: name an existing release", s, releasePath(ref)),
					"spec", "dependsOn", strconv.Itoa(i)))
			}
		}
		if owner, ok := stringAt(d, "spec", "owner"); ok && approvers != nil && !approvers[owner] {
			ds = append(ds, d.Diag("ref/unknown-owner",
				fmt.Sprintf("owner %s is not an approver id in approvers.yaml: name the requester's approver id, or add them to approvers.yaml", owner),
				"spec", "owner"))
		}
		if allowed := allowList(reg.Services[service]); len(allowed) > 0 {
			for i := range listAt(d, "spec", "components") {
				name, ok := stringAt(d, "spec", "components", strconv.Itoa(i), "name")
				if ok && !slices.Contains(allowed, name) {
					ds = append(ds, d.Diag("ref/component-not-allowed",
						fmt.Sprintf("component %s is not in the allow-list of service %s (spec.components of %s: %s): add it there, or remove it from the release",
							name, service, reg.Services[service].Doc.Path, strings.Join(allowed, ", ")),
						"spec", "components", strconv.Itoa(i), "name"))
				}
			}
		}
	}
	if opts.Only != nil {
		rels = dependencyClosure(reg, rels)
	}
	return append(ds, dependencyCycles(reg, rels)...)
}

// dependencyCycles reports each strongly connected component of the
// dependsOn graph that holds a cycle, once: on the release of the component
// that comes first by path, pointing at its dependsOn entry that starts the
// shortest cycle back to it. The message spells the cycle out from that
// release. Following edges in path order makes the choice deterministic.
func dependencyCycles(reg *registry.Registry, rels []*registry.Release) []registry.Diagnostic {
	index := make(map[string]int, len(rels))
	for i, rel := range rels {
		index[rel.Doc.ID] = i
	}
	type edge struct{ to, item int }
	edges := make([][]edge, len(rels))
	for i, rel := range rels {
		for j, v := range listAt(rel.Doc, "spec", "dependsOn") {
			if s, ok := v.(string); ok {
				if to, ok := index[s]; ok {
					edges[i] = append(edges[i], edge{to, j})
				}
			}
		}
		slices.SortStableFunc(edges[i], func(a, b edge) int { return a.to - b.to })
	}

	// Tarjan's algorithm, iteratively: a registry may hold long chains.
	const unvisited = -1
	num := make([]int, len(rels))
	low := make([]int, len(rels))
	onStack := make([]bool, len(rels))
	comp := make([]int, len(rels))
	for i := range num {
		num[i], comp[i] = unvisited, unvisited
	}
	var stack []int
	next, ncomp := 0, 0
	type frame struct{ v, e int }
	for root := range rels {
		if num[root] != unvisited {
			continue
		}
		call := []frame{{root, 0}}
		num[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.e < len(edges[f.v]) {
				w := edges[f.v][f.e].to
				f.e++
				if num[w] == unvisited {
					num[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], num[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == num[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}

	var ds []registry.Diagnostic
	reported := make([]bool, ncomp)
	// rels is sorted by path, so the first release met of a component is
	// the one to report on.
	for start := range rels {
		c := comp[start]
		if reported[c] {
			continue
		}
		// Breadth-first search, inside the component, for the shortest way
		// back to start.
		prev := map[int]int{}
		firstItem := -1
		queue := []int{start}
		found := -1
	search:
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, e := range edges[v] {
				if comp[e.to] != c {
					continue
				}
				if e.to == start {
					found = v
					if v == start {
						firstItem = e.item
					}
					break search
				}
				if _, seen := prev[e.to]; !seen {
					prev[e.to] = v
					queue = append(queue, e.to)
				}
			}
		}
		if found < 0 {
			continue // a single release that does not depend on itself
		}
		reported[c] = true
		path := []int{start}
		for v := found; v != start; v = prev[v] {
			path = append(path, v)
		}
		slices.Reverse(path[1:])
		path = append(path, start)
		if firstItem < 0 {
			for _, e := range edges[start] {
				if e.to == path[1] {
					firstItem = e.item
					break
				}
			}
		}
		names := make([]string, len(path))
		for i, v := range path {
			names[i] = rels[v].Doc.ID
		}
		ds = append(ds, rels[start].Doc.Diag("ref/dependency-cycle",
			fmt.Sprintf("dependsOn forms a cycle: %s: no release in it can be deployed first, remove one of these dependencies",
				strings.Join(names, " -> ")),
			"spec", "dependsOn", strconv.Itoa(firstItem)))
	}
	return ds
}

// allowList returns the component allow-list of a service, or nil when it
// has none. An empty list is no allow-list, like an absent one: a service
// that ships nothing has no releases to restrict.
func allowList(svc *registry.Service) []string {
	if svc == nil {
		return nil
	}
	var names []string
	for _, v := range listAt(svc.Doc, "spec", "components") {
		if s, ok := v.(string); ok {
			names = append(names, s)
		}
	}
	return names
}

// sortedReleases returns the releases of reg sorted by path, or when a
// scope is given the ones in it.
func sortedReleases(reg *registry.Registry, scope ...map[string]bool) []*registry.Release {
	var rels []*registry.Release
	switch {
	case len(scope) > 0 && scope[0] != nil:
		for p := range scope[0] {
			if kind, id, ok := registry.PathKind(p); ok && kind == registry.KindRelease && reg.Releases[id] != nil {
				rels = append(rels, reg.Releases[id])
			}
		}
	default:
		rels = make([]*registry.Release, 0, len(reg.Releases))
		for _, rel := range reg.Releases {
			rels = append(rels, rel)
		}
	}
	slices.SortFunc(rels, func(a, b *registry.Release) int { return strings.Compare(a.Doc.Path, b.Doc.Path) })
	return rels
}

// releaseService returns the service a release's path files it under.
func releaseService(d *registry.Document) string {
	svc, _, _ := strings.Cut(strings.TrimPrefix(d.Path, registry.ReleasesDir+"/"), "/")
	return svc
}

// releasePath returns the path of the release ref names.
func releasePath(ref registry.ReleaseRef) string {
	return registry.ReleasesDir + "/" + ref.Service + "/" + ref.Version + ".yaml"
}

// dependencyClosure returns rels and every release they depend on, directly
// or not, sorted by path: every cycle through one of rels lies inside it.
func dependencyClosure(reg *registry.Registry, rels []*registry.Release) []*registry.Release {
	ids := make([]string, len(rels))
	for i, rel := range rels {
		ids[i] = rel.Doc.ID
	}
	var out []*registry.Release
	for _, id := range factsClosure(newRegistryFacts(reg), ids) {
		out = append(out, reg.Releases[id])
	}
	slices.SortFunc(out, func(a, b *registry.Release) int { return strings.Compare(a.Doc.Path, b.Doc.Path) })
	return out
}
