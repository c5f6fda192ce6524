package validate

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// ChangeInput is what the change rules judge: a registry moving from Base
// to Head.
type ChangeInput struct {
	Base, Head *registry.Registry
	// Trust is the registry whose relreg.yaml and approvers.yaml say who
	// may approve what: the tip of the branch the change is proposed
	// against (contract section 3, "Trust comes from the base"). Only its
	// Config and Approvers are read (registry.LoadTrust loads no more).
	// Nil means Base, which is right when Base is that tip, as for a
	// commit judged against its first parent.
	Trust *registry.Registry
	// Now is the check time; zero means time.Now().
	Now time.Time
	// Authors maps a registry file path to the emails of the authors of
	// the commits in this change that changed its spec or status (commits
	// that only add approval entries do not count).
	Authors map[string][]string
}

// changeCtx carries one evaluation of the change rules.
type changeCtx struct {
	base, head *registry.Registry
	now        time.Time
	authors    map[string][]string
	trust      *trust
	diags      []registry.Diagnostic
}

func (c *changeCtx) add(d registry.Diagnostic) { c.diags = append(c.diags, d) }

func (c *changeCtx) report(doc *registry.Document, rule, msg string, path ...string) {
	c.add(doc.Diag(rule, msg, path...))
}

// Change runs the change rules of the contract over a move from base to
// head, and the static rules on the files the change touches or affects.
func Change(in ChangeInput) []registry.Diagnostic {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	trusted := in.Trust
	if trusted == nil {
		trusted = in.Base
	}
	c := &changeCtx{base: in.Base, head: in.Head, now: in.Now, authors: in.Authors, trust: newTrust(trusted)}
	// Both file lists are sorted by path: walk them side by side. With a
	// head made by Registry.Apply, unchanged files are the same documents.
	changed := map[string]bool{}
	bf, hf := in.Base.Files, in.Head.Files
	for len(bf) > 0 || len(hf) > 0 {
		switch {
		case len(hf) == 0 || len(bf) > 0 && bf[0].Path < hf[0].Path:
			changed[bf[0].Path] = true
			c.judgeDeleted(bf[0])
			bf = bf[1:]
		case len(bf) == 0 || hf[0].Path < bf[0].Path:
			changed[hf[0].Path] = true
			c.judge(nil, hf[0])
			hf = hf[1:]
		default:
			if !sameContent(bf[0], hf[0]) {
				changed[hf[0].Path] = true
				c.judge(bf[0], hf[0])
			}
			bf, hf = bf[1:], hf[1:]
		}
	}
	// Files the layout does not admit (a .yml, a stray file) are no
	// documents; a change that adds one touches it all the same.
	before := map[string]bool{}
	for _, d := range in.Base.Diagnostics {
		before[d.File] = true
	}
	for _, d := range in.Head.Diagnostics {
		if !in.Head.Has(d.File) && !before[d.File] {
			changed[d.File] = true
		}
	}
	c.diags = append(c.diags, c.affectedStatic(changed)...)
	registry.SortDiagnostics(c.diags)
	c.diags = registry.CapDiagnostics(c.diags)
	return slices.CompactFunc(c.diags, func(a, b registry.Diagnostic) bool { return a == b })
}

// sameContent reports whether two versions of a file mean the same: equal
// JSON values, whatever their comments and layout.
func sameContent(a, b *registry.Document) bool {
	if a.Node == nil || b.Node == nil {
		return a.Node == b.Node
	}
	return a.Node == b.Node || reflect.DeepEqual(a.Node.Value, b.Node.Value)
}

