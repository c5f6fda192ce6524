package registry

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry/testtool"
)

// commitFiles writes files into the work tree of a go-git repository and
// commits them, returning the commit hash.
func commitFiles(t *testing.T, g *git.Repository, root string, files map[string]string, msg string) string {
	t.Helper()
	wt, err := g.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(filepath.ToSlash(name)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "Test", Email: "test@example.com", When: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestTreeFS(t *testing.T) {
	root := t.TempDir()
	g, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	first := commitFiles(t, g, root, map[string]string{
		"README.md":                         "not part of the registry\n",
		"reg/relreg.yaml":                   "apiVersion: relreg/v1\nkind: Registry\nmetadata: {name: acme}\nspec: {}\n",
		"reg/services/payments.yaml":        "apiVersion: relreg/v1\nkind: Service\nmetadata: {name: payments}\nspec: {title: P, owner: team}\n",
		"reg/releases/payments/1.0.0.yaml":  "kind: Release\n",
		"reg/releases/payments/notes.txt":   "stray\n",
		"reg/releases/payments/1.1.0.yml":   "kind: Release\n",
		"reg/schedules/production.yaml":     "kind: Schedule\n",
		"reg/dml/payments-api/1.0.0.yaml":   "kind: DMLEntry\n",
		"reg/dml/payments-api/1.0.0.yaml.b": "x\n",
	}, "first")
	second := commitFiles(t, g, root, map[string]string{"reg/releases/payments/1.0.0.yaml": "kind: Release\nchanged: true\n"}, "second")

	repo, err := OpenRepo(filepath.Join(root, "reg"), "")
	if err != nil {
		t.Fatal(err)
	}
	if repo.Prefix != "reg" {
		t.Errorf("Prefix = %q, want reg", repo.Prefix)
	}
	tests := []struct {
		rev, want string
	}{
		{"HEAD", second},
		{"HEAD~1", first},
		{first[:7], first},
		{"master", second},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			c, err := repo.Resolve(tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Hash.String(); got != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.rev, got, tt.want)
			}
		})
	}
	if _, err := repo.Resolve("no-such-branch"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Resolve(no-such-branch) error = %v, want ErrUnknownRevision", err)
	}

	c, _ := repo.Resolve("HEAD~1")
	fsys, err := repo.FS(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "relreg.yaml", "services/payments.yaml", "releases/payments/1.0.0.yaml", "dml/payments-api/1.0.0.yaml"); err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(fsys, "releases/payments/1.0.0.yaml")
	if err != nil || string(data) != "kind: Release\n" {
		t.Errorf("ReadFile at first commit = %q, %v", data, err)
	}

	// Loading from the tree and from the same files on disk agree.
	fromTree, err := Load(fsys, Options{Cache: NewParseCache()})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range fromTree.Files {
		paths = append(paths, d.Path)
	}
	want := []string{"dml/payments-api/1.0.0.yaml", "releases/payments/1.0.0.yaml", "relreg.yaml", "schedules/production.yaml", "services/payments.yaml"}
	if len(paths) != len(want) {
		t.Fatalf("files = %v, want %v", paths, want)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Errorf("files[%d] = %s, want %s", i, paths[i], want[i])
		}
	}
	rules := map[string]string{}
	for _, d := range fromTree.Diagnostics {
		rules[d.File] = d.Rule
	}
	if rules["releases/payments/1.1.0.yml"] != "layout/extension" || rules["releases/payments/notes.txt"] != "layout/path" || rules["dml/payments-api/1.0.0.yaml.b"] != "layout/path" {
		t.Errorf("layout diagnostics = %v", rules)
	}
}

