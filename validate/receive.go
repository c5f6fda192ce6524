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
	Diagnostics []registry.Diagnostic
	Checked     bool
}

// OK reports whether the update may go through.
func (r RefResult) OK() bool {
	if r.Refused != "" {
		return false
	}
	for _, d := range r.Diagnostics {
		if d.Severity == registry.SeverityError {
			return false
		}
	}
	return true
}

var zeroHash = plumbing.ZeroHash.String()

// Receive judges the updates of a push: every update of a protected branch
// must be a fast-forward whose change passes Check; protected branches are
// never deleted; replace refs are refused. Updates of other refs are not
// checked.
//
// A new protected branch, and an update of one whose old tip holds no
// registry, is judged as a merge request into the first protected branch
// (in opts.Protected order) that holds a registry: trust from that
// branch's tip, changes from the merge-base. Only when no protected branch
// holds a registry does a push stand on its own, judged by the static
// rules (the trust root).
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
	cache := registry.NewParseCache()
	before := prePush(updates)
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
		switch {
		case u.New == zeroHash:
			res.Refused = fmt.Sprintf("%s is protected and may not be deleted", branch)
		case u.Old == zeroHash:
			if err := receiveAgainstProtected(repo, &res, before, opts, cache); err != nil {
				return nil, err
			}
		default:
			oldC, err := repo.Resolve(u.Old)
			if err != nil {
				return nil, err
			}
			newC, err := repo.Resolve(u.New)
			if err != nil {
				return nil, err
			}
			if ff, err := oldC.IsAncestor(newC); err != nil {
				return nil, fmt.Errorf("is %s an ancestor of %s: %w", u.Old, u.New, err)
			} else if !ff {
				res.Refused = fmt.Sprintf("%s is protected: this push rewrites its history (not a fast-forward); merge or rebase onto %s instead of force-pushing", branch, short(u.Old))
				break
			}
			cr, err := Check(repo, CheckOptions{Base: u.Old, Head: u.New, Now: opts.Now, Cache: cache})
			if errors.Is(err, ErrNoBaseRegistry) {
				// The old tip holds no registry: judged as a new protected
				// branch would be.
				if err := receiveAgainstProtected(repo, &res, before, opts, cache); err != nil {
					return nil, err
				}
				break
			}
			if err != nil {
				return nil, err
			}
			res.Diagnostics = cr.Diagnostics
		}
		out = append(out, res)
	}
	return out, nil
}

// receiveAgainstProtected judges res.Update as a merge request into the
// first other protected branch whose tip before the push holds a registry,
// or by the static rules when there is none.
func receiveAgainstProtected(repo *registry.Repo, res *RefResult, before map[string]string, opts ReceiveOptions, cache *registry.ParseCache) error {
	u := res.Update
	for _, b := range opts.Protected {
		name := plumbing.NewBranchReferenceName(b).String()
		if name == u.Ref {
			continue
		}
		tip := refBefore(repo, before, name)
		if tip == "" {
			continue
		}
		cr, err := Check(repo, CheckOptions{Base: tip, Head: u.New, Now: opts.Now, Cache: cache})
		switch {
		case errors.Is(err, ErrNoBaseRegistry):
			continue // no registry there to judge against: try the next
		case err != nil:
			res.Refused = fmt.Sprintf("%s is protected: it must be judged against %s (%s), and cannot be (%v)", strings.TrimPrefix(u.Ref, "refs/heads/"), b, short(tip), err)
		default:
			res.Diagnostics = cr.Diagnostics
		}
		return nil
	}
	// No protected branch holds a registry: this push is the trust root.
	ds, err := staticAt(repo, u.New, opts.Now, cache)
	res.Diagnostics = ds
	return err
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
