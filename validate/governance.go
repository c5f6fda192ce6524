package validate

import (
	"fmt"
	"reflect"

	"github.com/relreg/relreg/registry"
)

// governance judges a change to relreg.yaml or approvers.yaml: it needs
// govern approvals over the new content, in the same change, and approvers
// and keys are never deleted.
func (c *changeCtx) governance(base, head *registry.Document) {
	if base != nil && reflect.DeepEqual(field(base, "spec"), field(head, "spec")) {
		return // only approvals were added
	}
	c.requireApprovals(head, registry.StepGovern, c.trust.policy.Govern, "governance/unapproved", "for this change to "+head.Path)
	if head.Kind == registry.KindApprovers && base != nil && c.base.Approvers != nil && c.head.Approvers != nil {
		c.approversKept()
	}
}

// approversKept reports approvers and keys of the base that the head lost.
func (c *changeCtx) approversKept() {
	head := map[string]registry.Approver{}
	for _, a := range c.head.Approvers.Spec.Approvers {
		head[a.ID] = a
	}
	doc := c.head.Approvers.Doc
	for _, a := range c.base.Approvers.Spec.Approvers {
		h, ok := head[a.ID]
		if !ok {
			c.report(doc, "lifecycle/frozen", fmt.Sprintf("approver %s was removed: approvers are never deleted, their signatures must stay verifiable; expire their keys with validBefore or set revoked: true", a.ID), "spec", "approvers")
			continue
		}
		keys := map[string]bool{}
		for _, k := range h.Keys {
			keys[k.Key] = true
		}
		for _, k := range a.Keys {
			if !keys[k.Key] {
				c.report(doc, "lifecycle/frozen", fmt.Sprintf("a key of approver %s was removed: keys are never deleted; expire it with validBefore or set revoked: true", a.ID), "spec", "approvers")
			}
		}
	}
}
