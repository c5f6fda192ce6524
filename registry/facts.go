package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Facts are what the rules across files read of a release they do not
// judge themselves: enough to find, without parsing the whole registry,
// the releases a change affects and the ones the rules need to judge them.
type Facts struct {
	Schedule string
	// Window is spec.deployment.window, when both times parse (WindowOK).
	Window     Interval
	WindowOK   bool
	Phase      string
	DependsOn  []string
	Components []ComponentRef
}

// Facts returns the facts of a release.
func (r *Release) Facts() Facts {
	iv, err := r.Interval()
	return Facts{
		Schedule:   r.Spec.Deployment.Schedule,
		Window:     iv,
		WindowOK:   err == nil,
		Phase:      r.Status.Phase,
		DependsOn:  r.Spec.DependsOn,
		Components: r.Spec.Components,
	}
}

// ReleasePath returns the path of the release "service@version".
func ReleasePath(id string) string {
	svc, version, _ := strings.Cut(id, "@")
	return ReleasesDir + "/" + svc + "/" + version + ".yaml"
}

// DMLPath returns the path of the DML entry a component names.
func (c ComponentRef) DMLPath() string { return DMLDir + "/" + c.Name + "/" + c.Version + ".yaml" }

// factsFormat names the encoding of the facts file and what goes into
// Facts: change it whenever either changes, and every stored file is
// ignored.
const factsFormat = "relreg facts 3"

// FactsCache keeps the facts of releases by blob hash, and the listings of
// the release folders by tree hash, in memory and, for a repository on
// disk, in <git dir>/relreg/facts: a check parses only the releases that
// changed since the last one, and reads only the folders that changed. The
// file is a cache: written atomically, ignored when it was written by
// another build of relreg or does not match its checksum, and safe to
// delete.
type FactsCache struct {
	path string // "" keeps the facts in memory only

	mu       sync.Mutex
	blobs    map[plumbing.Hash]*Facts // nil: the blob is no readable release
	trees    map[plumbing.Hash][]treeItem
	usedTree map[plumbing.Hash]bool
	newBlob  map[plumbing.Hash]bool
	dirty    bool
}

// treeItem is one entry of a cached tree listing.
type treeItem struct {
	name string
	hash plumbing.Hash
	dir  bool
}

// maxStoredFacts bounds the facts file: what the last run used is always
// kept, older facts while the total stays under this.
const maxStoredFacts = 200_000

// NewFactsCache returns a cache kept in memory only.
func NewFactsCache() *FactsCache {
	return &FactsCache{
		blobs:    map[plumbing.Hash]*Facts{},
		trees:    map[plumbing.Hash][]treeItem{},
		usedTree: map[plumbing.Hash]bool{},
		newBlob:  map[plumbing.Hash]bool{},
	}
}

// OpenFactsCache returns the facts cache of repo, loaded from its git
// directory when there is one. A missing or unreadable file is an empty
// cache, never an error.
func OpenFactsCache(repo *Repo) *FactsCache {
	c := NewFactsCache()
	if repo == nil {
		return c
	}
	// A filesystem storage, or one wrapping it (a push's quarantine).
	st, ok := repo.Git.Storer.(interface{ Filesystem() billy.Filesystem })
	if !ok {
		return c
	}
	c.path = filepath.Join(st.Filesystem().Root(), "relreg", "facts")
	if data, err := os.ReadFile(c.path); err == nil {
		if blobs, trees, err := decodeFacts(data); err == nil {
			c.blobs, c.trees = blobs, trees
		}
	}
	return c
}

func (c *FactsCache) get(h plumbing.Hash) (*Facts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.blobs[h]
	return f, ok
}

func (c *FactsCache) put(h plumbing.Hash, f *Facts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blobs[h] = f
	c.newBlob[h] = true
	c.dirty = true
}

