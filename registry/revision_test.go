package registry

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry/testtool"
)

// requireGit skips a test without the git CLI, except in CI (CI=true),
// where a missing git fails the test instead of hiding it.
func requireGit(t *testing.T) {
	t.Helper()
	testtool.Need(t, "git")
}

// gitRun runs the git CLI in dir and returns its stdout, stderr and
// whether it succeeded.
func gitRun(t *testing.T, dir string, stdin string, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return strings.TrimSpace(out.String()), errb.String(), err == nil
}

// blobSharingPrefix returns the content of a blob whose SHA starts with the
// same n hex digits as sha.
func blobSharingPrefix(t *testing.T, sha string, n int) string {
	t.Helper()
	for i := 0; i < 1<<24; i++ {
		content := fmt.Sprintf("collide %d\n", i)
		sum := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content)))
		if fmt.Sprintf("%x", sum[:])[:n] == sha[:n] {
			return content
		}
	}
	t.Fatalf("no blob shares %s", sha[:n])
	return ""
}

// revisionRepo builds, with the git CLI, a clone with branches, tags
// (lightweight, annotated, nested, of a tree and of a blob),
// remote-tracking branches and origin/HEAD, a merge, FETCH_HEAD and
// ORIG_HEAD, and the names that make revisions ambiguous: a tag named like
// a remote-tracking branch, a tag and a branch of one name, a branch named
// like an abbreviated SHA, a branch named by a full SHA, a blob whose SHA
// starts like a commit's, and a dangling symbolic ref. It returns the
// clone's folder and its commits by name.
func revisionRepo(t *testing.T) (string, map[string]string) {
	t.Helper()
	requireGit(t)
	root := t.TempDir()
	up := filepath.Join(root, "up")
	if err := os.Mkdir(up, 0o755); err != nil {
		t.Fatal(err)
	}
	g := func(dir string, args ...string) string {
		t.Helper()
		out, stderr, ok := gitRun(t, dir, "", args...)
		if !ok {
			t.Fatalf("git %v: %s", args, stderr)
		}
		return out
	}
	g(up, "init", "-q", "-b", "main")
	g(up, "commit", "-q", "--allow-empty", "-m", "c1")
	g(up, "branch", "side")
	g(up, "commit", "-q", "--allow-empty", "-m", "c2")
	g(up, "checkout", "-q", "side")
	g(up, "commit", "-q", "--allow-empty", "-m", "s1")
	g(up, "checkout", "-q", "main")

	dir := filepath.Join(root, "clone")
	g(root, "clone", "-q", up, dir)
	c := map[string]string{
		"c1": g(dir, "rev-parse", "origin/main~1"),
		"c2": g(dir, "rev-parse", "origin/main"),
		"s1": g(dir, "rev-parse", "origin/side"),
	}
	g(dir, "commit", "-q", "--allow-empty", "-m", "c3")
	c["c3"] = g(dir, "rev-parse", "HEAD")
	g(dir, "merge", "-q", "--no-ff", "-m", "merge side", "origin/side") // sets ORIG_HEAD
	c["m"] = g(dir, "rev-parse", "HEAD")
	g(dir, "fetch", "-q", "origin") // writes FETCH_HEAD

	g(dir, "tag", "v1", c["c1"])
	g(dir, "tag", "-a", "-m", "v2", "v2", c["c2"])
	g(dir, "tag", "-a", "-m", "nested", "v2n", "v2")
	g(dir, "tag", "treetag", "HEAD^{tree}")
	blob, _, _ := gitRun(t, dir, "a blob\n", "hash-object", "-w", "--stdin")
	g(dir, "tag", "blobtag", blob)
	g(dir, "tag", "origin/main", c["m"]) // the attack: a tag shadowing origin/main
	g(dir, "branch", "dup", c["c1"])
	g(dir, "tag", "dup", c["c2"])
	g(dir, "branch", c["c1"][:7], c["m"])                // a branch named like c1's short SHA
	g(dir, "update-ref", "refs/heads/"+c["c2"], c["c3"]) // a branch named by c2's full SHA
	g(dir, "branch", "user@host", c["s1"])
	g(dir, "symbolic-ref", "refs/remotes/gone/HEAD", "refs/remotes/gone/main")
	collide, _, _ := gitRun(t, dir, blobSharingPrefix(t, c["c3"], 4), "hash-object", "-w", "--stdin")
	if collide[:4] != c["c3"][:4] {
		t.Fatalf("blob %s does not share %s", collide, c["c3"][:4])
	}
	return dir, c
}

