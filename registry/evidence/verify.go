package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/gowebpki/jcs"
	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
)

// VerifyError lists why a bundle does not verify.
type VerifyError struct {
	Problems []string
}

func (e *VerifyError) Error() string {
	return "evidence does not verify: " + strings.Join(e.Problems, "; ")
}

// Summary is what a bundle that verifies holds.
type Summary struct {
	Subject   string
	Ref       string
	Changes   int // changes of every subject
	Approvals int // approval entries checked
	Verified  int // of which verified
}

// Parse decodes a bundle strictly: unknown fields and trailing data are
// errors.
func Parse(data []byte) (*Bundle, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not an evidence bundle: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not an evidence bundle: data after the JSON document")
	}
	// encoding/json matches member names in any case and keeps the last of
	// duplicate members; another JSON reader may see other content. The
	// bundle must be, member for member, what its decoded content encodes.
	again, err := json.Marshal(&b)
	if err != nil {
		return nil, fmt.Errorf("not an evidence bundle: %w", err)
	}
	orig, err1 := jcs.Transform(data)
	canon, err2 := jcs.Transform(again)
	if err1 != nil || err2 != nil || !bytes.Equal(orig, canon) {
		return nil, errors.New("not an evidence bundle as relreg writes it: duplicate members, members in another case, or values relreg does not write")
	}
	return &b, nil
}

// Verify checks a bundle offline, without the repository: its version
// and integrity sum; for every document, that its git blob hash and its
// digest are those of its exact YAML bytes and that its approvals are the
// ones the YAML holds; for every approval, that its payload is the one the
// contract builds, and that its signature verifies with the keys the
// bundle lists for the base of the change exactly when the bundle says it
// does. It returns a *VerifyError listing every problem.
//
// The keys are the bundle's own: Verify proves a bundle self-consistent,
// not that its keys are the approvers'. VerifySigners checks them against
// keys the auditor holds.
func Verify(b *Bundle) (*Summary, error) {
	var ps []string
	fail := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	if b.Version != Version {
		return nil, &VerifyError{Problems: []string{fmt.Sprintf("version %q is not %s", b.Version, Version)}}
	}
	if sum, err := b.Sum(); err != nil || sum != b.SHA256 {
		fail("the bundle's sha256 %q is not the SHA-256 of its canonical content (%s): the bundle was changed after it was made", b.SHA256, sum)
	}
	if len(b.Subjects) == 0 {
		fail("the bundle holds no subject")
	}
	sum := &Summary{Ref: b.Ref}
	for si, s := range b.Subjects {
		kind, id := pathKind(s.Path)
		if si == 0 {
			sum.Subject = s.Subject
		}
		if kind == "" || (&registry.Document{Kind: kind, ID: id}).Subject() != s.Subject {
			fail("subject %q does not match its path %q", s.Subject, s.Path)
			continue
		}
		for ci, ch := range s.Changes {
			sum.Changes++
			where := fmt.Sprintf("%s at %s", s.Subject, shortSHA(ch.Commit.SHA))
			if ci > 0 && len(ch.Commit.Parents) == 0 {
				fail("%s: a later change has no parent", where)
			}
			verifyChange(s, ch, where, sum, fail)
		}
	}
	if len(ps) > 0 {
		return nil, &VerifyError{Problems: ps}
	}
	return sum, nil
}

