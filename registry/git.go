package registry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ErrUnknownRevision is returned when git cannot resolve a revision.
var ErrUnknownRevision = errors.New("unknown revision")

// Repo is a git repository opened through go-git, with the registry's
// folder inside it.
type Repo struct {
	Git *git.Repository
	// Root is the absolute path of the work tree.
	Root string
	// Prefix is the registry folder relative to Root, slash-separated;
	// empty when the registry is the repository root.
	Prefix string

	treesOnce sync.Once
	trees     *treeCache

	// goodTrees holds the trees MalformedTrees found well-formed, with
	// every tree below them, loaded from goodPath (nil until first used).
	goodMu      sync.Mutex
	goodTrees   map[plumbing.Hash]bool
	goodPath    string
	goodPending []plumbing.Hash // found, not yet written
	goodSaved   time.Time       // when last written
}

// treeCache returns the repository's cache of decoded trees.
func (r *Repo) treeCache() *treeCache {
	r.treesOnce.Do(func() { r.trees = &treeCache{storer: r.Git.Storer} })
	return r.trees
}

// OpenRepo opens the git repository holding registryDir (or repoDir when
// given) and locates the registry inside it.
func OpenRepo(registryDir, repoDir string) (*Repo, error) {
	absReg, err := filepath.Abs(registryDir)
	if err != nil {
		return nil, err
	}
	start := absReg
	if repoDir != "" {
		if start, err = filepath.Abs(repoDir); err != nil {
			return nil, err
		}
	}
	g, err := git.PlainOpenWithOptions(start, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", start, err)
	}
	wt, err := g.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open git work tree at %s: %w", start, err)
	}
	if g, err = reopen(g, wt.Filesystem); err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", start, err)
	}
	root := wt.Filesystem.Root()
	rel, err := filepath.Rel(root, absReg)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("registry %s is not inside the repository %s", absReg, root)
	}
	prefix := filepath.ToSlash(rel)
	if prefix == "." {
		prefix = ""
	}
	return &Repo{Git: g, Root: root, Prefix: prefix}, nil
}

// reopen opens the repository's storage again keeping pack files open:
// by default go-git opens the pack file anew for every object it reads,
// which dominates reading a tree of thousands of files.
func reopen(g *git.Repository, worktree billy.Filesystem) (*git.Repository, error) {
	st, ok := g.Storer.(*filesystem.Storage)
	if !ok {
		return g, nil
	}
	keep := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{MaxOpenDescriptors: 16})
	return git.Open(keep, worktree)
}

// FS returns the registry folder of a commit as an io/fs.FS. Files of the
// tree are read lazily; their blob hashes serve as parse-cache keys.
func (r *Repo) FS(c *object.Commit) (fs.FS, error) {
	trees := r.treeCache()
	tree, err := trees.tree(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", c.Hash, err)
	}
	t := &TreeFS{tree: tree, trees: trees, when: c.Committer.When, blobs: r.Git}
	if r.Prefix != "" {
		e, err := t.find(r.Prefix)
		if errors.Is(err, fs.ErrNotExist) || err == nil && e.Mode != filemode.Dir {
			return emptyFS{}, nil
		}
		if err == nil {
			t.tree, err = trees.tree(e.Hash)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", r.Prefix, c.Hash, err)
		}
	}
	return t, nil
}

// treeCache keeps decoded trees by hash for the tree diffs and file
// systems of one repository: walking a history, each commit's trees are
// mostly its parent's, and a commit's tree is diffed and then read. The
// trees it returns are shared: only their Entries may be read, never the
// go-git methods that index a tree lazily (FindEntry, File, Tree).
type treeCache struct {
	mu        sync.Mutex
	storer    storer.EncodedObjectStorer
	cur, prev map[plumbing.Hash]*cachedTree
}

// treeGeneration is how many trees the cache keeps before it starts a new
// generation and forgets the one before the last: it keeps 1 to 2 times
// as many.
const treeGeneration = 2048

// tree returns the tree h as decoded from its bytes, every entry as
// stored: a malformed tree (see CheckTree) is decoded as far as it can
// be, and MalformedTrees reports it.
func (c *treeCache) tree(h plumbing.Hash) (*object.Tree, error) {
	ct, err := c.get(h)
	if err != nil {
		return nil, err
	}
	return ct.tree, nil
}

func (c *treeCache) get(h plumbing.Hash) (*cachedTree, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.cur[h]; ok {
		return t, nil
	}
	t, ok := c.prev[h]
	if !ok {
		var err error
		if t, err = readTree(c.storer, h); err != nil {
			return nil, err
		}
	}
	if c.cur == nil || len(c.cur) >= treeGeneration {
		c.prev, c.cur = c.cur, make(map[plumbing.Hash]*cachedTree, treeGeneration)
	}
	c.cur[h] = t
	return t, nil
}

