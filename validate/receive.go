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
	Checked      bool
}

// TrustSource is a commit whose relreg.yaml and approvers.yaml a change
// was judged under: the tip of a protected branch before the push.
type TrustSource struct {
	Branch string // the branch name, such as main
	SHA    string // its tip before the push
}

// String names the trust as the hook says it: "main (refs/heads/main at
// <sha>)".
func (t TrustSource) String() string {
	return fmt.Sprintf("%s (%s at %s)", t.Branch, plumbing.NewBranchReferenceName(t.Branch), t.SHA)
}

// OK reports whether the update may go through.
func (r RefResult) OK() bool {
	if r.Refused != "" {
		return false
	}
	return !hasErrors(r.Diagnostics)
}

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
	r := &receiver{repo: repo, opts: opts, cache: registry.NewParseCache(), facts: registry.OpenFactsCache(repo), before: prePush(updates)}
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
}

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

// update judges the update of a protected branch into res.
func (r *receiver) update(res *RefResult, branch string) error {
	u := res.Update
	switch {
	case u.New == zeroHash:
		res.Refused = fmt.Sprintf("%s is protected and may not be deleted", branch)
		return nil
	case u.Old == zeroHash:
		return r.againstPrimary(res)
	}
	oldC, err := r.repo.Resolve(u.Old)
	if err != nil {
		return err
	}
	newC, err := r.repo.Resolve(u.New)
	if err != nil {
		return err
	}
	if ff, err := oldC.IsAncestor(newC); err != nil {
		return fmt.Errorf("is %s an ancestor of %s: %w", u.Old, u.New, err)
	} else if !ff {
		res.Refused = fmt.Sprintf("%s is protected: this push rewrites its history (not a fast-forward); merge or rebase onto %s instead of force-pushing", branch, short(u.Old))
		return nil
	}
	own, err := r.check(u.Old, u.New, "")
	if errors.Is(err, ErrNoBaseRegistry) {
		// The old tip holds no registry: judged as a new protected
		// branch would be.
		return r.againstPrimary(res)
	}
	if err != nil {
		return err
	}
	res.Diagnostics = own
	if r.primary == nil || r.primary.Branch == branch {
		return nil
	}
	// Another protected branch: the primary branch's trust binds it too.
	bound, err := r.check(u.Old, u.New, r.primary.SHA)
	if err != nil {
		return err
	}
	res.Diagnostics = unionDiagnostics(own, bound)
	if hasErrors(own) {
		res.RefusedUnder = append(res.RefusedUnder, TrustSource{Branch: branch, SHA: oldC.Hash.String()})
	}
	if hasErrors(bound) {
		res.RefusedUnder = append(res.RefusedUnder, *r.primary)
	}
	return nil
}

// againstPrimary judges res.Update as a merge request into the primary
// protected branch, or by the static rules when there is none.
func (r *receiver) againstPrimary(res *RefResult) error {
	u := res.Update
	if r.primary == nil {
		// No protected branch holds a registry: this push is the trust root.
		ds, err := staticAt(r.repo, u.New, r.opts.Now, r.cache)
		res.Diagnostics = ds
		return err
	}
	ds, err := r.check(r.primary.SHA, u.New, "")
	if err != nil {
		res.Refused = fmt.Sprintf("%s is protected: it must be judged against %s (%s), and cannot be (%v)", strings.TrimPrefix(u.Ref, "refs/heads/"), r.primary.Branch, short(r.primary.SHA), err)
		return nil
	}
	res.Diagnostics = ds
	return nil
}

// check runs Check from base to head, under the trust of trustFrom when
// it is set, with the push's shared caches.
func (r *receiver) check(base, head, trustFrom string) ([]registry.Diagnostic, error) {
	cr, err := Check(r.repo, CheckOptions{Base: base, Head: head, TrustFrom: trustFrom, Now: r.opts.Now, Cache: r.cache, Facts: r.facts})
	if err != nil {
		return nil, err
	}
	return cr.Diagnostics, nil
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
