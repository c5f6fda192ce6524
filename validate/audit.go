package validate

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// The audit replays the change rules over the first-parent history of a
// branch, as if every commit on it had been checked against its first
// parent when it landed: a merge as the merge request it closed, any other
// commit as a direct push.

// Kinds of judged commits that broke a rule.
const (
	// CommitBypass is a direct push (a commit that is not a merge) that
	// 'relreg check' would have refused: it bypassed the merge request.
	CommitBypass = "bypass"
	// CommitMergedAnyway is a merge whose merge request 'relreg check'
	// would have refused, merged all the same.
	CommitMergedAnyway = "merged-anyway"
	// CommitWarned is a judged commit with warnings only (such as
	// history/clock-skew): 'relreg check' would have accepted it.
	CommitWarned = "warned"
)

// RuleClockSkew is the rule of a first-parent commit judged at another
// time than its own committer time: one earlier than a commit before it on
// the chain or than a commit it merges, or one after the audit ran. It is
// the only warning an audit reports itself.
const RuleClockSkew = "history/clock-skew"

// AuditOptions say what history to audit.
type AuditOptions struct {
	// Ref is the commit whose first-parent history is audited; empty
	// means HEAD, the current branch.
	Ref string
	// Since, when set, judges only commits whose check time (see Audit)
	// is at or after it. Earlier commits are still replayed, so that the
	// registry is right when judging starts.
	Since time.Time
	// Verified names a commit an earlier audit accepted (a SHA). If it is
	// unknown or not on the first-parent chain of Ref, history was
	// rewritten.
	Verified string
	// Cache shares parsed blobs; nil makes a new one.
	Cache *registry.ParseCache
	// Progress, when set, is called after each first-parent commit.
	Progress func(done, total int)
	// Full judges each commit on the whole registry instead of the part
	// it reaches: slower, with the same verdict.
	Full bool
	// Now is when the audit runs; zero means time.Now(). No commit is
	// judged later than Now: a committer time after it is a
	// history/clock-skew, judged at Now.
	Now time.Time
}

// AuditTrustRoot is the commit that introduced relreg.yaml: every later
// commit is judged against the trust it set up; it is not judged itself.
type AuditTrustRoot struct {
	SHA       string    `json:"sha"`
	Author    Identity  `json:"author"`
	Committer Identity  `json:"committer"`
	Time      time.Time `json:"time"` // committer time, UTC
}

// AuditCommit is a judged commit that broke at least one rule, or has a
// warning.
type AuditCommit struct {
	SHA       string   `json:"sha"`
	Kind      string   `json:"kind"` // CommitBypass, CommitMergedAnyway or CommitWarned
	Author    Identity `json:"author"`
	Committer Identity `json:"committer"`
	// Time is the committer time, UTC. The check time is the same unless
	// the commit has a history/clock-skew warning, which names it.
	Time       time.Time `json:"time"`
	Violations int       `json:"violations"`         // diagnostics of severity error
	Warnings   int       `json:"warnings,omitempty"` // diagnostics of severity warning
}

// Rewrite says that a commit an earlier audit accepted is no longer on the
// first-parent chain of the audited ref: history was rewritten, by a force
// push or by a merge that pushed the old tip off the chain.
type Rewrite struct {
	Verified string `json:"verified"` // the commit as given, full SHA when known
	Ref      string `json:"ref"`      // the audited commit
	// How is RewriteUnknown, RewriteNotAncestor or RewriteOffChain.
	How    string `json:"how"`
	Reason string `json:"reason"`
}

// How history was rewritten, as a Rewrite says.
const (
	// RewriteUnknown: the verified commit is not in the repository.
	RewriteUnknown = "unknown"
	// RewriteNotAncestor: the verified commit is no ancestor of the
	// audited ref (a force push).
	RewriteNotAncestor = "not-ancestor"
	// RewriteOffChain: the verified commit is an ancestor of the audited
	// ref but not on its first-parent chain: a merge (a foxtrot merge
	// fast-forwarded onto the branch) made it a second parent, and the
	// chain now runs through commits no audit judged as the branch's.
	RewriteOffChain = "off-first-parent-chain"
)

