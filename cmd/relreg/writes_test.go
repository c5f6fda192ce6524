package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the relreg binary as separate processes, the way two
// people or a killed shell do: the test binary itself, under the name
// relreg (testscript.Main in TestMain runs cli.Main for that name).

// relregBinary returns the path of a relreg executable: a link named relreg
// to the test binary. Under -race, the processes it starts do not sleep the
// race detector's second at exit.
func relregBinary(t *testing.T) string {
	t.Helper()
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "relreg")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// needTool skips the test when the program is missing, and fails it
// instead under CI=true, where the environment must provide it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

// writeTree writes files (slash-separated paths) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// keyPair makes an ed25519 key with ssh-keygen and returns the private key
// file and the public key line.
func keyPair(t *testing.T, dir, id string) (string, string) {
	t.Helper()
	key := filepath.Join(dir, id)
	out, err := exec.Command(needTool(t, "ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", id, "-f", key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, strings.TrimSpace(string(pub))
}

const twoApproverRelease = `# The release alice and erin approve at once.
apiVersion: relreg/v1
kind: Release
metadata:
  service: payments
  version: 1.0.0
spec:
  title: First
  type: minor
  risk: low
  owner: bob
  changes: [CHG-1]
  deployment:
    schedule: production
    window: {start: 2026-12-03T22:00:00Z, end: 2026-12-04T02:00:00Z}
status:
  phase: planned
`

// twoApproverRegistry writes a registry whose release payments@1.0.0 alice
// and erin may both approve for plan, and returns their private key files.
func twoApproverRegistry(t *testing.T, reg string) (alice, erin string) {
	t.Helper()
	keys := t.TempDir()
	alice, alicePub := keyPair(t, keys, "alice")
	erin, erinPub := keyPair(t, keys, "erin")
	_, bobPub := keyPair(t, keys, "bob")
	writeTree(t, reg, map[string]string{
		"relreg.yaml": "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: concurrent\nspec: {}\n",
		"approvers.yaml": fmt.Sprintf(`apiVersion: relreg/v1
kind: Approvers
metadata:
  name: approvers
spec:
  approvers:
    - id: alice
      name: Alice
      roles: [release-manager]
      keys:
        - key: %s
    - id: bob
      name: Bob
      roles: [service-owner]
      keys:
        - key: %s
    - id: erin
      name: Erin
      roles: [release-manager]
      keys:
        - key: %s
`, alicePub, bobPub, erinPub),
		"services/payments.yaml":       "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: payments\nspec:\n  title: Payments API\n  owner: bob\n",
		"schedules/production.yaml":    "apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: production\nspec:\n  environment: production\n",
		"releases/payments/1.0.0.yaml": twoApproverRelease,
	})
	return alice, erin
}

// TestConcurrentApprove runs relreg approve for alice and erin on the same
// release at the same moment, as two processes released together from a
// start barrier, round after round. An approval that relreg reports as
// written must be in the file, once, and the file must validate with both
// signatures.
func TestConcurrentApprove(t *testing.T) {
	sh := needTool(t, "sh")
	bin := relregBinary(t)
	work := t.TempDir()
	reg := filepath.Join(work, "reg")
	alice, erin := twoApproverRegistry(t, reg)
	release := filepath.Join(reg, "releases", "payments", "1.0.0.yaml")

	// Each process announces it is ready and spins until the go file
	// appears, then becomes relreg: both start within microseconds.
	const barrier = `touch "$1"; while [ ! -e "$2" ]; do :; done; shift 2; exec "$@"`
	goFile := filepath.Join(work, "go")
	approve := func(ready, as, key string) (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		c := exec.Command(sh, "-c", barrier, "sh", ready, goFile, bin, "--registry", reg,
			"approve", "payments@1.0.0", "--step", "plan", "--as", as, "--role", "release-manager",
			"--key", key, "--at", "2026-11-20T10:00:00Z")
		c.Stdout, c.Stderr = &out, &out
		return c, &out
	}

	// Before relreg locked its writes, about half the rounds lost an
	// approval, so even the fewer rounds under -race or -short catch it.
	rounds := 200
	switch {
	case testing.Short():
		rounds = 20
	case raceEnabled:
		rounds = 50
	}
	start := time.Now()
	lost, refused := 0, 0
	for round := range rounds {
		if err := os.WriteFile(release, []byte(twoApproverRelease), 0o644); err != nil {
			t.Fatal(err)
		}
		readyA, readyE := filepath.Join(work, "ready-alice"), filepath.Join(work, "ready-erin")
		for _, p := range []string{goFile, readyA, readyE} {
			os.Remove(p)
		}
		ca, outA := approve(readyA, "alice", alice)
		ce, outE := approve(readyE, "erin", erin)
		if err := ca.Start(); err != nil {
			t.Fatal(err)
		}
		if err := ce.Start(); err != nil {
			t.Fatal(err)
		}
		for !exists(readyA) || !exists(readyE) {
			time.Sleep(50 * time.Microsecond)
		}
		if err := os.WriteFile(goFile, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		errA, errE := ca.Wait(), ce.Wait()

		data, err := os.ReadFile(release)
		if err != nil {
			t.Fatal(err)
		}
		roundLost := false
		for _, p := range []struct {
			as  string
			err error
			out *bytes.Buffer
		}{{"alice", errA, outA}, {"erin", errE, outE}} {
			n := strings.Count(string(data), "by: "+p.as+"\n")
			switch {
			case p.err == nil && n == 0:
				roundLost = true
			case n > 1:
				t.Errorf("round %d: %s's approval is in the file %d times", round, p.as, n)
			case p.err != nil:
				// A refusal must say why, and leave the file whole.
				refused++
				t.Errorf("round %d: approve as %s failed: %v\n%s", round, p.as, p.err, p.out)
			}
		}
		if roundLost {
			lost++
			continue
		}
		// Both signatures verify (every few rounds, to keep the test short).
		if round%4 != 0 && round != rounds-1 {
			continue
		}
		if out, err := exec.Command(bin, "--registry", reg, "validate").CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("round %d: relreg validate after both approvals: %v\n%s", round, err, out)
		}
	}
	t.Logf("%d rounds in %v", rounds, time.Since(start).Round(time.Millisecond))
	if lost > 0 {
		t.Errorf("in %d of %d rounds an approval relreg reported as written was lost", lost, rounds)
	}
	if refused > 0 {
		t.Errorf("%d approvals were refused; both should land", refused)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestKilledWriteLeavesValidRegistry kills relreg approve with SIGKILL at
// moments spread over its run, so that some kills land between writing the
// temporary file and renaming it. Whatever the moment, the release file is
// the old one or the approved one, never a mix; validate reports nothing
// about leftovers; and the next write removes them.
func TestKilledWriteLeavesValidRegistry(t *testing.T) {
	bin := relregBinary(t)
	reg := filepath.Join(t.TempDir(), "reg")
	alice, _ := twoApproverRegistry(t, reg)
	release := filepath.Join(reg, "releases", "payments", "1.0.0.yaml")
	folder := filepath.Dir(release)
	args := []string{"--registry", reg, "approve", "payments@1.0.0", "--step", "plan", "--as", "alice",
		"--role", "release-manager", "--key", alice, "--at", "2026-11-20T10:00:00Z"}

	// How long an approval takes here, to spread the kills over it.
	t0 := time.Now()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("relreg approve: %v\n%s", err, out)
	}
	full := time.Since(t0)

	leftovers := 0
	for i := range 60 {
		if err := os.WriteFile(release, []byte(twoApproverRelease), 0o644); err != nil {
			t.Fatal(err)
		}
		c := exec.Command(bin, args...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(full * time.Duration(i) / 50)
		_ = c.Process.Kill() // SIGKILL
		_ = c.Wait()

		data, err := os.ReadFile(release)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); s != twoApproverRelease && !strings.HasPrefix(s, twoApproverRelease+"approvals:\n") {
			t.Fatalf("kill %d: the release file is neither the old one nor the approved one:\n%s", i, s)
		}
		entries, err := os.ReadDir(folder)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 1 {
			leftovers++
		}
		if out, err := exec.Command(bin, "--registry", reg, "validate").CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("kill %d: relreg validate with the leftovers of a killed write %v: %v\n%s", i, names(entries), err, out)
		}
	}
	t.Logf("%d of 60 kills left a scratch file behind", leftovers)

	// The next write in the folder cleans up.
	if err := os.WriteFile(filepath.Join(folder, ".relreg-tmp-1.0.0.yaml-4242"), []byte("half a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, []byte(twoApproverRelease), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("relreg approve: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(entries); len(got) != 1 || got[0] != "1.0.0.yaml" {
		t.Errorf("after the next write the folder holds %v, want only 1.0.0.yaml", got)
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