// field returns the JSON value at a path of keys below a document's root.
func field(d *registry.Document, path ...string) any {
	if d == nil || d.Node == nil {
		return nil
	}
	v := d.Node.Value
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(d *registry.Document, path ...string) string {
	s, _ := field(d, path...).(string)
	return s
}

// judge applies the change rules to a file that is new (base nil) or changed.
func (c *changeCtx) judge(base, head *registry.Document) {
	if head.Node == nil {
		return // unparseable: the static rules report it
	}
	if base != nil && base.Node != nil {
		if !reflect.DeepEqual(field(base, "metadata"), field(head, "metadata")) {
			c.report(head, "lifecycle/frozen", "metadata never changes: the path is the identity, and renaming would void every signature; restore the metadata of the base", "metadata")
		}
		c.appendOnlyApprovals(base, head)
	}
	switch head.Kind {
	case registry.KindRelease:
		c.release(base, head)
	case registry.KindDMLEntry:
		c.dml(base, head)
	case registry.KindSchedule:
		if base == nil || !reflect.DeepEqual(field(base, "spec"), field(head, "spec")) {
			c.requireApprovals(head, registry.StepSchedule, c.trust.policy.Schedule, "approval/insufficient", "")
		}
	case registry.KindRegistry, registry.KindApprovers:
		c.governance(base, head)
	}
	c.newApprovalsFresh(base, head)
}

func (c *changeCtx) judgeDeleted(base *registry.Document) {
	d := registry.Diagnostic{Severity: registry.SeverityError, File: base.Path, Subject: base.Subject()}
	switch base.Kind {
	case registry.KindRelease:
		d.Rule = "lifecycle/deleted"
		d.Message = "releases are never deleted or renamed: restore the file; to stop a release, move it to cancelled or retired"
	case registry.KindDMLEntry:
		d.Rule = "dml/deleted"
		d.Message = "DML entries are never deleted or renamed: restore the file; to stop its use, set status.state: withdrawn with a reason"
	case registry.KindRegistry, registry.KindApprovers:
		d.Rule = "governance/unapproved"
		d.Message = base.Path + " may not be deleted: restore it"
	case registry.KindSchedule:
		// A deleted schedule cannot carry the approvals its deletion needs.
		if len(c.trust.policy.Schedule) == 0 && !c.trust.broken {
			return
		}
		d.Rule = "approval/insufficient"
		d.Message = "deleting a schedule is a change to it, and a deleted file cannot carry the schedule approvals it needs: restore it; to retire a schedule, remove its windows in an approved change"
	default:
		return // services: the reference rules report what breaks
	}
	c.add(d)
}

// appendOnlyApprovals reports approval entries of the base that the head
// changed or removed.
func (c *changeCtx) appendOnlyApprovals(base, head *registry.Document) {
	headList := head.Approvals()
	used := make([]bool, len(headList))
	for i, a := range base.Approvals() {
		found := false
		for j, h := range headList {
			if !used[j] && h == a {
				used[j], found = true, true
				break
			}
		}
		if found {
			continue
		}
		c.report(head, "approval/tampered", fmt.Sprintf("approval %d of the base (step %s by %s at %s) was changed or removed: approvals are append-only, restore it as it was", i+1, a.Step, a.By, a.At), "approvals")
	}
}

// newApprovals returns the indexes of head's approval entries that the base
// does not have.
func newApprovals(base, head *registry.Document) []int {
	var baseList []registry.Approval
	if base != nil {
		baseList = base.Approvals()
	}
	used := make([]bool, len(baseList))
	var out []int
	for i, h := range head.Approvals() {
		found := false
		for j, b := range baseList {
			if !used[j] && b == h {
				used[j], found = true, true
				break
			}
		}
		if !found {
			out = append(out, i)
		}
	}
	return out
}

// newApprovalsFresh reports approvals added in this change over a digest
// that is not the subject's digest at head: they can never count.
func (c *changeCtx) newApprovalsFresh(base, head *registry.Document) {
	digest, err := head.Digest()
	if err != nil {
		return
	}
	list := head.Approvals()
	for _, i := range newApprovals(base, head) {
		if a := list[i]; a.Digest != "" && a.Digest != digest {
			c.report(head, "approval/stale", staleMessage(head, a, digest), "approvals", fmt.Sprint(i), "digest")
		}
	}
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12] + "…"
	}
	return digest
}

// release applies the lifecycle to a new or changed release.
func (c *changeCtx) release(base, head *registry.Document) {
	rel := c.head.Releases[head.ID]
	if rel == nil {
		return
	}
	to := rel.Status.Phase
	if _, known := lifecycle[to]; !known {
		return // the schema reports an unknown phase
	}
	if base == nil || base.Node == nil {
		if !slices.Contains(startPhases, to) {
			c.report(head, "lifecycle/invalid-start", fmt.Sprintf("a new release starts at draft or planned, not %s: propose it first, then advance it in later changes", to), "status", "phase")
			return
		}
		if to != registry.PhaseDraft {
			c.enter(rel, to)
		}
		c.windowNotInPast(rel, "a new release")
		return
	}
	from := str(base, "status", "phase")
	rule, known := lifecycle[from]
	if !known {
		return
	}
	c.frozen(base, head, from, rule)
	paths := phasePaths(from, to)
	if paths == nil {
		c.report(head, "lifecycle/illegal-transition", fmt.Sprintf("a release cannot move from %s to %s: %s", from, to, nextHint(from)), "status", "phase")
		return
	}
	// Of equally short paths (deploying -> closed through deployed or
	// through rolled-back), take the one whose conditions hold.
	path := paths[0]
	for _, p := range paths {
		if c.conditionsHold(rel, p) {
			path = p
			break
		}
	}
	for _, p := range path {
		c.enter(rel, p)
	}
	if !reflect.DeepEqual(field(base, "spec", "deployment", "window"), field(head, "spec", "deployment", "window")) && to != registry.PhaseCancelled {
		c.windowNotInPast(rel, "a rescheduled release")
	}
}