// AuditResult is what an audit found.
type AuditResult struct {
	Ref       string          // the audited commit, full SHA
	TrustRoot *AuditTrustRoot // nil when no commit introduced relreg.yaml
	// Audited counts the judged commits: first-parent commits after the
	// trust root, at or after Since.
	Audited int
	// Files counts the registry files at Ref.
	Files int
	// Rewritten is set when Verified is not on the first-parent chain of
	// Ref.
	Rewritten *Rewrite
	// Commits are the judged commits that broke a rule or have a warning,
	// oldest first.
	Commits []AuditCommit
	// Diagnostics, each with its Commit, grouped by commit in the order of
	// Commits and sorted within a commit.
	Diagnostics []registry.Diagnostic
}

// OK reports whether the audit found no violation and no rewrite;
// warnings may have been found.
func (r *AuditResult) OK() bool { return r.Rewritten == nil && r.Errors() == 0 }

// Errors counts the diagnostics of severity error: the violations.
func (r *AuditResult) Errors() int { return r.count(registry.SeverityError) }

// Warnings counts the diagnostics of severity warning.
func (r *AuditResult) Warnings() int { return r.count(registry.SeverityWarning) }

// count counts the findings of a severity, those a cap left out included.
func (r *AuditResult) count(s registry.Severity) int {
	n := 0
	for _, d := range r.Diagnostics {
		if d.Severity == s {
			n += d.Count()
		}
	}
	return n
}

// Violating counts the judged commits that broke a rule.
func (r *AuditResult) Violating() int {
	n := 0
	for _, c := range r.Commits {
		if c.Violations > 0 {
			n++
		}
	}
	return n
}

// Bypasses counts the direct pushes that broke a rule.
func (r *AuditResult) Bypasses() int {
	n := 0
	for _, c := range r.Commits {
		if c.Kind == CommitBypass {
			n++
		}
	}
	return n
}

// ErrNoTrustRoot is returned when no commit of the audited history holds
// relreg.yaml: there is nothing to audit against.
var ErrNoTrustRoot = errors.New("no commit in this history introduces relreg.yaml in the registry folder: nothing to audit (is --registry right?)")