func TestParseCacheSharesUnchangedFiles(t *testing.T) {
	root := t.TempDir()
	g, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, g, root, map[string]string{
		"relreg.yaml":            "apiVersion: relreg/v1\nkind: Registry\nmetadata: {name: acme}\nspec: {}\n",
		"services/payments.yaml": "apiVersion: relreg/v1\nkind: Service\nmetadata: {name: payments}\nspec: {title: P, owner: team}\n",
	}, "one")
	commitFiles(t, g, root, map[string]string{"services/ledger.yaml": "apiVersion: relreg/v1\nkind: Service\nmetadata: {name: ledger}\nspec: {title: L, owner: team}\n"}, "two")
	repo, err := OpenRepo(root, "")
	if err != nil {
		t.Fatal(err)
	}
	cache := NewParseCache()
	load := func(rev string) *Registry {
		c, err := repo.Resolve(rev)
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := repo.FS(c)
		if err != nil {
			t.Fatal(err)
		}
		reg, err := Load(fsys, Options{Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}
	a, b := load("HEAD~1"), load("HEAD")
	if a.Services["payments"].Doc.Node != b.Services["payments"].Doc.Node {
		t.Error("unchanged file was parsed twice")
	}
	if got := len(cache.cur) + len(cache.prev); got != 3 {
		t.Errorf("cache holds %d entries, want 3", got)
	}
}

// TestParseCacheKeepsTheLatest checks the bound of the cache: it keeps the
// files parsed last, and those it is asked for again.
func TestParseCacheKeepsTheLatest(t *testing.T) {
	c := NewParseCache()
	node := func(i int) parsed { return parsed{node: &Node{Value: i}} }
	for i := range 3 * parseGeneration {
		c.put(strconv.Itoa(i), node(i))
		if i%parseGeneration == 10 {
			// Asked for again, an old file stays.
			if _, ok := c.get("0"); !ok {
				t.Fatalf("after %d files, file 0 was dropped though it is in use", i+1)
			}
		}
	}
	if n := len(c.cur) + len(c.prev); n < parseGeneration || n > 2*parseGeneration {
		t.Errorf("cache holds %d files, want %d to %d", n, parseGeneration, 2*parseGeneration)
	}
	if _, ok := c.get("1"); ok {
		t.Error("file 1, parsed first and not asked for since, is still held")
	}
	p, ok := c.get(strconv.Itoa(3*parseGeneration - 1))
	if !ok || p.node.Value != 3*parseGeneration-1 {
		t.Errorf("the last file parsed = %v, %v; want it held", p.node, ok)
	}
}

// TestWorkTreeFSTrustsTheIndexAsGitDoes checks which files the index
// vouches for: those git itself would not read again.
func TestWorkTreeFSTrustsTheIndexAsGitDoes(t *testing.T) {
	root := t.TempDir()
	run := gitCLI(t, root)
	write := func(name, content string, mod time.Time) {
		t.Helper()
		p := filepath.Join(root, "reg", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	files := []string{"same.yaml", "grown.yaml", "touched.yaml", "racy.yaml", "deleted.yaml"}
	racyAt := past.Add(30 * time.Minute)
	for _, f := range files {
		mod := past
		if f == "racy.yaml" {
			mod = racyAt
		}
		write("services/"+f, "v: 1\n", mod)
	}
	run("init", "-q")
	run("add", "-A")
	run("commit", "-q", "-m", "one")
	index := filepath.Join(root, ".git", "index")
	write("services/grown.yaml", "v: 12\n", past)
	write("services/touched.yaml", "v: 2\n", past.Add(time.Minute)) // same size, new time
	write("services/racy.yaml", "v: 3\n", racyAt)                   // same size and time: only the index's own time tells
	write("services/new.yaml", "v: 1\n", past)                      // not in the index
	if err := os.Remove(filepath.Join(root, "reg", "services", "deleted.yaml")); err != nil {
		t.Fatal(err)
	}
	// The index was written in the instant racy.yaml was recorded: a
	// change in that instant would not show in its time.
	if err := os.Chtimes(index, racyAt, racyAt); err != nil {
		t.Fatal(err)
	}
	repo, err := OpenRepo(filepath.Join(root, "reg"), "")
	if err != nil {
		t.Fatal(err)
	}
	hfs, ok := repo.WorkTreeFS(filepath.Join(root, "reg")).(HashFS)
	if !ok {
		t.Fatal("WorkTreeFS is not a HashFS")
	}
	want := map[string]bool{"same.yaml": true}
	for _, f := range append(files, "new.yaml") {
		h, ok := hfs.Hash("services/" + f)
		if ok != want[f] {
			t.Errorf("Hash(%s) known = %v, want %v", f, ok, want[f])
		}
		if ok && h != run("hash-object", "reg/services/"+f) {
			t.Errorf("Hash(%s) = %s, want git hash-object's %s", f, h, run("hash-object", "reg/services/"+f))
		}
	}
	// Comparing the work tree with the commit finds exactly what changed.
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	base, err := repo.FS(head)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := WorkTreeChanges(base, hfs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range changes {
		got = append(got, ch.Path)
	}
	wantChanged := []string{"services/deleted.yaml", "services/grown.yaml", "services/new.yaml", "services/racy.yaml", "services/touched.yaml"}
	if !slices.Equal(got, wantChanged) {
		t.Errorf("WorkTreeChanges() = %v, want %v", got, wantChanged)
	}
}

// gitCLI returns a function that runs the git CLI in dir, as a user would,
// and returns its trimmed output; it skips the test without git.
func gitCLI(t *testing.T, dir string) func(args ...string) string {
	t.Helper()
	testtool.Need(t, "git")
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}
