package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Writing files. Every relreg command that writes goes through CreateFile
// (a new file), UpdateFile (an edit of a registry file) or WriteFileAtomic
// (a file outside the registry, such as an output file), and so through one
// write path:
//
//   - Inside the registry no path component between the registry folder
//     and the file, nor the file itself, may be a symbolic link
//     (SymlinkError): relreg never writes through one.
//   - The folder of the file is locked (lockFolder, a lock file named
//     .relreg-lock beside the file) for the whole write, so two relreg
//     processes never interleave their writes in one folder.
//   - The new content goes to a temporary file named .relreg-tmp-<name>-<n>
//     in the same folder, is synced, and renamed over the file (or linked
//     to a new name, which fails when it exists), so a reader sees the old
//     file or the new one, never part of one. An edit compares the file
//     with what it read just before the rename, under the lock.
//   - Under the lock, every .relreg-tmp-* file in the folder is left over
//     from a write that was killed, and is removed.
//
// The scratch files (.relreg-tmp-*, .relreg-lock) are ignored wherever
// relreg reads a registry; see IsScratchName.

const (
	tempPrefix = ".relreg-tmp-"
	lockName   = ".relreg-lock"
)

// lockTimeout is how long a write waits for another relreg writing in the
// same folder before it gives up.
var lockTimeout = 30 * time.Second

// ErrLocked is wrapped by the error of a write that waited lockTimeout
// for another relreg writing in the same folder.
var ErrLocked = errors.New("another relreg is writing in this folder")

// ErrChanged is wrapped by the error of an edit whose file kept changing
// under it, written by a program that does not take relreg's lock.
var ErrChanged = errors.New("the file changed while relreg was writing it")

// IsScratchName reports whether name, a file's base name, is one of
// relreg's own scratch files: the write lock .relreg-lock, or a temporary
// file .relreg-tmp-* that a write killed half way left behind. relreg
// creates and removes them and never reads them as registry files. A name
// ending in .yaml or .yml never is one.
func IsScratchName(name string) bool {
	if name == lockName {
		return true
	}
	return strings.HasPrefix(name, tempPrefix) && !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")
}

// isScratch reports whether a folder entry is a scratch file: a regular
// file with a scratch name (a link or folder of that name is not).
func isScratch(e fs.DirEntry) bool {
	return e.Type().IsRegular() && IsScratchName(e.Name())
}

// SymlinkError is returned by a write inside the registry that would go
// through a symbolic link.
type SymlinkError struct {
	File   string // the file to write, slash-separated, relative to the registry
	Link   string // the link: File or one of its folders, relative to the registry
	Target string // what the link points to
}

func (e *SymlinkError) Error() string {
	what := "folder"
	if e.Link == e.File {
		what = "file"
	}
	return fmt.Sprintf("write %s: %s is a symbolic link to %s; relreg never writes through a symbolic link inside the registry: replace the link with the %s itself (or run relreg in the registry it points to)",
		e.File, e.Link, e.Target, what)
}

// CheckWritePath checks that writing the file rel (slash-separated) of the
// folder root would go through no symbolic link: no folder between root
// and the file, and not the file itself. Folders and a file that do not
// exist yet pass; an existing folder component that is not a folder does
// not. root itself may be or lie under a link.
func CheckWritePath(root, rel string) error {
	_, err := walkWritePath(root, rel, false)
	return err
}

// walkWritePath checks rel under root as CheckWritePath does and returns
// the file's path; with create, it makes the missing folders on the way,
// one at a time, so that it never follows a link.
func walkWritePath(root, rel string, create bool) (string, error) {
	if !fs.ValidPath(rel) || rel == "." {
		return "", fmt.Errorf("write %s: not a file path inside %s", rel, root)
	}
	parts := strings.Split(rel, "/")
	cur := root
	for i, p := range parts {
		cur = filepath.Join(cur, p)
		sub := path.Join(parts[:i+1]...)
		last := i == len(parts)-1
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			if last || !create {
				// Nothing further down exists to be a link.
				return filepath.Join(root, filepath.FromSlash(rel)), nil
			}
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", err
			}
			fi, err = os.Lstat(cur)
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(cur)
			return "", &SymlinkError{File: rel, Link: sub, Target: target}
		}
		if !last && !fi.IsDir() {
			return "", fmt.Errorf("write %s: %s is not a folder: move it away, or write elsewhere", rel, sub)
		}
	}
	return cur, nil
}

