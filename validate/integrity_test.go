package validate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relreg/relreg/registry"
)

// forge builds commits from trees written by hand with the git CLI, as an
// attacker would: git hash-object --literally writes a tree git itself
// would refuse to write.
type forge struct {
	t    *testing.T
	dir  string
	when time.Time
}

func newForge(t *testing.T) *forge {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required when CI=true")
		}
		t.Skip("git not installed")
	}
	f := &forge{t: t, dir: t.TempDir(), when: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	f.git(nil, "init", "-q", "-b", "main")
	return f
}

func (f *forge) git(stdin []byte, args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = f.dir
	date := f.when.Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+f.dir,
		"GIT_AUTHOR_NAME=Mallory", "GIT_AUTHOR_EMAIL=mallory@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Mallory", "GIT_COMMITTER_EMAIL=mallory@example.com", "GIT_COMMITTER_DATE="+date)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// entry is a tree entry: a file's content, or a folder (a tree id).
type entry struct {
	name, content, tree string
}

func file(name, content string) entry { return entry{name: name, content: content} }
func dir(name, tree string) entry     { return entry{name: name, tree: tree} }

// tree writes a tree holding entries in the order given, as is: sorted
// by the caller for a well-formed tree, or not.
func (f *forge) tree(entries ...entry) string {
	f.t.Helper()
	var raw bytes.Buffer
	for _, e := range entries {
		mode, id := "40000", e.tree
		if e.tree == "" {
			mode, id = "100644", f.git([]byte(e.content), "hash-object", "-w", "--stdin")
		}
		b, _ := hex.DecodeString(id)
		fmt.Fprintf(&raw, "%s %s\x00%s", mode, e.name, b)
	}
	return f.git(raw.Bytes(), "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
}

// commit commits a tree on parents an hour after the last commit.
func (f *forge) commit(tree string, parents ...string) string {
	f.t.Helper()
	f.when = f.when.Add(time.Hour)
	args := []string{"commit-tree", "-m", "change", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return f.git(nil, args...)
}

func (f *forge) repo(registryDir string) *registry.Repo {
	f.t.Helper()
	repo, err := registry.OpenRepo(f.dir+"/"+registryDir, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return repo
}

const integrityConfig = "apiVersion: relreg/v1\nkind: Registry\nmetadata: {name: acme}\nspec: {}\n"

// registryTree returns a registry's tree, with releases as given.
func (f *forge) registryTree(releases string) string {
	if releases == "" {
		return f.tree(file("relreg.yaml", integrityConfig))
	}
	return f.tree(dir("releases", releases), file("relreg.yaml", integrityConfig))
}

// treeFindings lists the git/malformed-tree diagnostics as "file" or
// "commit file". A check that finds one reports nothing else: no other
// rule is judged on bytes git may read otherwise. The files' content is
// not a registry's: the audit's other findings are no concern here.
func treeFindings(t *testing.T, ds []registry.Diagnostic) []string {
	t.Helper()
	var out, others []string
	for _, d := range ds {
		if d.Rule != ruleMalformedTree {
			if d.Commit == "" {
				others = append(others, d.Rule)
			}
			continue
		}
		if d.Line != 0 || d.Severity != registry.SeverityError || !strings.Contains(d.Message, "git fsck --strict") {
			t.Errorf("diagnostic %+v: want line 0, an error, and how to fix it", d)
		}
		out = append(out, strings.TrimSpace(d.Commit+" "+d.File))
	}
	if len(out) > 0 && len(others) > 0 {
		t.Errorf("a check with malformed trees judged other rules too: %v", others)
	}
	return out
}

func TestCheckMalformedTrees(t *testing.T) {
	f := newForge(t)
	root := f.commit(f.registryTree(""))
	ok := f.tree(file("2.5.0.yaml", "a: 1\n"))
	dup := f.tree(file("2.5.0.yaml", "a: 1\n"), file("2.5.0.yaml", "a: 2\n"))
	bad := f.commit(f.registryTree(f.tree(dir("payments", dup))), root)
	fixed := f.commit(f.registryTree(f.tree(dir("payments", ok))), bad)
	honest := f.commit(f.registryTree(f.tree(dir("payments", ok))), root)
	f.git(nil, "branch", "-f", "main", root)
	// main moves on with a malformed tree the branches never saw.
	f.git(nil, "branch", "-f", "moved", f.commit(f.tree(file("README", "x"), file("README", "y"), file("relreg.yaml", integrityConfig)), root))

	tests := []struct {
		name, base, head string
		want             []string
	}{
		{"honest", "main", honest, nil},
		{"malformed head", "main", bad, []string{"releases/payments"}},
		{"malformed commit between, fixed at head", "main", fixed, []string{"releases/payments"}},
		{"malformed base tip", "moved", honest, []string{"."}},
	}
	repo := f.repo("")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(repo, CheckOptions{Base: tt.base, Head: tt.head, Now: f.when})
			if err != nil {
				t.Fatal(err)
			}
			if got := treeFindings(t, res.Diagnostics); !slices.Equal(got, tt.want) {
				t.Errorf("Check() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCheckMalformedTreePaths: a registry in a subfolder; a tree in it is
// named relative to it, a tree outside relative to the repository.
func TestCheckMalformedTreePaths(t *testing.T) {
	f := newForge(t)
	reg := f.registryTree("")
	docs := f.tree(file("a.md", "x"))
	base := f.commit(f.tree(dir("docs", docs), dir("reg", reg)))
	dupDocs := f.tree(file("a.md", "x"), file("a.md", "y"))
	dupReg := f.tree(file("relreg.yaml", integrityConfig), file("relreg.yaml", "kind: Registry\n"))
	tests := []struct {
		name string
		tree string
		want []string
	}{
		{"outside the registry", f.tree(dir("docs", dupDocs), dir("reg", reg)), []string{"docs"}},
		{"the registry's folder", f.tree(dir("docs", docs), dir("reg", dupReg)), []string{"."}},
		{"the repository's root", f.tree(dir("reg", reg), dir("docs", docs)), []string{"."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := f.commit(tt.tree, base)
			res, err := Check(f.repo("reg"), CheckOptions{Base: base, Head: head, Now: f.when})
			if err != nil {
				t.Fatal(err)
			}
			got := treeFindings(t, res.Diagnostics)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check() = %q, want %q", got, tt.want)
			}
			if tt.name == "the repository's root" && !strings.Contains(res.Diagnostics[0].Message, "the repository's root folder") {
				t.Errorf("message %q does not say it is the repository's root", res.Diagnostics[0].Message)
			}
		})
	}
}

func TestAuditMalformedTrees(t *testing.T) {
	f := newForge(t)
	ok := f.tree(file("2.5.0.yaml", "a: 1\n"))
	dup := f.tree(file("2.5.0.yaml", "a: 1\n"), file("2.5.0.yaml", "a: 2\n"))
	other := f.tree(file("2.6.0.yaml", "a: 1\n"))

	// A malformed trust root is reported on it, though it is not judged.
	badRoot := f.commit(f.registryTree(f.tree(dir("payments", dup))))
	res, err := Audit(f.repo(""), AuditOptions{Ref: badRoot})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := treeFindings(t, res.Diagnostics), []string{badRoot + " releases/payments"}; !slices.Equal(got, want) {
		t.Errorf("Audit(malformed trust root) = %q, want %q", got, want)
	}

	// A malformed tree is reported on the commit that brings it, not on
	// every commit that keeps it.
	root := f.commit(f.registryTree(""))
	bad := f.commit(f.registryTree(f.tree(dir("payments", dup))), root)
	kept := f.commit(f.registryTree(f.tree(dir("payments", dup), dir("search", other))), bad)
	tip := f.commit(f.registryTree(f.tree(dir("payments", ok), dir("search", other))), kept)
	res, err = Audit(f.repo(""), AuditOptions{Ref: tip})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := treeFindings(t, res.Diagnostics), []string{bad + " releases/payments"}; !slices.Equal(got, want) {
		t.Errorf("Audit() = %q, want %q", got, want)
	}
	// Before --since it is not judged.
	res, err = Audit(f.repo(""), AuditOptions{Ref: tip, Since: f.when.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got := treeFindings(t, res.Diagnostics); len(got) != 0 {
		t.Errorf("Audit(--since after it) = %q, want nothing", got)
	}

	// A merge is judged with the commits it brings in: a malformed tree
	// on the merged branch, fixed before the merge, is the merge's.
	branchBad := f.commit(f.registryTree(f.tree(dir("payments", dup))), tip)
	branchFixed := f.commit(f.registryTree(f.tree(dir("payments", ok))), branchBad)
	mainMoved := f.commit(f.registryTree(f.tree(dir("payments", ok), dir("search", other), dir("x", other))), tip)
	merge := f.commit(f.registryTree(f.tree(dir("payments", ok), dir("x", other))), mainMoved, branchFixed)
	res, err = Audit(f.repo(""), AuditOptions{Ref: merge, Since: f.when.Add(-30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := treeFindings(t, res.Diagnostics), []string{merge + " releases/payments"}; !slices.Equal(got, want) {
		t.Errorf("Audit(merge) = %q, want %q", got, want)
	}
	if len(res.Commits) != 1 || res.Commits[0].Kind != CommitMergedAnyway {
		t.Errorf("Audit(merge).Commits = %+v, want the merge, merged anyway", res.Commits)
	}
}
