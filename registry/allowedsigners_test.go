package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func edKey(t *testing.T) (ssh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestAllowedSignersAllows(t *testing.T) {
	key, line := edKey(t)
	other, _ := edKey(t)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, file, principal string
		key                   ssh.PublicKey
		at                    time.Time
		want                  bool
	}{
		{name: "plain line", file: "alice " + line, principal: "alice", key: key, want: true},
		{name: "with comment", file: "alice " + line + " alice@laptop", principal: "alice", key: key, want: true},
		{name: "other key", file: "alice " + line, principal: "alice", key: other, want: false},
		{name: "other principal", file: "alice " + line, principal: "bob", key: key, want: false},
		{name: "principal list", file: "bob,alice " + line, principal: "alice", key: key, want: true},
		{name: "quoted principals", file: `"bob,alice" ` + line, principal: "alice", key: key, want: true},
		{name: "wildcard", file: "a* " + line, principal: "alice", key: key, want: true},
		{name: "negated", file: "*,!alice " + line, principal: "alice", key: key, want: false},
		{name: "principals are case-sensitive", file: "Alice " + line, principal: "alice", key: key, want: false},
		{name: "relreg namespace", file: `alice namespaces="relreg-approval" ` + line, principal: "alice", key: key, want: true},
		{name: "namespace list with a comma", file: `alice namespaces="git,relreg-*" ` + line, principal: "alice", key: key, want: true},
		{name: "other namespace", file: `alice namespaces="git" ` + line, principal: "alice", key: key, want: false},
		{name: "cert-authority", file: "alice cert-authority " + line, principal: "alice", key: key, want: false},
		{name: "inside validity", file: `alice valid-after="20260101",valid-before="20270101000000Z" ` + line, principal: "alice", key: key, at: at, want: true},
		{name: "valid-before is inclusive", file: `alice valid-before="20260601120000Z" ` + line, principal: "alice", key: key, at: at, want: true},
		{name: "after valid-before", file: `alice valid-before="20260601115959Z" ` + line, principal: "alice", key: key, at: at, want: false},
		{name: "before valid-after", file: `alice valid-after="20260601120001Z" ` + line, principal: "alice", key: key, at: at, want: false},
		{name: "validity ignored without a time", file: `alice valid-before="20200101Z" ` + line, principal: "alice", key: key, want: true},
		{name: "comments and blank lines", file: "# auditors' keys\n\nbob " + line + "\n  \nalice " + line + "\n", principal: "alice", key: key, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signers, err := ParseAllowedSigners([]byte(tt.file))
			if err != nil {
				t.Fatalf("ParseAllowedSigners() error = %v", err)
			}
			got := false
			for _, s := range signers {
				got = got || s.Allows(tt.principal, SignatureNamespace, tt.key, tt.at)
			}
			if got != tt.want {
				t.Errorf("Allows(%s) = %v, want %v", tt.principal, got, tt.want)
			}
		})
	}
}

func TestParseAllowedSignersErrors(t *testing.T) {
	_, line := edKey(t)
	tests := []struct{ name, file, want string }{
		{name: "principals only", file: "alice\n", want: "line 1: want principals"},
		{name: "no key", file: "# keys\nalice ssh-ed25519\n", want: "line 2: no public key"},
		{name: "unknown option", file: "alice restrict " + line, want: `line 1: unknown option "restrict"`},
		{name: "bad time", file: `alice valid-before="tomorrow" ` + line, want: "line 1: option valid-before"},
		{name: "unclosed quote", file: `"alice ` + line, want: "line 1: the quoted principals have no closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAllowedSigners([]byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseAllowedSigners() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestAllowedSignersRoundTrip checks that what WriteAllowedSigners writes
// reads back with the same meaning: each key for its approver id, in the
// relreg namespace, within its validity (validBefore exclusive).
func TestAllowedSignersRoundTrip(t *testing.T) {
	key, line := edKey(t)
	kr := NewKeyring(approversDoc(t, approverSpec{id: "alice", roles: []string{"release-manager"},
		keys: []Key{{Key: line, ValidAfter: "2026-01-01T00:00:00Z", ValidBefore: "2027-01-01T00:00:00Z"}}}))
	var b bytes.Buffer
	if err := WriteAllowedSigners(&b, kr, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	signers, err := ParseAllowedSigners(b.Bytes())
	if err != nil {
		t.Fatalf("ParseAllowedSigners(%q) error = %v", b.String(), err)
	}
	if len(signers) != 1 {
		t.Fatalf("got %d lines, want 1", len(signers))
	}
	s := signers[0]
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), false},
	} {
		if got := s.Allows("alice", SignatureNamespace, key, tt.at); got != tt.want {
			t.Errorf("Allows(alice at %s) = %v, want %v", tt.at.Format(time.RFC3339), got, tt.want)
		}
	}
	if s.Allows("alice", "git", key, time.Time{}) {
		t.Error("Allows(namespace git) = true, want false")
	}
}
