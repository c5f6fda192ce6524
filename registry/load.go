package registry

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Sentinel errors.
var (
	// ErrNotRegistry is returned when no relreg.yaml is found.
	ErrNotRegistry = errors.New("not a relreg registry (no relreg.yaml here or in any parent folder): run 'relreg init' or pass --registry DIR")
)

// Well-known file and folder names.
const (
	ConfigFile    = "relreg.yaml"
	ApproversFile = "approvers.yaml"
	ServicesDir   = "services"
	ReleasesDir   = "releases"
	SchedulesDir  = "schedules"
	DMLDir        = "dml"
)

// Document is one registry file: its path, the kind its place in the layout
// asks for, and its parsed YAML (nil when the file could not be parsed).
type Document struct {
	Path string // slash-separated, relative to the registry root
	Kind string // the kind the layout expects at Path
	Node *Node
	Size int64
	// ID is the identity the path gives: the service, schedule or
	// component name, "service@version" or "component@version".
	ID string
}

// Subject returns the approval subject of the document (contract section 4).
func (d *Document) Subject() string {
	switch d.Kind {
	case KindRegistry:
		return "registry"
	case KindApprovers:
		return "approvers"
	case KindRelease:
		return "release/" + d.ID
	case KindDMLEntry:
		return "dml/" + d.ID
	case KindSchedule:
		return "schedule/" + d.ID
	case KindService:
		return "service/" + d.ID
	}
	return ""
}

// Pos returns the 1-based line and column of the node at the given path of
// keys and sequence indexes, or of the deepest node on the way there.
func (d *Document) Pos(path ...string) (line, col int) {
	if d == nil || d.Node == nil {
		return 0, 0
	}
	n := Lookup(d.Node.Root(), path, false)
	return n.Line, n.Column
}

// KeyPos is Pos, but for a mapping entry it points at the key, not the value.
func (d *Document) KeyPos(path ...string) (line, col int) {
	if d == nil || d.Node == nil {
		return 0, 0
	}
	n := Lookup(d.Node.Root(), path, true)
	return n.Line, n.Column
}

// Diag returns an error diagnostic about the node at path in d.
func (d *Document) Diag(rule, msg string, path ...string) Diagnostic {
	line, col := d.Pos(path...)
	return Diagnostic{Rule: rule, Severity: SeverityError, File: d.Path, Line: line, Column: col, Subject: d.Subject(), Message: msg}
}

// Spec returns the JSON value of the document's spec, or nil.
func (d *Document) Spec() any {
	if m, ok := d.Node.Value.(map[string]any); ok {
		return m["spec"]
	}
	return nil
}

// Registry is a loaded registry: every document by kind, keyed by the
// identity its path gives it.
type Registry struct {
	Files     []*Document // every file in the layout, sorted by path, parsed or not
	Config    *RegistryConfig
	Approvers *ApproversDoc
	Services  map[string]*Service  // by name
	Releases  map[string]*Release  // by "service@version"
	Schedules map[string]*Schedule // by name
	DML       map[string]*DMLEntry // by "component@version"

	// Diagnostics found while loading: yaml/* and layout/*.
	Diagnostics []Diagnostic
}

// Options tune loading.
type Options struct {
	Limits Limits
	// Cache, when set, keeps parsed files by content hash across loads of
	// file systems that know their hashes (HashFS, such as git trees), so
	// a file unchanged between two commits is parsed once.
	Cache *ParseCache
	// Subset, when not nil, limits the services, releases and DML entries
	// loaded to the paths it holds (relreg.yaml, approvers.yaml and the
	// schedules are always loaded): a partial registry, for a check that
	// knows which files its rules read. The folders of those kinds are then
	// not walked, so a stray file there gets no layout diagnostic; the
	// caller loads whole when a change adds one.
	Subset map[string]bool
}

// ParseCache holds parsed YAML by content hash. It is safe for concurrent
// use. It keeps the files parsed last: between parseGeneration and twice
// as many. A file read again after that is parsed again; a registry that
// was loaded holds its own files.
type ParseCache struct {
	mu        sync.Mutex
	cur, prev map[string]parsed
}

// parseGeneration is how many files a ParseCache generation holds.
const parseGeneration = 4096

