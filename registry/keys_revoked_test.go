package registry

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRevocationInUnusableListing plays an approver whose key leaked: the
// registry admins list it again with revoked: true, but that listing is
// otherwise unusable (a validity time with a typo, or a second entry of the
// same approver id). The listing was dropped whole, so the revocation went
// with it and the leaked key kept signing. A revocation must hold however
// the rest of its listing is written; the same listings without revoked
// leave the key trusted. Found from a FuzzVerifyApproval input that listed
// a key in a listing whose time does not parse.
func TestRevocationInUnusableListing(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh-keygen is not installed")
		}
		t.Skip("ssh-keygen not installed")
	}
	k := keygen(t, "alice", "ed25519")
	a := Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("ab", 32)}
	const reg, subject = "acme", "release/payments@2.4.0"
	a.Signature = string(sshSign(t, k, SignatureNamespace, Payload(reg, subject, a)))
	trusted := Key{Key: k.pub, ValidAfter: "2026-01-01T00:00:00Z"}
	tests := []struct {
		name      string
		approvers []approverSpec
	}{
		{name: "second listing with a bad time", approvers: []approverSpec{
			{id: "alice", roles: []string{"release-manager"}, keys: []Key{trusted, {Key: k.pub, ValidBefore: "2026-13-01T00:00:00Z", Revoked: true}}},
		}},
		{name: "listing of another approver with a bad time", approvers: []approverSpec{
			{id: "alice", roles: []string{"release-manager"}, keys: []Key{trusted}},
			{id: "bob", roles: []string{"cab"}, keys: []Key{{Key: k.pub, ValidAfter: "yesterday", Revoked: true}}},
		}},
		{name: "second entry of the same approver", approvers: []approverSpec{
			{id: "alice", roles: []string{"release-manager"}, keys: []Key{trusted}},
			{id: "alice", roles: []string{"release-manager"}, keys: []Key{{Key: k.pub, Revoked: true}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := NewKeyring(approversDoc(t, tt.approvers...))
			if len(kr.Diagnostics) == 0 {
				t.Error("NewKeyring() reports nothing about the unusable listing")
			}
			ps := kr.Check(reg, subject, a)
			if len(ps) != 1 || ps[0].Rule != RuleKeyRevoked {
				t.Errorf("Check() = %v, want one %s", ps, RuleKeyRevoked)
			}
			// The same listings, not revoked: the key is trusted.
			for i := range tt.approvers {
				tt.approvers[i].keys = append([]Key(nil), tt.approvers[i].keys...)
				for j := range tt.approvers[i].keys {
					tt.approvers[i].keys[j].Revoked = false
				}
			}
			if ps := NewKeyring(approversDoc(t, tt.approvers...)).Check(reg, subject, a); len(ps) > 0 {
				t.Errorf("Check() without the revocation = %v, want no problem", ps)
			}
		})
	}
}
