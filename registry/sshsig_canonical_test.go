package registry

import (
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// reencode rewrites the SSHSIG blob of an armored signature field by field;
// edit changes what it likes and the result is armored again. The
// signature bytes themselves are kept.
func reencode(t *testing.T, armor []byte, edit func(b *sshsigBlob)) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(armor), "\n"), "\n")
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines[1:len(lines)-1], ""))
	if err != nil {
		t.Fatal(err)
	}
	var b sshsigBlob
	if err := ssh.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	edit(&b)
	return string(Armor(ssh.Marshal(b)))
}

// TestSignatureBytesNobodySigned plays a third party who takes an approver's
// real signature, made by ssh-keygen, and rewrites bytes of it that the
// signature does not cover: the SSHSIG reserved field (ssh-keygen and
// relreg verify as if it were empty) or the public key written with a
// superfluous leading zero (the same key, the same fingerprint). The
// signature still verifies cryptographically, so without a canonical-form
// check relreg accepted a second, different armor for one approval:
// signed data must mean one thing, and so must its signature. The honest
// signature of the same shape keeps passing.
func TestSignatureBytesNobodySigned(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh-keygen is not installed")
		}
		t.Skip("ssh-keygen not installed")
	}
	a := Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("ab", 32)}
	const reg, subject = "acme", "release/payments@2.4.0"
	payload := Payload(reg, subject, a)
	for _, kt := range []struct {
		name string
		args []string
	}{
		{name: "ed25519", args: []string{"ed25519"}},
		{name: "rsa", args: []string{"rsa", "2048"}},
	} {
		t.Run(kt.name, func(t *testing.T) {
			k := keygen(t, kt.name, kt.args...)
			kr := NewKeyring(approversDoc(t, approverSpec{id: "alice", roles: []string{"release-manager"}, keys: []Key{{Key: k.pub}}}))
			honest := sshSign(t, k, SignatureNamespace, payload)
			a.Signature = string(honest)
			if ps := kr.Check(reg, subject, a); len(ps) > 0 {
				t.Fatalf("Check(honest ssh-keygen signature) = %v, want no problem", ps)
			}
			attacks := map[string]string{
				"reserved field set": reencode(t, honest, func(b *sshsigBlob) { b.Reserved = "unsigned" }),
			}
			if kt.args[0] == "rsa" {
				attacks["modulus with a leading zero"] = reencode(t, honest, func(b *sshsigBlob) {
					var k struct {
						Name string
						E, N []byte
					}
					if err := ssh.Unmarshal([]byte(b.PublicKey), &k); err != nil {
						t.Fatal(err)
					}
					k.N = append([]byte{0}, k.N...)
					b.PublicKey = string(ssh.Marshal(k))
				})
			}
			for name, armor := range attacks {
				t.Run(name, func(t *testing.T) {
					if armor == string(honest) {
						t.Fatal("the attack did not change the armor")
					}
					a.Signature = armor
					ps := kr.Check(reg, subject, a)
					if len(ps) != 1 || ps[0].Rule != RuleBadSignature || !strings.Contains(ps[0].Message, "sign again") {
						t.Errorf("Check(rewritten signature) = %v, want one %s saying to sign again", ps, RuleBadSignature)
					}
				})
			}
		})
	}
}
