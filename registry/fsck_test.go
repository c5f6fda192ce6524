package registry

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// needGit skips a test without the git CLI, or fails it when CI=true.
func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required when CI=true")
		}
		t.Skip("git not installed")
	}
}

// te is a tree entry for a test: mode and name as stored.
type te struct{ mode, name, hash string }

const (
	blobB = "2c3c1fd0d4d7d46b3b1b0c0e0d1c1b1a19181716"
	nullH = "0000000000000000000000000000000000000000"
)

// fresh counts the object ids rawTree makes up.
var fresh int

// rawTree encodes entries as git stores a tree, in the order given. An
// entry without a hash gets an id no other entry names: git fsck gives an
// object the type the first entry naming it says, so two trees naming one
// id as a file and as a folder would disturb each other's checks.
func rawTree(entries ...te) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		h := e.hash
		if h == "" {
			fresh++
			h = plumbing.ComputeHash(plumbing.BlobObject, fmt.Appendf(nil, "fresh %d", fresh)).String()
		}
		id, err := hex.DecodeString(h)
		if err != nil || len(id) != 20 {
			panic("bad hash " + h)
		}
		fmt.Fprintf(&b, "%s %s\x00", e.mode, e.name)
		b.Write(id)
	}
	return b.Bytes()
}

// treeCases are trees with what CheckTree must say of them ("" when
// nothing): the table test and the comparison with git fsck share them.
var treeCases = []struct {
	name string
	raw  []byte
	want string // a substring of a problem's message; "" for none
}{
	{"empty", nil, ""},
	{"sorted", rawTree(te{"100644", "1.0.0.yaml", ""}, te{"100644", "2.0.0.yaml", blobB}, te{"40000", "notes", ""}), ""},
	{"every mode git writes", rawTree(te{"100755", "a", ""}, te{"120000", "b", ""}, te{"160000", "c", ""}, te{"40000", "d", ""}, te{"100644", "e", ""}), ""},
	{"a file before a folder of a longer name", rawTree(te{"100644", "a.b", ""}, te{"40000", "a", ""}), ""},
	{"a folder sorts as name/", rawTree(te{"40000", "a", ""}, te{"100644", "a.b", ""}), "out of git's order"},
	{"duplicate", rawTree(te{"100644", "2.5.0.yaml", ""}, te{"100644", "2.5.0.yaml", blobB}), "appears more than once"},
	{"duplicate file and folder, apart", rawTree(te{"100644", "a", ""}, te{"100644", "a.b", ""}, te{"40000", "a", ""}), "appears more than once"},
	{"unsorted", rawTree(te{"100644", "b", ""}, te{"100644", "a", ""}), "out of git's order"},
	{"dot", rawTree(te{"40000", ".", ""}), "is . or .."},
	{"dotdot", rawTree(te{"40000", "..", ""}), "is . or .."},
	{"slash", rawTree(te{"100644", "releases/x.yaml", ""}), "holds /"},
	{".git", rawTree(te{"40000", ".git", ""}), "reads it as .git"},
	{".GIT", rawTree(te{"40000", ".GIT", ""}), "reads it as .git"},
	{".Git trailing dot and space", rawTree(te{"40000", ".Git. .", ""}), "reads it as .git"},
	{"git~1", rawTree(te{"40000", "GIT~1", ""}), "reads it as .git"},
	{".git alternate stream", rawTree(te{"40000", ".git::$INDEX_ALLOCATION", ""}), "reads it as .git"},
	{".git after a backslash", rawTree(te{"40000", "x\\.git", ""}), "reads it as .git"},
	{".git with an HFS+ ignorable", rawTree(te{"40000", ".g\u200cit", ""}), "reads it as .git"},
	{".git then bytes that are not UTF-8", rawTree(te{"40000", ".git\xff", ""}), "reads it as .git"},
	{"close to .git", rawTree(te{"40000", ".github", ""}, te{"100644", ".gitignore", ""}, te{"100644", "git~1x", ""}, te{"40000", "git~2", ""}), ""},
	{".gitmodules symlink", rawTree(te{"120000", ".gitmodules", ""}), "symbolic link named .gitmodules"},
	{".gitmodules short name symlink", rawTree(te{"120000", "GITMOD~1", ""}), "symbolic link named .gitmodules"},
	{".gitmodules hashed short name symlink", rawTree(te{"120000", "gi7eba~9", ""}), "symbolic link named .gitmodules"},
	{".gitmodules file", rawTree(te{"100644", ".gitmodules", ""}), ""},
	{"null object id", rawTree(te{"100644", "a", nullH}), "null object id"},
	{"mode 100664", rawTree(te{"100664", "a", ""}), "mode 100664"},
	{"zero-padded folder mode", rawTree(te{"040000", "a", ""}), "mode 040000"},
	{"unknown mode", rawTree(te{"100600", "a", ""}), "mode 100600"},
	{"mode that wraps to 100644", rawTree(te{"40000100644", "a", ""}), "mode 40000100644"},
	{"mode not octal", rawTree(te{"10064a", "a", ""}), "not octal"},
	{"no mode", rawTree(te{"", "a", ""}), "no mode"},
	{"empty name", rawTree(te{"100644", "", ""}), "empty name"},
	{"cut short", rawTree(te{"100644", "a", ""})[:20], "cut short"},
	{"name not terminated", []byte("100644 abc"), "not terminated"},
	{"trailing bytes", append(rawTree(te{"100644", "a", ""}), "xy"...), "cannot be decoded after 1 entries"},
}

