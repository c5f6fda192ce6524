package validate

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// The timeline: what happened to each registry document along the
// first-parent history of a branch, read back out of git. `relreg log`
// prints one subject's timeline, `relreg report` computes release
// management KPIs from all of them.

// EventKind is what a commit did to a subject.
type EventKind string

// Event kinds, in the order a commit's events of one subject are listed.
const (
	EventCreated    EventKind = "created"    // the file was added
	EventPhase      EventKind = "phase"      // a release's phase or a DML entry's state changed: From -> To
	EventReschedule EventKind = "reschedule" // a release's spec.deployment.window changed: WindowFrom -> WindowTo
	EventSpec       EventKind = "spec"       // any other spec change: Fields
	EventStatus     EventKind = "status"     // a status change besides the phase or state: Fields
	EventApproval   EventKind = "approval"   // an approval entry was added: Approval
	EventDeleted    EventKind = "deleted"    // the file was removed
	EventUnreadable EventKind = "unreadable" // the file could not be parsed at this commit
)

// Identity is a git identity: a name and an email.
type Identity struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// String formats an identity as git does: "Name <email>".
func (p Identity) String() string { return p.Name + " <" + p.Email + ">" }

// CommitInfo is a first-parent commit of the history, as events refer to it.
type CommitInfo struct {
	SHA       string    `json:"sha"` // the full 40-hex SHA
	Author    Identity  `json:"author"`
	Committer Identity  `json:"committer"`
	Time      time.Time `json:"time"` // the committer time, UTC
	// Merge is true for a merge commit: its changes are those of the merge
	// request it closed, against its first parent.
	Merge bool `json:"merge,omitempty"`
}

// ApprovalEvent is an approval entry added to a subject, and what relreg
// makes of it at the commit that added it.
type ApprovalEvent struct {
	Step   string `json:"step"`
	By     string `json:"by"`
	Role   string `json:"role"`
	At     string `json:"at"`
	Digest string `json:"digest"`
	// Verified is true when the entry holds against the approvers trusted at
	// the base of the change (the commit's first parent): a known approver
	// with the role, a signature that verifies with one of their keys, not
	// revoked and valid at the entry's own at. The commit that introduces
	// relreg.yaml (the timelineTrust root) has no base and is read against its own
	// approvers.yaml.
	Verified bool `json:"verified"`
	// Problems say why it does not verify, as "rule: message".
	Problems []string `json:"problems,omitempty"`
	// DigestCurrent is true when Digest is the subject's digest at this
	// commit: the approval signs the spec as it is, not a stale one.
	DigestCurrent bool `json:"digestCurrent"`
}

// Event is one thing a commit did to a subject.
type Event struct {
	Kind   EventKind   `json:"kind"`
	Commit *CommitInfo `json:"commit"`
	// From and To are a release's phase (a DML entry's state) before and
	// after the commit, on every event of those kinds; From is empty for a
	// created file, To for a deleted one.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// WindowFrom and WindowTo are a release's deployment window before and
	// after the commit: WindowTo on created and phase events, both on a
	// reschedule.
	WindowFrom *registry.Window `json:"windowFrom,omitempty"`
	WindowTo   *registry.Window `json:"windowTo,omitempty"`
	// Fields name what changed in a spec or status event, one level below
	// spec or status ("spec.title", "status.tests"), sorted.
	Fields   []string       `json:"fields,omitempty"`
	Approval *ApprovalEvent `json:"approval,omitempty"`
}

// SubjectHistory is the timeline of one registry file.
type SubjectHistory struct {
	Subject string  `json:"subject"` // release/payments@2.4.0, dml/..., schedule/..., service/..., registry, approvers
	Kind    string  `json:"kind"`    // the kind the layout gives the path
	Path    string  `json:"path"`    // relative to the registry folder
	Events  []Event `json:"events"`
	// Value is the JSON value of the document the last time it could be
	// read (after deletion: before it), or nil.
	Value map[string]any `json:"-"`
}

