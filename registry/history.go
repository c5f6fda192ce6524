package registry

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
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

// History resolves ref ("HEAD" when empty) and returns its commit and its
// first-parent history, oldest first.
func (r *Repo) History(ref string) (*object.Commit, []*object.Commit, error) {
	if ref == "" {
		ref = "HEAD"
	}
	tip, err := r.Resolve(ref)
	if err != nil {
		return nil, nil, err
	}
	commits, err := r.FirstParents(tip)
	if err != nil {
		return nil, nil, err
	}
	return tip, commits, nil
}

// FileChange is a registry file that differs between two commits.
type FileChange struct {
	Path     string // relative to the registry
	From, To string // blob hashes; empty when the file is added or deleted
}

// ChangedFiles returns the registry files that differ between two commits
// (from may be nil: everything in to is added), sorted by path. Identical
// subtrees are skipped, so the cost follows the size of the change, and the
// trees decoded for one call are kept for the next: walking a history, each
// commit's trees are the next commit's base.
func (r *Repo) ChangedFiles(from, to *object.Commit) ([]FileChange, error) {
	r.diffMu.Lock()
	defer r.diffMu.Unlock()
	if r.differ == nil {
		r.differ = &treeDiffer{repo: r}
	}
	return r.differ.changedFiles(from, to)
}

// treeDiffer diffs the registry folder of two commits, keeping the trees
// decoded by the previous call: go-git's DiffTree decodes both trees anew
// each time, which dominated reading a 10,000-commit history.
type treeDiffer struct {
	repo      *Repo
	cur, prev map[plumbing.Hash]*object.Tree // trees used by this commit and the one before
}

var emptyTree = &object.Tree{}

func (d *treeDiffer) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := d.cur[h]; ok {
		return t, nil
	}
	t, ok := d.prev[h]
	if !ok {
		var err error
		if t, err = object.GetTree(d.repo.Git.Storer, h); err != nil {
			return nil, fmt.Errorf("read tree %s: %w", h, err)
		}
	}
	d.cur[h] = t
	return t, nil
}

// root returns the registry folder's tree of a commit, or the empty tree.
func (d *treeDiffer) root(c *object.Commit) (*object.Tree, error) {
	if c == nil {
		return emptyTree, nil
	}
	t, err := d.tree(c.TreeHash)
	if err != nil {
		return nil, err
	}
	for _, name := range strings.Split(d.repo.Prefix, "/") {
		if name == "" {
			continue
		}
		e := entry(t, name)
		if e == nil || e.Mode.IsFile() {
			return emptyTree, nil
		}
		if t, err = d.tree(e.Hash); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (d *treeDiffer) changedFiles(parent, c *object.Commit) ([]FileChange, error) {
	d.prev, d.cur = d.cur, make(map[plumbing.Hash]*object.Tree, len(d.cur))
	from, err := d.root(parent)
	if err != nil {
		return nil, err
	}
	to, err := d.root(c)
	if err != nil {
		return nil, err
	}
	var out []FileChange
	if err := d.diff("", from, to, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func entry(t *object.Tree, name string) *object.TreeEntry {
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			return &t.Entries[i]
		}
	}
	return nil
}

// diff appends the files that differ between two trees below prefix.
func (d *treeDiffer) diff(prefix string, a, b *object.Tree, out *[]FileChange) error {
	bByName := make(map[string]*object.TreeEntry, len(b.Entries))
	for i := range b.Entries {
		bByName[b.Entries[i].Name] = &b.Entries[i]
	}
	seen := make(map[string]bool, len(a.Entries))
	for i := range a.Entries {
		ea := &a.Entries[i]
		seen[ea.Name] = true
		if err := d.diffEntry(prefix+ea.Name, ea, bByName[ea.Name], out); err != nil {
			return err
		}
	}
	for i := range b.Entries {
		if eb := &b.Entries[i]; !seen[eb.Name] {
			if err := d.diffEntry(prefix+eb.Name, nil, eb, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffEntry compares one name of two trees; either entry may be nil.
func (d *treeDiffer) diffEntry(p string, ea, eb *object.TreeEntry, out *[]FileChange) error {
	if ea != nil && eb != nil && ea.Hash == eb.Hash && ea.Mode == eb.Mode {
		return nil
	}
	aDir := ea != nil && ea.Mode == filemode.Dir
	bDir := eb != nil && eb.Mode == filemode.Dir
	if aDir || bDir {
		ta, tb := emptyTree, emptyTree
		var err error
		if aDir {
			if ta, err = d.tree(ea.Hash); err != nil {
				return err
			}
		}
		if bDir {
			if tb, err = d.tree(eb.Hash); err != nil {
				return err
			}
		}
		if err := d.diff(p+"/", ta, tb, out); err != nil {
			return err
		}
	}
	fc := FileChange{Path: p}
	if ea != nil && ea.Mode.IsFile() {
		fc.From = ea.Hash.String()
	}
	if eb != nil && eb.Mode.IsFile() {
		fc.To = eb.Hash.String()
	}
	if fc.From != "" || fc.To != "" {
		*out = append(*out, fc)
	}
	return nil
}
