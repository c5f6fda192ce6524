package registry

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Rule ids of the static approval checks.
const (
	RuleUnknownApprover = "approval/unknown-approver"
	RuleRole            = "approval/role"
	RuleBadSignature    = "approval/bad-signature"
	RuleKeyRevoked      = "approval/key-revoked"
	RuleKeyExpired      = "approval/key-expired"
)

// acceptedKeyTypes are the key types an approver may list. FIDO keys can
// only be used through ssh-keygen or an agent, but they verify like any other.
var acceptedKeyTypes = map[string]bool{
	ssh.KeyAlgoED25519:    true,
	ssh.KeyAlgoECDSA256:   true,
	ssh.KeyAlgoECDSA384:   true,
	ssh.KeyAlgoECDSA521:   true,
	ssh.KeyAlgoRSA:        true,
	ssh.KeyAlgoSKED25519:  true,
	ssh.KeyAlgoSKECDSA256: true,
}

// ApproverKey is one parsed public key of an approver.
type ApproverKey struct {
	Approver    string // approver id
	Index       int    // position in the approver's keys list
	PublicKey   ssh.PublicKey
	Fingerprint string    // SHA256:... as ssh-keygen -l prints it
	ValidAfter  time.Time // zero: no lower bound
	ValidBefore time.Time // zero: no upper bound
	Revoked     bool
}

// ValidAt reports whether t lies in the key's validity, the half-open
// interval [ValidAfter, ValidBefore).
func (k *ApproverKey) ValidAt(t time.Time) bool {
	if !k.ValidAfter.IsZero() && t.Before(k.ValidAfter) {
		return false
	}
	if !k.ValidBefore.IsZero() && !t.Before(k.ValidBefore) {
		return false
	}
	return true
}

// Keyring holds the approvers of a registry with their parsed keys. Build it
// once per registry with NewKeyring and use it for every approval.
type Keyring struct {
	approvers map[string]*Approver
	keys      map[string][]*ApproverKey // by approver id, in listed order
	revoked   map[string]bool           // fingerprints revoked by any approver
	// Diagnostics report key lines that cannot be used: unparsable keys,
	// certificates, cert-authority and other options, unknown key types,
	// malformed validity times.
	Diagnostics []Diagnostic
}

// NewKeyring parses the keys of approvers.yaml. doc may be nil (no
// approvers.yaml): then nobody may approve.
func NewKeyring(doc *ApproversDoc) *Keyring {
	kr := &Keyring{approvers: map[string]*Approver{}, keys: map[string][]*ApproverKey{}, revoked: map[string]bool{}}
	if doc == nil {
		return kr
	}
	owners := map[string][]string{} // fingerprint -> approvers listing it
	for i := range doc.Spec.Approvers {
		a := &doc.Spec.Approvers[i]
		if a.ID == "" {
			continue
		}
		if first, dup := kr.approvers[a.ID]; dup {
			// A second entry must not lend its keys or roles to the first:
			// one person's key would sign as another.
			kr.Diagnostics = append(kr.Diagnostics, doc.Doc.Diag("schema",
				fmt.Sprintf("approver id %s is listed twice (first as %s): ids are unique; give each person one entry", a.ID, first.Name),
				"spec", "approvers", strconv.Itoa(i), "id"))
			kr.revokeListed(a.Keys)
			continue
		}
		kr.approvers[a.ID] = a
		for j, k := range a.Keys {
			path := []string{"spec", "approvers", strconv.Itoa(i), "keys", strconv.Itoa(j)}
			ak, field, err := parseApproverKey(a.ID, j, k)
			if err != nil {
				kr.Diagnostics = append(kr.Diagnostics, doc.Doc.Diag("schema", fmt.Sprintf("key %d of approver %s: %v", j+1, a.ID, err), append(path, field)...))
				kr.revokeListed([]Key{k})
				continue
			}
			if !slices.Contains(owners[ak.Fingerprint], a.ID) {
				owners[ak.Fingerprint] = append(owners[ak.Fingerprint], a.ID)
			}
			if len(owners[ak.Fingerprint]) > 1 {
				kr.Diagnostics = append(kr.Diagnostics, doc.Doc.Diag("schema",
					fmt.Sprintf("key %d of approver %s (%s) is also listed for %s: a key belongs to one approver; it verifies for neither until one listing is removed in a governed change", j+1, a.ID, ak.Fingerprint, strings.Join(owners[ak.Fingerprint][:len(owners[ak.Fingerprint])-1], ", ")),
					append(path, "key")...))
			}
			kr.keys[a.ID] = append(kr.keys[a.ID], ak)
			if ak.Revoked {
				kr.revoked[ak.Fingerprint] = true
			}
		}
	}
	// A key listed for several approvers proves nobody's identity.
	for fp, ids := range owners {
		if len(ids) < 2 {
			continue
		}
		for _, id := range ids {
			kr.keys[id] = slices.DeleteFunc(kr.keys[id], func(k *ApproverKey) bool { return k.Fingerprint == fp })
		}
	}
	return kr
}

