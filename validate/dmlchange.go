package validate

import (
	"fmt"
	"reflect"

	"github.com/relreg/relreg/registry"
)

// dmlEdges are the state changes of a DML entry.
var dmlEdges = map[string][]string{
	registry.StateCandidate: {registry.StateVerified, registry.StateWithdrawn},
	registry.StateVerified:  {registry.StateWithdrawn},
	registry.StateWithdrawn: nil,
}

// dml judges a new or changed DML entry: its spec never changes once
// merged, and its state moves only along dmlEdges, verify approvals gating
// the move to verified.
func (c *changeCtx) dml(base, head *registry.Document) {
	e := c.head.DML[head.ID]
	if e == nil {
		return
	}
	to := e.Status.State
	if _, known := dmlEdges[to]; !known {
		return // the schema reports an unknown state
	}
	if base == nil || base.Node == nil {
		switch to {
		case registry.StateCandidate:
		case registry.StateVerified:
			c.requireApprovals(head, registry.StepVerify, c.trust.policy.Verify, "approval/insufficient", "to check in a verified entry")
		default:
			c.report(head, "lifecycle/invalid-start", fmt.Sprintf("a new DML entry starts at candidate (or verified, with its verify approvals), not %s: check it in as a candidate", to), "status", "state")
		}
		return
	}
	if !reflect.DeepEqual(field(base, "spec"), field(head, "spec")) {
		c.report(head, "dml/immutable", fmt.Sprintf("a DML entry's spec never changes once merged; %s changed: restore it, and check the new build in as a new version", firstDiff("spec", field(base, "spec"), field(head, "spec"))), "spec")
	}
	from := str(base, "status", "state")
	if from == to {
		return
	}
	next, known := dmlEdges[from]
	if !known {
		return
	}
	allowed := false
	for _, n := range next {
		allowed = allowed || n == to
	}
	if !allowed {
		c.report(head, "dml/illegal-transition", fmt.Sprintf("a DML entry cannot move from %s to %s: candidate -> verified | withdrawn, verified -> withdrawn", from, to), "status", "state")
		return
	}
	if to == registry.StateVerified {
		c.requireApprovals(head, registry.StepVerify, c.trust.policy.Verify, "approval/insufficient", "to enter verified")
	}
}
