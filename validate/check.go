package validate

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// ErrShallow is returned when the merge-base of a check is not in a shallow
// clone's history.
var ErrShallow = errors.New("the merge-base is not in this shallow clone: fetch the whole history (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0; or git fetch --unshallow)")

// ErrNoBaseRegistry is returned when the base tip of a check (the commit
// --base names) has no registry: there is nothing to trust. The commit
// that adds relreg.yaml is the trust root, judged by the static rules
// alone.
var ErrNoBaseRegistry = errors.New("the base has no registry, so nothing to trust: the commit that adds relreg.yaml is the trust root; validate it with 'relreg validate'")

// CheckOptions say what to check.
type CheckOptions struct {
	// Base is a revision, the tip of the target branch: it gives the trust
	// (approvers, keys, requirements); what changed is read from its
	// merge-base with head.
	Base string
	// TrustFrom, when set, is a revision whose relreg.yaml and
	// approvers.yaml give the trust instead of Base's: what changed is
	// still read from the merge-base of Base and head. The pre-receive
	// hook judges a protected branch under the primary branch's trust
	// this way, so that no protected branch rolls back its policy.
	TrustFrom string
	Head      string // a revision; empty means the working tree
	// WorkDir is the registry folder on disk, read when Head is empty.
	WorkDir string
	Now     time.Time
	Cache   *registry.ParseCache
	// Facts keeps the facts of releases across checks; nil opens the
	// repository's own (see registry.FactsCache).
	Facts *registry.FactsCache
	// Ancestry, when set, remembers the history read to find the authors
	// of a change, for the next check of a change that starts at a
	// descendant: a push's commits, checked one by one. Nil reads it anew.
	Ancestry *Ancestry
	// Full loads the whole registry at base and head instead of the files
	// the change reaches: slower, with the same verdict.
	Full bool
}

// CheckResult is what a check found.
type CheckResult struct {
	Base        string // the merge-base commit; empty when the head shares no history with the base
	Head        string // the head commit, empty for the working tree
	Files       int
	Diagnostics []registry.Diagnostic
}

