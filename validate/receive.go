package validate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// RefUpdate is one line a pre-receive hook reads: a ref moving from Old to
// New (all zeros for a created or deleted ref).
type RefUpdate struct {
	Old, New, Ref string
}

// ParseRefUpdates reads the "old new ref" lines git gives a pre-receive hook.
func ParseRefUpdates(r io.Reader) ([]RefUpdate, error) {
	var out []RefUpdate
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || !plumbing.IsHash(f[0]) || !plumbing.IsHash(f[1]) {
			return nil, fmt.Errorf("stdin line %d: want \"<old-sha> <new-sha> <ref>\", got %q", n, line)
		}
		out = append(out, RefUpdate{Old: f[0], New: f[1], Ref: f[2]})
	}
	return out, sc.Err()
}

// ReceiveOptions tune a pre-receive check.
type ReceiveOptions struct {
	// Protected are the branch names whose updates are checked, as
	// ProtectedBranches reads them; Receive refuses an invalid list.
	Protected []string
	Now       time.Time
}

// RefResult is the verdict on one ref update.
type RefResult struct {
	Update RefUpdate
	// Refused says why the update is refused outright (a deletion or a
	// non-fast-forward of a protected branch); empty otherwise.
	Refused string
	// Diagnostics of the checked change; empty when refused or unchecked.
	// A change judged under more than one trust has the union of what
	// each found.
	Diagnostics []registry.Diagnostic
	// RefusedUnder names the trusts under which the change broke a rule,
	// when it was judged under more than one (a protected branch other
	// than the primary one: under its own trust and the primary's).
	RefusedUnder []TrustSource
	// Commits are the new first-parent commits of the push that break a
	// rule judged on their own, each against its first parent as audit
	// judges it, oldest first. A push is judged as a whole and commit by
	// commit, so that no commit lands on a protected branch's first-parent
	// chain unjudged.
	Commits []CommitResult
	Checked bool
}

// CommitResult is the verdict on one new first-parent commit of a push.
type CommitResult struct {
	SHA string
	// Diagnostics of the commit against its first parent, each with its
	// Commit; the union over the trusts it was judged under.
	Diagnostics []registry.Diagnostic
	// RefusedUnder names the trusts that refused it, when it was judged
	// under more than one, as RefResult.RefusedUnder does.
	RefusedUnder []TrustSource
}

// TrustSource is a commit whose relreg.yaml and approvers.yaml a change
// was judged under: the tip of a protected branch before the push, or
// the first parent of a commit judged on its own.
type TrustSource struct {
	Branch string // the branch name, such as main; empty for a first parent
	SHA    string // its tip before the push, or the first parent
}

// String names the trust as the hook says it: "main (refs/heads/main at
// <sha>)", or "its first parent <sha>".
func (t TrustSource) String() string {
	if t.Branch == "" {
		return "its first parent " + t.SHA
	}
	return fmt.Sprintf("%s (%s at %s)", t.Branch, plumbing.NewBranchReferenceName(t.Branch), t.SHA)
}

// OK reports whether the update may go through.
func (r RefResult) OK() bool {
	if r.Refused != "" || len(r.Commits) > 0 {
		return false
	}
	return r.NetOK()
}

// NetOK reports whether the net change of the update, its old tip to its
// new tip, breaks no rule; its commits may still (Commits).
func (r RefResult) NetOK() bool { return !hasErrors(r.Diagnostics) }

func hasErrors(ds []registry.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == registry.SeverityError {
			return true
		}
	}
	return false
}

var zeroHash = plumbing.ZeroHash.String()