// Timeline is the history of every registry file along the first-parent
// history of a commit.
type Timeline struct {
	Ref      string            `json:"ref"`     // the commit the history ends at, full SHA
	Commits  int               `json:"commits"` // first-parent commits read
	Subjects []*SubjectHistory `json:"subjects"`
}

// Subject returns the history of the file at path, or nil.
func (t *Timeline) Subject(path string) *SubjectHistory {
	i, ok := slices.BinarySearchFunc(t.Subjects, path, func(s *SubjectHistory, p string) int { return strings.Compare(s.Path, p) })
	if !ok {
		return nil
	}
	return t.Subjects[i]
}

// TimelineOptions say which history to read.
type TimelineOptions struct {
	Ref string // a revision; default HEAD
	// Path, when set, keeps only the history of this registry file (the
	// approvers and relreg.yaml are still followed for timelineTrust).
	Path  string
	Cache *registry.ParseCache
	// Progress, when set, is called after each commit with the number of
	// commits read and their total.
	Progress func(done, total int)
}

// BuildTimeline reads the first-parent history of opts.Ref, oldest first,
// and for each commit the registry files it changed against its first
// parent. Only changed files are parsed, each blob once (through the parse
// cache), so the cost follows the size of the changes, not of the registry.
func BuildTimeline(repo *registry.Repo, opts TimelineOptions) (*Timeline, error) {
	if opts.Cache == nil {
		opts.Cache = registry.NewParseCache()
	}
	tip, commits, err := repo.History(opts.Ref)
	if err != nil {
		return nil, err
	}
	b := &timelineBuilder{repo: repo, cache: opts.Cache, subjects: map[string]*SubjectHistory{}, keyrings: map[string]*registry.Keyring{}}
	for i, c := range commits {
		var parent *object.Commit
		if i > 0 {
			parent = commits[i-1]
		}
		changes, err := repo.ChangedFiles(parent, c)
		if err != nil {
			return nil, err
		}
		if err := b.commit(c, changes, opts.Path); err != nil {
			return nil, err
		}
		if b.err != nil {
			return nil, fmt.Errorf("commit %s: %w: the repository is damaged (git fsck tells more); fetch it again", c.Hash, b.err)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(commits))
		}
	}
	tl := &Timeline{Ref: tip.Hash.String(), Commits: len(commits)}
	for _, s := range b.subjects {
		tl.Subjects = append(tl.Subjects, s)
	}
	sort.Slice(tl.Subjects, func(i, j int) bool { return tl.Subjects[i].Path < tl.Subjects[j].Path })
	return tl, nil
}

// timelineBuilder carries the walk's state from one commit to the next.
type timelineBuilder struct {
	repo     *registry.Repo
	cache    *registry.ParseCache
	subjects map[string]*SubjectHistory
	keyrings map[string]*registry.Keyring // by approvers.yaml blob hash

	// The timelineTrust of the base of the next commit.
	configBlob    string // relreg.yaml
	approversBlob string // approvers.yaml
	// rooted is set once a commit introduced relreg.yaml: only that first
	// commit is read against itself; one that adds it again after a
	// deletion has no trusted base.
	rooted bool
	// err is the first object that could not be read: a damaged
	// repository stops the walk, it is never read as a missing file.
	err error
}

