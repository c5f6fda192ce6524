package validate

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// ErrShallow is returned when the merge-base of a check is not in a shallow
// clone's history.
var ErrShallow = errors.New("the merge-base is not in this shallow clone: fetch the whole history (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0; or git fetch --unshallow)")

// ErrNoBaseRegistry is returned when the base of a check has no registry:
// there is nothing to trust. The commit that adds relreg.yaml is the trust
// root, judged by the static rules alone.
var ErrNoBaseRegistry = errors.New("the base has no registry, so nothing to trust: the commit that adds relreg.yaml is the trust root; validate it with 'relreg validate'")

// CheckOptions say what to check.
type CheckOptions struct {
	Base string // a revision; the check's base is its merge-base with head
	Head string // a revision; empty means the working tree
	// WorkDir is the registry folder on disk, read when Head is empty.
	WorkDir string
	Now     time.Time
	Cache   *registry.ParseCache
	// Facts keeps the facts of releases across checks; nil opens the
	// repository's own (see registry.FactsCache).
	Facts *registry.FactsCache
	// Full loads the whole registry at base and head instead of the files
	// the change reaches: slower, with the same verdict.
	Full bool
}

// CheckResult is what a check found.
type CheckResult struct {
	Base        string // the merge-base commit
	Head        string // the head commit, empty for the working tree
	Files       int
	Diagnostics []registry.Diagnostic
}

// Check judges the change from the merge-base of opts.Base and the head to
// the head, as a merge request shows it.
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
	} else if headCommit, err = repo.Resolve("HEAD"); err != nil {
		headCommit = nil // an unborn branch: the working tree has no commits
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
	baseFS, err := repo.FS(base)
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(baseFS, registry.ConfigFile); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("base %s: %w", base.Hash, ErrNoBaseRegistry)
	}
	var headFS fs.FS
	var changes []registry.FileChange
	res := &CheckResult{Base: base.Hash.String()}
	if opts.Head != "" {
		res.Head = headCommit.Hash.String()
		if headFS, err = repo.FS(headCommit); err != nil {
			return nil, err
		}
		if changes, err = repo.ChangedFiles(base, headCommit); err != nil {
			return nil, err
		}
	} else {
		headFS = repo.WorkTreeFS(opts.WorkDir)
		if changes, err = registry.WorkTreeChanges(baseFS, headFS); err != nil {
			return nil, err
		}
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
	baseReg, err := registry.Load(baseFS, registry.Options{Cache: opts.Cache, Subset: subset})
	if err != nil {
		if errors.Is(err, registry.ErrNotRegistry) {
			return nil, fmt.Errorf("base %s: %w", base.Hash, ErrNoBaseRegistry)
		}
		return nil, fmt.Errorf("load base %s: %w", base.Hash, err)
	}
	// The head is the base with the change applied: only the files the
	// change touches are read and parsed.
	headReg, err := baseReg.Apply(headFS, changes, registry.Options{Cache: opts.Cache, Subset: subset})
	if errors.Is(err, registry.ErrNotRegistry) {
		// The change deletes relreg.yaml: the registry itself.
		res.Diagnostics = []registry.Diagnostic{{Rule: "governance/unapproved", Severity: registry.SeverityError,
			File: registry.ConfigFile, Subject: "registry", Message: "relreg.yaml may not be deleted: it is the registry; restore it"}}
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load head: %w", err)
	}
	var authors map[string][]string
	if headCommit != nil {
		if authors, err = Authors(repo, base, headCommit, opts.Cache); err != nil {
			return nil, err
		}
	}
	res.Files = len(headReg.Files)
	res.Diagnostics = Change(ChangeInput{Base: baseReg, Head: headReg, Now: opts.Now, Authors: authors})
	return res, nil
}

