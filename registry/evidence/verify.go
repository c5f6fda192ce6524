package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/gowebpki/jcs"

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
	kr := registry.NewKeyring(&registry.ApproversDoc{
		Doc:  &registry.Document{Path: registry.ApproversFile, Kind: registry.KindApprovers, ID: "approvers"},
		Spec: registry.ApproversSpec{Approvers: ch.Trust.Approvers},
	})
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

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
