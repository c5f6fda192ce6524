package registry

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newTestSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyLine(s ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

// One person's key must never sign as another approver: a second entry
// with the same id lends nothing, and a key listed for two approvers
// verifies for neither.
func TestKeyringRefusesBorrowedKeys(t *testing.T) {
	alice, bob := newTestSigner(t), newTestSigner(t)
	tests := []struct {
		name      string
		approvers []Approver
		signer    ssh.Signer
		by, role  string
		wantDiag  string // a schema diagnostic fragment, or ""
		wantOK    bool
	}{
		{
			name: "own key",
			approvers: []Approver{
				{ID: "alice", Roles: []string{"release-manager"}, Keys: []Key{{Key: keyLine(alice)}}},
			},
			signer: alice, by: "alice", role: "release-manager", wantOK: true,
		},
		{
			name: "duplicate id lends bob's key to alice",
			approvers: []Approver{
				{ID: "alice", Roles: []string{"release-manager"}, Keys: []Key{{Key: keyLine(alice)}}},
				{ID: "bob", Roles: []string{"cab"}, Keys: []Key{{Key: keyLine(bob)}}},
				{ID: "alice", Roles: []string{"service-owner"}, Keys: []Key{{Key: keyLine(bob)}}},
			},
			signer: bob, by: "alice", role: "release-manager", wantDiag: "approver id alice is listed twice",
		},
		{
			name: "one key listed for two approvers",
			approvers: []Approver{
				{ID: "alice", Roles: []string{"registry-admin"}, Keys: []Key{{Key: keyLine(alice)}}},
				{ID: "mallory", Roles: []string{"registry-admin"}, Keys: []Key{{Key: keyLine(alice)}}},
			},
			signer: alice, by: "alice", role: "registry-admin", wantDiag: "is also listed for alice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &ApproversDoc{Doc: &Document{Path: ApproversFile, Kind: KindApprovers}, Spec: ApproversSpec{Approvers: tt.approvers}}
			kr := NewKeyring(doc)
			var msgs []string
			for _, d := range kr.Diagnostics {
				msgs = append(msgs, d.Message)
			}
			if tt.wantDiag == "" && len(msgs) > 0 || tt.wantDiag != "" && !strings.Contains(strings.Join(msgs, "\n"), tt.wantDiag) {
				t.Errorf("NewKeyring() diagnostics = %q, want one containing %q", msgs, tt.wantDiag)
			}
			a := Approval{Step: "plan", By: tt.by, Role: tt.role, At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("0", 64)}
			sig, err := Sign(tt.signer, Payload("acme", "release/payments@2.4.0", a))
			if err != nil {
				t.Fatal(err)
			}
			a.Signature = string(sig)
			problems := kr.Check("acme", "release/payments@2.4.0", a)
			if got := len(problems) == 0; got != tt.wantOK {
				t.Errorf("Check() = %v, want ok %v", problems, tt.wantOK)
			}
		})
	}
}
