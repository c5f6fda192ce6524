package validate_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/gen"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// pushRepo generates a registry of n releases in one commit, then a push
// of commits commits on main that each retitle a draft release: as direct
// commits, or (merges) each as a merge commit of a one-commit side branch.
// It returns the repository and the first commit's and main's SHAs.
func pushRepo(b *testing.B, n, commits int, merges bool) (dir string) {
	b.Helper()
	testtool.Need(b, "git")
	src := b.TempDir()
	if err := gen.Write(src, gen.Config{Releases: n}); err != nil {
		b.Fatal(err)
	}
	var stream bytes.Buffer
	data := func(s []byte) { fmt.Fprintf(&stream, "data %d\n%s\n", len(s), s) }
	mark := 0
	commit := func(ref string, from int, merge int, msg string) int {
		mark++
		fmt.Fprintf(&stream, "commit %s\nmark :%d\nauthor Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n", ref, mark, 1780000000+mark, 1780000000+mark)
		data([]byte(msg))
		if from > 0 {
			fmt.Fprintf(&stream, "from :%d\n", from)
		}
		if merge > 0 {
			fmt.Fprintf(&stream, "merge :%d\n", merge)
		}
		return mark
	}
	root := commit("refs/heads/main", 0, 0, "registry")
	drafts := map[string][]byte{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "releases/") && bytes.Contains(content, []byte("phase: draft")) {
			drafts[rel] = content
		}
		fmt.Fprintf(&stream, "M 100644 inline %s\n", rel)
		data(content)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for p := range drafts {
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		b.Fatal("no draft release generated")
	}
	fmt.Fprintf(&stream, "reset refs/tags/pushed-from\nfrom :%d\n", root)
	tip := root
	for i := range commits {
		p := paths[i%len(paths)]
		edited := bytes.Replace(drafts[p], []byte("  title: "), []byte(fmt.Sprintf("  title: Renamed %d ", i)), 1)
		drafts[p] = edited
		if merges {
			side := commit("refs/heads/side", tip, 0, fmt.Sprintf("retitle %d", i))
			fmt.Fprintf(&stream, "M 100644 inline %s\n", p)
			data(edited)
			tip = commit("refs/heads/main", tip, side, fmt.Sprintf("merge retitle %d", i))
			continue
		}
		tip = commit("refs/heads/main", tip, 0, fmt.Sprintf("retitle %d", i))
		fmt.Fprintf(&stream, "M 100644 inline %s\n", p)
		data(edited)
	}
	return fastImport(b, &stream)
}

func benchmarkReceive(b *testing.B, n, commits int, merges bool) {
	dir := pushRepo(b, n, commits, merges)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	from, err := repo.Resolve("refs/tags/pushed-from")
	if err != nil {
		b.Fatal(err)
	}
	to, err := repo.Resolve("refs/heads/main")
	if err != nil {
		b.Fatal(err)
	}
	updates := []validate.RefUpdate{{Old: from.Hash.String(), New: to.Hash.String(), Ref: "refs/heads/main"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// A fresh facts cache each time, as on a server that never
		// judged these commits.
		if err := os.RemoveAll(filepath.Join(dir, ".git", "relreg")); err != nil {
			b.Fatal(err)
		}
		res, err := validate.Receive(repo, updates, validate.ReceiveOptions{Protected: []string{"main"}, Now: gen.DefaultNow})
		if err != nil {
			b.Fatal(err)
		}
		if !res[0].OK() {
			b.Fatalf("an honest push was refused: %+v", res[0])
		}
	}
}

// BenchmarkReceive1kCommits judges a push of 1,000 commits onto a registry
// of 1,000 releases, each commit on its own (as audit will) and the push
// as a whole; the Merges variant pushes 1,000 merge commits, each judged
// as the merge request it closes. Both must stay well within the hook's
// budget of 60 s.
func BenchmarkReceive1kCommits(b *testing.B)    { benchmarkReceive(b, 1000, 1000, false) }
func BenchmarkReceive1kMerges(b *testing.B)     { benchmarkReceive(b, 1000, 1000, true) }
func BenchmarkReceive1kCommits10k(b *testing.B) { benchmarkReceive(b, 10000, 1000, false) }
