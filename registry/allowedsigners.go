package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshTimeFormat is the absolute time format of ssh-keygen's allowed_signers
// options and -O verify-time, in UTC.
const sshTimeFormat = "20060102150405Z"

// SSHTime formats t as ssh-keygen's valid-after, valid-before and
// verify-time options expect it (YYYYMMDDHHMMSSZ, UTC).
func SSHTime(t time.Time) string { return t.UTC().Format(sshTimeFormat) }

// WriteAllowedSigners writes an OpenSSH allowed_signers file (see
// ssh-keygen(1), ALLOWED SIGNERS) for the approvers in kr: one line per key
// that is not revoked, whose principal is the approver id, restricted to the
// relreg namespace and to the key's validity. With it, ssh-keygen -Y verify
// -I ID checks an approval without relreg.
//
// ssh-keygen treats valid-before as inclusive while relreg's validBefore is
// exclusive, so valid-before is written one second earlier; approval times
// have whole seconds.
func WriteAllowedSigners(w io.Writer, kr *Keyring, ids []string) error {
	for _, id := range ids {
		for _, k := range kr.Keys(id) {
			if k.Revoked || kr.revoked[k.Fingerprint] {
				continue
			}
			opts := []string{fmt.Sprintf("namespaces=%q", SignatureNamespace)}
			if !k.ValidAfter.IsZero() {
				opts = append(opts, fmt.Sprintf("valid-after=%q", SSHTime(k.ValidAfter)))
			}
			if !k.ValidBefore.IsZero() {
				opts = append(opts, fmt.Sprintf("valid-before=%q", SSHTime(k.ValidBefore.Add(-time.Second))))
			}
			key := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k.PublicKey)), "\n")
			if _, err := fmt.Fprintf(w, "%s %s %s %s#%d\n", id, strings.Join(opts, ","), key, id, k.Index+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// ApproverIDs returns the ids of the approvers in doc, in listed order.
func ApproverIDs(doc *ApproversDoc) []string {
	if doc == nil {
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, a := range doc.Spec.Approvers {
		if a.ID != "" && !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// AllowedSigner is one line of an OpenSSH allowed_signers file: the
// principals a key may sign as, in which namespaces, and when.
type AllowedSigner struct {
	Line       int      // 1-based line number in the file
	Principals []string // comma-separated patterns in the file; "!" negates
	// Namespaces are the namespaces option's patterns; nil means any.
	Namespaces    []string
	CertAuthority bool
	// ValidAfter and ValidBefore bound the key's validity as ssh-keygen
	// reads them: both inclusive; zero means unbounded.
	ValidAfter, ValidBefore time.Time
	Key                     ssh.PublicKey
}

// ParseAllowedSigners parses an allowed_signers file in the format
// ssh-keygen -Y verify -f reads (ssh-keygen(1), ALLOWED SIGNERS): on each
// line, principals, optional options (cert-authority, namespaces,
// valid-after, valid-before), a key type and the base64 key; blank lines
// and lines starting with # are skipped. An error names the line.
func ParseAllowedSigners(data []byte) ([]AllowedSigner, error) {
	var out []AllowedSigner
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseAllowedSigner(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		s.Line = n + 1
		out = append(out, s)
	}
	return out, nil
}

func parseAllowedSigner(line string) (AllowedSigner, error) {
	var s AllowedSigner
	var principals, rest string
	if strings.HasPrefix(line, `"`) {
		end := strings.Index(line[1:], `"`)
		if end < 0 {
			return s, errors.New("the quoted principals have no closing quote")
		}
		principals, rest = line[1:end+1], line[end+2:]
	} else {
		principals, rest = line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			principals, rest = line[:i], line[i+1:]
		}
	}
	if principals == "" || strings.TrimSpace(rest) == "" {
		return s, errors.New("want principals, optional options, a key type and a key (as 'relreg approvers allowed-signers' writes them)")
	}
	s.Principals = strings.Split(principals, ",")
	pub, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest)))
	if err != nil {
		return s, fmt.Errorf("no public key after the principals %q: %v", principals, err)
	}
	s.Key = pub
	for _, o := range opts {
		name, value, quoted := strings.Cut(o, "=")
		if quoted {
			value = strings.TrimSuffix(strings.TrimPrefix(value, `"`), `"`)
		}
		switch strings.ToLower(name) {
		case "cert-authority":
			s.CertAuthority = true
		case "namespaces":
			s.Namespaces = strings.Split(value, ",")
		case "valid-after", "valid-before":
			t, err := parseSSHTime(value)
			if err != nil {
				return s, fmt.Errorf("option %s: %w", name, err)
			}
			if strings.EqualFold(name, "valid-after") {
				s.ValidAfter = t
			} else {
				s.ValidBefore = t
			}
		default:
			return s, fmt.Errorf("unknown option %q (ssh-keygen knows cert-authority, namespaces, valid-after, valid-before)", name)
		}
	}
	return s, nil
}

// parseSSHTime parses ssh-keygen's absolute times: YYYYMMDD, YYYYMMDDHHMM
// or YYYYMMDDHHMMSS, in UTC with a trailing Z, else in local time.
func parseSSHTime(v string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		v, loc = v[:len(v)-1], time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	if layout, ok := layouts[len(v)]; ok {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 20270101000000Z", v)
}

// Allows reports whether the line lets key sign as principal in namespace
// at time at (zero: at any time), as ssh-keygen -Y verify decides: the
// key is the line's own (not a certificate authority), the principal
// matches the line's patterns and none of its negated ones, the namespace
// matches the namespaces option when there is one, and at lies in
// [valid-after, valid-before].
func (s AllowedSigner) Allows(principal, namespace string, key ssh.PublicKey, at time.Time) bool {
	if s.CertAuthority || s.Key == nil || !bytes.Equal(s.Key.Marshal(), key.Marshal()) {
		return false
	}
	if !matchPatternList(principal, s.Principals) {
		return false
	}
	if s.Namespaces != nil && !matchPatternList(namespace, s.Namespaces) {
		return false
	}
	if !at.IsZero() && ((!s.ValidAfter.IsZero() && at.Before(s.ValidAfter)) || (!s.ValidBefore.IsZero() && at.After(s.ValidBefore))) {
		return false
	}
	return true
}

// matchPatternList matches s against OpenSSH patterns (* and ?), as
// match_pattern_list does: a negated pattern ("!p") that matches refuses,
// else any plain pattern that matches accepts.
func matchPatternList(s string, patterns []string) bool {
	ok := false
	for _, p := range patterns {
		if neg, found := strings.CutPrefix(p, "!"); found {
			if matchPattern(s, neg) {
				return false
			}
			continue
		}
		ok = ok || matchPattern(s, p)
	}
	return ok
}

// matchPattern matches s against one pattern where * is any run of
// characters and ? any one character.
func matchPattern(s, p string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if matchPattern(s[i:], p[1:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			s, p = s[1:], p[1:]
		default:
			if s == "" || s[0] != p[0] {
				return false
			}
			s, p = s[1:], p[1:]
		}
	}
	return s == ""
}