// TestResolveAgreesWithGit resolves every name of revisionRepo with every
// suffix, with relreg and with git rev-parse --verify: where both answer,
// they must agree; where git warns that a name is ambiguous, relreg must
// refuse it; where git fails, relreg must fail too.
func TestResolveAgreesWithGit(t *testing.T) {
	dir, c := revisionRepo(t)
	repo, err := OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		"HEAD", "@", "main", "refs/heads/main", "heads/main",
		"origin/main", "refs/remotes/origin/main", "remotes/origin/main", "refs/tags/origin/main",
		"origin", "origin/side", "origin/HEAD", "side", "gone", "no-such-branch",
		"v1", "tags/v1", "refs/tags/v1", "v2", "refs/tags/v2", "v2n", "treetag", "blobtag",
		"dup", "refs/heads/dup", "refs/tags/dup", "user@host",
		"FETCH_HEAD", "ORIG_HEAD",
		c["c1"][:7], "refs/heads/" + c["c1"][:7], c["c1"][:8], c["c1"], strings.ToUpper(c["c1"][:9]),
		c["c2"], "refs/heads/" + c["c2"], c["c2"][:12],
		c["c3"][:4], c["c3"][:6], c["m"][:5],
		"main.lock", ".hidden", "a//b", "main.", "abc", "~1",
	}
	// Names whose abbreviation is ambiguous among objects: git reads them
	// in a commit's context (NAME~1) as the commit alone, relreg refuses.
	objAmbiguous := map[string]bool{c["c3"][:4]: true}
	suffixes := []string{"", "~", "~0", "~1", "~2", "~01", "^", "^0", "^1", "^2", "^^2", "~1^2", "^{}", "^{commit}", "^{}~1", "^2~1", "~1000"}
	agreed, refused := 0, 0
	for _, name := range names {
		for _, suffix := range suffixes {
			rev := name + suffix
			out, stderr, gitOK := gitRun(t, dir, "", "rev-parse", "--verify", rev)
			gitWarns := strings.Contains(stderr, "is ambiguous")
			want := ""
			if gitOK {
				// relreg peels tags to commits; git names the tag.
				if typ, _, _ := gitRun(t, dir, "", "cat-file", "-t", out); typ == "commit" || typ == "tag" {
					want, _, _ = gitRun(t, dir, "", "rev-parse", "--verify", "-q", out+"^{commit}")
				}
			}
			got, err := repo.Resolve(rev)
			var amb *AmbiguousRevisionError
			switch {
			case gitWarns && len(name) == 40 && isHexString(name):
				// git reads a full SHA as the object even when a ref has
				// that name; so does relreg.
				if (err == nil) != (want != "") || err == nil && got.Hash.String() != want {
					t.Errorf("Resolve(%q) = %v, %v; git rev-parse says %s (full SHAs are objects)", rev, got, err, want)
				}
			case gitWarns:
				if !errors.As(err, &amb) {
					t.Errorf("Resolve(%q) = %v, %v; git warns %q, want an AmbiguousRevisionError", rev, got, err, strings.TrimSpace(stderr))
				}
			case err == nil && got.Hash.String() != want:
				t.Errorf("Resolve(%q) = %s; git rev-parse says %q (%s)", rev, got.Hash, want, strings.TrimSpace(stderr))
			case err != nil && want != "" && !(objAmbiguous[name] && suffix != ""):
				t.Errorf("Resolve(%q) error = %v; git rev-parse says %s", rev, err, want)
			}
			if err != nil && strings.Contains(err.Error(), "panic") {
				t.Errorf("Resolve(%q) error = %v", rev, err)
			}
			if err == nil {
				agreed++
			} else {
				refused++
			}
		}
	}
	if agreed < 200 || refused < 100 {
		t.Errorf("%d revisions resolved and %d refused: the matrix lost its cases", agreed, refused)
	}

	// The cases the attack is about, named.
	for _, tt := range []struct {
		rev   string
		names []string
	}{
		{"origin/main", []string{"refs/tags/origin/main", "refs/remotes/origin/main"}},
		{"origin/main~1", []string{"refs/tags/origin/main", "refs/remotes/origin/main"}},
		{"dup", []string{"refs/tags/dup", "refs/heads/dup"}},
		{c["c1"][:7], []string{"refs/heads/" + c["c1"][:7], c["c1"]}},
		{c["c3"][:4], nil}, // a commit and a blob; the order is the storage's
	} {
		_, err := repo.Resolve(tt.rev)
		var amb *AmbiguousRevisionError
		if !errors.As(err, &amb) {
			t.Errorf("Resolve(%q) error = %v, want AmbiguousRevisionError", tt.rev, err)
			continue
		}
		if tt.names != nil && strings.Join(amb.Names, " ") != strings.Join(tt.names, " ") {
			t.Errorf("Resolve(%q) names %v, want %v", tt.rev, amb.Names, tt.names)
		}
		for _, n := range amb.Names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("Resolve(%q) error %q does not list %s", tt.rev, err, n)
			}
		}
	}
	if _, err := repo.Resolve("origin/main"); err == nil || !strings.Contains(err.Error(), "name the one you mean in full: refs/tags/origin/main or refs/remotes/origin/main") {
		t.Errorf("Resolve(origin/main) error = %v, want the fix", err)
	}
	for _, rev := range []string{"no-such-branch", "gone", "HEAD~1000", "main~1^2", c["c1"][:3] + "zz"} {
		if _, err := repo.Resolve(rev); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("Resolve(%q) error = %v, want ErrUnknownRevision", rev, err)
		}
	}
	for _, rev := range []string{"treetag", "blobtag", "HEAD^{tree}"} {
		if _, err := repo.Resolve(rev); err == nil {
			t.Errorf("Resolve(%q) = a commit, want an error: it is not one", rev)
		}
	}
}