type parsed struct {
	node  *Node
	diags []Diagnostic
	size  int64
}

// NewParseCache returns an empty cache.
func NewParseCache() *ParseCache { return &ParseCache{} }

func (c *ParseCache) get(h string) (parsed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[h]; ok {
		return p, true
	}
	p, ok := c.prev[h]
	if ok {
		c.putLocked(h, p)
	}
	return p, ok
}

func (c *ParseCache) put(h string, p parsed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(h, p)
}

func (c *ParseCache) putLocked(h string, p parsed) {
	if c.cur == nil || len(c.cur) >= parseGeneration {
		c.prev, c.cur = c.cur, make(map[string]parsed, parseGeneration)
	}
	c.cur[h] = p
}

// Load reads the registry at the root of fsys. It fails only when the
// registry cannot be read at all; problems with files are diagnostics.
func Load(fsys fs.FS, opts Options) (*Registry, error) {
	if opts.Limits.MaxFileSize == 0 {
		opts.Limits = DefaultLimits
	}
	if _, err := fs.Stat(fsys, ConfigFile); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotRegistry
		}
		return nil, fmt.Errorf("read %s: %w", ConfigFile, err)
	}
	docs, diags, err := list(fsys, opts.Subset)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		Files:       docs,
		Services:    map[string]*Service{},
		Releases:    map[string]*Release{},
		Schedules:   map[string]*Schedule{},
		DML:         map[string]*DMLEntry{},
		Diagnostics: diags,
	}
	ds, typed, err := readAll(fsys, docs, opts)
	if err != nil {
		return nil, err
	}
	r.Diagnostics = append(r.Diagnostics, ds...)
	for i, d := range docs {
		if typed[i] != nil {
			r.add(d, typed[i])
		}
	}
	return r, nil
}

// readAll reads and parses docs on every core, and decodes each into its
// typed value (nil for a file that could not be parsed).
func readAll(fsys fs.FS, docs []*Document, opts Options) ([]Diagnostic, []any, error) {
	perFile := make([][]Diagnostic, len(docs))
	typed := make([]any, len(docs))
	var firstErr error
	var errOnce sync.Once
	parallel(len(docs), func(i int) {
		f, err := fetchDoc(fsys, docs[i], opts)
		if err != nil {
			errOnce.Do(func() { firstErr = err })
			return
		}
		perFile[i], typed[i] = f.parse(docs[i], opts)
	})
	if firstErr != nil {
		return nil, nil, firstErr
	}
	var ds []Diagnostic
	for _, d := range perFile {
		ds = append(ds, d...)
	}
	return ds, typed, nil
}

// parallel runs f(0) to f(n-1) on every core, or in place for one.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0) // as for most commits an audit reads: no goroutines
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// fetchedDoc is a file read but not parsed: its parse, when the cache had
// it, or its bytes and content hash.
type fetchedDoc struct {
	cached *parsed
	hash   string
	data   []byte
}

// fetchDoc reads the file of d, unless the cache holds its parse.
func fetchDoc(fsys fs.FS, d *Document, opts Options) (fetchedDoc, error) {
	var f fetchedDoc
	if hfs, ok := fsys.(HashFS); ok && opts.Cache != nil {
		f.hash, _ = hfs.Hash(d.Path)
	}
	if f.hash != "" {
		if p, ok := opts.Cache.get(f.hash); ok {
			f.cached = &p
			return f, nil
		}
	}
	limits := cmp.Or(opts.Limits, DefaultLimits)
	data, size, err := readLimited(fsys, d.Path, limits.MaxFileSize)
	if err != nil {
		return f, fmt.Errorf("read %s: %w", d.Path, err)
	}
	if data == nil && size > limits.MaxFileSize {
		// Too large to read: parsed as such, never held in memory.
		p := oversized(size, limits)
		f.cached = &p
		return f, nil
	}
	f.data = data
	return f, nil
}

