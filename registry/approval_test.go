package registry

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// certify returns the certificate line of k signed by ca, made by ssh-keygen -s.
func certify(t *testing.T, ca, k testKey) string {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, "user.pub")
	if err := os.WriteFile(pub, []byte(k.pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-s", ca.priv, "-I", "user", "-n", "alice", pub).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	cert, err := os.ReadFile(filepath.Join(dir, "user-cert.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(cert))
}

func TestPayloadGolden(t *testing.T) {
	got := string(Payload("acme-production", "release/payments@2.4.0", Approval{
		Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z",
		Digest: "sha256:" + strings.Repeat("0", 64), Signature: "ignored",
	}))
	want := `{"at":"2026-11-20T10:00:00Z","by":"alice","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","registry":"acme-production","role":"release-manager","step":"plan","subject":"release/payments@2.4.0","type":"relreg/approval/v1"}`
	if got != want {
		t.Errorf("Payload() =\n%s\nwant\n%s", got, want)
	}
	// Canonical JSON escapes only what it must.
	got = string(Payload("a<b>&c", "s", Approval{By: "é\u2028"}))
	if !strings.Contains(got, `"registry":"a<b>&c"`) || !strings.Contains(got, "\"by\":\"é\u2028\"") {
		t.Errorf("Payload() = %s, want <, >, & and non-ASCII written as is", got)
	}
}

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in       string
		kind, id string
		ok       bool
	}{
		{in: "release/payments@2.4.0", kind: KindRelease, id: "payments@2.4.0", ok: true},
		{in: "dml/payments-api@2.4.0", kind: KindDMLEntry, id: "payments-api@2.4.0", ok: true},
		{in: "schedule/production", kind: KindSchedule, id: "production", ok: true},
		{in: "registry", kind: KindRegistry, id: "registry", ok: true},
		{in: "approvers", kind: KindApprovers, id: "approvers", ok: true},
		{in: "release/payments", ok: false},
		{in: "schedule/a@1", ok: false},
		{in: "payments@2.4.0", ok: false},
		{in: "release/a/b@1", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, id, ok := ParseSubject(tt.in)
			if kind != tt.kind || id != tt.id || ok != tt.ok {
				t.Errorf("ParseSubject(%q) = %q, %q, %v, want %q, %q, %v", tt.in, kind, id, ok, tt.kind, tt.id, tt.ok)
			}
		})
	}
}

// approvalFixture is a keyring with several approvers and keys, for
// checking approvals against.
type approvalFixture struct {
	kr                                          *Keyring
	alice, aliceRSA, bob, carol, dave, erin, cr testKey
}

func newApprovalFixture(t *testing.T) *approvalFixture {
	f := &approvalFixture{
		alice:    keygen(t, "alice", "ed25519"),
		aliceRSA: keygen(t, "alice-rsa", "rsa", "3072"),
		bob:      keygen(t, "bob", "ecdsa", "256"),
		carol:    keygen(t, "carol", "ed25519"), // listed nowhere
		dave:     keygen(t, "dave", "ed25519"),
		erin:     keygen(t, "erin", "ed25519"),
		cr:       keygen(t, "cert-user", "ed25519"),
	}
	ca := keygen(t, "ca", "ed25519")
	f.kr = NewKeyring(approversDoc(t,
		approverSpec{id: "alice", roles: []string{"release-manager", "cab"}, keys: []Key{
			{Key: f.alice.pub, ValidAfter: "2026-01-01T00:00:00Z", ValidBefore: "2027-01-01T00:00:00Z"},
			{Key: f.aliceRSA.pub},
		}},
		approverSpec{id: "bob", roles: []string{"release-manager", "cab"}, keys: []Key{{Key: f.bob.pub}}},
		approverSpec{id: "dave", roles: []string{"release-manager"}, keys: []Key{{Key: f.dave.pub, Revoked: true}}},
		approverSpec{id: "erin", roles: []string{"release-manager"}, keys: []Key{{Key: f.erin.pub, ValidAfter: "2026-12-01T00:00:00Z", ValidBefore: "2026-12-31T00:00:00Z"}}},
		approverSpec{id: "frank", roles: []string{"release-manager"}, keys: []Key{{Key: certify(t, ca, f.cr)}}},
	))
	return f
}