// Audit replays the change rules over every first-parent commit of
// opts.Ref against its first parent. Committer times are self-declared, so
// the check time never goes backwards: each commit is judged at the latest
// committer time on the first-parent chain from the trust root up to it
// (the root's own time included) and among the commits it brings in (its
// parents, and for a merge the commits reachable from its other parents
// and not from its first), and a commit whose committer time is earlier
// than that gets a history/clock-skew warning. Nor does it run ahead of
// the audit: a committer time after opts.Now is a history/clock-skew too,
// judged at opts.Now, and raises the time of no later commit; nor does a
// commit brought in that is dated after opts.Now. One registry is kept in
// memory and advanced commit by commit with only the files each commit
// changed; blobs are parsed once.
//
// Reading git runs ahead of judging, on another goroutine: one reads each
// commit's changes, parses the changed files and finds their authors,
// while the other applies them and runs the rules.
func Audit(repo *registry.Repo, opts AuditOptions) (*AuditResult, error) {
	if opts.Cache == nil {
		opts.Cache = registry.NewParseCache()
	}
	tip, commits, err := repo.History(opts.Ref)
	if err != nil {
		return nil, err
	}
	if opts.Verified != "" {
		// An ambiguous SHA (or one naming a tree) cannot be judged; an
		// unknown one is history rewritten, reported below.
		if _, err := repo.Resolve(opts.Verified); err != nil && !errors.Is(err, registry.ErrUnknownRevision) {
			return nil, fmt.Errorf("--verified: %w", err)
		}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	a := &auditor{repo: repo, cache: opts.Cache, full: opts.Full, since: opts.Since, now: opts.Now, known: make(map[plumbing.Hash]bool, len(commits)), res: &AuditResult{Ref: tip.Hash.String()}}
	a.trees, a.treeDiags = newTreeChecker(repo), make([][]registry.Diagnostic, len(commits))
	steps := make(chan *auditStep, 64)
	stop := make(chan struct{})
	read := make(chan struct{})
	fetched := make(chan *auditStep, 64)
	go func() {
		defer close(read)
		defer close(fetched)
		a.read(commits, fetched, stop)
	}()
	// Parsing runs between reading and replaying.
	go func() {
		for st := range fetched {
			if st.update != nil && !st.update.Reload {
				st.update.Parse()
			}
			select {
			case steps <- st:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-read
	}()
	// The rules run on workers: each judgment reads its own snapshot of
	// the part of the registry it needs, so judgments overlap each other
	// and the replay.
	a.verdicts = make([][]registry.Diagnostic, len(commits))
	a.skews = make([]*registry.Diagnostic, len(commits))
	a.jobs = make(chan auditJob, 4*runtime.GOMAXPROCS(0))
	var judging sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		judging.Add(1)
		go func() {
			defer judging.Done()
			for j := range a.jobs {
				a.verdicts[j.seq] = Change(j.in)
			}
		}()
	}
	jobsOpen := true
	defer func() {
		if jobsOpen {
			close(a.jobs)
			judging.Wait()
		}
	}()
	var reg *registry.Registry
	for i := 0; i < len(commits); i++ {
		st := <-steps
		if st.err != nil {
			return nil, st.err
		}
		st.seq, a.treeDiags[i] = i, st.trees
		if reg, err = a.commit(reg, st); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(commits))
		}
	}
	close(a.jobs)
	judging.Wait()
	jobsOpen = false
	for i, ds := range a.verdicts {
		if a.skews[i] != nil {
			ds = append([]registry.Diagnostic{*a.skews[i]}, ds...)
		}
		a.report(commits[i], withTrees(a.treeDiags[i], ds))
	}
	if a.res.TrustRoot == nil {
		return nil, ErrNoTrustRoot
	}
	if reg != nil {
		a.res.Files = len(reg.Files)
	}
	if opts.Verified != "" {
		<-read // known is complete, and no longer written
		a.res.Rewritten = a.verified(opts.Verified, commits)
	}
	return a.res, nil
}

// auditor carries the replay from one commit to the next.
type auditor struct {
	repo  *registry.Repo
	cache *registry.ParseCache
	full  bool      // judge on the whole registry (AuditOptions.Full)
	since time.Time // AuditOptions.Since
	now   time.Time // AuditOptions.Now, set
	// known holds every commit of the history read so far: the
	// first-parent commits and the commits their merges brought in. It is
	// the ancestry of the last commit read, built once. Only read writes
	// it, until it returns.
	known map[plumbing.Hash]bool
	// index holds the facts of the replayed registry's releases, kept
	// current commit by commit; nil until first needed.
	index *factsIndex
	// jobs takes the judgments to the workers; verdicts holds what each
	// first-parent commit broke, by its position in the history, and
	// skews its history/clock-skew warning, if any.
	jobs     chan auditJob
	verdicts [][]registry.Diagnostic
	skews    []*registry.Diagnostic
	// trees finds the malformed trees of the history; treeDiags holds
	// those of each commit by position.
	trees     *treeChecker
	treeDiags [][]registry.Diagnostic
	res       *AuditResult
}

// auditJob is a judgment for a worker: the change rules on a snapshot.
type auditJob struct {
	seq int
	in  ChangeInput
}

// auditStep is one first-parent commit as read from git, ready to judge.
type auditStep struct {
	seq       int // position in the history
	parent, c *object.Commit
	judged    bool // after the trust root, checked at or after Since
	// now is the check time: c's committer time, or the time it was
	// judged at instead, as skew says.
	now  time.Time
	skew skew
	// What the commit does to the registry, one of:
	root    bool               // introduces relreg.yaml, first (the trust root) or again
	gone    bool               // deletes relreg.yaml
	loaded  *registry.Registry // the registry at c, loaded whole (root, or a change Update cannot apply)
	update  *registry.Update   // the files it changed, read
	changes []registry.FileChange
	authors map[string][]string   // for a judged change, as a check finds them
	trees   []registry.Diagnostic // its malformed trees, for a judged commit or a trust root
	err     error
}

