package registry

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// FirstParents returns the first-parent history of a commit, oldest first:
// the commits a branch's tip went through, each merge standing for the
// merge request it closed.
func (r *Repo) FirstParents(tip *object.Commit) ([]*object.Commit, error) {
	var out []*object.Commit
	for c := tip; c != nil; {
		out = append(out, c)
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("read first parent of %s: %w (a shallow clone? fetch the whole history)", c.Hash, err)
		}
		c = p
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// FileChange is a registry file that differs between two commits.
type FileChange struct {
	Path     string // relative to the registry
	From, To string // blob hashes; empty when the file is added or deleted
}

// ChangedFiles returns the registry files that differ between two commits
// (from may be nil: everything in to is added). Identical subtrees are
// skipped, so the cost follows the size of the change.
func (r *Repo) ChangedFiles(from, to *object.Commit) ([]FileChange, error) {
	toTree, err := to.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", to.Hash, err)
	}
	fromTree := &object.Tree{}
	if from != nil {
		if fromTree, err = from.Tree(); err != nil {
			return nil, fmt.Errorf("read tree of %s: %w", from.Hash, err)
		}
	}
	if r.Prefix != "" {
		fromTree = subtree(fromTree, r.Prefix)
		toTree = subtree(toTree, r.Prefix)
	}
	changes, err := object.DiffTree(fromTree, toTree)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", to.Hash, err)
	}
	out := make([]FileChange, 0, len(changes))
	for _, ch := range changes {
		fc := FileChange{Path: ch.To.Name}
		if fc.Path == "" {
			fc.Path = ch.From.Name
		}
		if !ch.From.TreeEntry.Hash.IsZero() {
			fc.From = ch.From.TreeEntry.Hash.String()
		}
		if !ch.To.TreeEntry.Hash.IsZero() {
			fc.To = ch.To.TreeEntry.Hash.String()
		}
		out = append(out, fc)
	}
	return out, nil
}

// subtree returns the tree at prefix, or an empty tree.
func subtree(t *object.Tree, prefix string) *object.Tree {
	sub, err := t.Tree(strings.Trim(prefix, "/"))
	if err != nil {
		return &object.Tree{}
	}
	return sub
}
