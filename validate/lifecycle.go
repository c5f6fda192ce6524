package validate

import (
	"github.com/relreg/relreg/registry"
)

// The release lifecycle as data: the edges of the phase graph, the gate to
// enter each phase, and what may still change in each phase. The change
// rules walk this table; nothing else in the package knows the graph.

// specFreeze says how much of a release's spec may change in a phase.
type specFreeze int

const (
	specOpen           specFreeze = iota // anything may change
	specRescheduleOnly                   // only spec.deployment.window (a reschedule)
	specFrozen                           // spec may not change
)

// fileFreeze says what may change in the file as a whole.
type fileFreeze int

const (
	fileOpen       fileFreeze = iota
	fileRetireOnly            // only status.phase, and only to retired
	fileFinal                 // nothing
)

// check is one condition of a gate, evaluated on the release at head. It
// returns the diagnostic to report when the condition fails.
type check func(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool)

// phaseRule is one row of the lifecycle table.
type phaseRule struct {
	next   []string // the phases this phase may move to
	step   string   // the approval step needed to enter it ("" none)
	checks []check  // further conditions to enter it
	spec   specFreeze
	file   fileFreeze
}

var lifecycle = map[string]phaseRule{
	registry.PhaseDraft: {
		next: []string{registry.PhasePlanned, registry.PhaseCancelled},
	},
	registry.PhasePlanned: {
		next: []string{registry.PhaseBuilding, registry.PhaseCancelled},
		step: registry.StepPlan,
	},
	registry.PhaseBuilding: {
		next: []string{registry.PhaseTesting, registry.PhaseCancelled},
		step: registry.StepBuild,
	},
	registry.PhaseTesting: {
		next: []string{registry.PhaseBuilding, registry.PhaseAccepted, registry.PhaseCancelled},
	},
	registry.PhaseAccepted: {
		next:   []string{registry.PhaseDeploying, registry.PhaseCancelled},
		step:   registry.StepAccept,
		checks: []check{testsPassed, componentsVerified},
		spec:   specRescheduleOnly,
	},
	registry.PhaseDeploying: {
		next:   []string{registry.PhaseDeployed, registry.PhaseRolledBack},
		step:   registry.StepDeploy,
		checks: []check{windowNotPassed, dependenciesDeployed, noOtherDeploying},
		spec:   specFrozen,
	},
	registry.PhaseDeployed: {
		next:   []string{registry.PhaseClosed, registry.PhaseRolledBack},
		checks: []check{verificationPassed},
		spec:   specFrozen,
	},
	registry.PhaseRolledBack: {
		next:   []string{registry.PhaseClosed},
		checks: []check{backoutExecuted},
		spec:   specFrozen,
	},
	registry.PhaseClosed: {
		next:   []string{registry.PhaseRetired},
		checks: []check{reviewed},
		spec:   specFrozen,
		file:   fileRetireOnly,
	},
	registry.PhaseCancelled: {
		checks: []check{cancellationReason},
		spec:   specFrozen,
		file:   fileFinal,
	},
	registry.PhaseRetired: {
		spec: specFrozen,
		file: fileFinal,
	},
}

// startPhases are the phases a new release may start at.
var startPhases = []string{registry.PhaseDraft, registry.PhasePlanned}

// phasePath returns the shortest path of phases from one phase to another,
// excluding from and including to, or nil when there is none; where several
// are equally short, the first in the table's order.
func phasePath(from, to string) []string {
	paths := phasePaths(from, to)
	if paths == nil {
		return nil
	}
	return paths[0]
}

// phasePaths returns every shortest path from one phase to another (see
// phasePath), in the table's order: deploying -> closed goes through
// deployed or through rolled-back.
func phasePaths(from, to string) [][]string {
	if from == to {
		return [][]string{{}}
	}
	paths := map[string][][]string{from: {{}}}
	frontier := []string{from}
	for len(frontier) > 0 && paths[to] == nil {
		next := map[string][][]string{}
		var order []string
		for _, p := range frontier {
			for _, n := range lifecycle[p].next {
				if _, seen := paths[n]; seen {
					continue
				}
				if _, queued := next[n]; !queued {
					order = append(order, n)
				}
				for _, path := range paths[p] {
					next[n] = append(next[n], append(append([]string{}, path...), n))
				}
			}
		}
		for _, n := range order {
			paths[n] = next[n]
		}
		frontier = order
	}
	return paths[to]
}
