package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry/testtool"
)

// testKey is a key pair made by the real ssh-keygen.
type testKey struct {
	priv string // path of the private key file
	pub  string // the public key line
}

func requireSSHKeygen(t *testing.T) {
	t.Helper()
	testtool.Need(t, "ssh-keygen")
}

// keygen makes a key with ssh-keygen; args are -t and -b values, e.g.
// "ed25519" or "rsa", "3072".
func keygen(t *testing.T, name string, args ...string) testKey {
	t.Helper()
	requireSSHKeygen(t)
	path := filepath.Join(t.TempDir(), name)
	cmd := []string{"-q", "-N", "", "-C", name, "-f", path, "-t", args[0]}
	if len(args) > 1 {
		cmd = append(cmd, "-b", args[1])
	}
	if out, err := exec.Command("ssh-keygen", cmd...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %v: %v\n%s", cmd, err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: path, pub: strings.TrimSpace(string(pub))}
}

func (k testKey) signer(t *testing.T) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k testKey) publicKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, err := ParsePublicKeyLine(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// sshSign signs payload with ssh-keygen -Y sign in namespace ns.
func sshSign(t *testing.T, k testKey, ns string, payload []byte) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(f, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-Y", "sign", "-n", ns, "-f", k.priv, f).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(f + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

var keyTypes = []struct {
	name string
	args []string
}{
	{name: "ed25519", args: []string{"ed25519"}},
	{name: "ecdsa-256", args: []string{"ecdsa", "256"}},
	{name: "ecdsa-384", args: []string{"ecdsa", "384"}},
	{name: "ecdsa-521", args: []string{"ecdsa", "521"}},
	{name: "rsa-3072", args: []string{"rsa", "3072"}},
}

// TestInteropSSHKeygenSigns checks that relreg verifies what ssh-keygen
// -Y sign writes, for every accepted key type.
func TestInteropSSHKeygenSigns(t *testing.T) {
	payload := Payload("acme", "release/payments@2.4.0", Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: "sha256:" + strings.Repeat("ab", 32)})
	for _, tt := range keyTypes {
		t.Run(tt.name, func(t *testing.T) {
			k := keygen(t, tt.name, tt.args...)
			armor := sshSign(t, k, SignatureNamespace, payload)
			sig, err := ParseArmoredSignature(armor)
			if err != nil {
				t.Fatalf("ParseArmoredSignature() error = %v", err)
			}
			if err := VerifySignature(sig, k.publicKey(t), payload); err != nil {
				t.Errorf("VerifySignature() = %v, want nil", err)
			}
			if tt.args[0] == "rsa" && sig.Signature.Format != ssh.KeyAlgoRSASHA512 {
				t.Errorf("ssh-keygen RSA signature format = %s, want %s", sig.Signature.Format, ssh.KeyAlgoRSASHA512)
			}
			if err := VerifySignature(sig, k.publicKey(t), append(payload, ' ')); err == nil {
				t.Errorf("VerifySignature(other payload) = nil, want an error")
			}
		})
	}
}

// TestInteropSSHKeygenVerifies checks that ssh-keygen -Y verify accepts what
// relreg signs, through an allowed_signers file written by
// WriteAllowedSigners.
func TestInteropSSHKeygenVerifies(t *testing.T) {
	payload := Payload("acme", "schedule/production", Approval{Step: "schedule", By: "alice", Role: "service-owner", At: "2026-06-01T12:00:00Z", Digest: "sha256:" + strings.Repeat("01", 32)})
	for _, tt := range keyTypes {
		t.Run(tt.name, func(t *testing.T) {
			k := keygen(t, tt.name, tt.args...)
			armor, err := Sign(k.signer(t), payload)
			if err != nil {
				t.Fatalf("Sign() error = %v", err)
			}
			sig, err := ParseArmoredSignature(armor)
			if err != nil {
				t.Fatalf("ParseArmoredSignature(Sign()) error = %v", err)
			}
			if sig.HashAlgorithm != "sha512" {
				t.Errorf("hash = %s, want sha512", sig.HashAlgorithm)
			}
			if tt.args[0] == "rsa" && sig.Signature.Format != ssh.KeyAlgoRSASHA512 {
				t.Errorf("RSA signature format = %s, want %s", sig.Signature.Format, ssh.KeyAlgoRSASHA512)
			}
			kr := NewKeyring(approversDoc(t, approverSpec{id: "alice", roles: []string{"service-owner"}, keys: []Key{{Key: k.pub, ValidAfter: "2026-01-01T00:00:00Z", ValidBefore: "2027-01-01T00:00:00Z"}}}))
			dir := t.TempDir()
			var allowed bytes.Buffer
			if err := WriteAllowedSigners(&allowed, kr, []string{"alice"}); err != nil {
				t.Fatal(err)
			}
			for name, data := range map[string][]byte{"allowed_signers": allowed.Bytes(), "sig": armor, "payload": payload} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			verify := func(id, ns, at string) error {
				cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", filepath.Join(dir, "allowed_signers"), "-I", id, "-n", ns, "-s", filepath.Join(dir, "sig"), "-O", "verify-time="+at)
				cmd.Stdin = bytes.NewReader(payload)
				out, err := cmd.CombinedOutput()
				if err != nil {
					return &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
				}
				return nil
			}
			if err := verify("alice", SignatureNamespace, "20260601120000Z"); err != nil {
				t.Errorf("ssh-keygen -Y verify: %v\n%s", err, err.(*exec.ExitError).Stderr)
			}
			for _, bad := range []struct{ name, id, ns, at string }{
				{name: "other principal", id: "bob", ns: SignatureNamespace, at: "20260601120000Z"},
				{name: "other namespace", id: "alice", ns: "git", at: "20260601120000Z"},
				{name: "at validBefore", id: "alice", ns: SignatureNamespace, at: "20270101000000Z"},
				{name: "before validAfter", id: "alice", ns: SignatureNamespace, at: "20251231235959Z"},
			} {
				if err := verify(bad.id, bad.ns, bad.at); err == nil {
					t.Errorf("ssh-keygen -Y verify (%s) succeeded, want failure", bad.name)
				}
			}
		})
	}
}

// TestArmorMatchesSSHKeygen checks that relreg's armor is byte for byte what
// ssh-keygen writes (Ed25519 signatures are deterministic).
func TestArmorMatchesSSHKeygen(t *testing.T) {
	k := keygen(t, "ed25519", "ed25519")
	payload := []byte(`{"at":"2026-11-20T10:00:00Z"}`)
	got, err := Sign(k.signer(t), payload)
	if err != nil {
		t.Fatal(err)
	}
	want := sshSign(t, k, SignatureNamespace, payload)
	if !bytes.Equal(got, want) {
		t.Errorf("Sign() =\n%s\nwant (ssh-keygen)\n%s", got, want)
	}
}

// blobFields is an SSHSIG blob to be crafted by hand.
type blobFields struct {
	Magic     [6]byte
	Version   uint32
	PublicKey string
	Namespace string
	Reserved  string
	Hash      string
	Signature string
}

// craft signs payload by hand, letting a test break any field.
func craft(t *testing.T, signer ssh.Signer, edit func(b *blobFields, signedNS, signedHash *string, algo *string), payload []byte) []byte {
	t.Helper()
	b := blobFields{Magic: [6]byte{'S', 'S', 'H', 'S', 'I', 'G'}, Version: 1, PublicKey: string(signer.PublicKey().Marshal()), Namespace: SignatureNamespace, Hash: "sha512"}
	ns, hash, algo := SignatureNamespace, "sha512", ""
	if signer.PublicKey().Type() == ssh.KeyAlgoRSA {
		algo = ssh.KeyAlgoRSASHA512
	}
	edit(&b, &ns, &hash, &algo)
	sum := sha512.Sum512(payload)
	h := sum[:]
	signed := append([]byte("SSHSIG"), ssh.Marshal(struct{ NS, Reserved, Hash, H string }{ns, "", hash, string(h)})...)
	var sig *ssh.Signature
	var err error
	if algo != "" {
		sig, err = signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, signed, algo)
	} else {
		sig, err = signer.Sign(rand.Reader, signed)
	}
	if err != nil {
		t.Fatal(err)
	}
	b.Signature = string(ssh.Marshal(sig))
	return Armor(ssh.Marshal(b))
}

