package registry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// pathClass says what the layout makes of a path.
type pathClass int

const (
	pathIgnored  pathClass = iota // outside the layout's folders
	pathDocument                  // a document of the layout
	pathOther                     // in a layout folder, but not a document there
)

// PathKind returns the kind and identity the layout gives a registry path,
// or ok false for a path that is not a document of the layout.
func PathKind(p string) (kind, id string, ok bool) {
	class, kind, id := classify(p)
	return kind, id, class == pathDocument
}

// classify returns what the layout (contract section 1) makes of a
// slash-separated path relative to the registry, and for a document its
// kind and identity.
func classify(p string) (class pathClass, kind, id string) {
	switch p {
	case ConfigFile:
		return pathDocument, KindRegistry, "registry"
	case ApproversFile:
		return pathDocument, KindApprovers, "approvers"
	}
	dir, rest, found := strings.Cut(p, "/")
	if !found {
		switch p {
		case ServicesDir, ReleasesDir, SchedulesDir, DMLDir:
			return pathOther, "", "" // a file or link where a folder must be
		}
		return pathIgnored, "", ""
	}
	parts := strings.Split(rest, "/")
	name := parts[len(parts)-1]
	stem, isYAML := strings.CutSuffix(name, ".yaml")
	switch dir {
	case ServicesDir, SchedulesDir:
		if len(parts) != 1 || !isYAML {
			return pathOther, "", ""
		}
		if dir == ServicesDir {
			return pathDocument, KindService, stem
		}
		return pathDocument, KindSchedule, stem
	case ReleasesDir, DMLDir:
		if len(parts) != 2 || !isYAML {
			return pathOther, "", ""
		}
		if dir == ReleasesDir {
			return pathDocument, KindRelease, parts[0] + "@" + stem
		}
		return pathDocument, KindDMLEntry, parts[0] + "@" + stem
	}
	return pathIgnored, "", ""
}

// Apply returns the registry of fsys, given that fsys holds what r was
// loaded from except for changes. Only the changed files are read; the
// others are shared with r, which stays as it was. A change the layout
// does not admit (a stray file in a layout folder) or a change to
// relreg.yaml's presence falls back to a full Load.
func (r *Registry) Apply(fsys fs.FS, changes []FileChange, opts Options) (*Registry, error) {
	u, err := ReadUpdate(fsys, changes, opts)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Reload:
		return Load(fsys, opts)
	case u.Empty():
		return r, nil
	}
	out := r.Clone()
	out.Update(u)
	return out, nil
}

// An Update is a change to a registry read from the file system that
// holds it: the documents the changed files hold now. ReadUpdate reads and
// parses it, Registry.Update applies it in place. FetchUpdate only reads
// it, and Parse parses it later, without the file system: reading a git
// repository and parsing can then run on different goroutines.
type Update struct {
	// Reload is set when the change cannot be applied file by file: it
	// adds a file the layout does not admit (a stray file in a layout
	// folder) or adds or deletes relreg.yaml. The registry must be loaded
	// again, whole.
	Reload bool

	changed map[string]bool // registry paths changed, deleted ones included
	docs    []*Document     // the changed files that exist now
	typed   []any           // docs decoded, nil when unreadable
	diags   []Diagnostic    // found reading docs

	// Between FetchUpdate and Parse: the content of each of docs.
	fetched []fetchedDoc
	opts    Options
}

// ReadUpdate reads and parses the files of changes that exist in fsys.
// Files outside the layout are ignored.
func ReadUpdate(fsys fs.FS, changes []FileChange, opts Options) (*Update, error) {
	u, err := FetchUpdate(fsys, changes, opts)
	if err != nil {
		return nil, err
	}
	u.Parse()
	return u, nil
}

