package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIsScratchName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".relreg-lock", true},
		{".relreg-tmp-2.5.0.yaml-123456", true},
		{".relreg-tmp-x", true},
		{".relreg-tmp-2.5.0.yaml", false}, // would read as a document
		{".relreg-tmp-2.5.0.yml", false},
		{".relreg-lock.yaml", false},
		{".2.5.0.yaml.tmp123", false}, // older relregs' names: reported
		{"2.5.0.yaml", false},
		{"notes.txt", false},
	}
	for _, tt := range tests {
		if got := IsScratchName(tt.name); got != tt.want {
			t.Errorf("IsScratchName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// symlinkCase builds a registry folder whose path to rel goes through a
// link to a folder or file outside it, and returns the registry folder and
// the outside file that the link would let a write reach.
type symlinkCase struct {
	name string
	rel  string // the file to write
	link string // the link, relative to the registry
	// setup makes the link in reg, pointing into out.
	setup func(t *testing.T, reg, out string)
}

var symlinkCases = []symlinkCase{
	{
		name: "file",
		rel:  "releases/payments/1.0.0.yaml",
		link: "releases/payments/1.0.0.yaml",
		setup: func(t *testing.T, reg, out string) {
			mkdir(t, filepath.Join(reg, "releases", "payments"))
			symlink(t, filepath.Join(out, "releases", "payments", "1.0.0.yaml"), filepath.Join(reg, "releases", "payments", "1.0.0.yaml"))
		},
	},
	{
		name: "top folder",
		rel:  "releases/payments/1.0.0.yaml",
		link: "releases",
		setup: func(t *testing.T, reg, out string) {
			symlink(t, filepath.Join(out, "releases"), filepath.Join(reg, "releases"))
		},
	},
	{
		name: "service folder",
		rel:  "releases/payments/1.0.0.yaml",
		link: "releases/payments",
		setup: func(t *testing.T, reg, out string) {
			mkdir(t, filepath.Join(reg, "releases"))
			symlink(t, filepath.Join(out, "releases", "payments"), filepath.Join(reg, "releases", "payments"))
		},
	},
}

// outsideTree makes the folder the links point into, with a file at
// releases/payments/1.0.0.yaml, and returns the folder and the file.
func outsideTree(t *testing.T) (string, string) {
	out := t.TempDir()
	mkdir(t, filepath.Join(out, "releases", "payments"))
	file := filepath.Join(out, "releases", "payments", "1.0.0.yaml")
	if err := os.WriteFile(file, []byte("outside: keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return out, file
}

func TestUpdateFileRefusesSymlinks(t *testing.T) {
	for _, tt := range symlinkCases {
		t.Run(tt.name, func(t *testing.T) {
			reg := t.TempDir()
			out, file := outsideTree(t)
			tt.setup(t, reg, out)
			edited := false
			err := UpdateFile(reg, tt.rel, func(old []byte) ([]byte, error) {
				edited = true
				return append(old, "approvals: []\n"...), nil
			})
			checkSymlinkError(t, err, tt.rel, tt.link)
			if edited {
				t.Error("UpdateFile ran the edit through a link")
			}
			if b, _ := os.ReadFile(file); string(b) != "outside: keep me\n" {
				t.Errorf("the file outside the registry = %q, want it untouched", b)
			}
			assertNoScratch(t, filepath.Join(out, "releases", "payments"))
		})
	}
}

func TestCreateFileRefusesSymlinks(t *testing.T) {
	for _, tt := range symlinkCases {
		t.Run(tt.name, func(t *testing.T) {
			reg := t.TempDir()
			out, file := outsideTree(t)
			// The new file: outside, it does not exist yet.
			rel := strings.Replace(tt.rel, "1.0.0", "1.1.0", 1)
			link := strings.Replace(tt.link, "1.0.0", "1.1.0", 1)
			if tt.name == "file" {
				// A dangling link where the new file would go.
				mkdir(t, filepath.Join(reg, "releases", "payments"))
				symlink(t, filepath.Join(out, "releases", "payments", "1.1.0.yaml"), filepath.Join(reg, filepath.FromSlash(rel)))
			} else {
				tt.setup(t, reg, out)
			}
			err := CreateFile(reg, rel, []byte("new\n"))
			checkSymlinkError(t, err, rel, link)
			if _, err := os.Lstat(filepath.Join(out, "releases", "payments", "1.1.0.yaml")); err == nil {
				t.Error("CreateFile wrote a file outside the registry")
			}
			if b, _ := os.ReadFile(file); string(b) != "outside: keep me\n" {
				t.Errorf("the file outside the registry = %q, want it untouched", b)
			}
			assertNoScratch(t, filepath.Join(out, "releases", "payments"))
		})
	}
}

// Init checks every path before it writes anything: a .github link out of
// the work tree is refused and nothing is written.
func TestInitRefusesSymlinkedFolder(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	symlink(t, out, filepath.Join(dir, ".github"))
	written, err := Init(dir, InitOptions{Name: "acme"})
	checkSymlinkError(t, err, ".github/workflows/relreg.yml", ".github")
	if len(written) > 0 {
		t.Errorf("Init() wrote %v before refusing", written)
	}
	if _, err := os.Lstat(filepath.Join(dir, ConfigFile)); err == nil {
		t.Errorf("Init() wrote %s before refusing", ConfigFile)
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("Init() wrote into the link's target: %v", entries)
	}
}

func checkSymlinkError(t *testing.T, err error, rel, link string) {
	t.Helper()
	var se *SymlinkError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want a SymlinkError", err)
	}
	if se.File != rel || se.Link != link {
		t.Errorf("SymlinkError{File: %s, Link: %s}, want {File: %s, Link: %s}", se.File, se.Link, rel, link)
	}
	if msg := err.Error(); !strings.Contains(msg, link+" is a symbolic link") || !strings.Contains(msg, "replace the link") {
		t.Errorf("error %q does not name the link and the fix", msg)
	}
}

// An edit is made on the file as it is when the lock is taken: what another
// writer added while the first one waited is kept.
func TestUpdateFileEditsUnderTheLock(t *testing.T) {
	reg := t.TempDir()
	mkdir(t, filepath.Join(reg, "releases", "payments"))
	name := filepath.Join(reg, "releases", "payments", "1.0.0.yaml")
	if err := os.WriteFile(name, []byte("a\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFolder(filepath.Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		done <- UpdateFile(reg, "releases/payments/1.0.0.yaml", func(old []byte) ([]byte, error) {
			return append(old, "c\n"...), nil
		})
	}()
	// While the lock is held, another writer adds its line.
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(name, []byte("a\nb\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("UpdateFile() error = %v", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "a\nb\nc\n" {
		t.Errorf("file = %q, want %q: the edit must apply to the file as it is under the lock", b, "a\nb\nc\n")
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 kept", fi.Mode().Perm())
	}
	assertNoScratch(t, filepath.Dir(name))
}

// A file that a program without relreg's lock rewrites between the edit and
// the rename is edited again, not overwritten.
func TestUpdateFileComparesBeforeRename(t *testing.T) {
	reg := t.TempDir()
	name := filepath.Join(reg, "f.yaml")
	if err := os.WriteFile(name, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	err := UpdateFile(reg, "f.yaml", func(old []byte) ([]byte, error) {
		calls++
		if calls == 1 {
			// An editor saves while relreg works.
			if err := os.WriteFile(name, []byte("a\nb\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return append(old, "c\n"...), nil
	})
	if err != nil {
		t.Fatalf("UpdateFile() error = %v", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "a\nb\nc\n" || calls != 2 {
		t.Errorf("file = %q after %d edits, want %q after 2", b, calls, "a\nb\nc\n")
	}

	// A file that changes on every attempt is left as the other program
	// wrote it, with ErrChanged.
	err = UpdateFile(reg, "f.yaml", func(old []byte) ([]byte, error) {
		if err := os.WriteFile(name, append(old, 'x'), 0o644); err != nil {
			t.Fatal(err)
		}
		return []byte("relreg\n"), nil
	})
	if !errors.Is(err, ErrChanged) {
		t.Errorf("UpdateFile() on a file that keeps changing error = %v, want ErrChanged", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "a\nb\nc\nxxx" {
		t.Errorf("file = %q, want the other program's %q", b, "a\nb\nc\nxxx")
	}
	assertNoScratch(t, reg)
}

// A write removes the temporary files killed writes left in its folder,
// and only relreg's.
func TestWriteRemovesStaleTemps(t *testing.T) {
	reg := t.TempDir()
	mkdir(t, filepath.Join(reg, "releases", "payments"))
	dir := filepath.Join(reg, "releases", "payments")
	for _, n := range []string{".relreg-tmp-1.0.0.yaml-11", ".relreg-tmp-2.0.0.yaml-22", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := CreateFile(reg, "releases/payments/1.0.0.yaml", []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != "1.0.0.yaml notes.txt" {
		t.Errorf("folder holds %v, want [1.0.0.yaml notes.txt]", got)
	}
}

// The O_EXCL lock (Windows) takes over a lock file a killed relreg left,
// and waits for a fresh one, then says who holds it.
func TestLockFolderExcl(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, lockName)
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 100 * time.Millisecond

	if err := os.WriteFile(lock, []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleLock)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockFolderExcl(dir)
	if err != nil {
		t.Fatalf("lockFolderExcl() with a stale lock file error = %v", err)
	}

	if _, err := lockFolderExcl(dir); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), lock) {
		t.Errorf("lockFolderExcl() while locked error = %v, want ErrLocked naming %s", err, lock)
	}
	unlock()
	if _, err := os.Lstat(lock); err == nil {
		t.Errorf("%s is still there after unlock", lock)
	}
}

// The flock lock waits for its holder and gives up after lockTimeout.
func TestLockFolderWaits(t *testing.T) {
	dir := t.TempDir()
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 100 * time.Millisecond
	unlock, err := lockFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockFolder(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("lockFolder() while locked error = %v, want ErrLocked", err)
	}
	unlock()
	unlock2, err := lockFolder(dir)
	if err != nil {
		t.Fatalf("lockFolder() after unlock error = %v", err)
	}
	unlock2()
	assertNoScratch(t, dir)
}

func assertNoScratch(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsScratchName(e.Name()) {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
}

// An approval signed over a spec that changed before it was written (the
// spec changed between loading and locking) is refused, nothing written.
func TestAddApprovalRefusesChangedSpec(t *testing.T) {
	alice := keygen(t, "alice", "ed25519")
	release := "apiVersion: relreg/v1\nkind: Release\nmetadata:\n  service: payments\n  version: 2.4.0\nspec:\n  title: SEPA\n  risk: low\n"
	dir := writeRegistry(t, map[string]string{
		"relreg.yaml":                  "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: acme\nspec: {}\n",
		"approvers.yaml":               "apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n    - id: alice\n      name: Alice\n      roles: [release-manager]\n      keys:\n        - key: " + alice.pub + "\n",
		"releases/payments/2.4.0.yaml": release,
	})
	reg, err := Load(os.DirFS(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ResolveSubject(reg, "payments@2.4.0")
	if err != nil {
		t.Fatal(err)
	}
	a, payload, err := NewApproval(reg, doc, "plan", "alice", "release-manager", "2026-11-20T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(alice.signer(t), payload)
	if err != nil {
		t.Fatal(err)
	}
	a.Signature = string(sig)

	name := filepath.Join(dir, "releases", "payments", "2.4.0.yaml")
	changed := strings.Replace(release, "title: SEPA", "title: SEPA instant", 1)
	if err := os.WriteFile(name, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	var stale *StaleError
	if err := AddApproval(reg, dir, doc, a); !errors.As(err, &stale) {
		t.Fatalf("AddApproval() after the spec changed error = %v, want a StaleError", err)
	}
	if b, _ := os.ReadFile(name); string(b) != changed {
		t.Errorf("file = %q, want it as the other writer left it", b)
	}

	// A change that keeps the digest (a comment) does not stop it.
	commented := "# a comment\n" + release
	if err := os.WriteFile(name, []byte(commented), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AddApproval(reg, dir, doc, a); err != nil {
		t.Fatalf("AddApproval() after a comment was added error = %v", err)
	}
	if b, _ := os.ReadFile(name); !strings.HasPrefix(string(b), commented+"approvals:\n") {
		t.Errorf("file = %q, want the comment kept and the approval appended", b)
	}
}