func (b *timelineBuilder) commit(c *object.Commit, changes []registry.FileChange, only string) error {
	info := &CommitInfo{
		SHA:       c.Hash.String(),
		Author:    Identity{Name: c.Author.Name, Email: c.Author.Email},
		Committer: Identity{Name: c.Committer.Name, Email: c.Committer.Email},
		Time:      c.Committer.When.UTC(),
		Merge:     c.NumParents() > 1,
	}
	headConfig, headApprovers := b.configBlob, b.approversBlob
	for _, ch := range changes {
		switch ch.Path {
		case registry.ConfigFile:
			headConfig = ch.To
		case registry.ApproversFile:
			headApprovers = ch.To
		}
	}
	// Trust comes from the base; the trust root has none and is read
	// against itself.
	trustConfig, trustApprovers := b.configBlob, b.approversBlob
	if trustConfig == "" && !b.rooted {
		trustConfig, trustApprovers = headConfig, headApprovers
	}
	if headConfig != "" {
		b.rooted = true
	}
	t := &timelineTrust{b: b, configBlob: trustConfig, approversBlob: trustApprovers}
	for _, ch := range changes {
		if only != "" && ch.Path != only {
			continue
		}
		kind, id, ok := registry.PathKind(ch.Path)
		if !ok {
			continue
		}
		if err := b.file(info, ch, kind, id, t); err != nil {
			return err
		}
	}
	b.configBlob, b.approversBlob = headConfig, headApprovers
	return nil
}

// timelineTrust is what a commit's approvals are checked against, built on demand.
type timelineTrust struct {
	b                         *timelineBuilder
	configBlob, approversBlob string
	name                      *string
}

func (t *timelineTrust) registryName() string {
	if t.name == nil {
		name := ""
		if v := t.b.value(t.configBlob, registry.ConfigFile); v != nil {
			name = strAt(v, "metadata", "name")
		}
		t.name = &name
	}
	return *t.name
}

func (t *timelineTrust) keyring() *registry.Keyring {
	if kr, ok := t.b.keyrings[t.approversBlob]; ok {
		return kr
	}
	kr := registry.NewKeyring(registry.ApproversOf(t.b.node(t.approversBlob, registry.ApproversFile)))
	t.b.keyrings[t.approversBlob] = kr
	return kr
}

