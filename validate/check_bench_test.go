package validate_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/gen"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// historyRepo generates a registry of n releases and imports it into a new
// git repository with `git fast-import`: one commit with the registry, then
// commits-1 commits of unrelated history, then a branch "feature" that
// edits the title of one draft release — a one-release merge request.
func historyRepo(b *testing.B, n, commits int) string {
	b.Helper()
	testtool.Need(b, "git")
	src := b.TempDir()
	if err := gen.Write(src, gen.Config{Releases: n}); err != nil {
		b.Fatal(err)
	}
	var stream bytes.Buffer
	data := func(s []byte) { fmt.Fprintf(&stream, "data %d\n%s\n", len(s), s) }
	commit := func(ref string, mark int, from int, msg string) {
		fmt.Fprintf(&stream, "commit %s\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\n", ref, mark, 1780000000+mark)
		data([]byte(msg))
		if from > 0 {
			fmt.Fprintf(&stream, "from :%d\n", from)
		}
	}
	commit("refs/heads/main", 1, 0, "registry")
	var draft string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if draft == "" && strings.HasPrefix(rel, "releases/") && bytes.Contains(content, []byte("phase: draft")) {
			draft = rel
		}
		fmt.Fprintf(&stream, "M 100644 inline %s\n", filepath.ToSlash(rel))
		data(content)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if draft == "" {
		b.Fatal("no draft release generated")
	}
	for i := 2; i <= commits; i++ {
		commit("refs/heads/main", i, i-1, fmt.Sprintf("history %d", i))
		fmt.Fprintf(&stream, "M 100644 inline HISTORY.md\n")
		data([]byte(fmt.Sprintf("commit %d\n", i)))
	}
	old, err := os.ReadFile(filepath.Join(src, draft))
	if err != nil {
		b.Fatal(err)
	}
	edited := bytes.Replace(old, []byte("  title: "), []byte("  title: Renamed "), 1)
	commit("refs/heads/feature", commits+1, commits, "edit one draft release")
	fmt.Fprintf(&stream, "M 100644 inline %s\n", filepath.ToSlash(draft))
	data(edited)

	return fastImport(b, &stream)
}

func benchmarkCheck(b *testing.B, n int, cold bool) {
	dir := historyRepo(b, n, 1000)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	check := func(facts *registry.FactsCache) {
		res, err := validate.Check(repo, validate.CheckOptions{Base: "main", Head: "feature", Now: gen.DefaultNow, Facts: facts})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Diagnostics) != 0 {
			b.Fatalf("check of a valid change found %d diagnostics, first: %+v", len(res.Diagnostics), res.Diagnostics[0])
		}
	}
	if !cold {
		check(nil) // fills the repository's facts cache, as the check before this one did
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if cold {
			check(registry.NewFactsCache())
		} else {
			check(nil)
		}
	}
}

// BenchmarkCheck1k and BenchmarkCheck10k check the same one-release change
// on registries of 1,000 and 10,000 releases with 1,000 commits of history,
// with the repository's facts cache filled by an earlier check: the cost
// should follow the size of the change, not of the registry. The Cold
// variants start from an empty facts cache, as the first check in a fresh
// clone does, and read every release once.
func BenchmarkCheck1k(b *testing.B)      { benchmarkCheck(b, 1000, false) }
func BenchmarkCheck10k(b *testing.B)     { benchmarkCheck(b, 10000, false) }
func BenchmarkCheck1kCold(b *testing.B)  { benchmarkCheck(b, 1000, true) }
func BenchmarkCheck10kCold(b *testing.B) { benchmarkCheck(b, 10000, true) }

// BenchmarkCheck10kWorkTree checks the same change made in the working tree
// instead of a commit, as the pre-commit hook does: the files that changed
// on disk are found through git's index (see Repo.WorkTreeFS).
func BenchmarkCheck10kWorkTree(b *testing.B) {
	dir := historyRepo(b, 10000, 1000)
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	edited := git("diff", "--name-only", "main", "feature")
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(edited)), []byte(git("show", "feature:"+edited)+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	check := func() {
		res, err := validate.Check(repo, validate.CheckOptions{Base: "main", WorkDir: dir, Now: gen.DefaultNow})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Diagnostics) != 0 {
			b.Fatalf("check of a valid change found %d diagnostics, first: %+v", len(res.Diagnostics), res.Diagnostics[0])
		}
	}
	check() // fills the facts cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		check()
	}
}

// fastImport makes a new repository from a git fast-import stream and
// checks out its main branch.
func fastImport(tb testing.TB, stream io.Reader) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"fast-import", "--quiet"}, {"checkout", "-q", "main"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if args[0] == "fast-import" {
			cmd.Stdin = stream
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	return dir
}