// read reads each first-parent commit's step, in order, until commits are
// done or stop is closed. It alone touches git while the audit runs.
func (a *auditor) read(commits []*object.Commit, steps chan<- *auditStep, stop <-chan struct{}) {
	present, rooted := false, false // whether the registry exists; whether a trust root was seen
	// clock is the latest check time from the trust root on, never after
	// a.now.
	var clock time.Time
	for i, c := range commits {
		st := &auditStep{c: c, now: c.Committer.When}
		if i > 0 {
			st.parent = commits[i-1]
		}
		var brought []*object.Commit
		brought, st.err = a.bringIn(c)
		if st.err == nil && rooted {
			st.err = a.checkTime(st, brought, &clock)
			// Since is compared with the check time, so that a commit
			// backdated before Since is judged all the same.
			st.judged = !st.now.Before(a.since)
		}
		if st.err == nil {
			st.err = a.readStep(st, brought, &present)
		}
		if st.root && !rooted && !c.Committer.When.After(a.now) {
			clock = c.Committer.When
		}
		rooted = rooted || st.root
		select {
		case steps <- st:
		case <-stop:
			return
		}
		if st.err != nil {
			return
		}
	}
}

// skew says why a commit is judged at another time than its committer
// time; the zero skew, that it is not.
type skew struct {
	why string // one of the skew reasons below, or empty
	// by is the commit it merges whose committer time it was judged at
	// (skewMerged).
	by *object.Commit
}

// Why a commit is judged at another time than its committer time.
const (
	skewChain  = "chain"  // earlier than the clock of the first-parent chain
	skewMerged = "merged" // earlier than a commit it brings in
	skewFuture = "future" // after the audit ran
)

// checkTime sets st's check time from its committer time, the clock of
// the chain before it and the commits it brings in (brought, and its
// parents), and advances the clock. Times after a.now prove nothing and
// are ignored: a commit dated after the audit ran is judged at a.now and
// leaves the clock where the rest puts it.
func (a *auditor) checkTime(st *auditStep, brought []*object.Commit, clock *time.Time) error {
	floor, why, by := *clock, skewChain, (*object.Commit)(nil)
	merged := brought
	if st.parent != nil {
		merged = append([]*object.Commit{st.parent}, brought...)
	}
	// Parents the first parent's history already holds are not brought
	// in, yet a merge is no older than they are either.
	for _, h := range st.c.ParentHashes[min(1, len(st.c.ParentHashes)):] {
		if slices.ContainsFunc(merged, func(m *object.Commit) bool { return m.Hash == h }) {
			continue
		}
		p, err := a.repo.Git.CommitObject(h)
		if err != nil {
			return fmt.Errorf("read commit %s merged by %s: %w (a shallow clone? fetch the whole history)", h, st.c.Hash, err)
		}
		merged = append(merged, p)
	}
	for _, m := range merged {
		if t := m.Committer.When; t.After(floor) && !t.After(a.now) {
			floor, why, by = t, skewMerged, m
		}
	}
	own := st.c.Committer.When
	switch {
	case own.After(a.now):
		st.now, st.skew = a.now, skew{why: skewFuture}
		*clock = floor
	case own.Before(floor):
		st.now, st.skew = floor, skew{why: why, by: by}
		*clock = floor
	default:
		*clock = own
	}
	return nil
}

