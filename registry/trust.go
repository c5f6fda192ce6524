package registry

import (
	"errors"
	"fmt"
	"io/fs"
)

// LoadTrust reads only relreg.yaml and approvers.yaml at the root of fsys:
// the policy and the approvers a check trusts, without the rest of the
// registry. It fails as Load does (ErrNotRegistry without relreg.yaml); a
// file that cannot be parsed leaves Config or Approvers nil, with its
// diagnostics.
func LoadTrust(fsys fs.FS, opts Options) (*Registry, error) {
	if opts.Limits.MaxFileSize == 0 {
		opts.Limits = DefaultLimits
	}
	if _, err := fs.Stat(fsys, ConfigFile); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotRegistry
		}
		return nil, fmt.Errorf("read %s: %w", ConfigFile, err)
	}
	docs := []*Document{{Path: ConfigFile, Kind: KindRegistry, ID: "registry"}}
	if _, err := fs.Stat(fsys, ApproversFile); err == nil {
		docs = append(docs, &Document{Path: ApproversFile, Kind: KindApprovers, ID: "approvers"})
	}
	r := Empty()
	r.Files = docs
	ds, typed, err := readAll(fsys, docs, opts)
	if err != nil {
		return nil, err
	}
	r.Diagnostics = ds
	for i, d := range docs {
		if typed[i] != nil {
			r.add(d, typed[i])
		}
	}
	return r, nil
}

// Empty returns a registry with no files: the base of a change that adds
// the whole registry.
func Empty() *Registry {
	return &Registry{
		Services:  map[string]*Service{},
		Releases:  map[string]*Release{},
		Schedules: map[string]*Schedule{},
		DML:       map[string]*DMLEntry{},
	}
}