func (c *FactsCache) tree(h plumbing.Hash) ([]treeItem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, ok := c.trees[h]
	if ok {
		c.usedTree[h] = true
	}
	return items, ok
}

func (c *FactsCache) putTree(h plumbing.Hash, items []treeItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trees[h] = items
	c.usedTree[h] = true
	c.dirty = true
}

// Save writes the cache back when this run learnt something new: the
// trees this run used with the facts of their files, the facts it added,
// and older facts while there is room. Writing is best effort for the
// caller: a read-only repository only loses speed.
func (c *FactsCache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.dirty {
		return nil
	}
	trees := make(map[plumbing.Hash][]treeItem, len(c.usedTree))
	blobs := make(map[plumbing.Hash]*Facts, len(c.blobs))
	for h := range c.newBlob {
		blobs[h] = c.blobs[h]
	}
	for h := range c.usedTree {
		trees[h] = c.trees[h]
		for _, it := range c.trees[h] {
			if f, ok := c.blobs[it.hash]; ok {
				blobs[it.hash] = f
			}
		}
	}
	for h, f := range c.blobs {
		if len(blobs) >= maxStoredFacts {
			break
		}
		blobs[h] = f
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	if err := WriteFileAtomic(c.path, encodeFacts(blobs, trees)); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

// factsIdentity ties a facts file to the build that wrote it, on top of
// factsFormat: a development build of another revision ignores it.
func factsIdentity() string { return buildIdentity(factsFormat) }

// buildIdentity is format followed by the build's version and revision.
func buildIdentity(format string) string {
	id := format
	if info, ok := debug.ReadBuildInfo(); ok {
		id += " " + info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				id += " " + s.Value
			}
		}
	}
	return id
}

