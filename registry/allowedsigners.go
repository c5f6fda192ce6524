package registry

import (
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