func (a *auditor) readStep(st *auditStep, brought []*object.Commit, present *bool) error {
	var err error
	if st.changes, err = a.repo.ChangedFiles(st.parent, st.c); err != nil {
		return err
	}
	if !*present && !addsConfig(st.changes) {
		return nil
	}
	// Malformed trees count on the judged commit that brings them, and on
	// the trust root: it is not judged, but a malformed one is not trusted.
	if !*present {
		st.trees, err = a.trees.check(st.c)
	} else if st.judged {
		st.trees, err = a.trees.introduced(append([]*object.Commit{st.c}, brought...)...)
	}
	if err != nil {
		return err
	}
	fsys, err := a.repo.FS(st.c)
	if err != nil {
		return err
	}
	if !*present {
		st.root, *present = true, true
		if st.loaded, err = registry.Load(fsys, registry.Options{Cache: a.cache}); err != nil {
			return fmt.Errorf("load registry at %s: %w", st.c.Hash, err)
		}
		return nil
	}
	if st.update, err = registry.FetchUpdate(fsys, st.changes, registry.Options{Cache: a.cache}); err != nil {
		return fmt.Errorf("load registry at %s: %w", st.c.Hash, err)
	}
	if st.update.Reload {
		st.loaded, err = registry.Load(fsys, registry.Options{Cache: a.cache})
		if errors.Is(err, registry.ErrNotRegistry) {
			st.gone, *present, st.loaded = true, false, nil
			return nil
		}
		if err != nil {
			return fmt.Errorf("load registry at %s: %w", st.c.Hash, err)
		}
	}
	// The authors of a direct push are found by the replay, from the
	// registry it holds: no git needed.
	if st.judged && !st.update.Empty() && (st.c.NumParents() > 1 || st.loaded != nil) {
		st.authors, err = a.authors(st.parent, st.c, st.changes, brought)
	}
	return err
}

// bringIn adds c and the commits its merge brings in to known, and returns
// the latter: the commits reachable from c's other parents that the first
// parent's history does not hold. Since known is exactly the ancestry of
// the first parent, the walk stops at the fork points and costs the size
// of the merge request, not of the history.
func (a *auditor) bringIn(c *object.Commit) ([]*object.Commit, error) {
	a.known[c.Hash] = true
	if c.NumParents() < 2 {
		return nil, nil
	}
	var out []*object.Commit
	queue := append([]plumbing.Hash(nil), c.ParentHashes[1:]...)
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if a.known[h] {
			continue
		}
		a.known[h] = true
		bc, err := a.repo.Git.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read commit %s merged by %s: %w (a shallow clone? fetch the whole history)", h, c.Hash, err)
		}
		out = append(out, bc)
		queue = append(queue, bc.ParentHashes...)
	}
	return out, nil
}

// commit replays one first-parent commit: it advances reg (nil before the
// trust root, or after relreg.yaml was deleted) and, when judged, runs
// the change rules on the move from the first parent to c. Only reg and
// the index change: the registry is advanced in place.
func (a *auditor) commit(reg *registry.Registry, st *auditStep) (*registry.Registry, error) {
	c := st.c
	if st.judged {
		a.res.Audited++
		if st.skew.why != "" {
			a.skews[st.seq] = clockSkew(st)
		}
	}
	switch {
	case st.root:
		a.index = nil
		if a.res.TrustRoot == nil {
			a.res.TrustRoot = &AuditTrustRoot{SHA: c.Hash.String(), Author: identity(c.Author), Committer: identity(c.Committer), Time: c.Committer.When.UTC()}
			return st.loaded, nil
		}
		// relreg.yaml came back after a commit deleted it: a new trust
		// root that no trusted base approved.
		if st.judged {
			a.verdicts[st.seq] = []registry.Diagnostic{{Rule: "governance/unapproved", Severity: registry.SeverityError, File: registry.ConfigFile, Subject: "registry",
				Message: "relreg.yaml is introduced again after it was deleted: no trusted base approved this registry; restore the history or audit from this commit on as a new trust root"}}
		}
		return st.loaded, nil
	case st.gone:
		if st.judged {
			a.verdicts[st.seq] = []registry.Diagnostic{{Rule: "governance/unapproved", Severity: registry.SeverityError, File: registry.ConfigFile, Subject: "registry",
				Message: "relreg.yaml was deleted: the registry may not be deleted; restore it"}}
		}
		a.index = nil
		return nil, nil
	case reg == nil || st.update.Empty():
		return reg, nil // nothing in the registry's layout changed
	case st.loaded != nil:
		a.index = nil
		if st.judged {
			a.judge(st, reg, st.loaded.Clone()) // st.loaded is advanced from the next commit on
		}
		return st.loaded, nil
	}
	if a.index == nil {
		a.index = indexRegistry(reg)
	}
	if st.judged && st.authors == nil {
		st.authors = pushAuthors(reg, st)
	}
	// The facts of the changed releases after the change.
	after := map[string]*registry.Facts{}
	for _, ch := range st.changes {
		if kind, id, ok := registry.PathKind(ch.Path); ok && kind == registry.KindRelease {
			after[id] = nil
			if rel, _ := st.update.Release(id); rel != nil {
				f := rel.Facts()
				after[id] = &f
			}
		}
	}
	// The base the rules see is the part of the registry the change
	// reaches, taken before the update (or a copy, when the change reaches
	// everything).
	var base *registry.Registry
	var scope map[string]bool
	if st.judged {
		if changed, whole := changedDocs(st.changes); whole || a.full {
			base = reg.Clone()
		} else {
			scope = scopeOf(changed, a.index, newOverlay(a.index, after))
			base = reg.Subset(scope)
		}
	}
	reg.Update(st.update)
	for id, f := range after {
		a.index.Set(id, f)
	}
	if !st.judged {
		return reg, nil
	}
	var head *registry.Registry
	if scope != nil {
		head = reg.Subset(scope)
	} else {
		head = reg.Clone() // reg is advanced from the next commit on
	}
	a.judge(st, base, head)
	return reg, nil
}

