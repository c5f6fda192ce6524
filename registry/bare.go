package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/helper/mount"
	"github.com/go-git/go-billy/v5/helper/polyfill"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// OpenServerRepo opens a repository as a server-side hook sees it: gitDir
// may be bare, the registry is the folder prefix inside its trees, and the
// objects of a push that git holds in quarantine (GIT_QUARANTINE_PATH)
// until the hook accepts it are readable too.
func OpenServerRepo(gitDir, prefix, quarantine string) (*Repo, error) {
	prefix = strings.Trim(filepath.ToSlash(prefix), "/")
	if prefix == "." {
		prefix = ""
	}
	g, err := git.PlainOpenWithOptions(gitDir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", gitDir, err)
	}
	if g, err = reopen(g, nil); err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", gitDir, err)
	}
	if quarantine != "" {
		st, ok := g.Storer.(*filesystem.Storage)
		if !ok {
			return nil, fmt.Errorf("open quarantined objects: unexpected storage %T", g.Storer)
		}
		if _, err := os.Stat(quarantine); err != nil {
			return nil, fmt.Errorf("open quarantined objects: %w", err)
		}
		fs := polyfill.New(mount.New(memfs.New(), "objects", osfs.New(quarantine)))
		incoming := filesystem.NewObjectStorage(dotgit.New(fs), cache.NewObjectLRUDefault())
		if g, err = git.Open(&quarantined{Storage: st, incoming: incoming}, nil); err != nil {
			return nil, fmt.Errorf("open quarantined objects: %w", err)
		}
	}
	return &Repo{Git: g, Prefix: prefix}, nil
}

// quarantined reads objects from a push's quarantine first, then from the
// repository; everything else is the repository's.
type quarantined struct {
	*filesystem.Storage
	incoming *filesystem.ObjectStorage
}

func (q *quarantined) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, err := q.incoming.EncodedObject(t, h); err == nil {
		return o, nil
	}
	return q.Storage.EncodedObject(t, h)
}

func (q *quarantined) HasEncodedObject(h plumbing.Hash) error {
	if q.incoming.HasEncodedObject(h) == nil {
		return nil
	}
	return q.Storage.HasEncodedObject(h)
}

func (q *quarantined) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if n, err := q.incoming.EncodedObjectSize(h); err == nil {
		return n, nil
	}
	return q.Storage.EncodedObjectSize(h)
}
