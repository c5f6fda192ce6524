package registry

import (
	"fmt"
	"strings"
	"testing"
)

// approverSpec is one approver of a test approvers.yaml.
type approverSpec struct {
	id    string
	roles []string
	keys  []Key
}

// approversDoc writes and loads an approvers.yaml holding approvers.
func approversDoc(t *testing.T, approvers ...approverSpec) *ApproversDoc {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n")
	for _, a := range approvers {
		fmt.Fprintf(&b, "    - id: %s\n      name: %s\n      roles: [%s]\n      keys:\n", a.id, a.id, strings.Join(a.roles, ", "))
		for _, k := range a.keys {
			fmt.Fprintf(&b, "        - key: %q\n", k.Key)
			if k.ValidAfter != "" {
				fmt.Fprintf(&b, "          validAfter: %s\n", k.ValidAfter)
			}
			if k.ValidBefore != "" {
				fmt.Fprintf(&b, "          validBefore: %s\n", k.ValidBefore)
			}
			if k.Revoked {
				b.WriteString("          revoked: true\n")
			}
		}
	}
	n, ds := ParseYAML([]byte(b.String()), DefaultLimits)
	if len(ds) > 0 {
		t.Fatalf("approvers.yaml: %v\n%s", ds, b.String())
	}
	d := &Document{Path: ApproversFile, Kind: KindApprovers, ID: "approvers", Node: n}
	doc := &ApproversDoc{Doc: d}
	decode(d, doc)
	return doc
}

func TestParsePublicKeyLine(t *testing.T) {
	k := keygen(t, "ed25519", "ed25519")
	ca := keygen(t, "ca", "ed25519")
	// A certificate of k, signed by ca.
	certLine := certify(t, ca, k)
	tests := []struct {
		name    string
		line    string
		wantErr string
	}{
		{name: "plain key with comment", line: k.pub},
		{name: "plain key without comment", line: strings.Join(strings.Fields(k.pub)[:2], " ")},
		{name: "cert-authority", line: "cert-authority " + k.pub, wantErr: "cert-authority"},
		{name: "other option", line: `from="10.0.0.1" ` + k.pub, wantErr: "options"},
		{name: "certificate", line: certLine, wantErr: "certificates"},
		{name: "two keys", line: k.pub + "\n" + ca.pub, wantErr: "more than one key"},
		{name: "garbage", line: "ssh-ed25519 AAAAnotbase64", wantErr: "not an OpenSSH public key"},
		{name: "empty", line: "", wantErr: "empty"},
		{name: "dsa", line: "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoAAACBAPrjn5bBXkBlhC8bTPhvtAnTUbM5QBbYRS1i4wcBoTBnOyIQ9VIa5Tgl/wNTKT+i1T2MnnmnqaWmxZs5FVtbLUWp1uGn6c5lHMwaR3o+9o3zQxPGcsGz4Ob0NJjeT3AtmKcCMtVdw+XR6apJ6wQAwbNf/F/bKxI6DNbmhjqbVMr", wantErr: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePublicKeyLine(tt.line)
			switch {
			case tt.wantErr == "":
				if err != nil {
					t.Errorf("ParsePublicKeyLine() error = %v, want nil", err)
				}
			case err == nil:
				t.Errorf("ParsePublicKeyLine() = nil error, want one containing %q", tt.wantErr)
			case tt.wantErr != "*" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("ParsePublicKeyLine() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewKeyringReportsRefusedKeys(t *testing.T) {
	k := keygen(t, "ed25519", "ed25519")
	ca := keygen(t, "ca", "ed25519")
	doc := approversDoc(t,
		approverSpec{id: "alice", roles: []string{"cab"}, keys: []Key{{Key: k.pub}, {Key: "cert-authority " + ca.pub}}},
		approverSpec{id: "bob", roles: []string{"cab"}, keys: []Key{{Key: certify(t, ca, k)}, {Key: ca.pub, ValidBefore: "soon"}}},
	)
	kr := NewKeyring(doc)
	type pos struct {
		rule       string
		line, col  int
		msgContain string
	}
	var got []pos
	for _, d := range kr.Diagnostics {
		got = append(got, pos{d.Rule, d.Line, d.Column, ""})
	}
	// Lines of the generated file: alice's second key is on line 12, bob's
	// first on 17, bob's second key's validBefore on 19.
	want := []pos{{"schema", 12, 16, ""}, {"schema", 17, 16, ""}, {"schema", 19, 24, ""}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("diagnostics = %v, want %v\n%v", got, want, kr.Diagnostics)
	}
	if n := len(kr.Keys("alice")); n != 1 {
		t.Errorf("usable keys of alice = %d, want 1", n)
	}
	if n := len(kr.Keys("bob")); n != 0 {
		t.Errorf("usable keys of bob = %d, want 0", n)
	}
}

func TestApproverKeyValidAt(t *testing.T) {
	k := &ApproverKey{}
	var err error
	if k.ValidAfter, err = parseTime("2026-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if k.ValidBefore, err = parseTime("2027-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   string
		want bool
	}{
		{at: "2025-12-31T23:59:59Z", want: false},
		{at: "2026-01-01T00:00:00Z", want: true},
		{at: "2026-06-01T00:00:00+02:00", want: true},
		{at: "2026-12-31T23:59:59Z", want: true},
		{at: "2027-01-01T00:00:00Z", want: false},
		{at: "2027-01-01T00:59:59+01:00", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			at, err := parseTime(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.ValidAt(at); got != tt.want {
				t.Errorf("ValidAt(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

// TestApproversOfDecodesStrictly checks that approvers.yaml read out of
// history trusts nobody unless every field has its type.
func TestApproversOfDecodesStrictly(t *testing.T) {
	parse := func(s string) *Node {
		n, _ := ParseYAML([]byte(s), DefaultLimits)
		return n
	}
	good := "apiVersion: relreg/v1\nkind: Approvers\nmetadata: {name: approvers}\nspec:\n  approvers:\n    - {id: alice, name: Alice, roles: [release-manager], keys: []}\n"
	doc := ApproversOf(parse(good))
	if doc == nil || len(doc.Spec.Approvers) != 1 || doc.Spec.Approvers[0].ID != "alice" || doc.Doc == nil || doc.Doc.Path != ApproversFile {
		t.Fatalf("ApproversOf(good) = %+v", doc)
	}
	if first := doc.Keyring(); doc.Keyring() != first {
		t.Error("Keyring() built anew for a decoded document")
	}
	if doc := ApproversOf(parse(strings.Replace(good, "roles: [release-manager]", "roles: release-manager", 1))); doc != nil {
		t.Errorf("ApproversOf(roles as a string) = %+v, want nil", doc)
	}
	if doc := ApproversOf(nil); doc != nil {
		t.Errorf("ApproversOf(nil) = %+v, want nil", doc)
	}
}