// entry returns the entry of a tree with a name, or nil.
func entry(t *object.Tree, name string) *object.TreeEntry {
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			return &t.Entries[i]
		}
	}
	return nil
}

// TreeFS is an io/fs.FS over a git tree.
type TreeFS struct {
	// mu serializes this file system's reads of the object storage.
	mu    sync.Mutex
	tree  *object.Tree
	trees *treeCache
	when  time.Time
	blobs *git.Repository
}

// find returns the entry of the tree at a valid path other than ".", or an
// error wrapping fs.ErrNotExist.
func (t *TreeFS) find(name string) (*object.TreeEntry, error) {
	tree := t.tree
	for {
		first, rest, more := strings.Cut(name, "/")
		e := entry(tree, first)
		if e == nil {
			return nil, fs.ErrNotExist
		}
		if !more {
			return e, nil
		}
		if e.Mode != filemode.Dir {
			return nil, fs.ErrNotExist
		}
		var err error
		if tree, err = t.trees.tree(e.Hash); err != nil {
			return nil, err
		}
		name = rest
	}
}

// dir returns the tree of a folder at a valid path.
func (t *TreeFS) dir(name string) (*object.Tree, error) {
	if name == "." {
		return t.tree, nil
	}
	e, err := t.find(name)
	if err != nil {
		return nil, err
	}
	if e.Mode != filemode.Dir {
		return nil, fs.ErrNotExist
	}
	return t.trees.tree(e.Hash)
}

// HashFS is an fs.FS that knows a content hash of each file, so parsed
// documents can be cached across commits.
type HashFS interface {
	fs.FS
	Hash(name string) (string, bool)
}