// FetchUpdate reads the files of changes that exist in fsys, as
// ReadUpdate does, but leaves parsing them to Parse. Files the parse cache
// holds are not read.
func FetchUpdate(fsys fs.FS, changes []FileChange, opts Options) (*Update, error) {
	if opts.Limits.MaxFileSize == 0 {
		opts.Limits = DefaultLimits
	}
	u := &Update{changed: map[string]bool{}, opts: opts}
	for _, ch := range changes {
		class, kind, id := classify(ch.Path)
		switch {
		case class == pathIgnored:
			continue
		case class == pathOther, kind == KindRegistry && (ch.From == "" || ch.To == ""):
			return &Update{Reload: true}, nil
		}
		u.changed[ch.Path] = true
		if ch.To != "" {
			if _, msg := notPlain(fsys, ch.Path); msg != "" {
				return &Update{Reload: true}, nil // a link or submodule: the layout's
			}
			u.docs = append(u.docs, &Document{Path: ch.Path, Kind: kind, ID: id})
		}
	}
	u.fetched = make([]fetchedDoc, len(u.docs))
	for i, d := range u.docs {
		var err error
		if u.fetched[i], err = fetchDoc(fsys, d, opts); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Parse parses what FetchUpdate read, on every core when there are
// several files. It does nothing the second time; Registry.Update,
// Update.Release and Update.Doc call it. It is not safe to call from two
// goroutines at once.
func (u *Update) Parse() {
	if u.fetched == nil {
		return
	}
	perFile := make([][]Diagnostic, len(u.docs))
	u.typed = make([]any, len(u.docs))
	parallel(len(u.docs), func(i int) {
		perFile[i], u.typed[i] = u.fetched[i].parse(u.docs[i], u.opts)
	})
	for _, ds := range perFile {
		u.diags = append(u.diags, ds...)
	}
	u.fetched = nil
}

// Doc returns the document the update leaves at a registry path: nil when
// it deletes or does not touch it.
func (u *Update) Doc(path string) *Document {
	u.Parse()
	for _, d := range u.docs {
		if d.Path == path {
			return d
		}
	}
	return nil
}

// Empty reports whether the update changes no registry file.
func (u *Update) Empty() bool { return !u.Reload && len(u.changed) == 0 }

// Release returns the release "service@version" as the update leaves it:
// nil when the update deletes it, leaves it unreadable or does not touch
// it (touched false).
func (u *Update) Release(id string) (rel *Release, touched bool) {
	u.Parse()
	p := ReleasePath(id)
	if !u.changed[p] {
		return nil, false
	}
	for i, d := range u.docs {
		if d.Path == p {
			rel, _ = u.typed[i].(*Release)
			return rel, true
		}
	}
	return nil, true
}

// Clone returns a copy of r that Update can change without changing r.
// Documents are shared.
func (r *Registry) Clone() *Registry {
	return &Registry{
		Files:       slices.Clone(r.Files),
		Config:      r.Config,
		Approvers:   r.Approvers,
		Services:    maps.Clone(r.Services),
		Releases:    maps.Clone(r.Releases),
		Schedules:   maps.Clone(r.Schedules),
		DML:         maps.Clone(r.DML),
		Diagnostics: slices.Clone(r.Diagnostics),
	}
}

// Update applies u to r in place, at a cost in the size of the update. u
// must not be a Reload, and must have been read from the file system r was
// loaded from, changed by the update's changes.
func (r *Registry) Update(u *Update) {
	if u.Reload {
		panic("registry: Update of a Reload update")
	}
	u.Parse()
	for p := range u.changed {
		i, found := slices.BinarySearchFunc(r.Files, p, func(d *Document, p string) int { return strings.Compare(d.Path, p) })
		if !found {
			continue
		}
		switch d := r.Files[i]; d.Kind {
		case KindApprovers:
			r.Approvers = nil
		case KindService:
			delete(r.Services, d.ID)
		case KindRelease:
			delete(r.Releases, d.ID)
		case KindSchedule:
			delete(r.Schedules, d.ID)
		case KindDMLEntry:
			delete(r.DML, d.ID)
		}
		r.Files = slices.Delete(r.Files, i, i+1)
	}
	r.Diagnostics = slices.DeleteFunc(r.Diagnostics, func(d Diagnostic) bool { return u.changed[d.File] })
	r.Diagnostics = append(r.Diagnostics, u.diags...)
	for i, d := range u.docs {
		at, _ := slices.BinarySearchFunc(r.Files, d.Path, func(d *Document, p string) int { return strings.Compare(d.Path, p) })
		r.Files = slices.Insert(r.Files, at, d)
		if u.typed[i] != nil {
			r.add(d, u.typed[i])
		} else if d.Kind == KindRegistry {
			r.Config = nil
		}
	}
}

// WorkTreeChanges compares a folder on disk with the registry of a commit
// and returns the files that differ, by content. Only the registry's own
// files are compared: relreg.yaml, approvers.yaml and the four layout
// folders. Hashes are git blob hashes, so unchanged files are found without
// parsing them.
func WorkTreeChanges(base, work fs.FS) ([]FileChange, error) {
	baseHashes, err := layoutHashes(base)
	if err != nil {
		return nil, err
	}
	workHashes, err := layoutHashes(work)
	if err != nil {
		return nil, err
	}
	var out []FileChange
	for p, h := range workHashes {
		if baseHashes[p] != h {
			out = append(out, FileChange{Path: p, From: baseHashes[p], To: h})
		}
	}
	for p, h := range baseHashes {
		if _, ok := workHashes[p]; !ok {
			out = append(out, FileChange{Path: p, From: h})
		}
	}
	slices.SortFunc(out, func(a, b FileChange) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// layoutHashes returns the git blob hash of every file of the registry's
// layout in fsys: from the tree for a git tree, by hashing the content
// otherwise. A symbolic link is hashed as git hashes it, by its target,
// never followed; anything else that is no file or folder (a submodule, a
// pipe) is hashed by its type.
func layoutHashes(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	hfs, _ := fsys.(HashFS)
	add := func(p string, typ fs.FileMode) error {
		if hfs != nil {
			if h, ok := hfs.Hash(p); ok {
				out[p] = h
				return nil
			}
		}
		switch {
		case typ&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return err
			}
			out[p] = plumbing.ComputeHash(plumbing.BlobObject, []byte(target)).String()
			return nil
		case typ != 0:
			out[p] = plumbing.ComputeHash(plumbing.BlobObject, []byte(typ.String())).String()
			return nil
		}
		h, err := hashFile(fsys, p)
		if err != nil {
			return err
		}
		out[p] = h
		return nil
	}
	for _, name := range []string{ConfigFile, ApproversFile} {
		if _, err := fs.Stat(fsys, name); err == nil {
			if err := add(name, 0); err != nil {
				return nil, err
			}
		}
	}
	for _, dir := range []string{ServicesDir, ReleasesDir, SchedulesDir, DMLDir} {
		// WalkDir follows a link at its root: look first.
		if info, err := fs.Lstat(fsys, dir); err == nil && !info.IsDir() {
			if err := add(dir, info.Mode().Type()); err != nil {
				return nil, fmt.Errorf("read %s: %w", dir, err)
			}
			continue
		}
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == dir {
					return fs.SkipDir
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			return add(p, d.Type())
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
	}
	return out, nil
}

// Subset returns the registry r would be if loaded with Options.Subset
// set to paths: relreg.yaml, approvers.yaml and every schedule, and of the
// services, releases and DML entries only those at paths. Documents are
// shared with r. Diagnostics found while loading are kept for the files
// kept and for files that are no documents (strays in layout folders).
func (r *Registry) Subset(paths map[string]bool) *Registry {
	out := &Registry{
		Config:    r.Config,
		Approvers: r.Approvers,
		Schedules: maps.Clone(r.Schedules),
		Services:  map[string]*Service{},
		Releases:  map[string]*Release{},
		DML:       map[string]*DMLEntry{},
	}
	keep := func(d *Document) bool {
		switch d.Kind {
		case KindService, KindRelease, KindDMLEntry:
			return paths[d.Path]
		}
		return true
	}
	for _, p := range []string{ConfigFile, ApproversFile} {
		if d := r.Doc(p); d != nil {
			out.Files = append(out.Files, d)
		}
	}
	// Files are sorted by path: the schedules are one run of them.
	from, _ := slices.BinarySearchFunc(r.Files, SchedulesDir+"/", func(d *Document, p string) int { return strings.Compare(d.Path, p) })
	for _, d := range r.Files[from:] {
		if !strings.HasPrefix(d.Path, SchedulesDir+"/") {
			break
		}
		out.Files = append(out.Files, d)
	}
	for p := range paths {
		d := r.Doc(p)
		if d == nil || !keep(d) {
			continue
		}
		out.Files = append(out.Files, d)
		switch d.Kind {
		case KindService:
			if v := r.Services[d.ID]; v != nil {
				out.Services[d.ID] = v
			}
		case KindRelease:
			if v := r.Releases[d.ID]; v != nil {
				out.Releases[d.ID] = v
			}
		case KindDMLEntry:
			if v := r.DML[d.ID]; v != nil {
				out.DML[d.ID] = v
			}
		}
	}
	slices.SortFunc(out.Files, func(a, b *Document) int { return strings.Compare(a.Path, b.Path) })
	for _, d := range r.Diagnostics {
		if doc := r.Doc(d.File); doc == nil || keep(doc) {
			out.Diagnostics = append(out.Diagnostics, d)
		}
	}
	return out
}

// hashFile returns the git blob hash of a regular file, streamed: a file
// of any size is hashed in constant memory.
func hashFile(fsys fs.FS, p string) (string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", &fs.PathError{Op: "read", Path: p, Err: errNotRegular}
	}
	h := plumbing.NewHasher(plumbing.BlobObject, info.Size())
	if n, err := io.Copy(h, f); err != nil {
		return "", err
	} else if n != info.Size() {
		return "", &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("changed while it was read (%d bytes, then %d)", info.Size(), n)}
	}
	return h.Sum().String(), nil
}
