package registry

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// SignatureNamespace is the SSHSIG namespace of every approval signature,
// the -n of ssh-keygen -Y sign. It is fixed: a signature made for another
// purpose (git commits, files) never counts as an approval.
const SignatureNamespace = "relreg-approval"

// The armor ssh-keygen writes around a signature.
const (
	armorBegin   = "-----BEGIN SSH SIGNATURE-----"
	armorEnd     = "-----END SSH SIGNATURE-----"
	armorLineLen = 70 // ssh-keygen wraps the base64 at 70 columns
)

// FIDO authenticator flag: the user touched the key.
const skFlagUserPresence = 0x01

// Sign signs payload with signer: an SSHSIG signature in the relreg
// namespace, hash sha512, armored byte for byte as ssh-keygen -Y sign writes
// it (RSA keys sign with rsa-sha2-512).
func Sign(signer ssh.Signer, payload []byte) ([]byte, error) {
	return SignWithRand(rand.Reader, signer, payload)
}

// SignWithRand is Sign with a source of randomness.
func SignWithRand(r io.Reader, signer ssh.Signer, payload []byte) ([]byte, error) {
	sig, err := sshsig.SignWithRand(bytes.NewReader(payload), r, signer, sshsig.HashSHA512, SignatureNamespace)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return Armor(sig.Marshal()), nil
}

// Armor wraps an SSHSIG blob as ssh-keygen does: the PEM-style markers and
// base64 wrapped at 70 columns, ending in a newline.
func Armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(armorBegin + "\n")
	for len(enc) > armorLineLen {
		b.WriteString(enc[:armorLineLen] + "\n")
		enc = enc[armorLineLen:]
	}
	b.WriteString(enc + "\n")
	b.WriteString(armorEnd + "\n")
	return b.Bytes()
}

// ParseArmoredSignature reads an armored SSHSIG signature strictly: exactly
// one SSH SIGNATURE block with nothing before or after it (one trailing
// newline is allowed), no headers, valid base64, magic SSHSIG, version 1, hash
// sha256 or sha512, no trailing bytes, RSA signatures made with
// rsa-sha2-256/512, FIDO signatures carrying the user-presence flag, an
// empty reserved field and the key encoded as ssh-keygen does, so that the
// blob holds no byte the parse does not read.
// It does not check the namespace or the key: VerifySignature does.
func ParseArmoredSignature(armor []byte) (*sshsig.Signature, error) {
	s := string(armor)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil, errors.New("the signature is empty")
	}
	lines := strings.Split(s, "\n")
	if lines[0] != armorBegin {
		if i := strings.Index(s, armorBegin); i > 0 {
			return nil, errors.New("the signature has text before " + armorBegin)
		}
		if strings.HasPrefix(lines[0], "-----BEGIN ") {
			return nil, fmt.Errorf("the armor is %q, not %q", lines[0], armorBegin)
		}
		return nil, errors.New("the signature does not start with " + armorBegin)
	}
	end := -1
	for i, l := range lines[1:] {
		if strings.HasPrefix(l, "-----") {
			end = i + 1
			break
		}
	}
	if end < 0 || lines[end] != armorEnd {
		return nil, errors.New("the signature has no " + armorEnd + " line")
	}
	if end != len(lines)-1 {
		return nil, errors.New("the signature has text after " + armorEnd + ": keep exactly one signature block")
	}
	var b64 strings.Builder
	for _, l := range lines[1:end] {
		if strings.ContainsAny(l, ": \t\r") {
			return nil, errors.New("the signature block holds headers or whitespace: paste it exactly as ssh-keygen wrote it")
		}
		b64.WriteString(l)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(b64.String())
	if err != nil {
		return nil, fmt.Errorf("the signature is not valid base64: %w", err)
	}
	return ParseSignatureBlob(blob)
}