// parse parses what fetchDoc read (through the cache) into d, and returns
// the diagnostics found and d decoded into its typed value (nil when it
// could not be parsed).
func (f fetchedDoc) parse(d *Document, opts Options) ([]Diagnostic, any) {
	p := f.cached
	if p == nil && f.hash != "" {
		if c, ok := opts.Cache.get(f.hash); ok { // parsed since it was read
			p = &c
		}
	}
	if p == nil {
		parsed := parseDoc(f.data, opts.Limits)
		if f.hash != "" {
			opts.Cache.put(f.hash, parsed)
		}
		p = &parsed
	}
	ds := fileDiagnostics(d, *p)
	if d.Node == nil {
		return ds, nil
	}
	return ds, typedDoc(d)
}

// fileDiagnostics gives d the parse p of its content, and returns the
// diagnostics found parsing it, for d.
func fileDiagnostics(d *Document, p parsed) []Diagnostic {
	d.Size, d.Node = p.size, p.node
	ds := slices.Clone(p.diags) // cached diagnostics are shared: fill in a copy
	for i := range ds {
		ds[i].File = d.Path
		ds[i].Subject = d.Subject()
	}
	return ds
}

// parseDoc parses the bytes of a registry file: a YAML mapping.
func parseDoc(data []byte, lim Limits) parsed {
	p := parsed{size: int64(len(data))}
	p.node, p.diags = ParseYAML(data, lim)
	if p.node != nil && p.node.root.Kind != yaml.MappingNode {
		p.diags = append(p.diags, diag("schema", p.node.root.Line, p.node.root.Column,
			"document must be a mapping with apiVersion, kind, metadata and spec, not a %s", nodeKind(p.node.root)))
		p.node = nil
	}
	if p.node != nil {
		if m, ok := p.node.Value.(map[string]any); ok {
			if list, ok := m["approvals"].([]any); ok && len(list) > MaxApprovals {
				k := KeyNode(p.node.root, "approvals")
				p.diags = append(p.diags, diag("yaml/limits", k.Line, k.Column,
					"approvals holds %d entries, over the limit of %d: a document carries a handful per step; remove the entries that do not belong", len(list), MaxApprovals))
				p.node = nil
			}
		}
	}
	if p.node != nil {
		p.node.compact()
	}
	return p
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "scalar"
	}
	return "node"
}

// add decodes d into its typed form and files it under its identity.
func (r *Registry) add(d *Document, typed any) {
	switch v := typed.(type) {
	case *RegistryConfig:
		r.Config = v
	case *ApproversDoc:
		r.Approvers = v
	case *Service:
		r.Services[d.ID] = v
	case *Release:
		r.Releases[d.ID] = v
	case *Schedule:
		r.Schedules[d.ID] = v
	case *DMLEntry:
		r.DML[d.ID] = v
	}
}

// typedDoc decodes a parsed document into the typed value of its kind.
func typedDoc(d *Document) any {
	var v any
	switch d.Kind {
	case KindRegistry:
		v = &RegistryConfig{Doc: d}
	case KindApprovers:
		v = &ApproversDoc{Doc: d, keyring: &keyringMemo{}}
	case KindService:
		v = &Service{Doc: d}
	case KindRelease:
		v = &Release{Doc: d}
	case KindSchedule:
		v = &Schedule{Doc: d}
	case KindDMLEntry:
		v = &DMLEntry{Doc: d}
	default:
		return nil
	}
	decode(d, v)
	return v
}

// decode fills v from the document's JSON value, leniently: a field of the
// wrong type stays zero (the schema rule reports it).
func decode(d *Document, v any) { decodeValue(v, d.Node.Value) }

