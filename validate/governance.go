package validate

import (
	"fmt"
	"reflect"
	"strconv"

	"golang.org/x/crypto/ssh"

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
// Keys are compared by fingerprint, so editing a key line's comment or
// options is not a removal.
func (c *changeCtx) approversKept() {
	headIndex := map[string]int{}
	for i, a := range c.head.Approvers.Spec.Approvers {
		if _, dup := headIndex[a.ID]; !dup {
			headIndex[a.ID] = i
		}
	}
	doc := c.head.Approvers.Doc
	for _, a := range c.base.Approvers.Spec.Approvers {
		i, ok := headIndex[a.ID]
		if !ok {
			c.report(doc, "lifecycle/frozen", fmt.Sprintf("approver %s was removed: approvers are never deleted, their signatures must stay verifiable; expire their keys with validBefore or set revoked: true", a.ID), "spec", "approvers")
			continue
		}
		kept := map[string]bool{}
		for _, k := range c.head.Approvers.Spec.Approvers[i].Keys {
			kept[fingerprint(k.Key)] = true
		}
		for _, k := range a.Keys {
			if fp := fingerprint(k.Key); fp != "" && !kept[fp] {
				c.report(doc, "lifecycle/frozen", fmt.Sprintf("key %s of approver %s was removed: keys are never deleted; expire it with validBefore or set revoked: true", fp, a.ID), "spec", "approvers", strconv.Itoa(i), "keys")
			}
		}
	}
}

// fingerprint returns the SHA256 fingerprint of an OpenSSH key line, or ""
// when it does not parse (the schema reports that).
func fingerprint(line string) string {
	pub, err := registry.ParsePublicKeyLine(line)
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(pub)
}