// judge has a worker run the change rules on the move from base to head
// that a first-parent commit made. base and head are not changed after.
// base is the registry at the commit's first parent: the tip of the branch
// when the commit landed, which is where a check takes its trust from (a
// merge's first parent is the base tip of the merge request it closed), so
// ChangeInput.Trust is left nil and trust comes from base.
func (a *auditor) judge(st *auditStep, base, head *registry.Registry) {
	a.jobs <- auditJob{seq: st.seq, in: ChangeInput{Base: base, Head: head, Now: st.now, Authors: st.authors}}
}

// clockSkew is the warning of a commit judged at another time than its
// committer time: one that goes back before a commit earlier on the chain
// or before a commit it merges, or one dated after the audit ran, judged
// at the time the audit ran.
func clockSkew(st *auditStep) *registry.Diagnostic {
	own, at := st.c.Committer.When.UTC().Format(time.RFC3339), st.now.UTC().Format(time.RFC3339)
	const why = "committer times are self-declared (GIT_COMMITTER_DATE, a wrong clock); find out who pushed it and"
	var msg string
	switch st.skew.why {
	case skewFuture:
		msg = fmt.Sprintf("committer time %s is later than %s, the time this audit ran: the commit is dated after this audit ran, so it was judged at that time and does not move the check time of the commits after it; %s why it is dated in the future", own, at, why)
	case skewMerged:
		msg = fmt.Sprintf("committer time %s is earlier than %s, the committer time of commit %s that it merges, so the commit was judged at %s: a commit is never older than what it merges; %s why its time goes back", own, at, st.skew.by.Hash, at, why)
	default:
		msg = fmt.Sprintf("committer time %s is earlier than %s, the latest committer time before it on the first-parent chain, so the commit was judged at %s: %s why its time goes back", own, at, at, why)
	}
	return &registry.Diagnostic{Rule: RuleClockSkew, Severity: registry.SeverityWarning, Message: msg}
}

// report records the violations of a judged commit.
func (a *auditor) report(c *object.Commit, ds []registry.Diagnostic) {
	if len(ds) == 0 {
		return
	}
	sha := c.Hash.String()
	warnings := 0
	for i := range ds {
		ds[i].Commit = sha
		if ds[i].Severity == registry.SeverityWarning {
			warnings++
		}
	}
	kind := CommitBypass
	switch {
	case warnings == len(ds):
		kind = CommitWarned
	case c.NumParents() > 1:
		kind = CommitMergedAnyway
	}
	a.res.Commits = append(a.res.Commits, AuditCommit{SHA: sha, Kind: kind, Author: identity(c.Author), Committer: identity(c.Committer), Time: c.Committer.When.UTC(),
		Violations: len(ds) - warnings, Warnings: warnings})
	a.res.Diagnostics = append(a.res.Diagnostics, ds...)
}

