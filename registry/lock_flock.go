//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockFolder locks dir for a write with flock(2) on its lock file, waiting
// up to lockTimeout, and returns the function that unlocks it.
func lockFolder(dir string) (func(), error) {
	name := filepath.Join(dir, lockName)
	deadline := time.Now().Add(lockTimeout)
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("lock %s: %s is a symbolic link: remove it, relreg makes its own lock file there", dir, name)
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// The lock is ours when the file is still the one named
			// lockName: the holder before us removes it before it
			// unlocks, and we may have opened it just before that.
			held, herr := f.Stat()
			now, nerr := os.Lstat(name)
			if herr == nil && nerr == nil && os.SameFile(held, now) {
				return func() {
					os.Remove(name)
					f.Close()
				}, nil
			}
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return nil, fmt.Errorf("lock %s: %w (relreg locks files with flock: write on a file system that supports it)", name, err)
		}
		if time.Now().After(deadline) {
			return nil, lockWaitError(name)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}
