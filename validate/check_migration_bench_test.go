package validate_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/gen"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// migrationRepo generates a registry of n releases and imports it into a
// new git repository as two commits: the registry without releases on
// main, then a branch "migration" that adds all n releases at draft in one
// commit, as a team moving an existing registry into relreg pushes it.
func migrationRepo(tb testing.TB, n int) string {
	tb.Helper()
	testtool.Need(tb, "git")
	src := tb.TempDir()
	// Every window lies after the check time, as a new release needs.
	later := gen.DefaultNow.Add(time.Duration(n/2+1) * time.Hour)
	if err := gen.Write(src, gen.Config{Releases: n, Now: later}); err != nil {
		tb.Fatal(err)
	}
	phase := regexp.MustCompile(`(?m)^  phase: .*$`)
	var base, releases bytes.Buffer
	data := func(w *bytes.Buffer, s []byte) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(must(filepath.Rel(src, p)))
		w := &base
		if strings.HasPrefix(rel, "releases/") {
			w = &releases
			// A draft carries its plan only: no status beyond the phase.
			if i := bytes.Index(content, []byte("\nstatus:\n")); i >= 0 {
				content = append(content[:i+1:i+1], "status:\n  phase: draft\n"...)
			}
			content = phase.ReplaceAll(content, []byte("  phase: draft"))
		}
		fmt.Fprintf(w, "M 100644 inline %s\n", rel)
		data(w, content)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var stream bytes.Buffer
	fmt.Fprintf(&stream, "commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> 1780000000 +0000\n")
	data(&stream, []byte("registry"))
	stream.Write(base.Bytes())
	fmt.Fprintf(&stream, "commit refs/heads/migration\nmark :2\ncommitter Bench <bench@example.com> 1780000001 +0000\n")
	data(&stream, []byte("migrate the releases"))
	fmt.Fprintf(&stream, "from :1\n")
	stream.Write(releases.Bytes())
	return fastImport(tb, &stream)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkCheckMigration checks one commit that adds 1,000 or 10,000
// draft releases at once: the cost must grow as n log n, not n², or a
// server hook hangs on a migration push.
func BenchmarkCheckMigration1k(b *testing.B)  { benchmarkCheckMigration(b, 1000) }
func BenchmarkCheckMigration10k(b *testing.B) { benchmarkCheckMigration(b, 10000) }

func benchmarkCheckMigration(b *testing.B, n int) {
	dir := migrationRepo(b, n)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := validate.Check(repo, validate.CheckOptions{Base: "main", Head: "migration", Now: gen.DefaultNow, Facts: registry.NewFactsCache()})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Diagnostics) != 0 {
			b.Fatalf("check of a valid migration found %d diagnostics, first: %+v", len(res.Diagnostics), res.Diagnostics[0])
		}
	}
}
