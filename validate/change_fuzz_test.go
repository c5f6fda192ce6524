package validate

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relreg/relreg/registry"
)

// fuzzBasePaths are the files of the example registry that FuzzChange's base
// holds: one file of every kind, a release at draft and one at accepted with
// what it needs (its dependency, its DML entries), and a valid registry all
// the same. Loading the whole example at every exec would make the fuzzer
// crawl.
var fuzzBasePaths = []string{
	"approvers.yaml",
	"dml/ledger-service/1.8.0.yaml",
	"dml/payments-api/2.4.0.yaml",
	"dml/payments-db-migrations/1.5.0.yaml",
	"releases/ledger/1.8.0.yaml",
	"releases/payments/2.4.0.yaml",
	"releases/payments/2.5.0.yaml",
	"relreg.yaml",
	"schedules/production.yaml",
	"services/ledger.yaml",
	"services/payments.yaml",
}

// FuzzChange edits one file of a small registry, cut from the example, into
// arbitrary bytes (or deletes it) and judges the change as check does, the
// head applied to the base: whatever the head holds, the change rules report
// diagnostics with a rule and a file and never panic.
func FuzzChange(f *testing.F) {
	root := filepath.Join("..", "examples", "basic")
	base := fstest.MapFS{}
	for _, p := range fuzzBasePaths {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			f.Fatal(err)
		}
		base[p] = &fstest.MapFile{Data: data}
	}
	baseReg, err := registry.Load(base, registry.Options{})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	if ds := Static(baseReg, Options{Now: now}); len(ds) > 0 {
		f.Fatalf("the fuzz base registry is not valid: %v", ds)
	}
	// Seeds: every base file as it is, and every file of the example put at
	// the base path of its kind (the first one of the same folder).
	for i, p := range fuzzBasePaths {
		f.Add(uint(i), base[p].Data)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".yaml" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		dir := path.Dir(path.Dir(filepath.ToSlash(rel)))
		for i, bp := range fuzzBasePaths {
			if path.Dir(path.Dir(bp)) == dir && strings.Count(bp, "/") == strings.Count(filepath.ToSlash(rel), "/") {
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				f.Add(uint(i), data)
				break
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	draft := string(base["releases/payments/2.5.0.yaml"].Data)
	f.Add(uint(6), []byte(strings.Replace(draft, "phase: draft", "phase: planned", 1)))
	f.Add(uint(6), []byte(strings.Replace(draft, "phase: draft", "phase: retired", 1)))
	accepted := string(base["releases/payments/2.4.0.yaml"].Data)
	f.Add(uint(5), []byte(strings.Replace(accepted, "phase: accepted", "phase: deploying", 1)))
	f.Add(uint(5), []byte(strings.Replace(accepted, "risk: medium", "risk: low", 1)))
	f.Add(uint(0), []byte("a: [\n"))
	f.Add(uint(3), []byte("apiVersion: relreg/v1\nkind: Release\nstatus: {phase: retired}\n"))
	f.Add(uint(5), []byte{})
	f.Fuzz(func(t *testing.T, which uint, content []byte) {
		head := make(fstest.MapFS, len(base))
		for k, v := range base {
			head[k] = v
		}
		p := fuzzBasePaths[which%uint(len(fuzzBasePaths))]
		if len(content) == 0 {
			delete(head, p)
		} else {
			head[p] = &fstest.MapFile{Data: content}
		}
		to := "head"
		if len(content) == 0 {
			to = ""
		}
		// Apply reads only the changed file, as check does for a working
		// tree; a change to relreg.yaml's presence loads the head whole.
		headReg, err := baseReg.Apply(head, []registry.FileChange{{Path: p, From: "base", To: to}}, registry.Options{})
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
