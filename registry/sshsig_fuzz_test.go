package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// fuzzSigner is a real key of one accepted type, for fuzz seeds.
type fuzzSigner struct {
	name   string
	signer ssh.Signer
}

// fuzzSigners returns a key of every accepted type: the test keys under
// testdata/sig/keys (Ed25519, RSA, ECDSA on the three curves), a FIDO
// Ed25519 key signing with user presence, and the demo keys of the example
// registry. They are the same in every run and in every process of a fuzz
// run, whose workers each run the setup again.
func fuzzSigners(tb testing.TB) []fuzzSigner {
	tb.Helper()
	var out []fuzzSigner
	read := func(prefix, dir string) {
		paths, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range paths {
			if filepath.Ext(p) != "" {
				continue // public halves, README, scripts
			}
			data, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			s, err := ssh.ParsePrivateKey(data)
			if err != nil {
				tb.Fatalf("%s: %v", p, err)
			}
			out = append(out, fuzzSigner{prefix + filepath.Base(p), s})
		}
	}
	read("", filepath.Join("testdata", "sig", "keys"))
	sk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	app := "ssh:"
	pub, err := ssh.ParsePublicKey(ssh.Marshal(struct {
		Name        string
		KeyBytes    []byte
		Application string
	}{ssh.KeyAlgoSKED25519, sk.Public().(ed25519.PublicKey), app}))
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, fuzzSigner{"sk-ed25519", &softToken{priv: sk, pub: pub, app: app, flags: skFlagUserPresence}})
	read("demo-", filepath.Join("..", "examples", "basic", "demo-keys"))
	if len(out) < 8 {
		tb.Fatalf("fuzzSigners() found %d keys, want the test keys and the demo keys", len(out))
	}
	return out
}

// exampleApprovals returns the approval entries of the example registry.
func exampleApprovals(tb testing.TB) []Approval {
	tb.Helper()
	reg, err := Load(os.DirFS(filepath.Join("..", "examples", "basic")), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var approvals []Approval
	for _, d := range reg.Files {
		approvals = append(approvals, d.Approvals()...)
	}
	if len(approvals) == 0 {
		tb.Fatal("the example registry holds no approvals")
	}
	return approvals
}

// fuzzPayload is what the signatures seeding FuzzSSHSIG sign.
var fuzzPayload = Payload("acme-production", "release/payments@2.4.0", Approval{
	Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z",
	Digest: "sha256:" + strings.Repeat("ab", 32),
})

// sshsigSeeds returns armored signatures: the example registry's, and ones
// made here with every key type, also wrapped and broken the ways that
// strict parsing refuses or must survive.
func sshsigSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var armors [][]byte
	approvals := exampleApprovals(tb)
	for _, a := range approvals[:min(len(approvals), 8)] {
		armors = append(armors, []byte(a.Signature))
	}
	for _, s := range fuzzSigners(tb) {
		armor, err := Sign(s.signer, fuzzPayload)
		if err != nil {
			tb.Fatalf("Sign(%s): %v", s.name, err)
		}
		armors = append(armors, armor)
	}
	good := string(armors[len(armors)-1])
	body := strings.TrimSuffix(good, "\n")
	b64 := strings.Join(strings.Split(body, "\n")[1:strings.Count(body, "\n")], "")
	blob, _ := base64.StdEncoding.DecodeString(b64)
	pemArmor := pem.EncodeToMemory(&pem.Block{Type: "SSH SIGNATURE", Bytes: blob}) // wrapped at 64
	armors = append(armors,
		pemArmor,
		[]byte(body),
		[]byte(good+"\n"),
		[]byte(good+good),
		[]byte("junk\n"+good),
		[]byte(strings.ReplaceAll(good, "\n", "\r\n")),
		[]byte(strings.Replace(good, "\n", "\nVersion: 1\n", 1)),
		[]byte(strings.Replace(good, "\n", "\n\n", 1)),
		[]byte(armorBegin+"\n"+b64+"\n"+armorEnd+"\n"),
		[]byte(armorBegin+"\n"+armorEnd+"\n"),
		[]byte(strings.ReplaceAll(good, "SSH SIGNATURE", "PGP SIGNATURE")),
		[]byte(""),
		[]byte("\n"),
	)
	return armors
}

// sshsigBlob is an SSHSIG blob field by field (PROTOCOL.sshsig).
type sshsigBlob struct {
	Magic     [6]byte
	Version   uint32
	PublicKey string
	Namespace string
	Reserved  string
	Hash      string
	Signature string
}

