//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package registry

// lockFolder locks dir for a write with an O_EXCL lock file, waiting up to
// lockTimeout, and returns the function that unlocks it.
func lockFolder(dir string) (func(), error) { return lockFolderExcl(dir) }
