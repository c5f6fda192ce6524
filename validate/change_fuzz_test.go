package validate

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relreg/relreg/registry"
)

// FuzzChange edits one file of the example registry into arbitrary bytes
// and judges the change: whatever the head holds, the change rules report
// diagnostics and never panic.
func FuzzChange(f *testing.F) {
	base := fstest.MapFS{}
	root := filepath.Join("..", "examples", "basic")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		base[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	var paths []string
	for p := range base {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for i, p := range paths {
		f.Add(uint(i), base[p].Data)
	}
	f.Add(uint(0), []byte("a: [\n"))
	f.Add(uint(3), []byte("apiVersion: relreg/v1\nkind: Release\nstatus: {phase: retired}\n"))
	f.Add(uint(5), []byte{})
	baseReg, err := registry.Load(base, registry.Options{})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint, content []byte) {
		head := fstest.MapFS{}
		for k, v := range base {
			head[k] = v
		}
		p := paths[which%uint(len(paths))]
		if len(content) == 0 {
			delete(head, p)
		} else {
			head[p] = &fstest.MapFile{Data: content}
		}
		headReg, err := registry.Load(head, registry.Options{})
		if err != nil {
			return // relreg.yaml deleted: check exits 2
		}
		for _, d := range Change(ChangeInput{Base: baseReg, Head: headReg, Now: now}) {
			if d.Rule == "" || d.File == "" {
				t.Errorf("diagnostic without a rule or file: %+v", d)
			}
		}
	})
}
