package validate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// Segregation of duties asks who edited a subject in a change. check (and
// with it the pre-receive hook) and audit answer it here, with one test of
// what an edit is: editsSpecOrStatus.

// editsSpecOrStatus reports whether a registry file changing from before
// to after (nil: absent, or not a document relreg can parse) edits its
// spec or status. A file that cannot be parsed on either side counts as
// edited, since nothing shows it was not; a change that only adds approval
// entries (or touches metadata, comments or layout) edits nothing.
func editsSpecOrStatus(before, after *registry.Node) bool {
	b, a := nodeValue(before), nodeValue(after)
	return b == nil || a == nil || !reflect.DeepEqual(b["spec"], a["spec"]) || !reflect.DeepEqual(b["status"], a["status"])
}

// nodeValue returns a parsed document's JSON value, or nil.
func nodeValue(n *registry.Node) map[string]any {
	if n == nil {
		return nil
	}
	m, _ := n.Value.(map[string]any)
	return m
}

// editedPaths returns the paths of the YAML files among changes whose spec
// or status the change edits; nodes gives a change's document before and
// after it.
func editedPaths(changes []registry.FileChange, nodes func(registry.FileChange) (before, after *registry.Node)) []string {
	var out []string
	for _, ch := range changes {
		if !strings.HasSuffix(ch.Path, ".yaml") {
			continue
		}
		if ch.From == "" || ch.To == "" {
			// Added or deleted: an edit, whatever either side holds, so
			// neither is read (a migration adds thousands at once).
			out = append(out, ch.Path)
			continue
		}
		if before, after := nodes(ch); editsSpecOrStatus(before, after) {
			out = append(out, ch.Path)
		}
	}
	return out
}

// blobNodes reads a change's documents from git's blobs, each parsed once.
func blobNodes(repo *registry.Repo, cache *registry.ParseCache) func(registry.FileChange) (before, after *registry.Node) {
	return func(ch registry.FileChange) (before, after *registry.Node) {
		return blobNode(repo, ch.From, cache), blobNode(repo, ch.To, cache)
	}
}

// blobNode parses a blob as a registry document, or returns nil when it
// is absent or cannot be read.
func blobNode(repo *registry.Repo, h string, cache *registry.ParseCache) *registry.Node {
	if h == "" {
		return nil
	}
	n, err := cache.Blob(repo.Git, plumbing.NewHash(h))
	if err != nil {
		return nil
	}
	return n
}

// docNode returns a document's parsed node, or nil.
func docNode(d *registry.Document) *registry.Node {
	if d == nil {
		return nil
	}
	return d.Node
}

// editedFiles returns the registry files whose spec or status a commit
// changed against its parent (nil for a root commit: everything is new).
func editedFiles(repo *registry.Repo, parent, c *object.Commit, cache *registry.ParseCache) ([]string, error) {
	changes, err := repo.ChangedFiles(parent, c)
	if err != nil {
		return nil, err
	}
	return editedPaths(changes, blobNodes(repo, cache)), nil
}

// Authors returns, for each registry file, the lower-case emails of the
// authors of commits in base..head (every commit of head when base is nil)
// that changed its spec or status. Merge
// commits are skipped: the commits they bring in are visited themselves.
// A commit that only adds approval entries changes neither.
func Authors(repo *registry.Repo, base, head *object.Commit, cache *registry.ParseCache) (map[string][]string, error) {
	return authorsWith(repo, base, head, cache, nil)
}

// authorsWith is Authors, reading base's history through anc (nil: read
// it whole).
func authorsWith(repo *registry.Repo, base, head *object.Commit, cache *registry.ParseCache, anc *Ancestry) (map[string][]string, error) {
	if base != nil && head.NumParents() == 1 && head.ParentHashes[0] == base.Hash {
		// base..head is head alone: no need to read base's history.
		files, err := editedFiles(repo, base, head, cache)
		if err != nil {
			return nil, err
		}
		out := map[string][]string{}
		for _, f := range files {
			out[f] = []string{strings.ToLower(head.Author.Email)}
		}
		return out, nil
	}
	inBase, err := anc.of(repo, base)
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

// ancestors returns every commit reachable from c, c included; none for
// a nil c (a head that shares no history with the base).
// Ancestry keeps the ancestors of the last commit it was asked about, so
// that the next question about a descendant of it reads only the commits
// in between: the commits of a push, checked one after the other (see
// CheckOptions.Ancestry), cost their own number, not the history's each.
// It is not safe for concurrent use.
type Ancestry struct {
	tip plumbing.Hash
	set map[plumbing.Hash]bool // the ancestors of tip, tip included; nil before the first question
}

// NewAncestry returns an empty Ancestry.
func NewAncestry() *Ancestry { return &Ancestry{} }

// of returns the ancestors of c, c included; the set is only read by the
// caller, and may grow at the next call.
func (a *Ancestry) of(repo *registry.Repo, c *object.Commit) (map[plumbing.Hash]bool, error) {
	if a == nil || c == nil {
		return ancestors(c)
	}
	if a.set != nil {
		if c.Hash == a.tip {
			return a.set, nil
		}
		// The set holds every ancestor of what it holds: the commits of
		// c's history outside it are those a walk from c reaches without
		// passing through it, and all of it is c's history when the walk
		// meets the tip.
		var added []plumbing.Hash
		seen := map[plumbing.Hash]bool{}
		metTip := false
		queue := []plumbing.Hash{c.Hash}
		for len(queue) > 0 {
			h := queue[0]
			queue = queue[1:]
			if seen[h] {
				continue
			}
			seen[h] = true
			if a.set[h] {
				metTip = metTip || h == a.tip
				continue
			}
			cc, err := repo.Git.CommitObject(h)
			if err != nil {
				return nil, fmt.Errorf("read commit %s: %w", h, err)
			}
			added = append(added, h)
			queue = append(queue, cc.ParentHashes...)
		}
		if metTip {
			for _, h := range added {
				a.set[h] = true
			}
			a.tip = c.Hash
			return a.set, nil
		}
	}
	set, err := ancestors(c)
	if err != nil {
		return nil, err
	}
	a.tip, a.set = c.Hash, set
	return set, nil
}

func ancestors(c *object.Commit) (map[plumbing.Hash]bool, error) {
	set := map[plumbing.Hash]bool{}
	if c == nil {
		return set, nil
	}
	iter := object.NewCommitPreorderIter(c, nil, nil)
	err := iter.ForEach(func(x *object.Commit) error {
		set[x.Hash] = true
		return nil
	})
	return set, err
}
