package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// signedApproval is a real approval and what it was signed for.
type signedApproval struct {
	registry, subject string
	a                 Approval
	approver, key     int    // the listing of the signing key in the fuzz approvers
	pub               string // the signing key's fingerprint
}

// fuzzApprovers returns the approvers of the example registry, plus an
// approver "fuzzer" listing a fresh key of every accepted type, and the
// approvals they signed: those of the example registry and one by each
// fresh key.
func fuzzApprovers(tb testing.TB) ([]Approver, []signedApproval) {
	tb.Helper()
	reg, err := Load(os.DirFS(filepath.Join("..", "examples", "basic")), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if reg.Approvers == nil || reg.Config == nil {
		tb.Fatal("the example registry has no approvers.yaml or relreg.yaml")
	}
	approvers := slices.Clone(reg.Approvers.Spec.Approvers)
	listing := func(id, fp string) (int, int) {
		for i, ap := range approvers {
			if ap.ID != id {
				continue
			}
			for j, k := range ap.Keys {
				if pub, err := ParsePublicKeyLine(k.Key); err == nil && ssh.FingerprintSHA256(pub) == fp {
					return i, j
				}
			}
		}
		tb.Fatalf("no listing of key %s for %s", fp, id)
		return 0, 0
	}
	var signed []signedApproval
	for _, d := range reg.Files {
		for _, a := range d.Approvals() {
			sig, err := ParseArmoredSignature([]byte(a.Signature))
			if err != nil {
				tb.Fatalf("%s: %v", d.Path, err)
			}
			fp := ssh.FingerprintSHA256(sig.PublicKey)
			i, j := listing(a.By, fp)
			signed = append(signed, signedApproval{reg.Config.Metadata.Name, d.Subject(), a, i, j, fp})
		}
	}
	fuzzer := Approver{ID: "fuzzer", Name: "Fuzzer", Roles: []string{"release-manager", "cab"}}
	a := Approval{Step: "accept", By: "fuzzer", Role: "cab", At: "2026-11-22T09:00:00Z", Digest: "sha256:" + strings.Repeat("5e", 32)}
	for _, s := range fuzzSigners(tb) {
		if strings.HasPrefix(s.name, "demo-") {
			continue // listed for the example's approvers already
		}
		j := len(fuzzer.Keys)
		fuzzer.Keys = append(fuzzer.Keys, Key{Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.signer.PublicKey()))),
			ValidAfter: "2026-01-01T00:00:00Z", ValidBefore: "2027-01-01T00:00:00Z"})
		armor, err := Sign(s.signer, Payload("acme-production", "dml/payments-api@2.4.0", a))
		if err != nil {
			tb.Fatal(err)
		}
		sa := a
		sa.Signature = string(armor)
		signed = append(signed, signedApproval{"acme-production", "dml/payments-api@2.4.0", sa, len(approvers), j, ssh.FingerprintSHA256(s.signer.PublicKey())})
	}
	return append(approvers, fuzzer), signed
}