func TestKeyringCheck(t *testing.T) {
	f := newApprovalFixture(t)
	const reg, subject = "acme", "release/payments@2.4.0"
	base := Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("ab", 32)}
	with := func(edit func(a *Approval)) Approval { a := base; edit(&a); return a }
	// signed returns a signed by k with ssh-keygen, as signed for (reg, subject).
	signed := func(k testKey, a Approval, reg, subject, ns string) Approval {
		a.Signature = string(sshSign(t, k, ns, Payload(reg, subject, a)))
		return a
	}
	good := signed(f.alice, base, reg, subject, SignatureNamespace)
	resign := func(edit func(a *Approval)) Approval {
		return signed(f.alice, with(edit), reg, subject, SignatureNamespace)
	}
	relregSigned := base
	sig, err := Sign(f.aliceRSA.signer(t), Payload(reg, subject, base))
	if err != nil {
		t.Fatal(err)
	}
	relregSigned.Signature = string(sig)
	legacy := base
	legacy.Signature = string(craft(t, f.aliceRSA.signer(t), func(_ *blobFields, _, _, a *string) { *a = ssh.KeyAlgoRSA }, Payload(reg, subject, base)))

	tests := []struct {
		name            string
		a               Approval
		reg, subject    string
		wantRule, field string // "" when the approval holds
	}{
		{name: "valid ssh-keygen signature", a: good},
		{name: "valid relreg signature with an RSA key", a: relregSigned},
		{name: "copied to another release", a: good, subject: "release/payments@2.5.0", wantRule: RuleBadSignature, field: "signature"},
		{name: "copied to another registry", a: good, reg: "other", wantRule: RuleBadSignature, field: "signature"},
		{name: "another step", a: with(func(a *Approval) { a.Step = "build"; a.Signature = good.Signature }), wantRule: RuleBadSignature, field: "signature"},
		{name: "another role", a: with(func(a *Approval) { a.Role = "cab"; a.Signature = good.Signature }), wantRule: RuleBadSignature, field: "signature"},
		{name: "another approver", a: with(func(a *Approval) { a.By = "bob"; a.Signature = good.Signature }), wantRule: RuleBadSignature, field: "signature"},
		{name: "edited at", a: with(func(a *Approval) { a.At = "2026-11-21T10:00:00Z"; a.Signature = good.Signature }), wantRule: RuleBadSignature, field: "signature"},
		{name: "edited digest", a: with(func(a *Approval) { a.Digest = "sha256:" + strings.Repeat("cd", 32); a.Signature = good.Signature }), wantRule: RuleBadSignature, field: "signature"},
		{name: "namespace git", a: signed(f.alice, base, reg, subject, "git"), wantRule: RuleBadSignature, field: "signature"},
		{name: "namespace file", a: signed(f.alice, base, reg, subject, "file"), wantRule: RuleBadSignature, field: "signature"},
		{name: "key not listed", a: signed(f.carol, base, reg, subject, SignatureNamespace), wantRule: RuleBadSignature, field: "signature"},
		{name: "listed key of another approver", a: signed(f.bob, base, reg, subject, SignatureNamespace), wantRule: RuleBadSignature, field: "signature"},
		{name: "certificate key listed", a: signed(f.cr, with(func(a *Approval) { a.By = "frank" }), reg, subject, SignatureNamespace), wantRule: RuleBadSignature, field: "signature"},
		{name: "legacy ssh-rsa signature", a: legacy, wantRule: RuleBadSignature, field: "signature"},
		{name: "no signature", a: base, wantRule: RuleBadSignature, field: "signature"},
		{name: "garbage signature", a: with(func(a *Approval) { a.Signature = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n" }), wantRule: RuleBadSignature, field: "signature"},
		{name: "unknown approver", a: with(func(a *Approval) { a.By = "mallory"; a.Signature = good.Signature }), wantRule: RuleUnknownApprover, field: "by"},
		{name: "approver lacks the role", a: resign(func(a *Approval) { a.Role = "registry-admin" }), wantRule: RuleRole, field: "role"},
		{name: "revoked key", a: signed(f.dave, with(func(a *Approval) { a.By = "dave" }), reg, subject, SignatureNamespace), wantRule: RuleKeyRevoked, field: "signature"},
		{name: "key not yet valid", a: signed(f.erin, with(func(a *Approval) { a.By = "erin" }), reg, subject, SignatureNamespace), wantRule: RuleKeyExpired, field: "at"},
		{name: "key expired", a: signed(f.erin, with(func(a *Approval) { a.By = "erin"; a.At = "2026-12-31T00:00:00Z" }), reg, subject, SignatureNamespace), wantRule: RuleKeyExpired, field: "at"},
		{name: "key valid at its last second", a: signed(f.erin, with(func(a *Approval) { a.By = "erin"; a.At = "2026-12-30T23:59:59Z" }), reg, subject, SignatureNamespace)},
		{name: "key expired since does not matter", a: resign(func(a *Approval) { a.At = "2026-12-31T23:59:59Z" })},
		{name: "expired for alice's ed25519 key", a: resign(func(a *Approval) { a.At = "2027-01-01T00:00:00Z" }), wantRule: RuleKeyExpired, field: "at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, s := reg, subject
			if tt.reg != "" {
				r = tt.reg
			}
			if tt.subject != "" {
				s = tt.subject
			}
			ps := f.kr.Check(r, s, tt.a)
			if tt.wantRule == "" {
				if len(ps) != 0 {
					t.Errorf("Check() = %v, want no problem", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Rule != tt.wantRule || ps[0].Field != tt.field {
				t.Errorf("Check() = %v, want one %s at %s", ps, tt.wantRule, tt.field)
			}
		})
	}
}

// writeRegistry writes files (path -> content) under a new folder.
func writeRegistry(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAddApprovalRoundTrip(t *testing.T) {
	alice := keygen(t, "alice", "ed25519")
	mallory := keygen(t, "mallory", "ed25519")
	files := map[string]string{
		"relreg.yaml":                  "# the registry\napiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: acme   # signed\nspec: {}\napprovals: []   # step govern\n# end\n",
		"approvers.yaml":               "apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n    - id: alice   # Alice\n      name: Alice\n      roles: [release-manager, registry-admin]\n      keys:\n        - key: " + alice.pub + "\n# no approvals yet\n",
		"releases/payments/2.4.0.yaml": "apiVersion: relreg/v1\nkind: Release\nmetadata:\n  service: payments\n  version: 2.4.0\nspec:\n  title: 'SEPA'   # quoted\n  risk: low\napprovals:\n  # first\n  - step: build\n    by: alice\n    role: release-manager\n    at: 2026-11-19T10:00:00Z\n    digest: sha256:00\n    signature: |\n      -----BEGIN SSH SIGNATURE-----\n      AAAA\n      -----END SSH SIGNATURE-----\n# trailing\n",
	}
	dir := writeRegistry(t, files)
	tests := []struct {
		subject, step, role string
		file, removed       string
		key                 bool
	}{
		{subject: "registry", step: "govern", role: "registry-admin", file: "relreg.yaml", removed: " []"},
		{subject: "approvers", step: "govern", role: "registry-admin", file: "approvers.yaml", key: true},
		{subject: "payments@2.4.0", step: "plan", role: "release-manager", file: "releases/payments/2.4.0.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			reg, err := Load(os.DirFS(dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := ResolveSubject(reg, tt.subject)
			if err != nil {
				t.Fatal(err)
			}
			a, payload, err := NewApproval(reg, doc, tt.step, "alice", tt.role, "2026-11-20T10:00:00Z")
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, filepath.FromSlash(tt.file))
			before, _ := os.ReadFile(name)

			// A signature by a key alice does not hold is refused; the file stays as it was.
			bad := a
			bad.Signature = string(sshSign(t, mallory, SignatureNamespace, payload))
			var refused *RefusedError
			if err := AddApproval(reg, dir, doc, bad); !errors.As(err, &refused) {
				t.Fatalf("AddApproval(foreign key) error = %v, want a RefusedError", err)
			}
			if after, _ := os.ReadFile(name); string(after) != string(before) {
				t.Fatalf("a refused approval changed the file:\n%s", after)
			}

			sig, err := Sign(alice.signer(t), payload)
			if err != nil {
				t.Fatal(err)
			}
			a.Signature = string(sig)
			if err := AddApproval(reg, dir, doc, a); err != nil {
				t.Fatalf("AddApproval() error = %v", err)
			}
			after, _ := os.ReadFile(name)
			indent := 2
			entry := entryText(a, indent)
			if tt.key {
				entry = "approvals:\n" + entry
			}
			want := string(before)
			if tt.removed != "" {
				want = strings.Replace(want, tt.removed, "", 1)
			}
			if got := strings.Replace(string(after), entry, "", 1); got != want || !strings.Contains(string(after), entry) {
				t.Errorf("file after approve =\n%s\nwant the original plus the entry\n%s", after, entry)
			}
			// The approval holds when the registry is read again.
			reg2, err := Load(os.DirFS(dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc2, _ := ResolveSubject(reg2, tt.subject)
			list := doc2.Approvals()
			if ps := NewKeyring(reg2.Approvers).Check(reg2.Config.Metadata.Name, doc2.Subject(), list[len(list)-1]); len(ps) > 0 {
				t.Errorf("Check(appended approval) = %v, want none", ps)
			}
		})
	}
}