// TestResolveRefusesForms checks that every revision form relreg does not
// resolve as git does is refused as such, never read as the name before it.
func TestResolveRefusesForms(t *testing.T) {
	dir, c := revisionRepo(t)
	repo, err := OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	// The clone's main has an upstream, origin/main, and a reflog.
	forms := []string{
		"main@{u}", "main@{upstream}", "main@{push}", "HEAD@{1}", "main@{5}", "main@{0}",
		"@{u}", "@{1}", "@{-1}", "main@{yesterday}", "main@{2026-01-01}",
		"HEAD^{tree}", "HEAD^{tag}", "HEAD^{blob}", "HEAD^{object}", "HEAD^{/c1}", "HEAD^{",
		":/c1", "HEAD:", "HEAD:file", ":0:file",
		"main..HEAD", "main...HEAD", "..main", "HEAD^!", "HEAD^@", "HEAD^-", "HEAD^-1", "^main",
		c["c1"][:7] + "@{1}",
	}
	for _, rev := range forms {
		got, err := repo.Resolve(rev)
		var un *UnsupportedRevisionError
		if !errors.As(err, &un) {
			t.Errorf("Resolve(%q) = %v, %v; want an UnsupportedRevisionError", rev, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "name the commit itself") || !strings.Contains(err.Error(), fmt.Sprintf("%q", rev)) {
			t.Errorf("Resolve(%q) error = %q, want the revision and the fix", rev, err)
		}
	}
}

// TestResolveShadowedHEAD: a branch named HEAD makes HEAD ambiguous to git,
// which warns; relreg refuses, and says how to mean HEAD.
func TestResolveShadowedHEAD(t *testing.T) {
	dir, c := revisionRepo(t)
	if _, stderr, ok := gitRun(t, dir, "", "update-ref", "refs/heads/HEAD", c["c1"]); !ok {
		t.Fatal(stderr)
	}
	repo, err := OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, rev := range []string{"HEAD", "HEAD~1", "@", "@^"} {
		_, stderr, _ := gitRun(t, dir, "", "rev-parse", "--verify", rev)
		if !strings.Contains(stderr, "is ambiguous") {
			t.Fatalf("git rev-parse %s does not warn (%q): the test is wrong", rev, stderr)
		}
		_, err := repo.Resolve(rev)
		var amb *AmbiguousRevisionError
		if !errors.As(err, &amb) || !strings.Contains(err.Error(), "refs/heads/HEAD") || !strings.Contains(err.Error(), "rename or delete") {
			t.Errorf("Resolve(%q) error = %v, want it ambiguous between HEAD and refs/heads/HEAD", rev, err)
		}
	}
	if got, err := repo.Resolve("refs/heads/HEAD"); err != nil || got.Hash.String() != c["c1"] {
		t.Errorf("Resolve(refs/heads/HEAD) = %v, %v; want %s: full names always work", got, err, c["c1"])
	}
}

// FuzzParseRevision: any string is a revision or an error, never a panic,
// and a form Resolve refuses is never split into a name it would resolve.
func FuzzParseRevision(f *testing.F) {
	for _, s := range []string{"HEAD", "@", "origin/main~2^2", "v1^{}", "main@{u}", ":/x", "A..B", "HEAD^!", "~", "^", "HEAD~99999999999999999999", "a^{commit}~1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		name, steps, err := parseRevision(rev)
		if err != nil {
			return
		}
		if strings.Contains(name, "@{") || strings.ContainsAny(name, "~^:") || strings.Contains(name, "..") {
			t.Errorf("parseRevision(%q) name = %q", rev, name)
		}
		for _, s := range steps {
			if s.n < 0 {
				t.Errorf("parseRevision(%q) step %v", rev, s)
			}
		}
	})
}