// hostileBlobs returns blobs that carry a real signature of fuzzPayload by
// signer and break the format in one way each: bytes that nobody signs or
// reads (the reserved field, a public key encoded the long way, bytes after
// the signature or after the blob), a FIDO signature without user
// presence, and fields of the wrong value.
func hostileBlobs(tb testing.TB, signers []fuzzSigner) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, s := range signers {
		honest, err := Sign(s.signer, fuzzPayload)
		if err != nil {
			tb.Fatal(err)
		}
		sig, err := ParseArmoredSignature(honest)
		if err != nil {
			tb.Fatal(err)
		}
		b := sshsigBlob{Magic: [6]byte{'S', 'S', 'H', 'S', 'I', 'G'}, Version: 1, PublicKey: string(sig.PublicKey.Marshal()),
			Namespace: sig.Namespace, Hash: string(sig.HashAlgorithm), Signature: string(ssh.Marshal(sig.Signature))}
		edit := func(change func(b *sshsigBlob)) []byte {
			c := b
			change(&c)
			return ssh.Marshal(c)
		}
		out = append(out,
			edit(func(b *sshsigBlob) { b.Reserved = "x" }),
			append(ssh.Marshal(b), 0),
			edit(func(b *sshsigBlob) {
				b.Signature = string(ssh.Marshal(ssh.Signature{Format: sig.Signature.Format, Blob: sig.Signature.Blob, Rest: append(bytes.Clone(sig.Signature.Rest), 1)}))
			}),
			edit(func(b *sshsigBlob) { b.Version = 2 }),
			edit(func(b *sshsigBlob) { b.Hash = "sha1" }),
			edit(func(b *sshsigBlob) { b.Namespace = "git" }),
		)
		switch s.signer.PublicKey().Type() {
		case ssh.KeyAlgoRSA:
			// N with a superfluous leading zero byte: the same key.
			var k struct {
				Name string
				E, N []byte
			}
			if err := ssh.Unmarshal(sig.PublicKey.Marshal(), &k); err != nil {
				tb.Fatal(err)
			}
			long := ssh.Marshal(struct {
				Name string
				E, N []byte
			}{k.Name, k.E, append([]byte{0}, k.N...)})
			out = append(out, edit(func(b *sshsigBlob) { b.PublicKey = string(long) }))
		case ssh.KeyAlgoSKED25519:
			out = append(out, edit(func(b *sshsigBlob) {
				b.Signature = string(ssh.Marshal(ssh.Signature{Format: sig.Signature.Format, Blob: sig.Signature.Blob, Rest: []byte{0, 0, 0, 0, 7}}))
			}))
		}
	}
	return out
}

// blobOf returns the SSHSIG blob inside an armor, or nil.
func blobOf(armor []byte) []byte {
	p, _ := pem.Decode(armor)
	if p == nil {
		return nil
	}
	return p.Bytes
}

// FuzzSSHSIG feeds arbitrary armor text and arbitrary blob bytes to the
// strict SSHSIG parser. It never panics, and what it accepts holds up:
//   - an accepted armor is one SSH SIGNATURE block and nothing else (its
//     first and last lines are the markers, every line between holds only
//     base64), and encoding/pem reads the same block, without headers or
//     anything after it, and the same bytes;
//   - an accepted blob is canonical: encoding the parsed signature again
//     gives the blob byte for byte, so no byte of it goes unread;
//   - the parsed fields obey section 4 of the contract (version 1, hash
//     sha256 or sha512, RSA with rsa-sha2-256/512, FIDO with user
//     presence, nothing after the signature), and relreg's own armor of the
//     blob parses to the same signature.
func FuzzSSHSIG(f *testing.F) {
	for _, armor := range sshsigSeeds(f) {
		f.Add(armor, blobOf(armor))
	}
	for _, blob := range hostileBlobs(f, fuzzSigners(f)) {
		f.Add(Armor(blob), blob)
	}
	f.Fuzz(func(t *testing.T, armor, blob []byte) {
		if sig, err := ParseArmoredSignature(armor); err == nil {
			checkArmor(t, armor, sig)
		} else if err.Error() == "" {
			t.Error("ParseArmoredSignature() error has no message")
		}
		if sig, err := ParseSignatureBlob(blob); err == nil {
			checkBlob(t, blob, sig)
		} else if err.Error() == "" {
			t.Error("ParseSignatureBlob() error has no message")
		}
	})
}