// authors returns, as Authors does for a check, the emails of the authors
// who changed each file's spec or status in this change: for a direct push
// its own author, for a merge the authors of the commits it brought in and
// of the merges themselves, for what they edited while merging.
func (a *auditor) authors(parent, c *object.Commit, changes []registry.FileChange, brought []*object.Commit) (map[string][]string, error) {
	out := map[string][]string{}
	add := func(files []string, email string) {
		email = strings.ToLower(email)
		for _, f := range files {
			if !slices.Contains(out[f], email) {
				out[f] = append(out[f], email)
			}
		}
	}
	if c.NumParents() < 2 {
		add(editedPaths(changes, blobNodes(a.repo, a.cache)), c.Author.Email)
		return out, nil
	}
	for _, m := range append([]*object.Commit{c}, brought...) {
		if m.NumParents() < 2 {
			continue
		}
		parents := make([]*object.Commit, 0, m.NumParents())
		if err := m.Parents().ForEach(func(p *object.Commit) error { parents = append(parents, p); return nil }); err != nil {
			return nil, fmt.Errorf("read parents of %s: %w", m.Hash, err)
		}
		files, err := mergeEdits(a.repo, m, parents, a.cache)
		if err != nil {
			return nil, err
		}
		add(files, m.Author.Email)
	}
	for _, bc := range brought {
		if bc.NumParents() > 1 {
			continue
		}
		var p *object.Commit
		if bc.NumParents() == 1 {
			var err error
			if p, err = bc.Parent(0); err != nil {
				return nil, fmt.Errorf("read parent of %s: %w", bc.Hash, err)
			}
		}
		chs, err := a.repo.ChangedFiles(p, bc)
		if err != nil {
			return nil, err
		}
		add(editedPaths(chs, blobNodes(a.repo, a.cache)), bc.Author.Email)
	}
	return out, nil
}

// pushAuthors returns the authors of a direct push, as authors does, from
// the registry before the push and the update it makes.
func pushAuthors(base *registry.Registry, st *auditStep) map[string][]string {
	email := strings.ToLower(st.c.Author.Email)
	out := map[string][]string{}
	nodes := func(ch registry.FileChange) (before, after *registry.Node) {
		return docNode(base.Doc(ch.Path)), docNode(st.update.Doc(ch.Path))
	}
	for _, p := range editedPaths(st.changes, nodes) {
		out[p] = []string{email}
	}
	return out
}

// verified checks that the commit an earlier audit accepted is still on
// the first-parent chain of the audited commit (commits), and says how not
// when it is not.
func (a *auditor) verified(sha string, commits []*object.Commit) *Rewrite {
	rw := &Rewrite{Verified: sha, Ref: a.res.Ref, How: RewriteUnknown}
	c, err := a.repo.Resolve(sha)
	if err != nil {
		rw.Reason = fmt.Sprintf("commit %s, accepted by an earlier audit, is unknown to this repository: history was rewritten (a force push) and the commit is gone; compare with the audited copy before trusting this history", sha)
		return rw
	}
	h := c.Hash
	for _, fp := range commits {
		if fp.Hash == h {
			return nil
		}
	}
	rw.Verified = h.String()
	if a.known[h] {
		rw.How = RewriteOffChain
		rw.Reason = fmt.Sprintf("commit %s, accepted by an earlier audit, is no longer on the first-parent chain of %s, only merged into it: history was rewritten by a merge that made it a second parent (a foxtrot merge: the branch merged into another one, which was then fast-forwarded onto it), so the audit now replays commits that were never judged as this branch's; list them with 'git log --first-parent %s..%s' and restore the branch to a merge of them onto %s", h, a.res.Ref, h, a.res.Ref, h)
		return rw
	}
	rw.How = RewriteNotAncestor
	rw.Reason = fmt.Sprintf("commit %s, accepted by an earlier audit, is not an ancestor of %s: history was rewritten (a force push); find what replaced it with 'git range-diff' before trusting this history", h, a.res.Ref)
	return rw
}

// addsConfig reports whether changes add relreg.yaml.
func addsConfig(changes []registry.FileChange) bool {
	for _, ch := range changes {
		if ch.Path == registry.ConfigFile && ch.To != "" {
			return true
		}
	}
	return false
}

func identity(s object.Signature) Identity { return Identity{Name: s.Name, Email: s.Email} }