// Receive judges the updates of a push: every update of a protected branch
// must be a fast-forward whose change passes Check; protected branches are
// never deleted; replace refs are refused. Updates of other refs are not
// checked.
//
// The primary protected branch is the first protected branch (in
// opts.Protected order) whose tip holds a registry. Its trust binds every
// protected branch: an update of another protected branch is judged twice,
// under the trust of its own old tip and under the primary branch's, and
// passes only if both pass, so that a branch created from an old commit
// of main cannot bring back a key, a role or a requirement main has since
// revoked, removed or raised.
//
// A new protected branch, and an update of one whose old tip holds no
// registry, is judged as a merge request into the primary branch: trust
// from that branch's tip, changes from the merge-base. Only when no
// protected branch holds a registry does a push stand on its own, judged
// by the static rules (the trust root).
//
// The net change of an update (old tip to new tip) is not all that is
// judged: each new first-parent commit of the push (those no old tip it
// is judged against reaches) is judged against its first parent too,
// exactly as 'relreg audit' will judge it, a merge commit as the merge
// request it closes, under the same trusts. A commit that breaks a rule
// refuses the push (RefResult.Commits), even when a later commit of the
// same push repairs it: it would stay on the branch's first-parent chain,
// unjudged, for every later audit to find.
//
// Every update is judged against the refs as they were before the push
// (the Old side of the push's own updates): never against a ref the same
// push creates or moves, whose new tip is only proposed. Git refuses the
// whole push when the hook refuses one of its refs.
func Receive(repo *registry.Repo, updates []RefUpdate, opts ReceiveOptions) ([]RefResult, error) {
	protected, err := ProtectedBranches(opts.Protected)
	if err != nil {
		return nil, err
	}
	opts.Protected = protected
	r := &receiver{repo: repo, opts: opts, cache: registry.NewParseCache(), facts: registry.OpenFactsCache(repo), before: prePush(updates), memo: map[judgment][]registry.Diagnostic{}, mergeBases: map[judgment]string{}, ancestry: NewAncestry()}
	defer r.facts.Save() //nolint:errcheck // a cache that cannot be written only costs speed
	if r.primary, err = r.primaryBranch(); err != nil {
		return nil, err
	}
	var out []RefResult
	for _, u := range updates {
		res := RefResult{Update: u}
		if strings.HasPrefix(u.Ref, "refs/replace/") {
			res.Checked = true
			if u.New != zeroHash {
				res.Refused = "replace refs make git show other objects than relreg checks (git log, git show and checkouts honour them, relreg does not): push the commits themselves instead of replacing them"
			}
			out = append(out, res)
			continue
		}
		branch, isBranch := strings.CutPrefix(u.Ref, "refs/heads/")
		if !isBranch || !slices.Contains(opts.Protected, branch) {
			out = append(out, res)
			continue
		}
		res.Checked = true
		if err := r.update(&res, branch); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// receiver judges the updates of one push.
type receiver struct {
	repo   *registry.Repo
	opts   ReceiveOptions
	cache  *registry.ParseCache
	facts  *registry.FactsCache
	before map[string]string // the refs the push updates, as they were before it
	// primary is the first protected branch whose tip holds a registry
	// before the push; nil when none does.
	primary *TrustSource
	// memo holds what each judgment found: the net change of a one-commit
	// push is also that commit's own judgment, and is run once.
	memo map[judgment][]registry.Diagnostic
	// ancestry keeps the history Check reads to find authors, from one
	// commit of the push to the next.
	ancestry *Ancestry
	// mergeBases holds the merge-base each Check judged from.
	mergeBases map[judgment]string
}

// judgment is one check the hook makes: head judged from base (its
// merge-base with head) under the trust of trust; a static one (the trust
// root) when base is empty.
type judgment struct{ base, head, trust string }

// primaryBranch finds the primary protected branch.
func (r *receiver) primaryBranch() (*TrustSource, error) {
	for _, b := range r.opts.Protected {
		tip := refBefore(r.repo, r.before, plumbing.NewBranchReferenceName(b).String())
		if tip == "" {
			continue
		}
		c, err := r.repo.Resolve(tip)
		if err != nil {
			return nil, fmt.Errorf("protected branch %s: %w", b, err)
		}
		fsys, err := r.repo.FS(c)
		if err != nil {
			return nil, fmt.Errorf("protected branch %s: %w", b, err)
		}
		if hasRegistry(fsys) {
			return &TrustSource{Branch: b, SHA: c.Hash.String()}, nil
		}
	}
	return nil, nil
}

// update judges the update of a protected branch into res: the net
// change, then each new first-parent commit.
func (r *receiver) update(res *RefResult, branch string) error {
	u := res.Update
	if u.New == zeroHash {
		res.Refused = fmt.Sprintf("%s is protected and may not be deleted", branch)
		return nil
	}
	newC, err := r.repo.Resolve(u.New)
	if err != nil {
		return err
	}
	net, stops, err := r.net(res, branch, newC)
	if err != nil || res.Refused != "" {
		return err
	}
	commits, err := newFirstParents(r.repo, newC, stops)
	if err != nil {
		return err
	}
	for _, c := range commits {
		cr, err := r.commit(branch, c, net)
		if err != nil {
			return err
		}
		if cr != nil {
			res.Commits = append(res.Commits, *cr)
		}
	}
	return nil
}

// net judges the net change of res.Update, the old tip (or the branch it
// is judged against) to the new tip. It returns the judgments it made and
// the commits whose history is not new: the old tip and the branch it was
// judged against.
func (r *receiver) net(res *RefResult, branch string, newC *object.Commit) (map[judgment]bool, []*object.Commit, error) {
	u := res.Update
	if u.Old == zeroHash {
		return r.againstPrimary(res, nil)
	}
	oldC, err := r.repo.Resolve(u.Old)
	if err != nil {
		return nil, nil, err
	}
	if ff, err := oldC.IsAncestor(newC); err != nil {
		return nil, nil, fmt.Errorf("is %s an ancestor of %s: %w", u.Old, u.New, err)
	} else if !ff {
		res.Refused = fmt.Sprintf("%s is protected: this push rewrites its history (not a fast-forward); merge or rebase onto %s instead of force-pushing", branch, short(u.Old))
		return nil, nil, nil
	}
	old, newSHA := oldC.Hash.String(), newC.Hash.String()
	own, err := r.check(judgment{old, newSHA, old})
	if errors.Is(err, ErrNoBaseRegistry) {
		// The old tip holds no registry: judged as a new protected
		// branch would be.
		return r.againstPrimary(res, oldC)
	}
	if err != nil {
		return nil, nil, err
	}
	made := map[judgment]bool{{old, newSHA, old}: true}
	res.Diagnostics = own
	if r.primary == nil || r.primary.Branch == branch {
		return made, []*object.Commit{oldC}, nil
	}
	// Another protected branch: the primary branch's trust binds it too.
	bound, err := r.check(judgment{old, newSHA, r.primary.SHA})
	if err != nil {
		return nil, nil, err
	}
	made[judgment{old, newSHA, r.primary.SHA}] = true
	res.Diagnostics = unionDiagnostics(own, bound)
	if hasErrors(own) {
		res.RefusedUnder = append(res.RefusedUnder, TrustSource{Branch: branch, SHA: old})
	}
	if hasErrors(bound) {
		res.RefusedUnder = append(res.RefusedUnder, *r.primary)
	}
	return made, []*object.Commit{oldC}, nil
}

// againstPrimary judges res.Update as a merge request into the primary
// protected branch, or by the static rules when there is none. oldC is
// the old tip, if any.
func (r *receiver) againstPrimary(res *RefResult, oldC *object.Commit) (map[judgment]bool, []*object.Commit, error) {
	u := res.Update
	newC, err := r.repo.Resolve(u.New)
	if err != nil {
		return nil, nil, err
	}
	var stops []*object.Commit
	if oldC != nil {
		stops = append(stops, oldC)
	}
	head := newC.Hash.String()
	if r.primary == nil {
		// No protected branch holds a registry: this push is the trust root.
		j := judgment{head: head}
		ds, err := r.check(j)
		res.Diagnostics = ds
		return map[judgment]bool{j: true}, stops, err
	}
	j := judgment{r.primary.SHA, head, r.primary.SHA}
	ds, err := r.check(j)
	if err != nil {
		res.Refused = fmt.Sprintf("%s is protected: it must be judged against %s (%s), and cannot be (%v)", strings.TrimPrefix(u.Ref, "refs/heads/"), r.primary.Branch, short(r.primary.SHA), err)
		return nil, nil, nil
	}
	res.Diagnostics = ds
	made := map[judgment]bool{j: true}
	if mb := r.mergeBases[j]; mb != "" {
		// The same judgment as the head's from the merge-base under the
		// primary branch's trust: a one-commit branch's own.
		same := judgment{mb, head, r.primary.SHA}
		made[same] = true
		if _, ok := r.memo[same]; !ok && !r.addsRegistry(mb) {
			r.memo[same] = ds
		}
	}
	primaryC, err := r.repo.Resolve(r.primary.SHA)
	if err != nil {
		return nil, nil, err
	}
	return made, append(stops, primaryC), nil
}

// commit judges a new first-parent commit of the push against its first
// parent, as audit will, under the same trusts as the net change: its
// parent's, and the primary branch's for any other protected branch. A
// commit whose first parent holds no registry adds one, and is judged as
// a new protected branch would be. It returns nil when the commit breaks
// no rule, or when its judgments are the net change's own.
func (r *receiver) commit(branch string, c *object.Commit, net map[judgment]bool) (*CommitResult, error) {
	sha := c.Hash.String()
	var js []judgment
	var sources []TrustSource
	parent := ""
	if c.NumParents() > 0 {
		parent = c.ParentHashes[0].String()
	}
	if parent != "" && !r.addsRegistry(parent) {
		js, sources = append(js, judgment{parent, sha, parent}), append(sources, TrustSource{SHA: parent})
		if r.primary != nil && r.primary.Branch != branch {
			js, sources = append(js, judgment{parent, sha, r.primary.SHA}), append(sources, *r.primary)
		}
	} else if r.primary != nil {
		js = append(js, judgment{r.primary.SHA, sha, r.primary.SHA})
	} else {
		js = append(js, judgment{head: sha})
	}
	var ds []registry.Diagnostic
	var under []TrustSource
	for i, j := range js {
		if net[j] {
			continue // the net change's own judgment: reported with it
		}
		found, err := r.check(j)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", sha, err)
		}
		if len(js) > 1 && hasErrors(found) {
			under = append(under, sources[i])
		}
		ds = unionDiagnostics(ds, found)
	}
	if !hasErrors(ds) {
		return nil, nil
	}
	out := &CommitResult{SHA: sha, RefusedUnder: under}
	for _, d := range ds {
		d.Commit = sha
		out.Diagnostics = append(out.Diagnostics, d)
	}
	return out, nil
}

// addsRegistry reports whether rev holds no registry, so that a commit
// on top of it adds one.
func (r *receiver) addsRegistry(rev string) bool {
	c, err := r.repo.Resolve(rev)
	if err != nil {
		return false // Check reports it
	}
	fsys, err := r.repo.FS(c)
	return err == nil && !hasRegistry(fsys)
}

// check makes a judgment, once: Check from base to head under trust, or
// the static rules at head when base is empty, with the push's shared
// caches.
func (r *receiver) check(j judgment) ([]registry.Diagnostic, error) {
	if ds, ok := r.memo[j]; ok {
		return ds, nil
	}
	var ds []registry.Diagnostic
	var err error
	if j.base == "" {
		ds, err = staticAt(r.repo, j.head, r.opts.Now, r.cache)
	} else {
		trust := j.trust
		if trust == j.base {
			trust = ""
		}
		var cr *CheckResult
		if cr, err = Check(r.repo, CheckOptions{Base: j.base, Head: j.head, TrustFrom: trust, Now: r.opts.Now, Cache: r.cache, Facts: r.facts, Ancestry: r.ancestry}); err == nil {
			ds = cr.Diagnostics
			r.mergeBases[j] = cr.Base
		}
	}
	if err != nil {
		return nil, err
	}
	r.memo[j] = ds
	return ds, nil
}

// newFirstParents returns the first-parent commits of tip that no commit
// of stops reaches, oldest first: the commits a push adds to a branch's
// first-parent chain, which audit will judge one by one.
func newFirstParents(repo *registry.Repo, tip *object.Commit, stops []*object.Commit) ([]*object.Commit, error) {
	chain := []*object.Commit{tip} // tip's first-parent chain, read as far as needed
	at := func(i int) (*object.Commit, error) {
		for len(chain) <= i {
			last := chain[len(chain)-1]
			if last.NumParents() == 0 {
				return nil, nil
			}
			p, err := repo.Git.CommitObject(last.ParentHashes[0])
			if err != nil {
				return nil, fmt.Errorf("read first parent of %s: %w", last.Hash, err)
			}
			chain = append(chain, p)
		}
		return chain[i], nil
	}
	n := -1 // how many are new: the index of the first chain commit a stop reaches
	for _, stop := range stops {
		k, err := firstReached(tip, stop, at)
		if err != nil {
			return nil, err
		}
		if n < 0 || k < n {
			n = k
		}
	}
	if n < 0 { // nothing to stop at: the whole chain is new
		var err error
		if n, err = chainLen(at); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(chain[:n])
	slices.Reverse(out)
	return out, nil
}

// firstReached returns the index, on tip's first-parent chain (at), of
// the first commit that stop reaches, or the chain's length when there is
// none. The first such commit is a merge-base of tip and stop whenever a
// merge-base lies on the chain (a commit of the chain before it that stop
// reached would be a better common ancestor), so the chain is read only
// to there, and all of stop's history only when tip reaches stop through
// a second parent alone.
func firstReached(tip, stop *object.Commit, at func(int) (*object.Commit, error)) (int, error) {
	bases, err := tip.MergeBase(stop)
	if err != nil {
		return 0, fmt.Errorf("merge-base of %s and %s: %w", tip.Hash, stop.Hash, err)
	}
	if len(bases) == 0 {
		return chainLen(at) // no common history: nothing of the chain is reached
	}
	isBase := map[plumbing.Hash]bool{}
	for _, b := range bases {
		isBase[b.Hash] = true
	}
	if i, err := findOnChain(at, isBase); i >= 0 || err != nil {
		return i, err
	}
	reached, err := ancestors(stop)
	if err != nil {
		return 0, err
	}
	if i, err := findOnChain(at, reached); i >= 0 || err != nil {
		return i, err
	}
	return chainLen(at)
}

// findOnChain returns the index of the first commit of the chain in set,
// or -1.
func findOnChain(at func(int) (*object.Commit, error), set map[plumbing.Hash]bool) (int, error) {
	for i := 0; ; i++ {
		c, err := at(i)
		if err != nil || c == nil {
			return -1, err
		}
		if set[c.Hash] {
			return i, nil
		}
	}
}

// chainLen reads the whole chain and returns its length.
func chainLen(at func(int) (*object.Commit, error)) (int, error) {
	for i := 0; ; i++ {
		c, err := at(i)
		if err != nil || c == nil {
			return i, err
		}
	}
}

// unionDiagnostics returns the diagnostics of a and b, each once, sorted.
func unionDiagnostics(a, b []registry.Diagnostic) []registry.Diagnostic {
	seen := make(map[registry.Diagnostic]bool, len(a)+len(b))
	var out []registry.Diagnostic
	for _, d := range slices.Concat(a, b) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	registry.SortDiagnostics(out)
	return out
}

// prePush returns the old tip of every ref the push updates ("" for a ref
// it creates): the refs as they were before the push.
func prePush(updates []RefUpdate) map[string]string {
	out := make(map[string]string, len(updates))
	for _, u := range updates {
		if u.Old == zeroHash {
			out[u.Ref] = ""
		} else {
			out[u.Ref] = u.Old
		}
	}
	return out
}

// refBefore returns the commit a ref named before the push, or "" when it
// did not exist. A pre-receive hook runs before git moves any ref, so the
// repository's refs are the state before the push; the push's own old
// tips say the same, and are used for the refs it updates, so that the
// verdict holds even where refs were already moved.
func refBefore(repo *registry.Repo, before map[string]string, ref string) string {
	if old, ok := before[ref]; ok {
		return old
	}
	if r, err := repo.Git.Reference(plumbing.ReferenceName(ref), true); err == nil {
		return r.Hash().String()
	}
	return ""
}

// staticAt validates the registry of a commit on its own: a protected
// branch created by a push has no base to compare with.
func staticAt(repo *registry.Repo, rev string, now time.Time, cache *registry.ParseCache) ([]registry.Diagnostic, error) {
	c, err := repo.Resolve(rev)
	if err != nil {
		return nil, err
	}
	if ds, err := historyTrees(repo, c); err != nil || len(ds) > 0 {
		return ds, err
	}
	fsys, err := repo.FS(c)
	if err != nil {
		return nil, err
	}
	reg, err := registry.Load(fsys, registry.Options{Cache: cache})
	if errors.Is(err, registry.ErrNotRegistry) {
		return nil, nil // a branch without a registry has nothing to check
	}
	if err != nil {
		return nil, err
	}
	return Static(reg, Options{Now: now}), nil
}