func TestParseArmoredSignatureStrict(t *testing.T) {
	ed := keygen(t, "ed25519", "ed25519")
	rsaKey := keygen(t, "rsa", "rsa", "3072")
	payload := []byte("payload")
	good := sshSign(t, ed, SignatureNamespace, payload)
	body := strings.TrimSuffix(string(good), "\n")
	lines := strings.Split(body, "\n")
	tests := []struct {
		name    string
		armor   string
		wantErr string // substring of the error; "" means it must parse, "*" any error
	}{
		{name: "as ssh-keygen writes it", armor: string(good)},
		{name: "without trailing newline", armor: body},
		{name: "garbage", armor: "not a signature", wantErr: "does not start"},
		{name: "empty", armor: "", wantErr: "empty"},
		{name: "junk before", armor: "hello\n" + string(good), wantErr: "text before"},
		{name: "junk after", armor: string(good) + "hello\n", wantErr: "text after"},
		{name: "two trailing newlines", armor: string(good) + "\n", wantErr: "text after"},
		{name: "doubled", armor: string(good) + string(good), wantErr: "text after"},
		{name: "wrong PEM type", armor: strings.ReplaceAll(string(good), "SSH SIGNATURE", "PGP SIGNATURE"), wantErr: "not"},
		{name: "no end", armor: strings.Join(lines[:len(lines)-1], "\n") + "\n", wantErr: "END"},
		{name: "truncated base64", armor: strings.Join(append(append([]string{}, lines[:2]...), lines[2][:len(lines[2])-3], lines[len(lines)-1]), "\n"), wantErr: "base64"},
		{name: "dropped line", armor: strings.Join(append(append([]string{}, lines[:2]...), lines[3:]...), "\n"), wantErr: "*"},
		{name: "header", armor: lines[0] + "\nComment: hi\n" + strings.Join(lines[1:], "\n"), wantErr: "headers"},
		{name: "CRLF", armor: strings.ReplaceAll(string(good), "\n", "\r\n"), wantErr: "*"},
		{name: "bad magic", armor: string(craft(t, ed.signer(t), func(b *blobFields, _, _, _ *string) { b.Magic = [6]byte{'S', 'S', 'H', 'S', 'I', 'X'} }, payload)), wantErr: "magic"},
		{name: "version 2", armor: string(craft(t, ed.signer(t), func(b *blobFields, _, _, _ *string) { b.Version = 2 }, payload)), wantErr: "version"},
		{name: "hash sha1", armor: string(craft(t, ed.signer(t), func(b *blobFields, _, h, _ *string) { b.Hash, *h = "sha1", "sha1" }, payload)), wantErr: "hash"},
		{name: "legacy ssh-rsa", armor: string(craft(t, rsaKey.signer(t), func(_ *blobFields, _, _, a *string) { *a = ssh.KeyAlgoRSA }, payload)), wantErr: "rsa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArmoredSignature([]byte(tt.armor))
			switch {
			case tt.wantErr == "":
				if err != nil {
					t.Errorf("ParseArmoredSignature() error = %v, want nil", err)
				}
			case err == nil:
				t.Errorf("ParseArmoredSignature() = nil error, want one containing %q", tt.wantErr)
			case tt.wantErr != "*" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ParseArmoredSignature() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifySignatureNamespace(t *testing.T) {
	k := keygen(t, "ed25519", "ed25519")
	payload := []byte("payload")
	for _, ns := range []string{"git", "file", "relreg-approval-v2"} {
		t.Run(ns, func(t *testing.T) {
			sig, err := ParseArmoredSignature(sshSign(t, k, ns, payload))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifySignature(sig, k.publicKey(t), payload); err == nil || !strings.Contains(err.Error(), "namespace") {
				t.Errorf("VerifySignature() = %v, want a namespace error", err)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		armor := craft(t, k.signer(t), func(b *blobFields, ns, _, _ *string) { b.Namespace, *ns = "", "" }, payload)
		sig, err := ParseArmoredSignature(armor)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifySignature(sig, k.publicKey(t), payload); err == nil {
			t.Errorf("VerifySignature() = nil, want a namespace error")
		}
	})
}

// TestVerifySignatureRemembers checks that remembered verdicts are the
// verdicts: asked again, in any order, a good signature stays good and a
// signature over another payload, another key or with a byte changed stays
// bad.
func TestVerifySignatureRemembers(t *testing.T) {
	k, other := keygen(t, "signer", "ed25519"), keygen(t, "other", "ed25519")
	payload := []byte("registry payload")
	armor := sshSign(t, k, SignatureNamespace, payload)
	sig, err := ParseArmoredSignature(armor)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sig.Signature.Blob)
	flipped[len(flipped)/2] ^= 1
	bad := *sig
	bad.Signature = &ssh.Signature{Format: sig.Signature.Format, Blob: flipped, Rest: sig.Signature.Rest}
	tests := []struct {
		name    string
		sig     *sshsig.Signature
		pub     ssh.PublicKey
		payload []byte
		ok      bool
	}{
		{name: "good", sig: sig, pub: k.publicKey(t), payload: payload, ok: true},
		{name: "other payload", sig: sig, pub: k.publicKey(t), payload: []byte("registry payloaD")},
		{name: "other key", sig: sig, pub: other.publicKey(t), payload: payload},
		{name: "changed byte", sig: &bad, pub: k.publicKey(t), payload: payload},
	}
	for round := range 2 {
		for _, tt := range tests {
			if err := VerifySignature(tt.sig, tt.pub, tt.payload); (err == nil) != tt.ok {
				t.Errorf("round %d, %s: VerifySignature() = %v, want ok %v", round, tt.name, err, tt.ok)
			}
		}
	}
}
