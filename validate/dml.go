package validate

import (
	"fmt"
	"strconv"

	"github.com/relreg/relreg/registry"
)

// dmlRule checks the components of releases against the Definitive Media
// Library. From accepted on (accepted, deploying, deployed, rolled-back,
// closed, retired; not cancelled) every component names an existing entry
// (dml/missing). At accepted and deploying each entry must be verified
// (dml/not-verified, or dml/withdrawn); from deployed on a later withdrawal
// is history, not an error. Diagnostics are reported on the release,
// pointing at the component.
func dmlRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for _, rel := range sortedReleases(reg, opts.Only) {
		d := rel.Doc
		phase, _ := stringAt(d, "status", "phase")
		rank := registry.PhaseRank(phase)
		if phase == registry.PhaseCancelled || rank < registry.PhaseRank(registry.PhaseAccepted) {
			continue
		}
		mustBeVerified := phase == registry.PhaseAccepted || phase == registry.PhaseDeploying
		for i := range listAt(d, "spec", "components") {
			item := strconv.Itoa(i)
			name, ok1 := stringAt(d, "spec", "components", item, "name")
			version, ok2 := stringAt(d, "spec", "components", item, "version")
			if !ok1 || !ok2 || !registry.ValidName(name) {
				continue // schema
			}
			if _, err := registry.ParseVersion(version); err != nil {
				continue // semver/invalid
			}
			id := name + "@" + version
			p := registry.DMLDir + "/" + name + "/" + version + ".yaml"
			if !reg.Has(p) {
				ds = append(ds, d.Diag("dml/missing",
					fmt.Sprintf("component %s has no DML entry %s: a release at %s ships only what is in the DML, check the component in with 'relreg new dml'", id, p, phase),
					"spec", "components", item))
				continue
			}
			entry := reg.DML[id]
			if !mustBeVerified || entry == nil {
				continue // an unreadable entry is reported by the yaml rules
			}
			state, _ := stringAt(entry.Doc, "status", "state")
			switch state {
			case registry.StateCandidate:
				ds = append(ds, d.Diag("dml/not-verified",
					fmt.Sprintf("DML entry %s is a candidate, not verified: a release at %s deploys only verified media, add its verify approvals and set status.state: verified in %s", id, phase, p),
					"spec", "components", item))
			case registry.StateWithdrawn:
				why := ""
				if reason, ok := stringAt(entry.Doc, "status", "reason"); ok && reason != "" {
					why = fmt.Sprintf(" (%s)", reason)
				}
				ds = append(ds, d.Diag("dml/withdrawn",
					fmt.Sprintf("DML entry %s is withdrawn%s: a release at %s may not deploy it, ship a verified version of %s or cancel the release", id, why, phase, name),
					"spec", "components", item))
			}
		}
	}
	return ds
}