// checkArmor checks an armor ParseArmoredSignature accepted.
func checkArmor(t *testing.T, armor []byte, sig *sshsig.Signature) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(armor), "\n"), "\n")
	if len(lines) < 2 || lines[0] != armorBegin || lines[len(lines)-1] != armorEnd {
		t.Fatalf("ParseArmoredSignature(%q) accepted an armor that does not run from %s to %s", armor, armorBegin, armorEnd)
	}
	var b64 strings.Builder
	for _, l := range lines[1 : len(lines)-1] {
		if strings.Trim(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" {
			t.Fatalf("ParseArmoredSignature(%q) accepted line %q, which is not base64", armor, l)
		}
		b64.WriteString(l)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(b64.String())
	if err != nil {
		t.Fatalf("ParseArmoredSignature(%q) accepted base64 that does not decode: %v", armor, err)
	}
	p, rest := pem.Decode(armor)
	switch {
	case p == nil:
		t.Fatalf("ParseArmoredSignature(%q) accepted what encoding/pem does not read", armor)
	case p.Type != sshsig.PEMType || len(p.Headers) > 0:
		t.Fatalf("ParseArmoredSignature(%q) accepted a PEM block of type %q with headers %v", armor, p.Type, p.Headers)
	case len(rest) > 0:
		t.Fatalf("ParseArmoredSignature(%q) accepted %q after the block", armor, rest)
	case !bytes.Equal(p.Bytes, blob):
		t.Fatalf("ParseArmoredSignature(%q) read other bytes than encoding/pem", armor)
	}
	checkBlob(t, blob, sig)
}

// checkBlob checks a blob the parser accepted, and the signature it gave.
func checkBlob(t *testing.T, blob []byte, sig *sshsig.Signature) {
	t.Helper()
	if got := sig.Marshal(); !bytes.Equal(got, blob) {
		i := 0
		for i < min(len(got), len(blob)) && got[i] == blob[i] {
			i++
		}
		t.Fatalf("ParseSignatureBlob() accepted a %d-byte blob that encodes again in %d bytes, differing from byte %d on: some bytes go unread\nblob:  %x\nagain: %x", len(blob), len(got), i, blob, got)
	}
	if sig.Version != 1 {
		t.Errorf("accepted version %d", sig.Version)
	}
	if sig.HashAlgorithm != sshsig.HashSHA256 && sig.HashAlgorithm != sshsig.HashSHA512 {
		t.Errorf("accepted hash %q", sig.HashAlgorithm)
	}
	keyType, format := sig.PublicKey.Type(), sig.Signature.Format
	switch {
	case keyType == ssh.KeyAlgoRSA && format != ssh.KeyAlgoRSASHA256 && format != ssh.KeyAlgoRSASHA512:
		t.Errorf("accepted RSA signature format %q", format)
	case keyType != ssh.KeyAlgoRSA && format != keyType:
		t.Errorf("accepted signature format %q for a %s key", format, keyType)
	}
	if keyType == ssh.KeyAlgoSKED25519 || keyType == ssh.KeyAlgoSKECDSA256 {
		if len(sig.Signature.Rest) != 5 || sig.Signature.Rest[0]&skFlagUserPresence == 0 {
			t.Errorf("accepted FIDO signature data %x without user presence", sig.Signature.Rest)
		}
	} else if len(sig.Signature.Rest) > 0 {
		t.Errorf("accepted %d bytes after the signature", len(sig.Signature.Rest))
	}
	again, err := ParseArmoredSignature(Armor(blob))
	if err != nil {
		t.Fatalf("ParseArmoredSignature(Armor(accepted blob)) error = %v", err)
	}
	if !bytes.Equal(again.Marshal(), blob) {
		t.Fatal("ParseArmoredSignature(Armor(blob)) parsed another signature")
	}
	// Verifying never panics, and holds only in relreg's namespace.
	if err := VerifySignature(sig, sig.PublicKey, fuzzPayload); err == nil && sig.Namespace != SignatureNamespace {
		t.Errorf("VerifySignature() = nil for namespace %q", sig.Namespace)
	}
}

// TestFuzzSeedsCoverEveryKeyType makes sure FuzzSSHSIG's seeds parse: a
// seed that does not would leave the fuzzer without a valid start.
func TestFuzzSeedsCoverEveryKeyType(t *testing.T) {
	for _, s := range fuzzSigners(t) {
		armor, err := Sign(s.signer, fuzzPayload)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := ParseArmoredSignature(armor)
		if err != nil {
			t.Fatalf("%s: ParseArmoredSignature() error = %v", s.name, err)
		}
		if err := VerifySignature(sig, s.signer.PublicKey(), fuzzPayload); err != nil {
			t.Errorf("%s: VerifySignature() = %v", s.name, err)
		}
	}
}
