package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relreg/relreg/registry"
)

// trust is what the base tip of a change (the target branch as it is now,
// not the merge-base) says about who may approve what: approvers, their
// roles and keys, and the approval requirements. A change never supplies
// its own trust.
type trust struct {
	name    string // the registry's name, part of every payload
	policy  registry.ApprovalPolicy
	keyring *registry.Keyring
	// broken is set when the base's relreg.yaml cannot be read: then its
	// requirements are unknown, and nothing can be approved (fail closed).
	broken bool
}

// newTrust reads the trust of a registry: only its Config and Approvers.
func newTrust(base *registry.Registry) *trust {
	t := &trust{broken: base.Config == nil}
	if base.Config != nil {
		t.name = base.Config.Metadata.Name
		t.policy = base.Config.Spec.Approvals
	}
	t.keyring = base.Approvers.Keyring()
	return t
}

// releaseRequirements returns the requirements of a release step at a risk.
func (t *trust) releaseRequirements(step, risk string) []registry.Requirement {
	switch step {
	case registry.StepPlan:
		return t.policy.Plan.For(risk)
	case registry.StepBuild:
		return t.policy.Build.For(risk)
	case registry.StepAccept:
		return t.policy.Accept.For(risk)
	case registry.StepDeploy:
		return t.policy.Deploy.For(risk)
	}
	return nil
}

// requireApprovals checks that doc at head carries approvals for step that
// meet reqs under the base tip's trust, and reports rule with what is
// missing. Each approval counts only when its approver, role and key are
// trusted at the base tip, its key is valid at the check time and not
// revoked, its digest is the subject's digest at head, and its approver is
// neither the release's owner nor an author of this change's edits to the
// subject. Each approver counts once per step, towards one requirement.
//
// An entry the document already had at the base over an older digest is
// history: it does not count, and is no error (newApprovalsFresh reports
// only the stale entries a change adds), so a document that carries old
// approvals stays changeable.
func (c *changeCtx) requireApprovals(doc *registry.Document, step string, reqs []registry.Requirement, rule, purpose string) {
	if c.trust.broken {
		c.report(doc, rule, fmt.Sprintf("%s approvals cannot be judged: relreg.yaml cannot be read at the base, so its requirements are unknown; fix relreg.yaml on the base branch first (relreg validate)", step), approvalsPath(doc)...)
		return
	}
	if len(reqs) == 0 {
		return
	}
	digest, err := doc.Digest()
	if err != nil {
		return
	}
	owner := str(doc, "spec", "owner")
	authors := c.authors[doc.Path]
	roles := map[string][]string{} // approver -> roles of their counting entries
	added := map[int]bool{}
	for _, i := range newApprovals(c.base.Doc(doc.Path), doc) {
		added[i] = true
	}
	var notes []string
	older := 0 // entries of the base over an older digest
	for i, a := range doc.Approvals() {
		if a.Step != step {
			continue
		}
		if !added[i] && a.Digest != digest {
			older++
			continue
		}
		at := func(field string) []string { return []string{"approvals", fmt.Sprint(i), field} }
		ap := c.trust.keyring.Approver(a.By)
		switch {
		case ap == nil:
			notes = append(notes, fmt.Sprintf("%s is not an approver at the base", a.By))
			continue
		case !ap.HasRole(a.Role):
			notes = append(notes, fmt.Sprintf("%s does not hold role %s at the base", a.By, a.Role))
			continue
		}
		key, err := c.trust.keyring.SigningKey(c.trust.name, doc.Subject(), a)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s's signature does not verify with a key trusted at the base (%v)", a.By, err))
			continue
		}
		if key.Revoked || c.trust.keyring.Revoked(key.Fingerprint) {
			notes = append(notes, fmt.Sprintf("%s's key %s is revoked", a.By, key.Fingerprint))
			continue
		}
		if !key.ValidAt(c.now) {
			notes = append(notes, fmt.Sprintf("%s's key %s is not valid at the check time", a.By, key.Fingerprint))
			continue
		}
		if a.Digest != digest {
			// newApprovalsFresh reports the entry as approval/stale.
			notes = append(notes, fmt.Sprintf("%s's approval added in this change signs another digest", a.By))
			continue
		}
		if owner != "" && a.By == owner {
			c.report(doc, "approval/self-approval", fmt.Sprintf("%s is the owner of %s and may not approve it: ask another %s", a.By, doc.Subject(), a.Role), at("by")...)
			continue
		}
		if ap.Email == "" && len(authors) > 0 {
			notes = append(notes, fmt.Sprintf("%s has no email in approvers.yaml, so it cannot be ruled out that they authored this change", a.By))
			continue
		}
		if ap.Email != "" && slices.Contains(authors, strings.ToLower(ap.Email)) {
			c.report(doc, "approval/self-approval", fmt.Sprintf("%s authored a commit in this change that edits %s, and may not approve it: ask another %s", a.By, doc.Subject(), a.Role), at("by")...)
			continue
		}
		if !slices.Contains(roles[a.By], a.Role) {
			roles[a.By] = append(roles[a.By], a.Role)
		}
	}
	missing := unmet(reqs, roles)
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("%s approvals missing", step)
	if purpose != "" {
		msg += " " + purpose
	}
	msg += ": " + strings.Join(missing, ", ")
	switch {
	case older == 1:
		msg += "; 1 earlier approval signs an older digest and does not count"
	case older > 1:
		msg += fmt.Sprintf("; %d earlier approvals sign an older digest and do not count", older)
	}
	if len(notes) > 0 {
		msg += " (not counted: " + strings.Join(notes, "; ") + ")"
	}
	msg += fmt.Sprintf("; sign with 'relreg approve %s --step %s'", doc.Subject(), step)
	c.report(doc, rule, msg, approvalsPath(doc)...)
}

