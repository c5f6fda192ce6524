package registry

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestFirstParentsAndChangedFiles(t *testing.T) {
	root := t.TempDir()
	g, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	commitFiles(t, g, root, map[string]string{"reg/relreg.yaml": "a: 1\n", "README.md": "x\n"}, "one")
	commitFiles(t, g, root, map[string]string{"reg/services/payments.yaml": "a: 1\n", "README.md": "y\n"}, "two")
	commitFiles(t, g, root, map[string]string{"reg/relreg.yaml": "a: 2\n"}, "three")
	repo, err := OpenRepo(filepath.Join(root, "reg"), "")
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Resolve("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	commits, err := repo.FirstParents(head)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, c := range commits {
		msgs = append(msgs, c.Message)
	}
	if got, want := len(msgs), 3; got != want || msgs[0] != "one" || msgs[2] != "three" {
		t.Fatalf("FirstParents = %q, want one, two, three", msgs)
	}
	tests := []struct {
		name     string
		from     int // index into commits, -1 for none
		to       int
		want     []string
		wantFrom []bool // whether From is set
	}{
		{"root", -1, 0, []string{"relreg.yaml"}, []bool{false}},
		{"add service, README outside the registry", 0, 1, []string{"services/payments.yaml"}, []bool{false}},
		{"modify config", 1, 2, []string{"relreg.yaml"}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var from = commits[0]
			if tt.from < 0 {
				from = nil
			} else {
				from = commits[tt.from]
			}
			got, err := repo.ChangedFiles(from, commits[tt.to])
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ChangedFiles = %+v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].Path != tt.want[i] || (got[i].From != "") != tt.wantFrom[i] || got[i].To == "" {
					t.Errorf("ChangedFiles[%d] = %+v, want path %s (from set: %v)", i, got[i], tt.want[i], tt.wantFrom[i])
				}
			}
		})
	}
}

// TestChangedFilesMatchesGit makes random commits with the git CLI — names
// that sort differently as files and as folders ("a", "a.b", "a/x"),
// files turning into folders and back — and compares ChangedFiles between
// every pair of consecutive commits, and some far apart, with git
// diff-tree.
func TestChangedFilesMatchesGit(t *testing.T) {
	root := t.TempDir()
	gitRun := gitCLI(t, root)
	gitRun("init", "-q", "-b", "main")
	names := []string{"a", "a.b", "a-b", "a/x", "a/y.yaml", "a/x.b/z", "b", "b/c/d", "b/c.d", "b.c/d", "c", "ab"}
	r := rand.New(rand.NewPCG(3, 5))
	files := map[string]string{}
	var shas []string
	for n := range 40 {
		for range 1 + r.IntN(3) {
			p := names[r.IntN(len(names))]
			if r.IntN(4) == 0 {
				delete(files, p)
				continue
			}
			// A file may not sit where a folder of the same path is, or
			// below a file: drop what conflicts.
			for q := range files {
				if strings.HasPrefix(q, p+"/") || strings.HasPrefix(p, q+"/") {
					delete(files, q)
				}
			}
			files[p] = fmt.Sprintf("%s %d\n", p, r.IntN(3))
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != ".git" {
				if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		for p, content := range files {
			full := filepath.Join(root, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gitRun("add", "-A")
		gitRun("commit", "-q", "--allow-empty", "-m", fmt.Sprint("commit ", n))
		shas = append(shas, strings.TrimSpace(gitRun("rev-parse", "HEAD")))
	}
	repo, err := OpenRepo(root, "")
	if err != nil {
		t.Fatal(err)
	}
	pairs := [][2]int{}
	for i := 1; i < len(shas); i++ {
		pairs = append(pairs, [2]int{i - 1, i})
	}
	for range 20 {
		pairs = append(pairs, [2]int{r.IntN(len(shas)), r.IntN(len(shas))})
	}
	for _, pair := range pairs {
		from, err := repo.Resolve(shas[pair[0]])
		if err != nil {
			t.Fatal(err)
		}
		to, err := repo.Resolve(shas[pair[1]])
		if err != nil {
			t.Fatal(err)
		}
		changes, err := repo.ChangedFiles(from, to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range changes {
			got = append(got, fmt.Sprintf("%s %s %s", ch.Path, ch.From, ch.To))
		}
		var want []string
		for _, line := range strings.Split(strings.TrimSpace(gitRun("diff-tree", "-r", "--no-renames", "--raw", "--abbrev=40", shas[pair[0]], shas[pair[1]])), "\n") {
			if line == "" {
				continue
			}
			meta, p, _ := strings.Cut(line, "\t")
			f := strings.Fields(meta) // :mode mode from to status
			fromSHA, toSHA := f[2], f[3]
			if strings.Trim(fromSHA, "0") == "" {
				fromSHA = ""
			}
			if strings.Trim(toSHA, "0") == "" {
				toSHA = ""
			}
			want = append(want, fmt.Sprintf("%s %s %s", p, fromSHA, toSHA))
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ChangedFiles(%d, %d) =\n%s\nwant (git diff-tree)\n%s", pair[0], pair[1], strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestDiffUnsortedTrees checks that trees whose entries are not in git's
// order (hand-made) are still compared by name.
func TestDiffUnsortedTrees(t *testing.T) {
	h := func(s string) plumbing.Hash { return plumbing.ComputeHash(plumbing.BlobObject, []byte(s)) }
	a := &object.Tree{Entries: []object.TreeEntry{
		{Name: "b", Mode: filemode.Regular, Hash: h("b1")},
		{Name: "a", Mode: filemode.Regular, Hash: h("a1")},
		{Name: "c", Mode: filemode.Regular, Hash: h("c1")},
	}}
	b := &object.Tree{Entries: []object.TreeEntry{
		{Name: "c", Mode: filemode.Regular, Hash: h("c2")},
		{Name: "a", Mode: filemode.Regular, Hash: h("a1")},
		{Name: "d", Mode: filemode.Regular, Hash: h("d1")},
	}}
	var out []FileChange
	if err := (&treeDiffer{}).diff("", a, b, &out); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(x, y FileChange) int { return strings.Compare(x.Path, y.Path) })
	want := []FileChange{{Path: "b", From: h("b1").String()}, {Path: "c", From: h("c1").String(), To: h("c2").String()}, {Path: "d", To: h("d1").String()}}
	if !slices.Equal(out, want) {
		t.Errorf("diff() = %+v, want %+v", out, want)
	}
}
