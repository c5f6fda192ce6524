package registry

import (
	"cmp"
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
	Path string // relative to the registry
	// From and To are the object ids git records for the path: blob
	// hashes (of a file, or of a symbolic link's target), or the commit
	// of a submodule; empty when the path is added or deleted.
	From, To string
}

// ChangedFiles returns the registry files that differ between two commits
// (from may be nil: everything in to is added), sorted by path. Identical
// subtrees are skipped, so the cost follows the size of the change, and
// decoded trees are kept for the next call (see treeCache): walking a
// history, each commit's trees are the next commit's base. go-git's
// DiffTree decodes both trees anew each time, which dominated reading a
// 10,000-commit history.
func (r *Repo) ChangedFiles(from, to *object.Commit) ([]FileChange, error) {
	return (&treeDiffer{repo: r}).changedFiles(from, to)
}

// treeDiffer diffs the registry folder of two commits.
type treeDiffer struct {
	repo *Repo
}

var emptyTree = &object.Tree{}

func (d *treeDiffer) tree(h plumbing.Hash) (*object.Tree, error) { return d.repo.treeCache().tree(h) }

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
		if e == nil || e.Mode != filemode.Dir {
			return emptyTree, nil
		}
		if t, err = d.tree(e.Hash); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (d *treeDiffer) changedFiles(parent, c *object.Commit) ([]FileChange, error) {
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

// diff appends the files that differ between two trees below prefix. Git
// keeps a tree's entries sorted, so the two are walked side by side; a
// tree that is not sorted (hand-made, or damaged) is matched by name.
func (d *treeDiffer) diff(prefix string, a, b *object.Tree, out *[]FileChange) error {
	if !gitSorted(a.Entries) || !gitSorted(b.Entries) {
		return d.diffByName(prefix, a, b, out)
	}
	i, j := 0, 0
	for i < len(a.Entries) || j < len(b.Entries) {
		var ea, eb *object.TreeEntry
		switch {
		case j == len(b.Entries):
			ea = &a.Entries[i]
		case i == len(a.Entries):
			eb = &b.Entries[j]
		default:
			switch c := gitOrder(&a.Entries[i], &b.Entries[j]); {
			case c < 0:
				ea = &a.Entries[i]
			case c > 0:
				eb = &b.Entries[j]
			default:
				ea, eb = &a.Entries[i], &b.Entries[j]
			}
		}
		name := ""
		if ea != nil {
			i++
			name = ea.Name
		}
		if eb != nil {
			j++
			name = eb.Name
		}
		if ea != nil && eb != nil && ea.Hash == eb.Hash && ea.Mode == eb.Mode {
			continue
		}
		if err := d.diffEntry(prefix+name, ea, eb, out); err != nil {
			return err
		}
	}
	return nil
}

// diffByName is diff for trees whose entries are not in git's order.
func (d *treeDiffer) diffByName(prefix string, a, b *object.Tree, out *[]FileChange) error {
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

// gitOrder compares two tree entries as git orders them: by name, a
// folder's name as if it ended in "/". A file and a folder of one name are
// two entries.
func gitOrder(a, b *object.TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 {
		return c
	}
	return cmp.Compare(gitNameByte(a, n), gitNameByte(b, n))
}

// gitNameByte returns byte i of the name git sorts an entry by: its name,
// then "/" for a folder; 0 past the end.
func gitNameByte(e *object.TreeEntry, i int) int {
	switch {
	case i < len(e.Name):
		return int(e.Name[i])
	case i == len(e.Name) && e.Mode == filemode.Dir:
		return '/'
	}
	return 0
}

// gitSorted reports whether entries are strictly in git's order.
func gitSorted(entries []object.TreeEntry) bool {
	for i := 1; i < len(entries); i++ {
		if gitOrder(&entries[i-1], &entries[i]) >= 0 {
			return false
		}
	}
	return true
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
	// Every entry that is no folder is a change: a symbolic link or a
	// submodule too, which the layout rule refuses in its folders.
	fc := FileChange{Path: p}
	if ea != nil && !aDir {
		fc.From = ea.Hash.String()
	}
	if eb != nil && !bDir {
		fc.To = eb.Hash.String()
	}
	if fc.From != "" || fc.To != "" {
		*out = append(*out, fc)
	}
	return nil
}