// CreateFile writes data to the new file rel (slash-separated) of the
// folder root, atomically: readers see no file or the whole file. It
// creates root and the missing folders of rel, refuses a symbolic link on
// the way (SymlinkError), and fails with an error wrapping fs.ErrExist when
// the file exists.
func CreateFile(root, rel string, data []byte) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	name, err := walkWritePath(root, rel, true)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	unlock, err := lockFolder(dir)
	if err != nil {
		return err
	}
	defer unlock()
	// Check again under the lock: the folders may have changed since.
	if _, err := walkWritePath(root, rel, false); err != nil {
		return err
	}
	removeTemps(dir)
	tmp, err := writeTemp(dir, filepath.Base(name), data, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	defer os.Remove(tmp)
	// A hard link creates name only if nothing (not even a dangling link)
	// is there, atomically; where links are not supported, fall back to a
	// check and a rename, which the lock keeps safe from other relregs.
	err = os.Link(tmp, name)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Lstat(name); serr == nil {
			err = fs.ErrExist
		} else {
			err = os.Rename(tmp, name)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: relreg does not overwrite it: %w", name, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	syncDir(dir)
	return nil
}

// UpdateFile replaces the existing file rel (slash-separated) of the
// registry folder root with what edit makes of its content, atomically and
// under the folder's lock: edit is given the file as it is once the lock is
// held, so an edit made by another relreg meanwhile is kept, not
// overwritten. Just before the rename the file is read again; when a
// program that does not take the lock changed it, edit runs again on the
// new content (a few times, then ErrChanged). The file keeps its mode. A
// symbolic link on the way is refused (SymlinkError). An error of edit is
// returned as it is, and nothing is written.
func UpdateFile(root, rel string, edit func(old []byte) ([]byte, error)) error {
	name, err := walkWritePath(root, rel, false)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	unlock, err := lockFolder(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := walkWritePath(root, rel, false); err != nil {
		return err
	}
	removeTemps(dir)
	for range 3 {
		old, mode, err := readRegular(name, rel)
		if err != nil {
			return err
		}
		data, err := edit(old)
		if err != nil {
			return err
		}
		tmp, err := writeTemp(dir, filepath.Base(name), data, mode)
		if err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		now, _, err := readRegular(name, rel)
		if err != nil {
			os.Remove(tmp)
			return err
		}
		if !bytes.Equal(now, old) {
			os.Remove(tmp)
			continue
		}
		if err := os.Rename(tmp, name); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("write %s: %w", rel, err)
		}
		syncDir(dir)
		return nil
	}
	return fmt.Errorf("write %s: %w, again and again: nothing was written; close the editor or stop the program that writes it, and run relreg again", rel, ErrChanged)
}

// WriteFileAtomic replaces the file name, which lies outside any registry
// (an output file, a git hook), with data: through the same write path as
// CreateFile and UpdateFile (the folder's lock, a .relreg-tmp- file synced
// and renamed over the original, which keeps its mode), so a reader sees
// the old file or the new one, never a mix. The user named the file, so
// when it is a symbolic link the file it points to is replaced (in that
// file's folder) and the link is kept. Registry files are written with
// UpdateFile, which refuses links.
func WriteFileAtomic(name string, data []byte) error {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(name)
	unlock, err := lockFolder(dir)
	if err != nil {
		return err
	}
	defer unlock()
	removeTemps(dir)
	tmp, err := writeTemp(dir, filepath.Base(name), data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

// readRegular reads the file name, which must be a regular file, not a
// link, and returns its content and mode.
func readRegular(name, rel string) ([]byte, fs.FileMode, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("write %s: not a regular file (%v): relreg edits only regular files", rel, fi.Mode().Type())
	}
	data, err := os.ReadFile(name)
	return data, fi.Mode().Perm(), err
}

// writeTemp writes data to a new temporary file for base in dir, synced
// and with the given mode, and returns its path.
func writeTemp(dir, base string, data []byte, mode fs.FileMode) (name string, err error) {
	f, err := os.CreateTemp(dir, tempPrefix+base+"-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = f.Chmod(mode); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// removeTemps removes the temporary files left in dir by writes that were
// killed. It is called with dir locked: every relreg write holds the lock
// of its folder while its temporary file exists, so any found now is stale.
func removeTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if isScratch(e) && strings.HasPrefix(e.Name(), tempPrefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir makes a rename in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