func verifyChange(s Subject, ch Change, where string, sum *Summary, fail func(string, ...any)) {
	if ch.Document == nil {
		if len(ch.Approvals) > 0 {
			fail("%s: a deleted file has no approvals", where)
		}
		return
	}
	// The trust must be the first parent's, or the commit must be the
	// trust root; a commit with no trusted base verifies no approval.
	trusted := true
	switch {
	case ch.Trust.Base != "" && (len(ch.Commit.Parents) == 0 || ch.Commit.Parents[0] != ch.Trust.Base):
		fail("%s: the trust base %s is not the commit's first parent", where, shortSHA(ch.Trust.Base))
	case ch.Trust.Base == "" && !ch.Trust.Root:
		trusted = false
	case ch.Trust.Base != "" && ch.Trust.Root:
		fail("%s: a change with a trusted base is not the trust root", where)
	}
	d := ch.Document
	if h := plumbing.ComputeHash(plumbing.BlobObject, d.YAML).String(); h != d.Blob {
		fail("%s: the document's bytes hash to blob %s, not %s: the YAML was changed", where, h, d.Blob)
	}
	kind, id := pathKind(s.Path)
	n, _ := registry.ParseYAML(d.YAML, registry.DefaultLimits)
	doc := &registry.Document{Path: s.Path, Kind: kind, ID: id, Node: n}
	digest := ""
	if n != nil {
		digest, _ = doc.Digest()
	}
	if digest != d.Digest {
		fail("%s: the document's spec digest is %s, not %s: the YAML was changed", where, digest, d.Digest)
	}
	inDoc := doc.Approvals()
	if len(inDoc) != len(ch.Approvals) {
		fail("%s: the document holds %d approvals, the bundle lists %d", where, len(inDoc), len(ch.Approvals))
	}
	kr := ch.Trust.keyring()
	for i, a := range ch.Approvals {
		sum.Approvals++
		at := fmt.Sprintf("%s: approval %d (step %s by %s)", where, i+1, a.Step, a.By)
		if i < len(inDoc) && inDoc[i] != a.Approval {
			fail("%s differs from the document's approval %d", at, i+1)
		}
		if want := string(registry.Payload(ch.Trust.Registry, s.Subject, a.Approval)); a.Payload != want {
			fail("%s: the payload is not the one the approval signs: %s", at, want)
		}
		if a.Current != (a.Digest == d.Digest) {
			fail("%s: current is %v, but the approval signs %s and the document's digest is %s", at, a.Current, a.Digest, d.Digest)
		}
		problems := kr.Check(ch.Trust.Registry, s.Subject, a.Approval)
		if !trusted {
			problems = append(problems, registry.Problem{Rule: registry.RuleBadSignature, Message: "no trusted base"})
		}
		switch {
		case a.Verified && len(problems) > 0:
			fail("%s does not verify with the keys the bundle lists for its base: %v", at, problems[0])
		case !a.Verified && len(problems) == 0:
			fail("%s verifies, but the bundle says it does not", at)
		case a.Verified:
			sum.Verified++
		}
	}
}

// keyring builds the keyring of the approvers a change's trust lists, as
// Build used it.
func (t Trust) keyring() *registry.Keyring {
	return registry.NewKeyring(&registry.ApproversDoc{
		Doc:  &registry.Document{Path: registry.ApproversFile, Kind: registry.KindApprovers, ID: "approvers"},
		Spec: registry.ApproversSpec{Approvers: t.Approvers},
	})
}

// SignersSummary is what VerifySigners found when every key is listed.
type SignersSummary struct {
	Keys      int // distinct keys the bundle trusts, by approver
	Approvers int // approvers holding them
}