// approvalsPath points at a document's approvals, or where a missing
// approval shows: the phase or state it moved to, or its spec.
func approvalsPath(doc *registry.Document) []string {
	if registry.KeyNode(doc.Node.Root(), "approvals") != nil {
		return []string{"approvals"}
	}
	switch doc.Kind {
	case registry.KindRelease:
		return []string{"status", "phase"}
	case registry.KindDMLEntry:
		return []string{"status", "state"}
	}
	return []string{"spec"}
}

// staleMessage describes an approval entry a change adds over another
// digest than the subject's: it can never count.
func staleMessage(doc *registry.Document, a registry.Approval, digest string) string {
	return fmt.Sprintf("approval by %s for step %s, added in this change, signs %s, but %s is now %s: the content changed after it was signed; remove this entry, then ask %s to sign again ('relreg approve %s --step %s')", a.By, a.Step, short(a.Digest), doc.Subject(), short(digest), a.By, doc.Subject(), a.Step)
}

// unmet matches approvers to requirement slots, each approver filling at
// most one slot, and describes the slots left empty ("1 more cab").
func unmet(reqs []registry.Requirement, roles map[string][]string) []string {
	var slots []string // one entry per required approval, by role
	for _, r := range reqs {
		for range max(r.Count, 1) {
			slots = append(slots, r.Role)
		}
	}
	approvers := make([]string, 0, len(roles))
	for a := range roles {
		approvers = append(approvers, a)
	}
	slices.Sort(approvers)
	owner := make([]int, len(slots)) // slot -> approver index + 1
	var try func(a int, seen []bool) bool
	try = func(a int, seen []bool) bool {
		for s, role := range slots {
			if seen[s] || !slices.Contains(roles[approvers[a]], role) {
				continue
			}
			seen[s] = true
			if owner[s] == 0 || try(owner[s]-1, seen) {
				owner[s] = a + 1
				return true
			}
		}
		return false
	}
	for a := range approvers {
		try(a, make([]bool, len(slots)))
	}
	left := map[string]int{}
	var order []string
	for s, role := range slots {
		if owner[s] == 0 {
			if left[role] == 0 {
				order = append(order, role)
			}
			left[role]++
		}
	}
	out := make([]string, 0, len(order))
	for _, role := range order {
		out = append(out, fmt.Sprintf("%d more %s", left[role], role))
	}
	return out
}
