package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
)

const rel = "releases/payments/1.0.0.yaml"

// story is a repository in which payments 1.0.0 is proposed, approved by
// alice (plan) and bob (build), and moved to building.
type story struct {
	t       *testing.T
	dir     string
	signers map[string]ssh.Signer
}

func newStory(t *testing.T) *story {
	testtool.Need(t, "git")
	s := &story{t: t, dir: t.TempDir(), signers: map[string]ssh.Signer{}}
	var approvers strings.Builder
	approvers.WriteString("apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n")
	for _, id := range []string{"alice", "bob"} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		s.signers[id] = signer
		fmt.Fprintf(&approvers, "    - id: %s\n      name: %s\n      email: %s@example.com\n      roles: [release-manager]\n      keys:\n        - key: %s\n",
			id, id, id, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))))
	}
	s.git("init", "-q", "-b", "main")
	s.write("relreg.yaml", "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: evidence-test\nspec: {}\n")
	s.write("approvers.yaml", approvers.String())
	s.write("schedules/production.yaml", "apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: production\nspec:\n  environment: production\n  timezone: UTC\n")
	s.write("dml/payments-api/1.0.0.yaml", "apiVersion: relreg/v1\nkind: DMLEntry\nmetadata:\n  component: payments-api\n  version: 1.0.0\nspec:\n  artifacts: []\nstatus:\n  state: candidate\n")
	s.commit("registry")
	s.write(rel, releaseYAML("planned"))
	s.approve("plan", "alice")
	s.commit("payments 1.0.0: plan")
	s.write(rel, strings.Replace(s.read(rel), "phase: planned", "phase: building", 1))
	s.approve("build", "bob")
	s.commit("payments 1.0.0: building")
	s.write("README.md", "unrelated\n")
	s.commit("readme")
	return s
}

func releaseYAML(phase string) string {
	return `apiVersion: relreg/v1
kind: Release
metadata:
  service: payments
  version: 1.0.0
spec:
  title: SEPA instant transfers   # a comment is part of the bytes, not of the digest
  type: minor
  risk: low
  owner: dave
  changes: [CHG-1]
  components:
    - {name: payments-api, version: 1.0.0}
  deployment:
    schedule: production
    window: {start: 2026-12-03T22:00:00Z, end: 2026-12-04T02:00:00Z}
status:
  phase: ` + phase + "\n"
}

func (s *story) git(args ...string) {
	s.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+s.dir,
		"GIT_AUTHOR_NAME=Dave", "GIT_AUTHOR_EMAIL=dave@example.com", "GIT_AUTHOR_DATE=2026-11-24T12:00:00+01:00",
		"GIT_COMMITTER_NAME=Bot", "GIT_COMMITTER_EMAIL=bot@example.com", "GIT_COMMITTER_DATE=2026-11-24T12:00:00+01:00")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (s *story) write(p, content string) {
	name := filepath.Join(s.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *story) read(p string) string {
	data, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(p)))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

func (s *story) commit(msg string) {
	s.git("add", "-A")
	s.git("commit", "-q", "-m", msg)
}

// approve signs the release's current spec as by and appends the approval.
func (s *story) approve(step, by string) {
	s.t.Helper()
	data := []byte(s.read(rel))
	n, _ := registry.ParseYAML(data, registry.DefaultLimits)
	doc := &registry.Document{Path: rel, Kind: registry.KindRelease, ID: "payments@1.0.0", Node: n}
	digest, err := doc.Digest()
	if err != nil {
		s.t.Fatal(err)
	}
	a := registry.Approval{Step: step, By: by, Role: "release-manager", At: "2026-11-24T10:00:00Z", Digest: digest}
	sig, err := registry.Sign(s.signers[by], registry.Payload("evidence-test", doc.Subject(), a))
	if err != nil {
		s.t.Fatal(err)
	}
	a.Signature = string(sig)
	out, err := registry.AppendApproval(data, a)
	if err != nil {
		s.t.Fatal(err)
	}
	s.write(rel, string(out))
}

func (s *story) bundle() *Bundle {
	s.t.Helper()
	repo, err := registry.OpenRepo(s.dir, "")
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := Build(repo, Options{Subject: "payments@1.0.0"})
	if err != nil {
		s.t.Fatalf("Build() error = %v", err)
	}
	return b
}