// The facts file: the identity line; the number of facts, then per fact
// the 20-byte blob hash, a flag (0: no readable release, 1: facts follow)
// and the facts; the number of trees, then per tree its hash and its
// entries (name, hash, folder flag); then the SHA-256 of all that.
// Strings are uvarint-length-prefixed, times Unix seconds (varint) and
// nanoseconds (uvarint).
func encodeFacts(blobs map[plumbing.Hash]*Facts, trees map[plumbing.Hash][]treeItem) []byte {
	b := []byte(factsIdentity() + "\n")
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	instant := func(t time.Time) {
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	b = binary.AppendUvarint(b, uint64(len(blobs)))
	for h, f := range blobs {
		b = append(b, h[:]...)
		if f == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		str(f.Schedule)
		if f.WindowOK {
			b = append(b, 1)
			instant(f.Window.Start)
			instant(f.Window.End)
		} else {
			b = append(b, 0)
		}
		str(f.Phase)
		b = binary.AppendUvarint(b, uint64(len(f.DependsOn)))
		for _, d := range f.DependsOn {
			str(d)
		}
		b = binary.AppendUvarint(b, uint64(len(f.Components)))
		for _, c := range f.Components {
			str(c.Name)
			str(c.Version)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(trees)))
	for h, items := range trees {
		b = append(b, h[:]...)
		b = binary.AppendUvarint(b, uint64(len(items)))
		for _, it := range items {
			str(it.name)
			b = append(b, it.hash[:]...)
			if it.dir {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

var errBadFacts = errors.New("facts file is damaged or from another build")

// factsReader decodes the facts file; the first error sticks.
type factsReader struct {
	b        []byte
	bad      bool
	interned map[string]string
}

func (r *factsReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *factsReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *factsReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *factsReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *factsReader) hash() (h plumbing.Hash) {
	copy(h[:], r.bytes(uint64(len(h))))
	return h
}

// str reads a string; short ones (schedules, phases, versions) repeat
// across releases and are shared.
func (r *factsReader) str() string {
	raw := r.bytes(r.uvarint())
	if len(raw) > 32 {
		return string(raw)
	}
	if s, ok := r.interned[string(raw)]; ok {
		return s
	}
	s := string(raw)
	r.interned[s] = s
	return s
}

func (r *factsReader) instant() time.Time {
	sec := r.varint()
	return time.Unix(sec, int64(r.uvarint())).UTC()
}

func decodeFacts(data []byte) (map[plumbing.Hash]*Facts, map[plumbing.Hash][]treeItem, error) {
	if len(data) < sha256.Size {
		return nil, nil, errBadFacts
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, nil, errBadFacts
	}
	header := factsIdentity() + "\n"
	if !bytes.HasPrefix(body, []byte(header)) {
		return nil, nil, errBadFacts
	}
	r := &factsReader{b: body[len(header):], interned: map[string]string{}}
	count := r.uvarint()
	blobs := make(map[plumbing.Hash]*Facts, min(count, uint64(len(r.b)/21)))
	all := make([]Facts, 0, min(count, uint64(len(r.b)/21)))
	for i := uint64(0); i < count && !r.bad; i++ {
		h := r.hash()
		if r.byte() == 0 {
			blobs[h] = nil
			continue
		}
		f := Facts{Schedule: r.str()}
		if r.byte() == 1 {
			f.WindowOK = true
			f.Window.Start = r.instant()
			f.Window.End = r.instant()
		}
		f.Phase = r.str()
		if n := r.uvarint(); n > 0 && !r.bad {
			f.DependsOn = make([]string, 0, min(n, 1024))
			for i := uint64(0); i < n && !r.bad; i++ {
				f.DependsOn = append(f.DependsOn, r.str())
			}
		}
		if n := r.uvarint(); n > 0 && !r.bad {
			f.Components = make([]ComponentRef, 0, min(n, 1024))
			for i := uint64(0); i < n && !r.bad; i++ {
				f.Components = append(f.Components, ComponentRef{Name: r.str(), Version: r.str()})
			}
		}
		all = append(all, f)
		blobs[h] = &all[len(all)-1]
	}
	ntrees := r.uvarint()
	trees := make(map[plumbing.Hash][]treeItem, min(ntrees, uint64(len(r.b)/21)))
	for i := uint64(0); i < ntrees && !r.bad; i++ {
		h := r.hash()
		n := r.uvarint()
		items := make([]treeItem, 0, min(n, uint64(len(r.b)/22)))
		for j := uint64(0); j < n && !r.bad; j++ {
			items = append(items, treeItem{name: r.str(), hash: r.hash(), dir: r.byte() == 1})
		}
		trees[h] = items
	}
	if r.bad || len(r.b) != 0 {
		return nil, nil, errBadFacts
	}
	return blobs, trees, nil
}

// ReleaseFacts returns the facts of every readable release of the registry
// in fsys, by "service@version". Facts of a blob the cache knows are taken
// from it; the other releases are read and parsed on every core, their
// parses kept in pc (when not nil) for the load that usually follows. For
// a git tree, the listings of releases/ and its folders come from the
// cache too when their tree hashes are known.
func ReleaseFacts(fsys fs.FS, fc *FactsCache, pc *ParseCache) (map[string]Facts, error) {
	tfs, hashed := fsys.(*TreeFS)
	// list returns the entries of a folder: from the git tree (through the
	// cache) with their hashes, or from fsys without.
	list := func(dir string, tree plumbing.Hash) ([]treeItem, error) {
		switch {
		case hashed && dir == ReleasesDir:
			return tfs.listing(fc, dir)
		case hashed:
			return tfs.listTree(fc, tree)
		}
		if _, msg := notPlain(fsys, dir); msg != "" {
			return nil, nil // never followed: the load reports it
		}
		entries, err := readDir(fsys, dir)
		items := make([]treeItem, 0, len(entries))
		for _, e := range entries {
			if e.IsDir() || e.Type()&fs.ModeType == 0 {
				items = append(items, treeItem{name: e.Name(), dir: e.IsDir()})
			}
		}
		return items, err
	}
	services, err := list(ReleasesDir, plumbing.ZeroHash)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Facts, len(services)*16)
	var missing []factsTodo
	for _, svc := range services {
		if !svc.dir {
			continue
		}
		dir := ReleasesDir + "/" + svc.name
		files, err := list(dir, svc.hash)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			stem, ok := strings.CutSuffix(f.name, ".yaml")
			if f.dir || !ok {
				continue
			}
			id := svc.name + "@" + stem
			if facts, ok := fc.get(f.hash); hashed && ok {
				if facts != nil {
					out[id] = *facts
				}
				continue
			}
			missing = append(missing, factsTodo{id: id, path: dir + "/" + f.name, hash: f.hash, hashed: hashed})
		}
	}
	return out, readFacts(fsys, missing, fc, pc, out)
}

// listing lists a folder of the tree, from the cache when it knows the
// folder's tree; nil when there is no such folder.
func (t *TreeFS) listing(fc *FactsCache, dir string) ([]treeItem, error) {
	t.mu.Lock()
	e, err := t.find(dir)
	t.mu.Unlock()
	if err != nil || e.Mode != filemode.Dir {
		return nil, nil
	}
	return t.listTree(fc, e.Hash)
}

// listTree lists the tree object h, from the cache when it knows it.
func (t *TreeFS) listTree(fc *FactsCache, h plumbing.Hash) ([]treeItem, error) {
	if items, ok := fc.tree(h); ok {
		return items, nil
	}
	tree, err := t.trees.tree(h)
	if err != nil {
		return nil, err
	}
	// Symbolic links and submodules are no releases: never read.
	items := make([]treeItem, 0, len(tree.Entries))
	for _, e := range tree.Entries {
		if e.Mode == filemode.Dir || regular(e.Mode) {
			items = append(items, treeItem{name: e.Name, hash: e.Hash, dir: e.Mode == filemode.Dir})
		}
	}
	fc.putTree(h, items)
	return items, nil
}

// FactsOf returns the facts of the readable releases among paths in fsys,
// by "service@version", reading and parsing each.
func FactsOf(fsys fs.FS, paths []string, pc *ParseCache) (map[string]Facts, error) {
	var todo []factsTodo
	for _, p := range paths {
		if kind, id, ok := PathKind(p); ok && kind == KindRelease {
			if _, msg := notPlain(fsys, p); msg != "" {
				continue // a link or submodule: never read
			}
			todo = append(todo, factsTodo{id: id, path: p})
		}
	}
	out := map[string]Facts{}
	return out, readFacts(fsys, todo, nil, pc, out)
}

type factsTodo struct {
	id, path string
	hash     plumbing.Hash
	hashed   bool // hash is known, and the facts go into the cache
}

// readFacts reads and parses the releases of todo on every core and adds
// their facts to out and, for those whose hash is known, to fc.
func readFacts(fsys fs.FS, todo []factsTodo, fc *FactsCache, pc *ParseCache, out map[string]Facts) error {
	if len(todo) == 0 {
		return nil
	}
	docs := make([]*Document, len(todo))
	for i, t := range todo {
		docs[i] = &Document{Path: t.path, Kind: KindRelease, ID: t.id}
	}
	_, typed, err := readAll(fsys, docs, Options{Limits: DefaultLimits, Cache: pc})
	if err != nil {
		return err
	}
	for i, t := range todo {
		var facts *Facts
		if rel, ok := typed[i].(*Release); ok {
			f := rel.Facts()
			facts = &f
			out[t.id] = f
		}
		if t.hashed && fc != nil {
			fc.put(t.hash, facts)
		}
	}
	return nil
}

// InLayout reports whether a path lies in the registry's layout: one of
// its documents, or a file in one of its folders (which the layout
// rules judge).
func InLayout(p string) bool {
	class, _, _ := classify(p)
	return class != pathIgnored
}
