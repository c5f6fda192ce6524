package validate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
)

// apprKey makes an ed25519 key with the real ssh-keygen and returns the
// private key path and the public key line.
func apprKey(t *testing.T, name string) (priv, pub string) {
	t.Helper()
	testtool.Need(t, "ssh-keygen")
	priv = filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", priv).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	b, err := os.ReadFile(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return priv, strings.TrimSpace(string(b))
}

// apprSign signs payload with ssh-keygen -Y sign in namespace ns.
func apprSign(t *testing.T, priv, ns string, payload []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(f, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-Y", "sign", "-n", ns, "-f", priv, f).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	b, err := os.ReadFile(f + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const apprSpec = "spec:\n  title: SEPA instant transfers\n  risk: low\n"

// apprRelease writes a release whose only approval is a, one field a line:
// by on line 11, role 12, at 13, signature 15.
func apprRelease(a registry.Approval) string {
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: Release\nmetadata:\n  service: payments\n  version: 2.4.0\n" + apprSpec)
	fmt.Fprintf(&b, "approvals:\n  - step: %s\n    by: %s\n    role: %s\n    at: %s\n    digest: %s\n    signature: |\n", a.Step, a.By, a.Role, a.At, a.Digest)
	for _, l := range strings.Split(strings.TrimSuffix(a.Signature, "\n"), "\n") {
		b.WriteString("      " + l + "\n")
	}
	return b.String()
}

func TestApprovalRule(t *testing.T) {
	alice, alicePub := apprKey(t, "alice")
	bob, bobPub := apprKey(t, "bob")
	dave, davePub := apprKey(t, "dave")
	stranger, _ := apprKey(t, "stranger")
	approvers := "apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n" +
		"    - id: alice\n      name: Alice\n      roles: [release-manager]\n      keys:\n" +
		"        - key: " + alicePub + "\n          validAfter: 2026-01-01T00:00:00Z\n          validBefore: 2027-01-01T00:00:00Z\n" +
		"    - id: bob\n      name: Bob\n      roles: [release-manager, cab]\n      keys:\n" +
		"        - key: " + bobPub + "\n" +
		"    - id: dave\n      name: Dave\n      roles: [release-manager]\n      keys:\n" +
		"        - key: " + davePub + "\n          revoked: true\n"
	n, ds := registry.ParseYAML([]byte(apprSpec), registry.DefaultLimits)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	digest, err := registry.Digest(n.Value.(map[string]any)["spec"])
	if err != nil {
		t.Fatal(err)
	}
	const reg, subject, file = "acme", "release/payments@2.4.0", "releases/payments/2.4.0.yaml"
	base := registry.Approval{Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z", Digest: digest}
	sign := func(priv, ns string, a registry.Approval) registry.Approval {
		a.Signature = apprSign(t, priv, ns, registry.Payload(reg, subject, a))
		return a
	}
	with := func(a registry.Approval, edit func(a *registry.Approval)) registry.Approval { edit(&a); return a }
	good := sign(alice, registry.SignatureNamespace, base)

	tests := []struct {
		name      string
		approval  registry.Approval
		approvers string // default: approvers above
		want      []wantApproval
	}{
		{name: "valid approval", approval: good},
		{name: "unknown approver", approval: with(good, func(a *registry.Approval) { a.By = "mallory" }),
			want: []wantApproval{{"approval/unknown-approver", file, 11, 9}}},
		{name: "approver lacks the role", approval: sign(alice, registry.SignatureNamespace, with(base, func(a *registry.Approval) { a.Role = "cab" })),
			want: []wantApproval{{"approval/role", file, 12, 11}}},
		{name: "signature copied to another approver", approval: with(good, func(a *registry.Approval) { a.By = "bob" }),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "edited at", approval: with(good, func(a *registry.Approval) { a.At = "2026-11-20T10:00:01Z" }),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "namespace git", approval: sign(alice, "git", base),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "key not listed", approval: sign(stranger, registry.SignatureNamespace, base),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "key of another approver", approval: sign(bob, registry.SignatureNamespace, base),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "malformed armor", approval: with(good, func(a *registry.Approval) {
			a.Signature = "-----BEGIN SSH SIGNATURE-----\nnot base64!\n-----END SSH SIGNATURE-----\n"
		}),
			want: []wantApproval{{"approval/bad-signature", file, 15, 16}}},
		{name: "revoked key", approval: sign(dave, registry.SignatureNamespace, with(base, func(a *registry.Approval) { a.By = "dave" })),
			want: []wantApproval{{"approval/key-revoked", file, 15, 16}}},
		{name: "key expired at the approval's time", approval: sign(alice, registry.SignatureNamespace, with(base, func(a *registry.Approval) { a.At = "2027-01-01T00:00:00Z" })),
			want: []wantApproval{{"approval/key-expired", file, 13, 9}}},
		{name: "key not yet valid", approval: sign(alice, registry.SignatureNamespace, with(base, func(a *registry.Approval) { a.At = "2025-12-31T23:59:59Z" })),
			want: []wantApproval{{"approval/key-expired", file, 13, 9}}},
		{name: "stale digest is not a static rule", approval: sign(alice, registry.SignatureNamespace, with(base, func(a *registry.Approval) { a.Digest = "sha256:" + strings.Repeat("0", 64) }))},
		{name: "certificate key in approvers.yaml", approval: good,
			approvers: strings.Replace(approvers, "- key: "+bobPub, "- key: cert-authority "+bobPub, 1),
			want:      []wantApproval{{"schema", "approvers.yaml", 18, 16}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := approvers
			if tt.approvers != "" {
				ap = tt.approvers
			}
			dir := t.TempDir()
			files := map[string]string{
				"relreg.yaml":    "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: " + reg + "\nspec: {}\n",
				"approvers.yaml": ap,
				file:             apprRelease(tt.approval),
			}
			for p, c := range files {
				full := filepath.Join(dir, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := registry.Load(os.DirFS(dir), registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := approvalRule(r, Options{})
			registry.SortDiagnostics(got)
			var gotW []wantApproval
			for _, d := range got {
				gotW = append(gotW, wantApproval{d.Rule, d.File, d.Line, d.Column})
				if d.Message == "" || d.Subject == "" {
					t.Errorf("diagnostic %+v lacks a message or subject", d)
				}
			}
			if fmt.Sprint(gotW) != fmt.Sprint(tt.want) {
				t.Errorf("approvalRule() = %v, want %v\n%v", gotW, tt.want, got)
			}
		})
	}
}

// wantApproval is an expected diagnostic: rule, file, line and column.
type wantApproval struct {
	Rule   string
	File   string
	Line   int
	Column int
}