// ParseSignatureBlob parses an SSHSIG blob with the checks of
// ParseArmoredSignature that concern the blob itself.
func ParseSignatureBlob(blob []byte) (*sshsig.Signature, error) {
	if !bytes.HasPrefix(blob, []byte("SSHSIG")) {
		return nil, errors.New("the signature is not an SSHSIG signature (bad magic)")
	}
	sig, err := sshsig.ParseSignature(blob)
	if err != nil {
		return nil, fmt.Errorf("the signature is malformed: %w", err)
	}
	if sig.Version != 1 {
		return nil, fmt.Errorf("signature version %d is not supported: only version 1 is", sig.Version)
	}
	switch sig.HashAlgorithm {
	case sshsig.HashSHA256, sshsig.HashSHA512:
	default:
		return nil, fmt.Errorf("hash %q is not accepted: sign with sha512 (or sha256)", sig.HashAlgorithm)
	}
	keyType := sig.PublicKey.Type()
	format := sig.Signature.Format
	switch keyType {
	case ssh.KeyAlgoRSA:
		if format != ssh.KeyAlgoRSASHA256 && format != ssh.KeyAlgoRSASHA512 {
			return nil, fmt.Errorf("RSA signature algorithm %q is not accepted: only rsa-sha2-256 and rsa-sha2-512 are (ssh-rsa uses SHA-1)", format)
		}
	default:
		if format != keyType {
			return nil, fmt.Errorf("signature algorithm %q does not match key type %q", format, keyType)
		}
	}
	switch keyType {
	case ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256:
		var sk struct {
			Flags   byte
			Counter uint32
		}
		if err := ssh.Unmarshal(sig.Signature.Rest, &sk); err != nil {
			return nil, fmt.Errorf("the FIDO signature is malformed: %w", err)
		}
		if sk.Flags&skFlagUserPresence == 0 {
			return nil, errors.New("the FIDO signature lacks the user-presence flag: sign again and touch the key")
		}
	default:
		if len(sig.Signature.Rest) != 0 {
			return nil, errors.New("the signature has trailing bytes")
		}
	}
	// No byte may go unread, or one approval would have many armors: the
	// reserved field, which the signature does not cover, must be empty,
	// and the key must be encoded as ssh-keygen encodes it.
	var fields struct {
		Magic                                         [6]byte
		Version                                       uint32
		PublicKey, Namespace, Reserved, Hash, SigBlob string
	}
	if err := ssh.Unmarshal(blob, &fields); err == nil && fields.Reserved != "" {
		return nil, fmt.Errorf("the signature's reserved field holds %d bytes that the signature does not cover: sign again with ssh-keygen -Y sign or relreg approve", len(fields.Reserved))
	}
	if !bytes.Equal(sig.Marshal(), blob) {
		return nil, errors.New("the signature is not encoded as ssh-keygen encodes it (its public key is written the long way): sign again with ssh-keygen -Y sign or relreg approve")
	}
	return sig, nil
}

// VerifySignature checks that sig, made in the relreg namespace, verifies
// payload with pub. pub must come from the approver's listed keys; the key
// the signature carries is only used to find it.
//
// Verdicts are remembered, by the key, the payload and the signature, so
// that an audit replaying one approval at many commits checks it once.
func VerifySignature(sig *sshsig.Signature, pub ssh.PublicKey, payload []byte) error {
	key := verdictKey(sig, pub, payload)
	if err, ok := verdicts.get(key); ok {
		return err
	}
	err := verifySignature(sig, pub, payload)
	verdicts.put(key, err)
	return err
}

func verifySignature(sig *sshsig.Signature, pub ssh.PublicKey, payload []byte) error {
	if sig.Namespace != SignatureNamespace {
		return fmt.Errorf("the signature is for namespace %q, not %q: sign with ssh-keygen -Y sign -n %s", sig.Namespace, SignatureNamespace, SignatureNamespace)
	}
	if err := sshsig.Verify(bytes.NewReader(payload), sig, pub, sig.HashAlgorithm, SignatureNamespace); err != nil {
		if errors.Is(err, sshsig.ErrPublicKeyMismatch) {
			return errors.New("the signature was made with another key")
		}
		return fmt.Errorf("the signature does not verify over this approval's payload (registry, subject, step, role, by, at and digest): %w", err)
	}
	return nil
}

// verdictMemo remembers signature verdicts. A verdict is a pure function of
// its key, so a stale entry cannot exist; the memo is only bounded, and
// starts over when full.
type verdictMemo struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]error
}

// maxVerdicts bounds the memo: a few MiB at most.
const maxVerdicts = 1 << 16

var verdicts verdictMemo

func (v *verdictMemo) get(k [sha256.Size]byte) (error, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	err, ok := v.m[k]
	return err, ok
}

func (v *verdictMemo) put(k [sha256.Size]byte, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerdicts {
		v.m = make(map[[sha256.Size]byte]error)
	}
	v.m[k] = err
}

// verdictKey hashes everything a verdict depends on, each part length-prefixed.
func verdictKey(sig *sshsig.Signature, pub ssh.PublicKey, payload []byte) [sha256.Size]byte {
	parts := [][]byte{pub.Marshal(), binary.BigEndian.AppendUint32(nil, sig.Version), []byte(sig.Namespace), []byte(sig.HashAlgorithm), payload}
	if sig.PublicKey != nil {
		parts = append(parts, sig.PublicKey.Marshal())
	}
	if s := sig.Signature; s != nil {
		parts = append(parts, []byte(s.Format), s.Blob, s.Rest)
	}
	h := sha256.New()
	for _, part := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