func mergeBase(repo *registry.Repo, a, b *object.Commit) (*object.Commit, error) {
	bases, err := a.MergeBase(b)
	if err != nil || len(bases) == 0 {
		if shallow, _ := repo.Git.Storer.Shallow(); len(shallow) > 0 {
			return nil, ErrShallow
		}
		if err != nil {
			return nil, fmt.Errorf("merge-base of %s and %s: %w", a.Hash, b.Hash, err)
		}
		return nil, fmt.Errorf("%s and %s have no common history", a.Hash, b.Hash)
	}
	return bases[0], nil
}

// Authors returns, for each registry file, the lower-case emails of the
// authors of commits in base..head that changed its spec or status. Merge
// commits are skipped: the commits they bring in are visited themselves.
// A commit that only adds approval entries changes neither.
func Authors(repo *registry.Repo, base, head *object.Commit, cache *registry.ParseCache) (map[string][]string, error) {
	inBase, err := ancestors(base)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	seen := map[plumbing.Hash]bool{}
	queue := []*object.Commit{head}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[c.Hash] || inBase[c.Hash] {
			continue
		}
		seen[c.Hash] = true
		parents := make([]*object.Commit, 0, c.NumParents())
		if err := c.Parents().ForEach(func(p *object.Commit) error { parents = append(parents, p); return nil }); err != nil {
			return nil, fmt.Errorf("read parents of %s: %w", c.Hash, err)
		}
		queue = append(queue, parents...)
		var files []string
		var err error
		switch len(parents) {
		case 0:
			files, err = editedFiles(repo, nil, c, cache)
		case 1:
			files, err = editedFiles(repo, parents[0], c, cache)
		default:
			files, err = mergeEdits(repo, c, parents, cache)
		}
		if err != nil {
			return nil, err
		}
		email := strings.ToLower(c.Author.Email)
		for _, f := range files {
			if !slices.Contains(out[f], email) {
				out[f] = append(out[f], email)
			}
		}
	}
	return out, nil
}

// mergeEdits returns the files a merge commit edited itself: those whose
// spec or status differs from every parent's version. A file the merge
// took as one parent had it is that parent's edit, attributed to the
// commits that made it; an edit made while merging (a conflict resolved by
// hand, or a merge committed after changing files) is the merge author's.
func mergeEdits(repo *registry.Repo, c *object.Commit, parents []*object.Commit, cache *registry.ParseCache) ([]string, error) {
	count := map[string]int{}
	for _, p := range parents {
		files, err := editedFiles(repo, p, c, cache)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			count[f]++
		}
	}
	var out []string
	for f, n := range count {
		if n == len(parents) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ancestors returns every commit reachable from c, c included.
func ancestors(c *object.Commit) (map[plumbing.Hash]bool, error) {
	set := map[plumbing.Hash]bool{}
	iter := object.NewCommitPreorderIter(c, nil, nil)
	err := iter.ForEach(func(x *object.Commit) error {
		set[x.Hash] = true
		return nil
	})
	return set, err
}

// editedFiles returns the registry files whose spec or status a commit
// changed against its parent (nil for a root commit: everything is new).
func editedFiles(repo *registry.Repo, parent, c *object.Commit, cache *registry.ParseCache) ([]string, error) {
	changes, err := repo.ChangedFiles(parent, c)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ch := range changes {
		if !strings.HasSuffix(ch.Path, ".yaml") {
			continue
		}
		before := blobValue(repo, ch.From, cache)
		after := blobValue(repo, ch.To, cache)
		if before == nil || after == nil || !reflect.DeepEqual(before["spec"], after["spec"]) || !reflect.DeepEqual(before["status"], after["status"]) {
			out = append(out, ch.Path)
		}
	}
	return out, nil
}

// blobValue parses a blob as a registry document and returns its JSON
// value, or nil when it is absent or cannot be parsed.
func blobValue(repo *registry.Repo, h string, cache *registry.ParseCache) map[string]any {
	if h == "" {
		return nil
	}
	n, err := cache.Blob(repo.Git, plumbing.NewHash(h))
	if err != nil || n == nil {
		return nil
	}
	m, _ := n.Value.(map[string]any)
	return m
}