// Hash returns the object id git records for a path that is no folder:
// the blob hash of a file or of a symbolic link's target, the commit of a
// submodule.
func (t *TreeFS) Hash(name string) (string, bool) {
	if !fs.ValidPath(name) || name == "." {
		return "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.find(name)
	if err != nil || e.Mode == filemode.Dir {
		return "", false
	}
	return e.Hash.String(), true
}

// regular reports whether a tree entry is a file git checks out as one:
// not a symbolic link or a submodule.
func regular(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

// Open opens a file or folder of the tree.
func (t *TreeFS) Open(name string) (fs.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &treeDir{fs: t, name: ".", tree: t.tree}, nil
	}
	e, err := t.find(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if e.Mode == filemode.Dir {
		sub, err := t.trees.tree(e.Hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &treeDir{fs: t, name: name, tree: sub}, nil
	}
	data, err := t.readFile(name)
	if err != nil {
		return nil, err
	}
	return &treeFile{info: t.info(path.Base(name), *e, int64(len(data))), data: data}, nil
}

// ReadFile returns the content of a file of the tree.
func (t *TreeFS) ReadFile(name string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readFile(name)
}

func (t *TreeFS) readFile(name string) ([]byte, error) {
	data, size, err := t.readBlob(name, -1)
	if err == nil && int64(len(data)) != size {
		err = &fs.PathError{Op: "read", Path: name, Err: io.ErrUnexpectedEOF}
	}
	return data, err
}

// readLimited reads a file of the tree, as registry.readLimited does: a
// blob larger than limit is not read, its size taken from its header.
func (t *TreeFS) readLimited(name string, limit int64) ([]byte, int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readBlob(name, limit)
}

// readBlob reads the blob of a regular file of the tree, whole, or, when
// limit is not negative and the blob is larger, not at all. It returns
// the blob's size.
func (t *TreeFS) readBlob(name string, limit int64) ([]byte, int64, error) {
	if !fs.ValidPath(name) {
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	e, err := t.find(name)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	if !regular(e.Mode) {
		// A symbolic link is never followed, nor its target read as the
		// file's content.
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: a %s, not a regular file", fs.ErrInvalid, modeNoun(e.Mode))}
	}
	data, size, err := readBlob(t.blobs, e.Hash, limit)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, size, nil
}

// readBlob reads a blob, whole, or, when limit is not negative and the
// blob's size (read from its header, without its content) is larger, not
// at all: a 1 GiB blob in a push costs nothing to refuse.
func readBlob(g *git.Repository, h plumbing.Hash, limit int64) ([]byte, int64, error) {
	size, err := g.Storer.EncodedObjectSize(h)
	if err != nil {
		return nil, 0, err
	}
	if limit >= 0 && size > limit {
		return nil, size, nil
	}
	b, err := g.BlobObject(h)
	if err != nil {
		return nil, 0, err
	}
	return readLimitedBlob(b.Reader, size, max(limit, size))
}

// ReadDir lists a folder of the tree, sorted by name.
func (t *TreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	tree, err := t.dir(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for _, e := range tree.Entries {
		out = append(out, treeDirEntry{fs: t, e: e})
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// typeOf returns the type bits of the entry at a path (as Stat's Mode
// has them), without reading its blob.
func (t *TreeFS) typeOf(name string) (fs.FileMode, bool) {
	if !fs.ValidPath(name) || name == "." {
		return fs.ModeDir, name == "."
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.find(name)
	if err != nil {
		return 0, false
	}
	return entryType(e.Mode), true
}

// Lstat is Stat: a tree's symbolic links are never followed.
func (t *TreeFS) Lstat(name string) (fs.FileInfo, error) { return t.Stat(name) }

// ReadLink returns the target of a symbolic link of the tree.
func (t *TreeFS) ReadLink(name string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	e, err := t.find(name)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrNotExist}
	}
	if e.Mode != filemode.Symlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	b, err := t.blobs.BlobObject(e.Hash)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	rd, err := b.Reader()
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	defer rd.Close()
	target, err := io.ReadAll(rd)
	return string(target), err
}

// Stat describes a file or folder of the tree. A symbolic link is
// described as the link (fs.ModeSymlink), a submodule as fs.ModeIrregular.
func (t *TreeFS) Stat(name string) (fs.FileInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if name == "." {
		return t.info(".", object.TreeEntry{Mode: filemode.Dir}, 0), nil
	}
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	e, err := t.find(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return t.info(path.Base(name), *e, t.size(*e)), nil
}

// size returns the size of a blob, read from its object header.
func (t *TreeFS) size(e object.TreeEntry) int64 {
	if e.Mode == filemode.Dir || e.Mode == filemode.Submodule {
		return 0
	}
	size, err := t.blobs.Storer.EncodedObjectSize(e.Hash)
	if err != nil {
		return 0
	}
	return size
}

func (t *TreeFS) info(name string, e object.TreeEntry, size int64) fileInfo {
	return fileInfo{name: name, dir: e.Mode == filemode.Dir, typ: entryType(e.Mode), size: size, mod: t.when}
}

// entryType returns the fs.FileMode type bits of a tree entry's mode.
func entryType(m filemode.FileMode) fs.FileMode {
	switch {
	case m == filemode.Dir:
		return fs.ModeDir
	case m == filemode.Symlink:
		return fs.ModeSymlink
	case regular(m):
		return 0
	}
	return fs.ModeIrregular // a submodule
}

// modeNoun names what a tree entry's mode makes it.
func modeNoun(m filemode.FileMode) string {
	switch {
	case m == filemode.Dir:
		return "folder"
	case m == filemode.Symlink:
		return "symbolic link"
	case regular(m):
		return "file"
	}
	return "submodule"
}

// treeDirEntry is a folder entry; its size is read only when asked for,
// since reading it opens the blob.
type treeDirEntry struct {
	fs *TreeFS
	e  object.TreeEntry
}

func (d treeDirEntry) Name() string      { return d.e.Name }
func (d treeDirEntry) IsDir() bool       { return d.e.Mode == filemode.Dir }
func (d treeDirEntry) Type() fs.FileMode { return entryType(d.e.Mode) }
func (d treeDirEntry) Info() (fs.FileInfo, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	return d.fs.info(d.e.Name, d.e, d.fs.size(d.e)), nil
}

type fileInfo struct {
	name string
	dir  bool
	typ  fs.FileMode // fs.ModeSymlink, fs.ModeIrregular, or 0
	size int64
	mod  time.Time
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return max(i.size, 0) }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	if i.typ != 0 {
		return i.typ | 0o777
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return i.mod }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

type treeFile struct {
	info fileInfo
	data []byte
	off  int
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeFile) Close() error               { return nil }
func (f *treeFile) Read(p []byte) (int, error) {
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.off:])
	f.off += n
	return n, nil
}

type treeDir struct {
	fs      *TreeFS
	name    string
	tree    *object.Tree
	entries []fs.DirEntry // nil until the first ReadDir
	off     int
}

func (d *treeDir) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(d.name), dir: true, mod: d.fs.when}, nil
}
func (d *treeDir) Close() error { return nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.entries == nil {
		es, err := d.fs.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries = es
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}

// emptyFS is the registry folder of a commit that does not have it.
type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Blob parses a git blob as YAML, through the cache. It returns nil when the
// blob is not a valid document.
func (c *ParseCache) Blob(g *git.Repository, h plumbing.Hash) (*Node, error) {
	key := h.String()
	if p, ok := c.get(key); ok {
		return p.node, nil
	}
	data, size, err := readBlob(g, h, DefaultLimits.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	p := oversized(size, DefaultLimits)
	if data != nil {
		p = parseDoc(data, DefaultLimits)
	}
	c.put(key, p)
	return p.node, nil
}
