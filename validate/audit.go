package validate

import (
	"errors"
	"fmt"
	"reflect"
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
)

// AuditOptions say what history to audit.
type AuditOptions struct {
	// Ref is the commit whose first-parent history is audited; empty
	// means HEAD, the current branch.
	Ref string
	// Since, when set, judges only commits whose committer time is at or
	// after it. Earlier commits are still replayed, so that the registry
	// is right when judging starts.
	Since time.Time
	// Verified names a commit an earlier audit accepted (a SHA). If it is
	// unknown or not an ancestor of Ref, history was rewritten.
	Verified string
	// Cache shares parsed blobs; nil makes a new one.
	Cache *registry.ParseCache
	// Progress, when set, is called after each first-parent commit.
	Progress func(done, total int)
	// Full judges each commit on the whole registry instead of the part
	// it reaches: slower, with the same verdict.
	Full bool
}

// AuditTrustRoot is the commit that introduced relreg.yaml: every later
// commit is judged against the trust it set up; it is not judged itself.
type AuditTrustRoot struct {
	SHA       string    `json:"sha"`
	Author    Identity  `json:"author"`
	Committer Identity  `json:"committer"`
	Time      time.Time `json:"time"` // committer time, UTC
}

// AuditCommit is a judged commit that broke at least one rule.
type AuditCommit struct {
	SHA        string    `json:"sha"`
	Kind       string    `json:"kind"` // CommitBypass or CommitMergedAnyway
	Author     Identity  `json:"author"`
	Committer  Identity  `json:"committer"`
	Time       time.Time `json:"time"` // committer time, UTC: the check time
	Violations int       `json:"violations"`
}

// Rewrite says that a commit an earlier audit accepted is no longer in the
// history of the audited ref: history was rewritten, as by a force push.
type Rewrite struct {
	Verified string `json:"verified"` // the commit as given
	Ref      string `json:"ref"`      // the audited commit
	Reason   string `json:"reason"`
}

// AuditResult is what an audit found.
type AuditResult struct {
	Ref       string          // the audited commit, full SHA
	TrustRoot *AuditTrustRoot // nil when no commit introduced relreg.yaml
	// Audited counts the judged commits: first-parent commits after the
	// trust root, at or after Since.
	Audited int
	// Files counts the registry files at Ref.
	Files int
	// Rewritten is set when Verified is not in the history of Ref.
	Rewritten *Rewrite
	// Commits are the judged commits that broke a rule, oldest first.
	Commits []AuditCommit
	// Diagnostics, each with its Commit, grouped by commit in the order of
	// Commits and sorted within a commit.
	Diagnostics []registry.Diagnostic
}

// OK reports whether the audit found nothing: no violation, no rewrite.
func (r *AuditResult) OK() bool { return r.Rewritten == nil && len(r.Diagnostics) == 0 }

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
// opts.Ref against its first parent, with the commit's committer time as
// the check time. One registry is kept in memory and advanced commit by
// commit with only the files each commit changed; blobs are parsed once.
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
	a := &auditor{repo: repo, cache: opts.Cache, full: opts.Full, since: opts.Since, known: make(map[plumbing.Hash]bool, len(commits)), res: &AuditResult{Ref: tip.Hash.String()}}
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
		a.res.Rewritten = a.verified(opts.Verified)
	}
	return a.res, nil
}

