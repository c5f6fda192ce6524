package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The write lock of a folder is the file .relreg-lock in it. Where the
// system has flock(2) (Linux, macOS, the BSDs), the lock is an flock on
// that file (lock_flock.go): the kernel releases it when its process dies,
// even by kill -9, so a killed write never blocks the next one; the holder
// removes the file before it unlocks, and a waiter that locked a file
// already removed tries again. Elsewhere (Windows) the lock is the file's
// existence, created with O_EXCL (lockFolderExcl); a lock file older than
// staleLock was left by a relreg that was killed (a write holds the lock
// for milliseconds) and is taken over.

// staleLock is the age after which an O_EXCL lock file is taken over.
var staleLock = 20 * time.Second

// lockWaitError is the error of a write that waited lockTimeout.
func lockWaitError(name string) error {
	return fmt.Errorf("%w: %s is held by another relreg (waited %v): let it finish and run again", ErrLocked, name, lockTimeout)
}

// lockFolderExcl locks dir by creating its lock file with O_EXCL, waiting
// up to lockTimeout, and returns the function that unlocks it.
func lockFolderExcl(dir string) (func(), error) {
	name := filepath.Join(dir, lockName)
	deadline := time.Now().Add(lockTimeout)
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if fi, err := os.Lstat(name); err == nil && time.Since(fi.ModTime()) > staleLock {
			// Left by a killed relreg. Remove it only if it is still the
			// file judged stale, not one a waiter created since.
			if again, err := os.Lstat(name); err == nil && os.SameFile(fi, again) {
				os.Remove(name)
			}
			continue
		}
		if time.Now().After(deadline) {
			return nil, lockWaitError(name)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}
