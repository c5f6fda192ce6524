package registry

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relreg/relreg/registry/testtool"
)

// factsRepo commits the example registry into a new repository and opens it.
func factsRepo(t *testing.T) (*Repo, string) {
	t.Helper()
	testtool.Need(t, "git")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "basic"))); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "registry"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	repo, err := OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return repo, dir
}

func TestReleaseFactsCachedInRepository(t *testing.T) {
	repo, dir := factsRepo(t)
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := repo.FS(head)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Load(os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}

	cold := OpenFactsCache(repo)
	got, err := ReleaseFacts(fsys, cold, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(reg.Releases) {
		t.Fatalf("facts of %d releases, the registry has %d", len(got), len(reg.Releases))
	}
	for id, rel := range reg.Releases {
		if !reflect.DeepEqual(got[id], rel.Facts()) {
			t.Errorf("%s: facts %+v, want %+v", id, got[id], rel.Facts())
		}
	}
	if err := cold.Save(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, ".git", "relreg", "facts")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("no facts file after Save: %v", err)
	}

	// A second run reads every fact from the file and parses nothing.
	warm := OpenFactsCache(repo)
	pc := NewParseCache()
	again, err := ReleaseFacts(fsys, warm, pc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Error("facts read back from the file differ from the parsed ones")
	}
	if n := len(pc.cur) + len(pc.prev); n != 0 {
		t.Errorf("a warm run parsed %d files, want 0", n)
	}

	// A damaged file is ignored, not trusted.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := OpenFactsCache(repo); len(c.blobs) != 0 || len(c.trees) != 0 {
		t.Errorf("a damaged facts file was loaded: %d facts, %d trees", len(c.blobs), len(c.trees))
	}
}

func TestDecodeFactsRefusesAnotherFormat(t *testing.T) {
	h := plumbing.Hash{1}
	data := encodeFacts(map[plumbing.Hash]*Facts{h: {Schedule: "production", Phase: "draft"}}, nil)
	if _, _, err := decodeFacts(data); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	other := append([]byte("relreg facts 0"), data[len(factsFormat):]...)
	if _, _, err := decodeFacts(other); err == nil {
		t.Error("a file of another format was decoded")
	}
	if _, _, err := decodeFacts(data[:len(data)-1]); err == nil {
		t.Error("a truncated file was decoded")
	}
}