// revokeListed records the revocations among listings that are not used
// otherwise (a malformed validity, a duplicate approver entry): a key
// listed revoked stays distrusted however the rest of its listing is
// written.
func (kr *Keyring) revokeListed(keys []Key) {
	for _, k := range keys {
		if !k.Revoked {
			continue
		}
		if pub, err := ParsePublicKeyLine(k.Key); err == nil {
			kr.revoked[ssh.FingerprintSHA256(pub)] = true
		}
	}
}

// Revoked reports whether any listing of the key with this fingerprint is
// revoked: a revoked key distrusts every signature it made, whoever lists it.
func (kr *Keyring) Revoked(fingerprint string) bool { return kr.revoked[fingerprint] }

// parseApproverKey parses one keys entry; on error it also returns the
// field at fault.
func parseApproverKey(id string, index int, k Key) (*ApproverKey, string, error) {
	pub, err := ParsePublicKeyLine(k.Key)
	if err != nil {
		return nil, "key", err
	}
	ak := &ApproverKey{Approver: id, Index: index, PublicKey: pub, Fingerprint: ssh.FingerprintSHA256(pub), Revoked: k.Revoked}
	if k.ValidAfter != "" {
		if ak.ValidAfter, err = time.Parse(time.RFC3339, k.ValidAfter); err != nil {
			return nil, "validAfter", fmt.Errorf("validAfter %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", k.ValidAfter)
		}
	}
	if k.ValidBefore != "" {
		if ak.ValidBefore, err = time.Parse(time.RFC3339, k.ValidBefore); err != nil {
			return nil, "validBefore", fmt.Errorf("validBefore %q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", k.ValidBefore)
		}
	}
	return ak, "", nil
}

// ParsePublicKeyLine parses an OpenSSH public key line ("ssh-ed25519
// AAAA... comment") of an accepted type. Options (cert-authority and any
// other), certificates and more than one key are refused.
func ParsePublicKeyLine(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, errors.New("the key is empty: paste an OpenSSH public key line such as the content of ~/.ssh/id_ed25519.pub")
	}
	pub, _, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("not an OpenSSH public key line: %v", err)
	}
	if len(opts) > 0 {
		return nil, fmt.Errorf("options (%s) are not accepted: list the bare public key; cert-authority keys are not accepted", strings.Join(opts, ","))
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("the line holds more than one key: list each key separately")
	}
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, errors.New("certificates are not accepted: list the plain public key")
	}
	if !acceptedKeyTypes[pub.Type()] {
		return nil, fmt.Errorf("key type %s is not accepted: use ed25519, ecdsa, rsa or a FIDO (sk-) key", pub.Type())
	}
	return pub, nil
}

// Approver returns the approver with id, or nil.
func (kr *Keyring) Approver(id string) *Approver { return kr.approvers[id] }

// Keys returns the usable keys of an approver, in listed order.
func (kr *Keyring) Keys(id string) []*ApproverKey { return kr.keys[id] }