// auditor carries the replay from one commit to the next.
type auditor struct {
	repo  *registry.Repo
	cache *registry.ParseCache
	full  bool      // judge on the whole registry (AuditOptions.Full)
	since time.Time // AuditOptions.Since
	// known holds every commit of the history read so far: the
	// first-parent commits and the commits their merges brought in. It is
	// the ancestry of the last commit read, built once. Only read writes
	// it, until it returns.
	known map[plumbing.Hash]bool
	// index holds the facts of the replayed registry's releases, kept
	// current commit by commit; nil until first needed.
	index *factsIndex
	// jobs takes the judgments to the workers; verdicts holds what each
	// first-parent commit broke, by its position in the history.
	jobs     chan auditJob
	verdicts [][]registry.Diagnostic
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
	judged    bool // after the trust root, at or after Since
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
	for i, c := range commits {
		st := &auditStep{c: c, judged: rooted && !c.Committer.When.Before(a.since)}
		if i > 0 {
			st.parent = commits[i-1]
		}
		st.err = a.readStep(st, &present)
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

func (a *auditor) readStep(st *auditStep, present *bool) error {
	brought, err := a.bringIn(st.c)
	if err != nil {
		return err
	}
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
			scope = scopeOf(changed, a.index, overlay{base: a.index, changed: after})
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
func (a *auditor) judge(st *auditStep, base, head *registry.Registry) {
	a.jobs <- auditJob{seq: st.seq, in: ChangeInput{Base: base, Head: head, Now: st.c.Committer.When, Authors: st.authors}}
}

// report records the violations of a judged commit.
func (a *auditor) report(c *object.Commit, ds []registry.Diagnostic) {
	if len(ds) == 0 {
		return
	}
	sha := c.Hash.String()
	for i := range ds {
		ds[i].Commit = sha
	}
	kind := CommitBypass
	if c.NumParents() > 1 {
		kind = CommitMergedAnyway
	}
	a.res.Commits = append(a.res.Commits, AuditCommit{SHA: sha, Kind: kind, Author: identity(c.Author), Committer: identity(c.Committer), Time: c.Committer.When.UTC(), Violations: len(ds)})
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
		add(a.edited(changes), c.Author.Email)
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
		add(a.edited(chs), bc.Author.Email)
	}
	return out, nil
}

// pushAuthors returns the authors of a direct push, as authors does, from
// the registry before the push and the update it makes.
func pushAuthors(base *registry.Registry, st *auditStep) map[string][]string {
	email := strings.ToLower(st.c.Author.Email)
	out := map[string][]string{}
	value := func(d *registry.Document) map[string]any {
		if d == nil || d.Node == nil {
			return nil
		}
		m, _ := d.Node.Value.(map[string]any)
		return m
	}
	for _, ch := range st.changes {
		if !strings.HasSuffix(ch.Path, ".yaml") {
			continue
		}
		before, after := value(base.Doc(ch.Path)), value(st.update.Doc(ch.Path))
		if before == nil || after == nil || !reflect.DeepEqual(before["spec"], after["spec"]) || !reflect.DeepEqual(before["status"], after["status"]) {
			out[ch.Path] = []string{email}
		}
	}
	return out
}

// edited returns the files whose spec or status changes alter, as
// editedFiles does, from changes already computed.
func (a *auditor) edited(changes []registry.FileChange) []string {
	var out []string
	for _, ch := range changes {
		if !strings.HasSuffix(ch.Path, ".yaml") {
			continue
		}
		before := blobValue(a.repo, ch.From, a.cache)
		after := blobValue(a.repo, ch.To, a.cache)
		if before == nil || after == nil || !reflect.DeepEqual(before["spec"], after["spec"]) || !reflect.DeepEqual(before["status"], after["status"]) {
			out = append(out, ch.Path)
		}
	}
	return out
}

// verified checks that the commit an earlier audit accepted is still in
// the audited history, and says how not when it is not.
func (a *auditor) verified(sha string) *Rewrite {
	rw := &Rewrite{Verified: sha, Ref: a.res.Ref}
	h, err := a.repo.Git.ResolveRevision(plumbing.Revision(sha))
	if err == nil {
		if _, cerr := a.repo.Git.CommitObject(*h); cerr != nil {
			err = cerr // a tree or blob: not a commit an audit accepted
		}
	}
	if err != nil {
		rw.Reason = fmt.Sprintf("commit %s, accepted by an earlier audit, is unknown to this repository: history was rewritten (a force push) and the commit is gone; compare with the audited copy before trusting this history", sha)
		return rw
	}
	if a.known[*h] {
		return nil
	}
	rw.Verified = h.String()
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