// list walks the layout of contract section 1 and returns the documents it
// finds (unparsed) and layout diagnostics for files that do not belong.
// relreg's own scratch files (IsScratchName) are skipped.
// With a subset, releases and DML entries are the subset's files that
// exist.
func list(fsys fs.FS, subset map[string]bool) ([]*Document, []Diagnostic, error) {
	docs := []*Document{{Path: ConfigFile, Kind: KindRegistry, ID: "registry"}}
	var diags []Diagnostic
	if _, err := fs.Stat(fsys, ApproversFile); err == nil {
		docs = append(docs, &Document{Path: ApproversFile, Kind: KindApprovers, ID: "approvers"})
	}
	layoutDiag := func(p, rule, msg string) {
		diags = append(diags, Diagnostic{Rule: rule, Severity: SeverityError, File: p, Message: msg})
	}
	// yamlName checks a file name in a layout folder and returns its stem.
	yamlName := func(p string, isDir bool, what string) (string, bool) {
		base := path.Base(p)
		switch {
		case isDir:
			layoutDiag(p, "layout/path", fmt.Sprintf("unexpected folder: %s holds only %s", path.Dir(p), what))
		case strings.HasSuffix(base, ".yml"):
			layoutDiag(p, "layout/extension", fmt.Sprintf("registry files end in .yaml: rename it to %s", strings.TrimSuffix(base, ".yml")+".yaml"))
		case !strings.HasSuffix(base, ".yaml"):
			layoutDiag(p, "layout/path", fmt.Sprintf("unexpected file: %s holds only %s", path.Dir(p), what))
		default:
			return strings.TrimSuffix(base, ".yaml"), true
		}
		return "", false
	}
	// fromSubset adds the subset's documents of a kind that exist.
	reported := map[string]bool{}
	fromSubset := func(kind string) {
		for p := range subset {
			k, id, ok := PathKind(p)
			if !ok || k != kind {
				continue
			}
			if at, msg := notPlain(fsys, p); msg != "" {
				if !reported[at] {
					reported[at] = true
					layoutDiag(at, "layout/path", msg)
				}
				continue
			}
			if exists(fsys, p) {
				docs = append(docs, &Document{Path: p, Kind: kind, ID: id})
			}
		}
	}
	// plain reports whether a folder entry is a plain file or folder, and
	// reports it when it is not: relreg never follows a symbolic link
	// there, nor reads a submodule.
	plain := func(p string, e fs.DirEntry) bool {
		if e.IsDir() || e.Type()&fs.ModeType == 0 {
			return true
		}
		layoutDiag(p, "layout/path", notPlainMessage(p, e.Type()))
		return false
	}
	// walkable reports whether a layout folder is there to walk, and
	// reports it when it is something else than a folder.
	walkable := func(dir string) (bool, error) {
		info, err := fs.Lstat(fsys, dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("read %s: %w", dir, err)
		case !info.IsDir():
			layoutDiag(dir, "layout/path", notPlainMessage(dir, info.Mode().Type()))
			return false, nil
		}
		return true, nil
	}
	flat := func(dir, kind, what string) error {
		if subset != nil && kind == KindService {
			fromSubset(kind)
			return nil
		}
		if ok, err := walkable(dir); !ok {
			return err
		}
		entries, err := readDir(fsys, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if isScratch(e) {
				continue
			}
			p := dir + "/" + e.Name()
			if !plain(p, e) {
				continue
			}
			if name, ok := yamlName(p, e.IsDir(), what); ok {
				docs = append(docs, &Document{Path: p, Kind: kind, ID: name})
			}
		}
		return nil
	}
	nested := func(dir, kind, what string) error {
		if subset != nil {
			fromSubset(kind)
			return nil
		}
		if ok, err := walkable(dir); !ok {
			return err
		}
		entries, err := readDir(fsys, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if isScratch(e) {
				continue
			}
			p := dir + "/" + e.Name()
			if !plain(p, e) {
				continue
			}
			if !e.IsDir() {
				layoutDiag(p, "layout/path", fmt.Sprintf("unexpected file: %s holds one folder per name, with %s inside", dir, what))
				continue
			}
			files, err := readDir(fsys, p)
			if err != nil {
				return err
			}
			for _, f := range files {
				if isScratch(f) {
					continue
				}
				fp := p + "/" + f.Name()
				if !plain(fp, f) {
					continue
				}
				if version, ok := yamlName(fp, f.IsDir(), what); ok {
					docs = append(docs, &Document{Path: fp, Kind: kind, ID: e.Name() + "@" + version})
				}
			}
		}
		return nil
	}
	if err := flat(ServicesDir, KindService, "<service>.yaml files"); err != nil {
		return nil, nil, err
	}
	if err := nested(ReleasesDir, KindRelease, "<version>.yaml files"); err != nil {
		return nil, nil, err
	}
	if err := flat(SchedulesDir, KindSchedule, "<schedule>.yaml files"); err != nil {
		return nil, nil, err
	}
	if err := nested(DMLDir, KindDMLEntry, "<version>.yaml files"); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(docs, func(a, b *Document) int { return strings.Compare(a.Path, b.Path) })
	if len(docs) > maxFiles {
		return nil, nil, fmt.Errorf("%w: the registry holds %d documents, over the limit of %d", ErrTooManyFiles, len(docs), maxFiles)
	}
	return docs, diags, nil
}

