package registry

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// softToken signs as a FIDO security key with an sk-ssh-ed25519@openssh.com
// key would (openssh PROTOCOL.u2f), from an ordinary Ed25519 private key, so
// that verification of FIDO signatures runs against real signatures without
// hardware. flags is the authenticator's flags byte: 0x01 is user presence.
type softToken struct {
	priv  ed25519.PrivateKey
	pub   ssh.PublicKey
	app   string
	flags byte
}

func newSoftToken(t *testing.T, flags byte) *softToken {
	t.Helper()
	pk, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	app := "ssh:"
	blob := ssh.Marshal(struct {
		Name        string
		KeyBytes    []byte
		Application string
	}{ssh.KeyAlgoSKED25519, pk, app})
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		t.Fatal(err)
	}
	return &softToken{priv: priv, pub: pub, app: app, flags: flags}
}

func (s *softToken) PublicKey() ssh.PublicKey { return s.pub }

func (s *softToken) Sign(_ io.Reader, data []byte) (*ssh.Signature, error) {
	const counter = 7
	appDigest := sha256.Sum256([]byte(s.app))
	dataDigest := sha256.Sum256(data)
	signed := ssh.Marshal(struct {
		ApplicationDigest []byte `ssh:"rest"`
		Flags             byte
		Counter           uint32
		MessageDigest     []byte `ssh:"rest"`
	}{appDigest[:], s.flags, counter, dataDigest[:]})
	return &ssh.Signature{
		Format: ssh.KeyAlgoSKED25519,
		Blob:   ed25519.Sign(s.priv, signed),
		Rest: ssh.Marshal(struct {
			Flags   byte
			Counter uint32
		}{s.flags, counter}),
	}, nil
}

func TestFIDOSignatures(t *testing.T) {
	tests := []struct {
		name    string
		flags   byte
		wantErr string
	}{
		{name: "user present", flags: 0x01},
		{name: "user present and verified", flags: 0x05},
		{name: "no user presence", flags: 0x00, wantErr: "user-presence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := newSoftToken(t, tt.flags)
			line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(token.pub)))
			kr := NewKeyring(&ApproversDoc{Spec: ApproversSpec{Approvers: []Approver{
				{ID: "alice", Roles: []string{"release-manager"}, Keys: []Key{{Key: line}}},
			}}})
			if len(kr.Diagnostics) > 0 {
				t.Fatalf("NewKeyring() diagnostics = %+v, want none for an %s key", kr.Diagnostics, ssh.KeyAlgoSKED25519)
			}
			a := Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("0", 64)}
			armor, err := Sign(token, Payload("acme", "release/payments@2.4.0", a))
			if err != nil {
				t.Fatal(err)
			}
			a.Signature = string(armor)
			problems := kr.Check("acme", "release/payments@2.4.0", a)
			switch {
			case tt.wantErr == "" && len(problems) > 0:
				t.Errorf("Check() = %v, want no problem", problems)
			case tt.wantErr != "" && (len(problems) != 1 || problems[0].Rule != RuleBadSignature || !strings.Contains(problems[0].Message, tt.wantErr)):
				t.Errorf("Check() = %v, want one %s mentioning %q", problems, RuleBadSignature, tt.wantErr)
			}
			// ssh-keygen verifies every one of these signatures: they are
			// cryptographically sound, and refusing one without user
			// presence is relreg's own, stricter policy.
			if _, err := exec.LookPath("ssh-keygen"); err == nil {
				dir := t.TempDir()
				payload := filepath.Join(dir, "payload")
				signers := filepath.Join(dir, "allowed_signers")
				sigFile := filepath.Join(dir, "payload.sig")
				writeFile(t, payload, string(Payload("acme", "release/payments@2.4.0", a)))
				writeFile(t, signers, "alice namespaces=\"relreg-approval\" "+line+"\n")
				writeFile(t, sigFile, a.Signature)
				cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "alice", "-n", SignatureNamespace, "-s", sigFile)
				cmd.Stdin = strings.NewReader(string(Payload("acme", "release/payments@2.4.0", a)))
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("ssh-keygen -Y verify: %v (%s), want success", err, out)
				}
			}
			// The signature holds for this payload only.
			if tt.wantErr == "" {
				if ps := kr.Check("acme", "release/payments@2.4.1", a); len(ps) == 0 {
					t.Error("Check() of another subject = no problem, want bad-signature")
				}
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