func TestBuild(t *testing.T) {
	b := newStory(t).bundle()
	if b.Version != Version || b.Registry != "evidence-test" || len(b.Ref) != 40 {
		t.Errorf("bundle header = %q %q %q, want %s, evidence-test and a full SHA", b.Version, b.Registry, b.Ref, Version)
	}
	var paths []string
	for _, s := range b.Subjects {
		paths = append(paths, fmt.Sprintf("%s:%d", s.Path, len(s.Changes)))
	}
	if got, want := strings.Join(paths, " "), rel+":2 dml/payments-api/1.0.0.yaml:1 schedules/production.yaml:1"; got != want {
		t.Errorf("subjects = %s, want %s", got, want)
	}
	building := b.Subjects[0].Changes[1]
	if got, want := building.Commit.Message, "payments 1.0.0: building\n"; got != want {
		t.Errorf("commit message = %q, want %q", got, want)
	}
	if got, want := building.Commit.Author.Time, "2026-11-24T12:00:00+01:00"; got != want {
		t.Errorf("author time = %q, want %q (the commit's own offset)", got, want)
	}
	if building.Trust.Base != b.Subjects[0].Changes[0].Commit.SHA {
		t.Errorf("trust base = %s, want the first parent %s", building.Trust.Base, b.Subjects[0].Changes[0].Commit.SHA)
	}
	type approvalView struct {
		step, by          string
		verified, current bool
	}
	var got []approvalView
	for _, a := range building.Approvals {
		got = append(got, approvalView{a.Step, a.By, a.Verified, a.Current})
	}
	// The plan approval signed the planned spec, which building did not
	// change: both are current.
	want := []approvalView{{"plan", "alice", true, true}, {"build", "bob", true, true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("approvals = %v, want %v", got, want)
	}
	if len(building.Trust.Approvers) != 2 || building.Trust.Approvers[0].ID != "alice" || len(building.Trust.Approvers[0].Keys) != 1 {
		t.Errorf("trusted approvers = %+v, want alice and bob with their keys", building.Trust.Approvers)
	}
	if h := plumbing.ComputeHash(plumbing.BlobObject, building.Document.YAML).String(); h != building.Document.Blob {
		t.Errorf("blob = %s, want %s", building.Document.Blob, h)
	}
	if _, err := Verify(b); err != nil {
		t.Errorf("Verify() of a fresh bundle error = %v", err)
	}
}

func TestBuildUnknownSubject(t *testing.T) {
	s := newStory(t)
	repo, err := registry.OpenRepo(s.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(repo, Options{Subject: "payments@9.9.9"}); !errors.Is(err, ErrNoHistory) {
		t.Errorf("Build() error = %v, want ErrNoHistory", err)
	}
	if _, err := Build(repo, Options{Subject: "not a subject"}); !errors.Is(err, registry.ErrUnknownSubject) {
		t.Errorf("Build() error = %v, want ErrUnknownSubject", err)
	}
}

// flipByte changes one byte of s at the first occurrence of old.
func flipByte(s []byte, old string) []byte {
	i := bytes.Index(s, []byte(old))
	if i < 0 {
		panic("flipByte: " + old + " not found")
	}
	out := bytes.Clone(s)
	out[i] ^= 0x01
	return out
}

func TestVerifyDetectsTampering(t *testing.T) {
	b := newStory(t).bundle()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(b *Bundle)
		// reseal recomputes the blob hash and the integrity sum after the
		// edit, as a forger would: the signatures must still catch it.
		reseal bool
		// resealSum recomputes only the integrity sum.
		resealSum bool
		want      string
	}{
		{name: "spec byte", edit: func(b *Bundle) { d := b.Subjects[0].Changes[1].Document; d.YAML = flipByte(d.YAML, "SEPA") }, want: "the bundle was changed"},
		{name: "spec byte, resealed", reseal: true, edit: func(b *Bundle) { d := b.Subjects[0].Changes[1].Document; d.YAML = flipByte(d.YAML, "SEPA") }, want: "spec digest is"},
		{name: "comment byte", edit: func(b *Bundle) { d := b.Subjects[0].Changes[1].Document; d.YAML = flipByte(d.YAML, "a comment") }, want: "the bundle was changed"},
		{name: "comment byte, resealed sum", resealSum: true, edit: func(b *Bundle) { d := b.Subjects[0].Changes[1].Document; d.YAML = flipByte(d.YAML, "a comment") }, want: "the YAML was changed"},
		{name: "listed signature byte", edit: func(b *Bundle) {
			a := &b.Subjects[0].Changes[1].Approvals[1]
			a.Signature = string(flipByte([]byte(a.Signature), "SSH SIGNATURE-----\n"))
		}, want: "the bundle was changed"},
		{name: "signature in document and list, resealed", reseal: true, edit: func(b *Bundle) {
			ch := &b.Subjects[0].Changes[1]
			a := &ch.Approvals[1]
			sig := a.Signature
			lines := strings.Split(sig, "\n")
			line := []byte(lines[2])
			line[10] ^= 0x01
			lines[2] = string(line)
			forged := strings.Join(lines, "\n")
			a.Signature = forged
			ch.Document.YAML = bytes.Replace(ch.Document.YAML, []byte(strings.Split(sig, "\n")[2]), []byte(lines[2]), 1)
		}, want: "does not verify with the keys the bundle lists for its base"},
		{name: "approver's key, resealed", reseal: true, edit: func(b *Bundle) {
			ch := &b.Subjects[0].Changes[1]
			ch.Trust.Approvers[0].Keys[0].Key = ch.Trust.Approvers[1].Keys[0].Key
		}, want: "approval 1 (step plan by alice) does not verify"},
		{name: "payload, resealed", reseal: true, edit: func(b *Bundle) {
			a := &b.Subjects[0].Changes[0].Approvals[0]
			a.Payload = strings.Replace(a.Payload, "evidence-test", "other", 1)
		}, want: "the payload is not the one the approval signs"},
		{name: "registry name, resealed", reseal: true, edit: func(b *Bundle) { b.Subjects[0].Changes[0].Trust.Registry = "other" }, want: "does not verify"},
		{name: "trust base of another commit, resealed", reseal: true, edit: func(b *Bundle) {
			ch := &b.Subjects[0].Changes[1]
			ch.Trust.Base = strings.Repeat("a", 40)
		}, want: "is not the commit's first parent"},
		{name: "no trusted base claims verified, resealed", reseal: true, edit: func(b *Bundle) {
			ch := &b.Subjects[0].Changes[1]
			ch.Trust.Base, ch.Trust.Root = "", false
		}, want: "does not verify with the keys the bundle lists for its base: approval/bad-signature: no trusted base"},
		{name: "sum", edit: func(b *Bundle) { b.SHA256 = strings.Repeat("0", 64) }, want: "the bundle was changed"},
		{name: "version", edit: func(b *Bundle) { b.Version = "relreg/evidence/v0" }, want: `version "relreg/evidence/v0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(b)
			if tt.reseal || tt.resealSum {
				if tt.reseal {
					for si := range b.Subjects {
						for ci := range b.Subjects[si].Changes {
							if d := b.Subjects[si].Changes[ci].Document; d != nil {
								d.Blob = plumbing.ComputeHash(plumbing.BlobObject, d.YAML).String()
							}
						}
					}
				}
				if b.SHA256, err = b.Sum(); err != nil {
					t.Fatal(err)
				}
			}
			_, err = Verify(b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseIsStrict(t *testing.T) {
	tests := []struct{ name, data string }{
		{"unknown field", `{"version":"relreg/evidence/v1","extra":1}`},
		{"trailing data", `{"version":"relreg/evidence/v1"} {}`},
		{"not JSON", `version: relreg/evidence/v1`},
	}
	// A genuine bundle with a member duplicated or in another case: other
	// JSON readers would see other content than relreg did.
	raw, err := json.Marshal(newStory(t).bundle())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(raw); err != nil {
		t.Fatalf("Parse(genuine) error = %v", err)
	}
	tests = append(tests,
		struct{ name, data string }{"member in another case", strings.Replace(string(raw), `"version"`, `"VERSION"`, 1)},
		struct{ name, data string }{"duplicate member", strings.Replace(string(raw), `"verified":true`, `"verified":false,"verified":true`, 1)},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.data)); err == nil {
				t.Errorf("Parse(%s) error = nil, want an error", tt.data)
			}
		})
	}
}

// TestVerifySigners checks a bundle's trusted keys against allowed_signers
// files: one with every approver's key passes; one that lacks bob's key, or
// lists it for his email instead of his id, names that key.
func TestVerifySigners(t *testing.T) {
	s := newStory(t)
	b := s.bundle()
	line := func(id, principal string) string {
		return fmt.Sprintf("%s namespaces=\"relreg-approval\" %s", principal, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.signers[id].PublicKey()))))
	}
	bobFP := ssh.FingerprintSHA256(s.signers["bob"].PublicKey())
	tests := []struct {
		name, file string
		want       []string // substrings of the problems; none: passes
	}{
		{name: "every key", file: line("alice", "alice") + "\n" + line("bob", "bob") + "\n"},
		{name: "bob's key missing", file: line("alice", "alice") + "\n", want: []string{"key " + bobFP + " (ssh-ed25519 ", "trusts for bob is not in the allowed signers for principal bob"}},
		{name: "bob's key for his email", file: line("alice", "alice") + "\n" + line("bob", "bob@example.com") + "\n", want: []string{"the file lists it only for line 2: principals bob@example.com"}},
		{name: "bob's key for alice", file: line("alice", "alice") + "\n" + line("bob", "alice") + "\n", want: []string{"not in the allowed signers for principal bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, err := registry.ParseAllowedSigners([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := VerifySigners(b, allowed)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("VerifySigners() error = %v", err)
				}
				if sum.Keys != 2 || sum.Approvers != 2 {
					t.Errorf("VerifySigners() = %+v, want 2 keys of 2 approvers", sum)
				}
				return
			}
			var verr *VerifyError
			if !errors.As(err, &verr) || len(verr.Problems) != 1 {
				t.Fatalf("VerifySigners() error = %v, want one problem", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(verr.Problems[0], w) {
					t.Errorf("problem = %q, want it to contain %q", verr.Problems[0], w)
				}
			}
			if strings.Contains(verr.Problems[0], "trusts for alice") {
				t.Errorf("problem = %q names alice, whose key is listed", verr.Problems[0])
			}
		})
	}
}