// maxFiles is MaxFiles; a test lowers it.
var maxFiles = MaxFiles

// ErrTooManyFiles is returned for a registry whose layout folders hold
// more than MaxFiles files.
var ErrTooManyFiles = errors.New("too many files")

// notPlain returns, for a path in the layout, the path and the message of
// a layout/path diagnostic when the path, or a folder on the way to it, is
// a symbolic link, a submodule or anything else than a plain file or
// folder; "" when there is none (or nothing at the path). relreg never
// follows a symbolic link in the layout's folders: on disk it could read a
// file outside the registry, in git a link's target is not what a
// checkout reads.
func notPlain(fsys fs.FS, p string) (at, msg string) {
	// A git tree holds no path through a link or a submodule: only the
	// last element can be one.
	if t, ok := fsys.(*TreeFS); ok {
		if typ, ok := t.typeOf(p); ok && typ&^fs.ModeDir != 0 {
			return p, notPlainMessage(p, typ)
		}
		return "", ""
	}
	i := 0
	for {
		j := strings.IndexByte(p[i:], '/')
		at = p
		if j >= 0 {
			at = p[:i+j]
		}
		info, err := fs.Lstat(fsys, at)
		if err != nil {
			return "", ""
		}
		switch t := info.Mode().Type(); {
		case t&^fs.ModeDir != 0:
			return at, notPlainMessage(at, t)
		case j < 0, t != fs.ModeDir: // p itself, or a file on the way to it
			return "", ""
		}
		i += j + 1
	}
}

// notPlainMessage says why a path of the layout whose type bits are t is
// refused, and how to fix it.
func notPlainMessage(p string, t fs.FileMode) string {
	const folders = "the registry's folders (services, releases, schedules, dml)"
	switch {
	case t&fs.ModeSymlink != 0:
		return fmt.Sprintf("%s is a symbolic link: symbolic links and submodules are not allowed in %s, and relreg never follows one; replace it with the file or folder itself", p, folders)
	case t&fs.ModeIrregular != 0:
		return fmt.Sprintf("%s is a git submodule: submodules and symbolic links are not allowed in %s; remove it (git rm --cached %s) and add the file or folder itself", p, folders, p)
	case t == 0:
		return fmt.Sprintf("%s is a file: it must be a folder; move the file away", p)
	}
	return fmt.Sprintf("%s is not a regular file or folder (%v): only files and folders are allowed in %s; remove it", p, t, folders)
}

// exists reports whether fsys holds a file at p; for a git tree without
// opening the blob.
func exists(fsys fs.FS, p string) bool {
	if hfs, ok := fsys.(HashFS); ok {
		if _, ok := hfs.Hash(p); ok {
			return true
		}
		// No hash is no answer: the work tree knows the hash of a file
		// only while git's index vouches for it.
	}
	fi, err := fs.Stat(fsys, p)
	return err == nil && !fi.IsDir()
}

func readDir(fsys fs.FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return entries, nil
}

// FindRoot returns the folder holding relreg.yaml: dir itself or the nearest
// parent, like git finds .git.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ConfigFile)); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ErrNotRegistry
		}
		d = parent
	}
}

// ReleasesOf returns the releases of a service.
func (r *Registry) ReleasesOf(service string) []*Release {
	var out []*Release
	for _, rel := range r.Releases {
		if rel.Doc.ID[:strings.IndexByte(rel.Doc.ID, '@')] == service {
			out = append(out, rel)
		}
	}
	slices.SortFunc(out, func(a, b *Release) int { return strings.Compare(a.Doc.Path, b.Doc.Path) })
	return out
}

// Has reports whether the layout holds a document at path, parsed or not.
func (r *Registry) Has(path string) bool { return r.Doc(path) != nil }

// Doc returns the document at path, parsed or not, or nil.
func (r *Registry) Doc(path string) *Document {
	i, found := slices.BinarySearchFunc(r.Files, path, func(d *Document, p string) int { return strings.Compare(d.Path, p) })
	if !found {
		return nil
	}
	return r.Files[i]
}