// keyOwner returns the approver that lists fingerprint, if any.
func (kr *Keyring) keyOwner(fp string) string {
	for id, ks := range kr.keys {
		for _, k := range ks {
			if k.Fingerprint == fp {
				return id
			}
		}
	}
	return ""
}

// Problem is why an approval entry does not hold, with the rule it breaks
// and the entry's field at fault.
type Problem struct {
	Rule    string
	Field   string // step, by, role, at, digest or signature
	Message string
}

func (p Problem) Error() string { return p.Rule + ": " + p.Message }

// Check checks one approval entry of subject in the registry registryName:
// the approver is known and holds the role, the signature verifies over the
// entry's own payload with one of the approver's listed keys, found by
// fingerprint, and that key is neither revoked nor outside its validity at
// the entry's own "at". It returns nil when the entry holds. Whether the
// digest is current is not checked: staleness is a change rule.
func (kr *Keyring) Check(registryName, subject string, a Approval) []Problem {
	var ps []Problem
	add := func(rule, field, format string, args ...any) {
		ps = append(ps, Problem{Rule: rule, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	ap := kr.approvers[a.By]
	if ap == nil {
		add(RuleUnknownApprover, "by", "%q is not an approver: add them to approvers.yaml (in a governed change) or fix the id", a.By)
		return ps
	}
	if !ap.HasRole(a.Role) {
		add(RuleRole, "role", "approver %s does not hold role %q (roles: %s)", a.By, a.Role, strings.Join(ap.Roles, ", "))
	}
	key, err := kr.verify(registryName, subject, a)
	if err != nil {
		add(RuleBadSignature, "signature", "%v", err)
		return ps
	}
	if key.Revoked || kr.revoked[key.Fingerprint] {
		add(RuleKeyRevoked, "signature", "the signing key %s of %s is revoked: every signature it made is distrusted; approve again with another key", key.Fingerprint, a.By)
		return ps
	}
	at, err := time.Parse(time.RFC3339, a.At)
	if err != nil {
		add(RuleKeyExpired, "at", "at %q is not an RFC 3339 time, so the key's validity cannot be checked", a.At)
		return ps
	}
	if !key.ValidAt(at) {
		add(RuleKeyExpired, "at", "the signing key %s of %s is not valid at %s (valid %s): approve again with a current key", key.Fingerprint, a.By, a.At, validity(key))
	}
	return ps
}

// verify finds the approver's listed key that made the signature and checks
// the signature with it.
func (kr *Keyring) verify(registryName, subject string, a Approval) (*ApproverKey, error) {
	if strings.TrimSpace(a.Signature) == "" {
		return nil, errors.New("the approval has no signature: sign it with 'relreg approve'")
	}
	sig, err := ParseArmoredSignature([]byte(a.Signature))
	if err != nil {
		return nil, err
	}
	fp := ssh.FingerprintSHA256(sig.PublicKey)
	var candidates []*ApproverKey
	for _, k := range kr.keys[a.By] {
		if k.Fingerprint == fp {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		if owner := kr.keyOwner(fp); owner != "" {
			return nil, fmt.Errorf("the signature was made with key %s of %s, not with a key of %s", fp, owner, a.By)
		}
		return nil, fmt.Errorf("the signature was made with key %s, which is not listed for %s in approvers.yaml", fp, a.By)
	}
	payload := Payload(registryName, subject, a)
	if err := VerifySignature(sig, candidates[0].PublicKey, payload); err != nil {
		return nil, err
	}
	// The same key may be listed twice with different validity: prefer a
	// listing that makes the approval hold.
	at, _ := time.Parse(time.RFC3339, a.At)
	for _, k := range candidates {
		if !k.Revoked && k.ValidAt(at) {
			return k, nil
		}
	}
	for _, k := range candidates {
		if k.Revoked {
			return k, nil
		}
	}
	return candidates[0], nil
}

func validity(k *ApproverKey) string {
	var parts []string
	if !k.ValidAfter.IsZero() {
		parts = append(parts, "from "+k.ValidAfter.Format(time.RFC3339))
	}
	if !k.ValidBefore.IsZero() {
		parts = append(parts, "before "+k.ValidBefore.Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, ", ")
}