// VerifySigners checks the keys a bundle trusts against an allowed_signers
// file the auditor holds (registry.ParseAllowedSigners): every key a
// change's trust lists for an approver, unless revoked there, must be on a
// line of allowed whose principals match the approver's id (the principal
// 'relreg approvers allowed-signers' writes, and the "by" every payload
// signs) and whose namespaces, if any, hold relreg-approval; and every
// approval the bundle counts as verified must have been signed at a time
// that line allows (valid-after, valid-before). A bundle carries its own
// keys, so Verify alone proves only that it is self-consistent; this ties
// it to keys known independently. It returns a *VerifyError listing each
// key that is not listed, and each approval outside its key's listing.
func VerifySigners(b *Bundle, allowed []registry.AllowedSigner) (*SignersSummary, error) {
	type trusted struct {
		id, fp, line string
		listed       bool     // on a line of allowed for the approver
		where        []string // the changes that trust it
		approvals    int      // verified approvals it signed
	}
	var order []string
	keys := map[string]*trusted{} // by approver id and fingerprint
	var ps []string
	listed := func(id string, k ssh.PublicKey, at time.Time) bool {
		for _, s := range allowed {
			if s.Allows(id, registry.SignatureNamespace, k, at) {
				return true
			}
		}
		return false
	}
	approvers := map[string]bool{}
	for _, s := range b.Subjects {
		for _, ch := range s.Changes {
			where := fmt.Sprintf("%s at %s", s.Subject, shortSHA(ch.Commit.SHA))
			kr := ch.Trust.keyring()
			for _, a := range ch.Trust.Approvers {
				for _, k := range kr.Keys(a.ID) {
					if k.Revoked || kr.Revoked(k.Fingerprint) {
						continue
					}
					key := a.ID + " " + k.Fingerprint
					t := keys[key]
					if t == nil {
						t = &trusted{id: a.ID, fp: k.Fingerprint, line: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey))),
							listed: listed(a.ID, k.PublicKey, time.Time{})}
						keys[key] = t
						order = append(order, key)
						approvers[a.ID] = true
					}
					if !slices.Contains(t.where, where) {
						t.where = append(t.where, where)
					}
				}
			}
			for i, a := range ch.Approvals {
				if !a.Verified {
					continue
				}
				sig, err := registry.ParseArmoredSignature([]byte(a.Signature))
				if err != nil {
					continue // Verify reports it
				}
				fp := ssh.FingerprintSHA256(sig.PublicKey)
				t := keys[a.By+" "+fp]
				if t == nil {
					continue
				}
				t.approvals++
				at, err := time.Parse(time.RFC3339, a.At)
				if err == nil && t.listed && !listed(a.By, sig.PublicKey, at) {
					ps = append(ps, fmt.Sprintf("%s: approval %d (step %s by %s) was signed at %s with key %s, which the allowed signers list for %s only at other times (valid-after, valid-before): the key was not trusted then", where, i+1, a.Step, a.By, a.At, fp, a.By))
				}
			}
		}
	}
	var missing []string
	for _, key := range order {
		t := keys[key]
		if t.listed {
			continue
		}
		at := t.where
		more := ""
		if len(at) > 3 {
			at, more = at[:3], fmt.Sprintf(" and %d more", len(t.where)-3)
		}
		missing = append(missing, fmt.Sprintf("key %s (%s) that the bundle trusts for %s is not in the allowed signers for principal %s%s: nothing but the bundle vouches for it; it is trusted at %s%s and signed %d of the approvals the bundle counts as verified",
			t.fp, t.line, t.id, t.id, otherListings(allowed, t.line), strings.Join(at, ", "), more, t.approvals))
	}
	ps = append(missing, ps...)
	if len(ps) > 0 {
		return nil, &VerifyError{Problems: ps}
	}
	return &SignersSummary{Keys: len(order), Approvers: len(approvers)}, nil
}

// otherListings says where allowed lists a key for something else than a
// relreg approver: other principals (an email, say: relreg matches the
// approver id, the "by" every payload signs), other namespaces, or as a
// certificate authority.
func otherListings(allowed []registry.AllowedSigner, line string) string {
	var out []string
	for _, s := range allowed {
		if s.Key == nil || strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.Key))) != line {
			continue
		}
		what := "principals " + strings.Join(s.Principals, ",")
		switch {
		case s.CertAuthority:
			what += " as a cert-authority"
		case s.Namespaces != nil:
			what += " in namespaces " + strings.Join(s.Namespaces, ",")
		}
		out = append(out, fmt.Sprintf("line %d: %s", s.Line, what))
	}
	if len(out) == 0 {
		return ""
	}
	return " (the file lists it only for " + strings.Join(out, "; ") + ")"
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