func TestCheckTree(t *testing.T) {
	for _, tt := range treeCases {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckTree(tt.raw)
			var msgs []string
			for _, p := range got {
				msgs = append(msgs, p.Message)
			}
			all := strings.Join(msgs, "\n")
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("CheckTree() = %q, want no problem", all)
			case tt.want != "" && !strings.Contains(all, tt.want):
				t.Errorf("CheckTree() = %q, want a problem saying %q", all, tt.want)
			}
		})
	}
}

// sampleTrees returns n generated trees: entries from pools of names and
// modes that git fsck has opinions about, sometimes shuffled, duplicated,
// cut or with a byte changed.
func sampleTrees(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "b", "a.b", "a-b", "2.5.0.yaml", "2.4.0.yaml", "releases", "x", ".", "..", ".git", ".GiT",
		"git~1", ".git ", ".git.", ".git:x", "a/b", "a\\.git", ".gitmodules", "GITMOD~1", ".gitmodules.", ".g\u200dit",
		".gitignore", ".gitattributes", ".mailmap", "\u00e9", "sp ace", "gi7eba~1", ".git\xfe", "~", "~1",
		"\u200c.git", "x\\git~1", "GIT~1.", "git~1:y", ".gitmodules:x", "gitmod~4", "gitmod~5", ".git\u200f", ".gi\xc3\xa9t", "\xef\xbb\xbf.git"}
	modes := []string{"100644", "100644", "100644", "100755", "120000", "40000", "40000", "160000", "100664", "040000", "100600", "644", "0100644"}
	safeNames := []string{"a", "b", "a.b", "a-b", "a_b", "2.5.0.yaml", "2.4.0.yaml", "releases", ".github", "\u00e9", "sp ace", "git~2", ".gitignore"}
	safeModes := []string{"100644", "100755", "120000", "40000", "160000"}
	var out [][]byte
	for k := range n {
		names, modes := names, modes
		if k%2 == 0 { // half of them as git writes them, mostly
			names, modes = safeNames, safeModes
		}
		var entries []te
		for range rng.IntN(5) + 1 {
			h := make([]byte, 20)
			for i := range h {
				h[i] = byte(rng.IntN(256))
			}
			if rng.IntN(20) == 0 {
				h = make([]byte, 20)
			}
			entries = append(entries, te{modes[rng.IntN(len(modes))], names[rng.IntN(len(names))], hex.EncodeToString(h)})
		}
		if rng.IntN(2) == 0 { // mostly sorted, as git writes
			sortEntries(entries)
		}
		raw := rawTree(entries...)
		switch rng.IntN(12) {
		case 0:
			raw = raw[:rng.IntN(len(raw))]
		case 1:
			raw[rng.IntN(len(raw))] = byte(rng.IntN(256))
		}
		out = append(out, raw)
	}
	return out
}

