package registry

import (
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