func nextHint(from string) string {
	next := lifecycle[from].next
	if len(next) == 0 {
		return from + " is final"
	}
	return "from " + from + " it may move to " + strings.Join(next, " or ")
}

// frozen reports changes that the release's base phase no longer allows.
func (c *changeCtx) frozen(base, head *registry.Document, from string, rule phaseRule) {
	switch rule.file {
	case fileFinal:
		c.report(head, "lifecycle/frozen", fmt.Sprintf("a %s release may not change: restore the file as it was", from), "status", "phase")
		return
	case fileRetireOnly:
		if !sameExceptPhase(base, head) {
			c.report(head, "lifecycle/frozen", "a closed release may only move to retired: change nothing but status.phase", "status")
			return
		}
	}
	bs, hs := field(base, "spec"), field(head, "spec")
	switch rule.spec {
	case specRescheduleOnly:
		if !reflect.DeepEqual(withoutWindow(bs), withoutWindow(hs)) {
			c.report(head, "lifecycle/frozen", fmt.Sprintf("from accepted on, the spec may change only in spec.deployment.window (a reschedule); %s changed: restore it, or cancel this release and propose a new one", firstDiff("spec", withoutWindow(bs), withoutWindow(hs))), "spec")
		}
	case specFrozen:
		if !reflect.DeepEqual(bs, hs) {
			c.report(head, "lifecycle/frozen", fmt.Sprintf("from deploying on, the spec may not change; %s changed: restore it", firstDiff("spec", bs, hs)), "spec")
		}
	}
}

func sameExceptPhase(base, head *registry.Document) bool {
	b, _ := base.Node.Value.(map[string]any)
	h, _ := head.Node.Value.(map[string]any)
	strip := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		if st, ok := m["status"].(map[string]any); ok {
			s2 := make(map[string]any, len(st))
			for k, v := range st {
				if k != "phase" {
					s2[k] = v
				}
			}
			out["status"] = s2
		}
		return out
	}
	return reflect.DeepEqual(strip(b), strip(h))
}

// withoutWindow returns a copy of a release spec without deployment.window.
func withoutWindow(spec any) any {
	m, ok := spec.(map[string]any)
	if !ok {
		return spec
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if dep, ok := m["deployment"].(map[string]any); ok {
		d2 := make(map[string]any, len(dep))
		for k, v := range dep {
			if k != "window" {
				d2[k] = v
			}
		}
		out["deployment"] = d2
	}
	return out
}

// firstDiff names the first field (in key order) where a and b differ.
func firstDiff(prefix string, a, b any) string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		return prefix
	}
	keys := map[string]bool{}
	for k := range am {
		keys[k] = true
	}
	for k := range bm {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if !reflect.DeepEqual(am[k], bm[k]) {
			return firstDiff(prefix+"."+k, am[k], bm[k])
		}
	}
	return prefix
}

// conditionsHold reports whether every condition (approvals aside) of the
// phases on path holds for the release.
func (c *changeCtx) conditionsHold(rel *registry.Release, path []string) bool {
	for _, p := range path {
		for _, chk := range lifecycle[p].checks {
			if _, ok := chk(c, rel); !ok {
				return false
			}
		}
	}
	return true
}

// enter checks the gate of a phase the release enters in this change.
func (c *changeCtx) enter(rel *registry.Release, phase string) {
	rule := lifecycle[phase]
	for _, chk := range rule.checks {
		if d, ok := chk(c, rel); !ok {
			c.add(d)
		}
	}
	if rule.step != "" {
		reqs := c.trust.releaseRequirements(rule.step, rel.Spec.Risk)
		c.requireApprovals(rel.Doc, rule.step, reqs, "approval/insufficient", fmt.Sprintf("to enter %s", phase))
	}
}

// windowNotInPast reports a release whose deployment window has already
// ended at the check time.
func (c *changeCtx) windowNotInPast(rel *registry.Release, what string) {
	if !registry.Active(rel.Status.Phase) && rel.Status.Phase != registry.PhaseDraft {
		return
	}
	end, err := time.Parse(time.RFC3339, rel.Spec.Deployment.Window.End)
	if err != nil || end.After(c.now) {
		return
	}
	c.report(rel.Doc, "schedule/window-passed", fmt.Sprintf("%s needs a window in the future, but this one ended at %s (check time %s): move spec.deployment.window", what, end.UTC().Format(time.RFC3339), c.now.UTC().Format(time.RFC3339)), "spec", "deployment", "window", "end")
}
