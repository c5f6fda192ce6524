package validate_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/gen"
	"github.com/relreg/relreg/validate"
)

// cleanDiagnostics loads the registry at dir, runs the static rules at now
// and reports every diagnostic as a test error.
func cleanDiagnostics(t *testing.T, dir string, now time.Time) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(os.DirFS(dir), registry.Options{})
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	ds := validate.Static(reg, validate.Options{Now: now})
	for i, d := range ds {
		if i == 20 {
			t.Errorf("... and %d more", len(ds)-i)
			break
		}
		t.Errorf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Rule, d.Message)
	}
	return reg
}

// TestGeneratedRegistryIsValid keeps the generator honest: what the
// benchmark validates must be a registry without a single diagnostic.
func TestGeneratedRegistryIsValid(t *testing.T) {
	dir := t.TempDir()
	if err := gen.Write(dir, gen.Config{Releases: 200, Services: 7}); err != nil {
		t.Fatalf("gen.Write: %v", err)
	}
	reg := cleanDiagnostics(t, dir, gen.DefaultNow)
	if got, want := len(reg.Releases), 200; got != want {
		t.Errorf("generated %d releases, want %d", got, want)
	}
	phases := map[string]int{}
	for _, r := range reg.Releases {
		phases[r.Status.Phase]++
	}
	for _, p := range registry.Phases {
		if phases[p] == 0 {
			t.Errorf("no generated release at phase %s, want every phase (got %v)", p, phases)
		}
	}
}

// TestExampleRegistryIsValid keeps examples/basic, the registry the README
// and `make demo` show, clean. The example is set on 24 November 2026.
func TestExampleRegistryIsValid(t *testing.T) {
	reg := cleanDiagnostics(t, filepath.Join("..", "examples", "basic"), time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC))
	if got, want := len(reg.Releases), 15; got != want {
		t.Errorf("example has %d releases, want %d", got, want)
	}
}

// BenchmarkValidate10k loads and validates a generated registry of 10,000
// releases (about 20,100 files). With b.Loop the function runs once, so the
// registry is generated once, outside the timed loop.
func BenchmarkValidate10k(b *testing.B) {
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Config{Releases: 10000, Services: 100}); err != nil {
		b.Fatal(err)
	}
	fsys := os.DirFS(dir)
	var files int
	b.ReportAllocs()
	for b.Loop() {
		reg, err := registry.Load(fsys, registry.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if ds := validate.Static(reg, validate.Options{Now: gen.DefaultNow}); len(ds) > 0 {
			b.Fatalf("generated registry has %d diagnostics, first: %s:%d: %s: %s", len(ds), ds[0].File, ds[0].Line, ds[0].Rule, ds[0].Message)
		}
		files = len(reg.Files)
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