// FuzzVerifyApproval checks approvals whose fields, signature and signing
// key listing the fuzzer changes, starting from real signed approvals. It
// never panics, and an approval holds only as it was signed: if it holds,
// the registry, subject, step, approver, role, time and digest are the
// signed ones, the armor carries the signed blob, and the listing it was
// checked against is the signing key, not revoked and valid at the
// approval's time.
func FuzzVerifyApproval(f *testing.F) {
	approvers, signed := fuzzApprovers(f)
	keyring := func(i, j int, k Key) *Keyring {
		aps := slices.Clone(approvers)
		aps[i].Keys = slices.Clone(aps[i].Keys)
		aps[i].Keys[j] = k
		return NewKeyring(&ApproversDoc{Doc: &Document{Path: ApproversFile, Kind: KindApprovers}, Spec: ApproversSpec{Approvers: aps}})
	}
	for n, s := range signed {
		k := approvers[s.approver].Keys[s.key]
		if ps := keyring(s.approver, s.key, k).Check(s.registry, s.subject, s.a); len(ps) > 0 {
			f.Fatalf("the real approval %d (%s by %s) does not hold: %v", n, s.subject, s.a.By, ps)
		}
		a := s.a
		add := func(reg, subject string, a Approval, k Key) {
			f.Add(uint(n), reg, subject, a.Step, a.By, a.Role, a.At, a.Digest, a.Signature, k.Key, k.ValidAfter, k.ValidBefore, k.Revoked)
		}
		add(s.registry, s.subject, a, k)
		// One thing changed each: none of these may hold.
		add(s.registry+"x", s.subject, a, k)
		add(s.registry, s.subject+"1", a, k)
		for _, edit := range []func(a *Approval){
			func(a *Approval) { a.Step = "deploy" },
			func(a *Approval) { a.By = "erin" },
			func(a *Approval) { a.Role = "registry-admin" },
			func(a *Approval) { a.At = a.At[:len(a.At)-2] + "1Z" },
			func(a *Approval) { a.At = strings.TrimSuffix(a.At, "Z") + "+00:00" },
			func(a *Approval) { a.Digest = strings.ToUpper(a.Digest) },
			func(a *Approval) { a.Signature = strings.Replace(a.Signature, "A", "B", 1) },
		} {
			b := a
			edit(&b)
			add(s.registry, s.subject, b, k)
		}
		revoked, expired := k, k
		revoked.Revoked = true
		expired.ValidBefore = a.At
		add(s.registry, s.subject, a, revoked)
		add(s.registry, s.subject, a, expired)
		add(s.registry, s.subject, a, Key{Key: approvers[(s.approver+1)%len(approvers)].Keys[0].Key})
	}
	f.Fuzz(func(t *testing.T, which uint, reg, subject, step, by, role, at, digest, signature, key, validAfter, validBefore string, revoked bool) {
		s := signed[which%uint(len(signed))]
		listed := Key{Key: key, ValidAfter: validAfter, ValidBefore: validBefore, Revoked: revoked}
		a := Approval{Step: step, By: by, Role: role, At: at, Digest: digest, Signature: signature}
		ps := keyring(s.approver, s.key, listed).Check(reg, subject, a)
		for _, p := range ps {
			if p.Rule == "" || p.Field == "" || p.Message == "" {
				t.Errorf("Check() problem %+v, want a rule, a field and a message", p)
			}
		}
		if len(ps) > 0 {
			return
		}
		// The approval holds: its signature must be one that was made, for
		// exactly these fields.
		var made *signedApproval
		for i := range signed {
			if sameSignature(signature, signed[i].a.Signature) {
				made = &signed[i]
				break
			}
		}
		if made == nil {
			t.Fatalf("Check() holds for armor %q, which carries no signature that was made", signature)
		}
		got := [7]string{reg, subject, step, by, role, at, digest}
		want := [7]string{made.registry, made.subject, made.a.Step, made.a.By, made.a.Role, made.a.At, made.a.Digest}
		if got != want {
			t.Fatalf("Check() holds for %q, but the signature was made for %q", got, want)
		}
		pub, err := ParsePublicKeyLine(key)
		same := err == nil && ssh.FingerprintSHA256(pub) == made.pub
		if same && revoked {
			// Whoever lists the key revoked, and however badly the rest of
			// that listing is written.
			t.Fatalf("Check() holds, but the signing key %s is listed revoked for %s", made.pub, approvers[s.approver].ID)
		}
		if made.approver != s.approver || made.key != s.key {
			// Checked against a listing the fuzzer left as it was; the
			// changed one may not make the key another approver's too
			// (a listing whose times do not parse is not used at all).
			_, errA := time.Parse(time.RFC3339, validAfter)
			_, errB := time.Parse(time.RFC3339, validBefore)
			usable := (validAfter == "" || errA == nil) && (validBefore == "" || errB == nil)
			if same && usable && s.approver != made.approver {
				t.Fatalf("Check() holds, but the signing key %s is also listed for %s", made.pub, approvers[s.approver].ID)
			}
			return
		}
		if !same {
			t.Fatalf("Check() holds, but the listing %q is not the signing key %s", key, made.pub)
		}
		when, _ := time.Parse(time.RFC3339, at)
		after, errA := time.Parse(time.RFC3339, validAfter)
		before, errB := time.Parse(time.RFC3339, validBefore)
		if validAfter != "" && (errA != nil || when.Before(after)) || validBefore != "" && (errB != nil || !when.Before(before)) {
			t.Fatalf("Check() holds at %s for a key valid from %q before %q", at, validAfter, validBefore)
		}
	})
}

// sameSignature reports whether two armors carry the same SSHSIG blob. An
// ECDSA signature has other forms that verify as well ((r, n-s), and r and
// s written with leading zeros), which no SSH implementation refuses: for
// ECDSA keys only the signature value itself may differ.
func sameSignature(x, y string) bool {
	sx, err1 := ParseArmoredSignature([]byte(x))
	sy, err2 := ParseArmoredSignature([]byte(y))
	if err1 != nil || err2 != nil {
		return false
	}
	if strings.HasPrefix(sx.PublicKey.Type(), "ecdsa-") {
		c := *sx
		c.Signature = &ssh.Signature{Format: sx.Signature.Format, Blob: sy.Signature.Blob, Rest: sx.Signature.Rest}
		sx = &c
	}
	return bytes.Equal(sx.Marshal(), sy.Marshal())
}