// node returns the parsed blob of a file, or nil when it is absent or does
// not parse; a blob that cannot be read sets b.err.
func (b *timelineBuilder) node(blob, path string) *registry.Node {
	if blob == "" {
		return nil
	}
	n, err := b.cache.Blob(b.repo.Git, plumbing.NewHash(blob))
	if err != nil {
		if b.err == nil {
			b.err = fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}
	return n
}

func (b *timelineBuilder) value(blob, path string) map[string]any {
	n := b.node(blob, path)
	if n == nil {
		return nil
	}
	m, _ := n.Value.(map[string]any)
	return m
}

// file records the events of one changed file.
func (b *timelineBuilder) file(info *CommitInfo, ch registry.FileChange, kind, id string, t *timelineTrust) error {
	h := b.subjects[ch.Path]
	if h == nil {
		h = &SubjectHistory{Subject: (&registry.Document{Kind: kind, ID: id}).Subject(), Kind: kind, Path: ch.Path}
		b.subjects[ch.Path] = h
	}
	before, after := b.value(ch.From, ch.Path), b.value(ch.To, ch.Path)
	if before == nil && ch.From != "" {
		// The version before does not parse: compare with the last one
		// that did, so that what it held is not reported as new.
		before = h.Value
	}
	ev := func(k EventKind) Event {
		return Event{Kind: k, Commit: info, From: lifecycleState(kind, before), To: lifecycleState(kind, after)}
	}
	switch {
	case ch.To == "":
		e := ev(EventDeleted)
		e.To = ""
		h.Events = append(h.Events, e)
		return nil
	case after == nil:
		h.Events = append(h.Events, ev(EventUnreadable))
		return nil
	}
	h.Value = after
	if ch.From == "" {
		e := ev(EventCreated)
		e.From = ""
		e.WindowTo = releaseWindow(kind, after)
		h.Events = append(h.Events, e)
	} else {
		if e := ev(EventPhase); e.From != e.To {
			e.WindowTo = releaseWindow(kind, after)
			h.Events = append(h.Events, e)
		}
		wb, wa := releaseWindow(kind, before), releaseWindow(kind, after)
		if kind == registry.KindRelease && !reflect.DeepEqual(wb, wa) {
			e := ev(EventReschedule)
			e.WindowFrom, e.WindowTo = wb, wa
			h.Events = append(h.Events, e)
		}
		sb, sa := before["spec"], after["spec"]
		if kind == registry.KindRelease {
			sb, sa = withoutWindow(sb), withoutWindow(sa)
		}
		if fields := changedKeys("spec", sb, sa, ""); len(fields) > 0 {
			e := ev(EventSpec)
			e.Fields = fields
			h.Events = append(h.Events, e)
		}
		skip := "phase"
		if kind == registry.KindDMLEntry {
			skip = "state"
		}
		if fields := changedKeys("status", before["status"], after["status"], skip); len(fields) > 0 {
			e := ev(EventStatus)
			e.Fields = fields
			h.Events = append(h.Events, e)
		}
	}
	added := addedApprovalEntries(approvalEntries(before), approvalEntries(after))
	if len(added) == 0 {
		return nil
	}
	digest, _ := registry.Digest(after["spec"])
	kr := t.keyring()
	for _, a := range added {
		ae := &ApprovalEvent{Step: a.Step, By: a.By, Role: a.Role, At: a.At, Digest: a.Digest, DigestCurrent: a.Digest != "" && a.Digest == digest}
		for _, p := range kr.Check(t.registryName(), h.Subject, a) {
			ae.Problems = append(ae.Problems, p.Error())
		}
		ae.Verified = len(ae.Problems) == 0
		e := ev(EventApproval)
		e.Approval = ae
		h.Events = append(h.Events, e)
	}
	return nil
}

// lifecycleState returns a release's phase or a DML entry's state.
func lifecycleState(kind string, v map[string]any) string {
	switch kind {
	case registry.KindRelease:
		return strAt(v, "status", "phase")
	case registry.KindDMLEntry:
		return strAt(v, "status", "state")
	}
	return ""
}

// releaseWindow returns a release's deployment window, or nil.
func releaseWindow(kind string, v map[string]any) *registry.Window {
	if kind != registry.KindRelease || v == nil {
		return nil
	}
	spec, _ := v["spec"].(map[string]any)
	dep, _ := spec["deployment"].(map[string]any)
	w, ok := dep["window"].(map[string]any)
	if !ok {
		return nil
	}
	start, _ := w["start"].(string)
	end, _ := w["end"].(string)
	return &registry.Window{Start: start, End: end}
}

// strAt returns the string at v[a][b], or "".
func strAt(v map[string]any, a, b string) string {
	m, _ := v[a].(map[string]any)
	s, _ := m[b].(string)
	return s
}

// changedKeys names the keys one level below prefix whose values differ
// between a and b, skipping skip; prefix itself when either is not a mapping.
func changedKeys(prefix string, a, b any, skip string) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if reflect.DeepEqual(a, b) {
			return nil
		}
		return []string{prefix}
	}
	var out []string
	for k, av := range am {
		if bv, ok := bm[k]; k != skip && (!ok || !reflect.DeepEqual(av, bv)) {
			out = append(out, prefix+"."+k)
		}
	}
	for k := range bm {
		if _, ok := am[k]; k != skip && !ok {
			out = append(out, prefix+"."+k)
		}
	}
	sort.Strings(out)
	return out
}

func approvalEntries(v map[string]any) []registry.Approval {
	if v == nil {
		return nil
	}
	return (&registry.Document{Node: &registry.Node{Value: v}}).Approvals()
}

// addedApprovalEntries returns the entries of after that before does not have,
// each entry of before matching at most one of after.
func addedApprovalEntries(before, after []registry.Approval) []registry.Approval {
	used := make([]bool, len(before))
	var out []registry.Approval
	for _, a := range after {
		found := false
		for j, b := range before {
			if !used[j] && a == b {
				used[j], found = true, true
				break
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}