// sortEntries sorts entries as git does.
func sortEntries(es []te) {
	key := func(e te) string {
		if e.mode == "40000" || e.mode == "040000" {
			return e.name + "/"
		}
		return e.name
	}
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && key(es[j]) < key(es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// TestCheckTreeAgreesWithGitFsck writes the table's trees and 200
// generated ones into a repository and runs git fsck --strict: every tree
// git reports is one CheckTree refuses. CheckTree is stricter only about
// modes (it accepts only the modes git writes).
func TestCheckTreeAgreesWithGitFsck(t *testing.T) {
	needGit(t)
	var dir string
	git := func(stdin []byte, args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	samples := sampleTrees(200)
	for _, tt := range treeCases {
		samples = append(samples, tt.raw)
	}
	// Every object of a repository is checked, reachable or not. Missing
	// objects ("broken links") are no concern of a tree's form: only the
	// messages of the tree check, each with its id (duplicateEntries: ...),
	// count. Trees naming the null id (as a file in one, a folder in
	// another) each get a repository of their own; the others share one.
	refused := map[string][]string{}
	fsck := func(raws ...[]byte) []string {
		dir = t.TempDir()
		if out, err := git(nil, "init", "-q"); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		ids := make([]string, len(raws))
		for i, raw := range raws {
			out, err := git(raw, "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
			if err != nil {
				t.Fatalf("git hash-object: %v\n%s", err, out)
			}
			ids[i] = strings.TrimSpace(out)
		}
		out, _ := git(nil, "fsck", "--strict", "--no-dangling", "--no-progress")
		for _, m := range regexp.MustCompile(`(?m)^error in tree ([0-9a-f]{40}): ([a-zA-Z0-9]+: .*)$`).FindAllStringSubmatch(out, -1) {
			refused[m[1]] = append(refused[m[1]], m[2])
		}
		return ids
	}
	var shared [][]byte
	var sharedAt []int
	ids := make([]string, len(samples))
	for i, raw := range samples {
		if bytes.Contains(raw, make([]byte, 20)) {
			ids[i] = fsck(raw)[0]
			continue
		}
		shared, sharedAt = append(shared, raw), append(sharedAt, i)
	}
	for j, id := range fsck(shared...) {
		ids[sharedAt[j]] = id
	}
	var gitRefused, stricter int
	for i, raw := range samples {
		problems := CheckTree(raw)
		gitSays := refused[ids[i]]
		switch {
		case len(gitSays) > 0 && len(problems) == 0:
			t.Errorf("git fsck refuses tree %s (%q): %v; CheckTree accepts it", ids[i], raw, gitSays)
		case len(gitSays) == 0 && len(problems) > 0:
			stricter++
			for _, p := range problems {
				if !strings.Contains(p.Message, "which git does not write") {
					t.Errorf("CheckTree refuses tree %s (%q), which git fsck --strict accepts, for another reason than its mode: %s", ids[i], raw, p.Message)
				}
			}
		case len(gitSays) > 0:
			gitRefused++
		}
	}
	if gitRefused < 50 {
		t.Errorf("git fsck refused only %d of %d samples: the samples test too little", gitRefused, len(samples))
	}
	t.Logf("%d samples: git fsck --strict refuses %d, CheckTree too; CheckTree alone refuses %d (modes)", len(samples), gitRefused, stricter)
}

// FuzzTreeEntries checks CheckTree over arbitrary tree bytes: it never
// panics, and a tree it accepts is one go-git decodes to the same entries,
// in the same order, and encodes back to the same bytes: nothing dropped,
// reordered or normalized. TestCheckTreeAgreesWithGitFsck compares its
// verdicts with git fsck itself.
func FuzzTreeEntries(f *testing.F) {
	for _, tt := range treeCases {
		f.Add(tt.raw)
	}
	for _, raw := range sampleTrees(20) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries, problems := decodeTree(raw)
		if len(problems) > 0 {
			return
		}
		o := &plumbing.MemoryObject{}
		o.SetType(plumbing.TreeObject)
		o.Write(raw)
		tree, err := object.DecodeTree(nil, o)
		if err != nil {
			t.Fatalf("CheckTree accepts %q, go-git cannot decode it: %v", raw, err)
		}
		if len(tree.Entries) != len(entries) {
			t.Fatalf("CheckTree accepts %q with %d entries, go-git decodes %d", raw, len(entries), len(tree.Entries))
		}
		for i := range entries {
			if tree.Entries[i] != entries[i] {
				t.Fatalf("entry %d: go-git decodes %+v, relreg %+v", i, tree.Entries[i], entries[i])
			}
		}
		enc := &plumbing.MemoryObject{}
		if err := tree.Encode(enc); err != nil {
			t.Fatal(err)
		}
		rd, _ := enc.Reader()
		var back bytes.Buffer
		back.ReadFrom(rd)
		if !bytes.Equal(back.Bytes(), raw) {
			t.Fatalf("CheckTree accepts %q, which go-git encodes back as %q: not git's canonical form", raw, back.Bytes())
		}
	})
}

// TestMalformedTrees plays the walk over a real repository: a malformed
// tree deep in a folder, a folder entry naming a blob, and a tree bomb (a
// malformed tree reached along a hundred to the fifth paths), found once.
func TestMalformedTrees(t *testing.T) {
	needGit(t)
	root := t.TempDir()
	git := gitCLI(t, root)
	forge := func(raw []byte) string {
		t.Helper()
		cmd := exec.Command("git", "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
		cmd.Dir = root
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git hash-object: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	commitTree := func(tree string) string {
		return git("commit-tree", "-m", "x", tree)
	}
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(root, "relreg.yaml"), []byte("kind: Registry\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	blob := git("hash-object", "-w", "relreg.yaml")
	good := forge(rawTree(te{"100644", "a.yaml", blob}))
	dup := forge(rawTree(te{"100644", "2.5.0.yaml", blob}, te{"100644", "2.5.0.yaml", blob}))
	payments := forge(rawTree(te{"40000", "payments", dup}))
	notTree := forge(rawTree(te{"40000", "oops", blob}))
	bomb := dup
	for range 5 {
		var es []te
		for i := range 100 {
			es = append(es, te{"40000", fmt.Sprintf("d%03d", i), bomb})
		}
		bomb = forge(rawTree(es...))
	}
	top := forge(rawTree(te{"40000", "bomb", bomb}, te{"40000", "docs", notTree}, te{"40000", "good", good}, te{"40000", "releases", payments}, te{"100644", "relreg.yaml", blob}))
	c1 := commitTree(top)

	repo, err := OpenRepo(root, "")
	if err != nil {
		t.Fatal(err)
	}
	commit := func(sha string) *object.Commit {
		c, err := repo.Resolve(sha)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	start := time.Now()
	got, err := repo.MalformedTrees(commit(c1))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("MalformedTrees took %v over a tree bomb", d)
	}
	var found []string
	for _, m := range got {
		for _, p := range m.Problems {
			found = append(found, m.Path+": "+p.Message)
		}
	}
	want := []string{
		`bomb/d000/d000/d000/d000/d000: entry "2.5.0.yaml" appears more than once`,
		`docs: entry "oops" is a folder but its object ` + blob + ` is a blob, not a tree`,
	}
	if len(found) != len(want) {
		t.Fatalf("MalformedTrees() = %q, want %d problems: %q", found, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(found[i], want[i]) {
			t.Errorf("problem %d = %q, want %q…", i, found[i], want[i])
		}
	}

	// The good tree is remembered; a commit holding only it has nothing.
	c2 := commitTree(forge(rawTree(te{"40000", "good", good})))
	if got, err := repo.MalformedTrees(commit(c2)); err != nil || len(got) != 0 {
		t.Errorf("MalformedTrees(good) = %v, %v; want nothing", got, err)
	}
	if !repo.goodTrees[plumbing.NewHash(good)] {
		t.Errorf("the well-formed tree %s is not remembered", good)
	}
	if repo.goodTrees[plumbing.NewHash(top)] || repo.goodTrees[plumbing.NewHash(bomb)] {
		t.Errorf("a tree holding a malformed one is remembered as good")
	}

	// The next run knows the good trees from the git directory; a damaged
	// file is ignored.
	again, err := OpenRepo(root, "")
	if err != nil {
		t.Fatal(err)
	}
	again.goodMu.Lock()
	again.loadGoodTrees()
	again.goodMu.Unlock()
	if !again.goodTrees[plumbing.NewHash(good)] || again.goodTrees[plumbing.NewHash(top)] {
		t.Errorf("the next run's good trees = %d trees, want the good tree and not the top one", len(again.goodTrees))
	}
	f, err := os.OpenFile(again.goodPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("xyz"))
	f.Close()
	again.loadGoodTrees()
	if len(again.goodTrees) != 0 {
		t.Errorf("a damaged good-trees file gives %d trees, want none", len(again.goodTrees))
	}
	if got, err := again.MalformedTrees(commit(c1)); err != nil || len(got) != 2 {
		t.Errorf("MalformedTrees after a damaged file = %d trees, %v; want 2", len(got), err)
	}
}
