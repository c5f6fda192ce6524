package registry

import (
	"errors"
	"fmt"
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
	if opts.Limits.MaxFileSize == 0 {
		opts.Limits = DefaultLimits
	}
	changed := map[string]bool{}
	var docs []*Document
	for _, ch := range changes {
		class, kind, id := classify(ch.Path)
		switch {
		case class == pathIgnored:
			continue
		case class == pathOther, kind == KindRegistry && (ch.From == "" || ch.To == ""):
			return Load(fsys, opts)
		}
		changed[ch.Path] = true
		if ch.To != "" {
			docs = append(docs, &Document{Path: ch.Path, Kind: kind, ID: id})
		}
	}
	if len(changed) == 0 {
		return r, nil
	}
	ds, typed, err := readAll(fsys, docs, opts)
	if err != nil {
		return nil, err
	}
	out := &Registry{
		Config:    r.Config,
		Approvers: r.Approvers,
		Services:  maps.Clone(r.Services),
		Releases:  maps.Clone(r.Releases),
		Schedules: maps.Clone(r.Schedules),
		DML:       maps.Clone(r.DML),
	}
	for _, d := range r.Files {
		if !changed[d.Path] {
			out.Files = append(out.Files, d)
			continue
		}
		switch d.Kind {
		case KindApprovers:
			out.Approvers = nil
		case KindService:
			delete(out.Services, d.ID)
		case KindRelease:
			delete(out.Releases, d.ID)
		case KindSchedule:
			delete(out.Schedules, d.ID)
		case KindDMLEntry:
			delete(out.DML, d.ID)
		}
	}
	for _, d := range r.Diagnostics {
		if !changed[d.File] {
			out.Diagnostics = append(out.Diagnostics, d)
		}
	}
	out.Diagnostics = append(out.Diagnostics, ds...)
	out.Files = append(out.Files, docs...)
	slices.SortFunc(out.Files, func(a, b *Document) int { return strings.Compare(a.Path, b.Path) })
	for i, d := range docs {
		if typed[i] != nil {
			out.add(d, typed[i])
		} else if d.Kind == KindRegistry {
			out.Config = nil
		}
	}
	return out, nil
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
// otherwise.
func layoutHashes(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	hfs, _ := fsys.(HashFS)
	add := func(p string) error {
		if hfs != nil {
			if h, ok := hfs.Hash(p); ok {
				out[p] = h
				return nil
			}
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out[p] = plumbing.ComputeHash(plumbing.BlobObject, data).String()
		return nil
	}
	for _, name := range []string{ConfigFile, ApproversFile} {
		if _, err := fs.Stat(fsys, name); err == nil {
			if err := add(name); err != nil {
				return nil, err
			}
		}
	}
	for _, dir := range []string{ServicesDir, ReleasesDir, SchedulesDir, DMLDir} {
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
			return add(p)
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
		Schedules: r.Schedules,
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