// Check judges the change from the merge-base of opts.Base and the head to
// the head, as a merge request shows it, under the trust of opts.Base
// itself: the approvers, keys and requirements of the target branch's tip,
// never those of the merge-base, so that a branch forked before a key was
// revoked is judged with today's policy. When the merge-base holds no
// registry (a branch forked before relreg.yaml was added), or the two share
// no history, every file of the head is new. Only a base tip without a
// registry is ErrNoBaseRegistry.
func Check(repo *registry.Repo, opts CheckOptions) (*CheckResult, error) {
	if opts.Cache == nil {
		opts.Cache = registry.NewParseCache()
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	baseTip, err := repo.Resolve(opts.Base)
	if err != nil {
		return nil, err
	}
	var headCommit *object.Commit
	if opts.Head != "" {
		if headCommit, err = repo.Resolve(opts.Head); err != nil {
			return nil, err
		}
	} else if headCommit, err = repo.Resolve("HEAD"); errors.Is(err, registry.ErrUnknownRevision) {
		headCommit = nil // an unborn branch: the working tree has no commits
	} else if err != nil {
		return nil, err
	}
	tipFS, err := repo.FS(baseTip)
	if err != nil {
		return nil, err
	}
	if !hasRegistry(tipFS) {
		return nil, fmt.Errorf("base %s: %w", baseTip.Hash, ErrNoBaseRegistry)
	}
	trustTip, trustFS := baseTip, tipFS
	if opts.TrustFrom != "" {
		if trustTip, err = repo.Resolve(opts.TrustFrom); err != nil {
			return nil, err
		}
		if trustFS, err = repo.FS(trustTip); err != nil {
			return nil, err
		}
		if !hasRegistry(trustFS) {
			return nil, fmt.Errorf("trust from %s: %w", trustTip.Hash, ErrNoBaseRegistry)
		}
	}
	base := baseTip
	if headCommit != nil {
		if base, err = mergeBase(repo, baseTip, headCommit); err != nil {
			return nil, err
		}
	}
	if res, err := malformedChange(repo, baseTip, base, headCommit, opts.Head != ""); res != nil || err != nil {
		return res, err
	}
	var baseFS fs.FS
	res := &CheckResult{}
	if base != nil {
		res.Base = base.Hash.String()
		if baseFS, err = repo.FS(base); err != nil {
			return nil, err
		}
	}
	var headFS fs.FS
	if opts.Head != "" {
		res.Head = headCommit.Hash.String()
		if headFS, err = repo.FS(headCommit); err != nil {
			return nil, err
		}
	} else {
		headFS = repo.WorkTreeFS(opts.WorkDir)
	}
	var baseReg, headReg *registry.Registry
	if base == nil || !hasRegistry(baseFS) {
		// The change adds the registry: every file of the head is new,
		// judged against an empty registry under the base tip's trust.
		baseReg = registry.Empty()
		headReg, err = registry.Load(headFS, registry.Options{Cache: opts.Cache})
		if errors.Is(err, registry.ErrNotRegistry) {
			return res, nil // no registry on either side: nothing changed in it
		}
		if err != nil {
			return nil, fmt.Errorf("load head: %w", err)
		}
	} else {
		var changes []registry.FileChange
		if opts.Head != "" {
			changes, err = repo.ChangedFiles(base, headCommit)
		} else {
			changes, err = registry.WorkTreeChanges(baseFS, headFS)
		}
		if err != nil {
			return nil, err
		}
		var subset map[string]bool
		if !opts.Full {
			facts := opts.Facts
			if facts == nil {
				facts = registry.OpenFactsCache(repo)
				defer facts.Save() //nolint:errcheck // a cache that cannot be written only costs speed
			}
			if subset, err = checkScope(baseFS, headFS, changes, facts, opts.Cache); err != nil {
				return nil, err
			}
		}
		if baseReg, err = registry.Load(baseFS, registry.Options{Cache: opts.Cache, Subset: subset}); err != nil {
			return nil, fmt.Errorf("load base %s: %w", base.Hash, err)
		}
		// The head is the base with the change applied: only the files the
		// change touches are read and parsed.
		headReg, err = baseReg.Apply(headFS, changes, registry.Options{Cache: opts.Cache, Subset: subset})
		if errors.Is(err, registry.ErrNotRegistry) {
			// The change deletes relreg.yaml: the registry itself.
			res.Diagnostics = []registry.Diagnostic{{Rule: "governance/unapproved", Severity: registry.SeverityError,
				File: registry.ConfigFile, Subject: "registry", Message: "relreg.yaml may not be deleted: it is the registry; restore it"}}
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load head: %w", err)
		}
	}
	// Trust comes from the base tip (or TrustFrom). When that is the
	// merge-base, the base registry holds it already (relreg.yaml and
	// approvers.yaml are loaded whatever the scope); otherwise only those
	// two files are read.
	trusted := baseReg
	if base == nil || base.Hash != trustTip.Hash {
		if trusted, err = registry.LoadTrust(trustFS, registry.Options{Cache: opts.Cache}); err != nil {
			return nil, fmt.Errorf("load trust at %s: %w", trustTip.Hash, err)
		}
	}
	var authors map[string][]string
	if headCommit != nil {
		if authors, err = authorsWith(repo, base, headCommit, opts.Cache, opts.Ancestry); err != nil {
			return nil, err
		}
	}
	res.Files = len(headReg.Files)
	res.Diagnostics = Change(ChangeInput{Base: baseReg, Head: headReg, Trust: trusted, Now: opts.Now, Authors: authors})
	return res, nil
}

// hasRegistry reports whether fsys holds relreg.yaml. Only a file that is
// certainly absent counts as no registry; any other error is left to
// loading, which reports it.
func hasRegistry(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, registry.ConfigFile)
	return !errors.Is(err, fs.ErrNotExist)
}

// mergeBase returns the merge-base of a and b, or nil when they share no
// history (in a clone that is not shallow, where that is certain).
func mergeBase(repo *registry.Repo, a, b *object.Commit) (*object.Commit, error) {
	bases, err := a.MergeBase(b)
	if err != nil || len(bases) == 0 {
		if shallow, _ := repo.Git.Storer.Shallow(); len(shallow) > 0 {
			return nil, ErrShallow
		}
		if err != nil {
			return nil, fmt.Errorf("merge-base of %s and %s: %w", a.Hash, b.Hash, err)
		}
		return nil, nil
	}
	return bases[0], nil
}
