package registry

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// WorkTreeFS returns the folder dir of the repository's work tree as an
// io/fs.FS that knows the git blob hash of each file git's index vouches
// for, so that comparing the work tree with a commit reads only the files
// that may have changed. The index vouches for a file as git does: its
// size and modification time are those the index recorded, and it was
// modified before the index was written (a file modified in the same
// instant may have changed after it was recorded). Without an index, or
// for a folder outside the work tree, it is os.DirFS(dir).
func (r *Repo) WorkTreeFS(dir string) fs.FS {
	plain := os.DirFS(dir)
	st, ok := r.Git.Storer.(*filesystem.Storage)
	if !ok || r.Root == "" {
		return plain
	}
	info, err := st.Filesystem().Stat("index")
	if err != nil {
		return plain
	}
	idx, err := r.Git.Storer.Index()
	if err != nil {
		return plain
	}
	root, err := resolvePath(r.Root)
	if err != nil {
		return plain
	}
	abs, err := resolvePath(dir)
	if err != nil {
		return plain
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return plain
	}
	prefix := ""
	if rel != "." {
		prefix = filepath.ToSlash(rel) + "/"
	}
	w := &workTreeFS{FS: plain, dir: dir, written: info.ModTime(), entries: map[string]*index.Entry{}}
	for _, e := range idx.Entries {
		name, ok := strings.CutPrefix(e.Name, prefix)
		// Stage 0 is a merged entry, as git writes it (go-git's
		// index.Merged constant says 1, but its decoder reads 0).
		if !ok || e.Stage != 0 || e.IntentToAdd || e.SkipWorktree || !e.Mode.IsFile() || e.Mode == filemode.Symlink {
			continue
		}
		w.entries[name] = e
	}
	return w
}

// workTreeFS is a folder of the work tree with the hashes the index
// vouches for.
type workTreeFS struct {
	fs.FS
	dir     string
	written time.Time               // when the index was written
	entries map[string]*index.Entry // by path relative to dir
}

// Hash returns the blob hash the index records for a file, when the file
// is as the index recorded it.
func (w *workTreeFS) Hash(name string) (string, bool) {
	e := w.entries[name]
	if e == nil || !fs.ValidPath(name) {
		return "", false
	}
	info, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(name)))
	if err != nil || !info.Mode().IsRegular() {
		return "", false
	}
	mod := info.ModTime()
	if info.Size() != int64(e.Size) || !mod.Equal(e.ModifiedAt) || !mod.Before(w.written) {
		return "", false
	}
	return e.Hash.String(), true
}

func (w *workTreeFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(w.FS, name) }

func (w *workTreeFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(w.FS, name) }

func (w *workTreeFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(w.FS, name) }

// Lstat and ReadLink let the loader see symbolic links without following
// them (fs.ReadLinkFS).
func (w *workTreeFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(w.FS, name) }

func (w *workTreeFS) ReadLink(name string) (string, error) { return fs.ReadLink(w.FS, name) }
