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
	// Protected are the branch names whose updates are checked.
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
// never deleted. Updates of other refs are not checked.
func Receive(repo *registry.Repo, updates []RefUpdate, opts ReceiveOptions) ([]RefResult, error) {
	cache := registry.NewParseCache()
	var out []RefResult
	for _, u := range updates {
		res := RefResult{Update: u}
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
			// A new protected branch is judged against an existing one, as
			// a merge request into it would be; only the first protected
			// branch of a repository (the trust root) stands on its own.
			base := existingProtected(repo, opts.Protected, u.Ref)
			if base == "" {
				ds, err := staticAt(repo, u.New, opts.Now, cache)
				if err != nil {
					return nil, err
				}
				res.Diagnostics = ds
				break
			}
			cr, err := Check(repo, CheckOptions{Base: base, Head: u.New, Now: opts.Now, Cache: cache})
			switch {
			case errors.Is(err, ErrNoBaseRegistry):
				if res.Diagnostics, err = staticAt(repo, u.New, opts.Now, cache); err != nil {
					return nil, err
				}
			case err != nil:
				res.Refused = fmt.Sprintf("%s is protected: a new protected branch must share history with %s, and this one cannot be checked against it (%v)", branch, short(base), err)
			default:
				res.Diagnostics = cr.Diagnostics
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
				// This push adds the registry: the trust root.
				if res.Diagnostics, err = staticAt(repo, u.New, opts.Now, cache); err != nil {
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

// existingProtected returns the commit of a protected branch other than ref
// that the repository already has, or "".
func existingProtected(repo *registry.Repo, protected []string, ref string) string {
	for _, b := range protected {
		name := plumbing.NewBranchReferenceName(b)
		if name.String() == ref {
			continue
		}
		if r, err := repo.Git.Reference(name, true); err == nil {
			return r.Hash().String()
		}
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
