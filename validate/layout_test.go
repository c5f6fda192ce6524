package validate

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relreg/relreg/registry"
)

// omit leaves a field out of a fixture release, as a comment line, so every
// other field keeps its line number.
const omit = "omit"

// fixtureRelease holds the fields of a release fixture as YAML text.
type fixtureRelease struct {
	Service, Version                 string
	Type, Risk, Owner                string
	Changes, Components, DependsOn   string
	Schedule, Backout, Phase, Review string
}

// newRelease returns a valid low-risk planned release with no components and
// no dependencies.
func newRelease(service, version, typ string) fixtureRelease {
	return fixtureRelease{
		Service: service, Version: version, Type: typ, Risk: "low", Owner: "bob",
		Changes: "[CHG-1]", Components: "[]", DependsOn: omit,
		Schedule: "production", Backout: omit, Phase: "planned", Review: omit,
	}
}

// YAML renders the release with every field on a fixed line:
//
//	4 metadata.service    8 spec.type     11 spec.changes     15 spec.deployment.schedule
//	5 metadata.version    9 spec.risk     12 spec.components  17 spec.backout
//	6 spec                10 spec.owner   13 spec.dependsOn   19 status.phase  20 status.review
func (r fixtureRelease) YAML() string {
	line := func(indent, key, value string) string {
		if value == omit {
			return indent + "# no " + key + "\n"
		}
		return indent + key + ": " + value + "\n"
	}
	return "apiVersion: relreg/v1\n" +
		"kind: Release\n" +
		"metadata:\n" +
		line("  ", "service", r.Service) +
		line("  ", "version", r.Version) +
		"spec:\n" +
		"  title: Test release\n" +
		line("  ", "type", r.Type) +
		line("  ", "risk", r.Risk) +
		line("  ", "owner", r.Owner) +
		line("  ", "changes", r.Changes) +
		line("  ", "components", r.Components) +
		line("  ", "dependsOn", r.DependsOn) +
		"  deployment:\n" +
		line("    ", "schedule", r.Schedule) +
		"    window: {start: 2026-12-03T22:00:00Z, end: 2026-12-04T02:00:00Z}\n" +
		line("  ", "backout", r.Backout) +
		"status:\n" +
		line("  ", "phase", r.Phase) +
		line("  ", "review", r.Review)
}

// with returns r changed by f, to write fixtures as one expression.
func (r fixtureRelease) with(f func(*fixtureRelease)) string {
	f(&r)
	return r.YAML()
}

func serviceYAML(name, extra string) string {
	return "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  title: " + name + "\n  owner: team-" + name + "\n" + extra
}

func dmlYAML(component, version, state string) string {
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: DMLEntry
metadata:
  component: %s
  version: %s
spec:
  artifacts:
    - name: %s.tar.gz
      digest: sha256:%s
status:
  state: %s
`, component, version, component, strings.Repeat("ab", 32), state)
}

// baseRegistry is a small valid registry: payments 2.3.1 (closed) and 2.4.0
// (planned, medium risk, depends on ledger 1.8.0), ledger 1.8.0 (deployed),
// the DML entries of payments-api, and one schedule.
func baseRegistry() map[string]string {
	return map[string]string{
		"relreg.yaml": "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: acme\nspec: {}\n",
		"approvers.yaml": `apiVersion: relreg/v1
kind: Approvers
metadata:
  name: approvers
spec:
  approvers:
    - {id: alice, name: Alice, roles: [release-manager], keys: []}
    - {id: bob, name: Bob, roles: [developer], keys: []}
`,
		"services/payments.yaml": serviceYAML("payments", "  supported: \">=2.0.0\"\n  components: [payments-api, payments-db]\n"),
		"services/ledger.yaml":   serviceYAML("ledger", ""),
		"schedules/production.yaml": `apiVersion: relreg/v1
kind: Schedule
metadata:
  name: production
spec:
  environment: production
`,
		"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) { r.Phase = "deployed" }),
		"releases/payments/2.3.1.yaml": newRelease("payments", "2.3.1", "patch").with(func(r *fixtureRelease) {
			r.Phase = "closed"
			r.Components = "[{name: payments-api, version: 2.3.1}]"
			r.Review = "{outcome: successful, incidents: [INC-7]}"
		}),
		"releases/payments/2.4.0.yaml": newRelease("payments", "2.4.0", "minor").with(func(r *fixtureRelease) {
			r.Risk = "medium"
			r.Components = "[{name: payments-api, version: 2.4.0}]"
			r.DependsOn = "[ledger@1.8.0]"
			r.Backout = "{plan: Redeploy 2.3.1 from the DML}"
		}),
		"dml/payments-api/2.3.1.yaml": dmlYAML("payments-api", "2.3.1", "verified"),
		"dml/payments-api/2.4.0.yaml": dmlYAML("payments-api", "2.4.0", "candidate"),
	}
}

// wantDiag is an expected diagnostic; Message is a fragment of the message.
type wantDiag struct {
	Rule    string
	File    string
	Line    int
	Column  int
	Message string
}

// ruleCase runs one rule over the base registry changed by Files (an empty
// value deletes the file) and expects exactly Want.
type ruleCase struct {
	Name  string
	Files map[string]string
	Want  []wantDiag
}

func loadFixture(t *testing.T, changes map[string]string) *registry.Registry {
	t.Helper()
	files := baseRegistry()
	maps.Copy(files, changes)
	fsys := fstest.MapFS{}
	for p, data := range files {
		if data != "" {
			fsys[p] = &fstest.MapFile{Data: []byte(data)}
		}
	}
	reg, err := registry.Load(fsys, registry.Options{})
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if len(reg.Diagnostics) > 0 {
		t.Fatalf("Load() diagnostics = %v, want none: the fixture is broken", reg.Diagnostics)
	}
	return reg
}

func runRuleCases(t *testing.T, rule staticRule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got := rule(loadFixture(t, tc.Files), Options{})
			registry.SortDiagnostics(got)
			if len(got) != len(tc.Want) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(tc.Want), formatDiags(got))
			}
			for i, w := range tc.Want {
				g := got[i]
				if g.Rule != w.Rule || g.File != w.File || g.Line != w.Line || g.Column != w.Column ||
					!strings.Contains(g.Message, w.Message) || g.Severity != registry.SeverityError {
					t.Errorf("diagnostic %d = %s\nwant %s:%d:%d: %s: ...%s...", i, formatDiags(got[i:i+1]), w.File, w.Line, w.Column, w.Rule, w.Message)
				}
				if g.Subject == "" {
					t.Errorf("diagnostic %d has no subject", i)
				}
			}
		})
	}
}

func formatDiags(ds []registry.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s: %s\n", d.File, d.Line, d.Column, d.Severity, d.Rule, d.Message)
	}
	return b.String()
}

// TestMyRulesAcceptBase guards the fixture: the base registry breaks none of
// the rules tested against it.
func TestMyRulesAcceptBase(t *testing.T) {
	reg := loadFixture(t, nil)
	for name, rule := range map[string]staticRule{
		"layout": layoutRule, "changeID": changeIDRule, "reference": referenceRule,
		"semver": semverRule, "dml": dmlRule, "backout": backoutRule,
	} {
		if got := rule(reg, Options{}); len(got) > 0 {
			t.Errorf("%sRule(base) =\n%swant none", name, formatDiags(got))
		}
	}
}

func TestLayoutRule(t *testing.T) {
	runRuleCases(t, layoutRule, []ruleCase{
		{
			Name:  "service name differs from file name",
			Files: map[string]string{"services/ledger.yaml": serviceYAML("ledgers", "")},
			Want:  []wantDiag{{"layout/path", "services/ledger.yaml", 4, 9, "metadata.name is ledgers but the file is services/ledger.yaml: the path is the identity, rename the file to services/ledgers.yaml or set metadata.name: ledger"}},
		},
		{
			Name:  "service file name is not a valid name",
			Files: map[string]string{"services/Billing.yaml": serviceYAML("billing", "")},
			Want:  []wantDiag{{"layout/path", "services/Billing.yaml", 4, 9, `file name "Billing" is not a valid service name (lower-case letters, digits and inner dashes, at most 63 characters): rename it to services/billing.yaml`}},
		},
		{
			Name: "schedule name differs from file name",
			Files: map[string]string{"schedules/production.yaml": strings.Replace(baseRegistry()["schedules/production.yaml"],
				"name: production", "name: prod", 1)},
			Want: []wantDiag{{"layout/path", "schedules/production.yaml", 4, 9, "set metadata.name: production"}},
		},
		{
			Name:  "release folder is not a valid service name",
			Files: map[string]string{"releases/Billing/1.0.0.yaml": newRelease("billing", "1.0.0", "major").YAML()},
			Want:  []wantDiag{{"layout/path", "releases/Billing/1.0.0.yaml", 4, 12, `folder "Billing" is not a valid service name (lower-case letters, digits and inner dashes, at most 63 characters): move the file to releases/billing/1.0.0.yaml`}},
		},
		{
			Name:  "release service differs from folder",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledgers", "1.8.0", "major").YAML()},
			Want:  []wantDiag{{"layout/path", "releases/ledger/1.8.0.yaml", 4, 12, "metadata.service is ledgers but the file is releases/ledger/1.8.0.yaml: the path is the identity, move the file to releases/ledgers/1.8.0.yaml or set metadata.service: ledger"}},
		},
		{
			Name:  "release version differs from file name",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.1", "major").YAML()},
			Want:  []wantDiag{{"layout/path", "releases/ledger/1.8.0.yaml", 5, 12, `metadata.version is 1.8.1 but the file is releases/ledger/1.8.0.yaml: the path is the identity, rename the file to releases/ledger/1.8.1.yaml or set metadata.version: "1.8.0"`}},
		},
		{
			Name: "DML component and version differ from path",
			Files: map[string]string{"dml/payments-api/2.4.0.yaml": strings.NewReplacer(
				"component: payments-api", "component: payments-apis", "version: 2.4.0", "version: 2.4.1").Replace(dmlYAML("payments-api", "2.4.0", "candidate"))},
			Want: []wantDiag{
				{"layout/path", "dml/payments-api/2.4.0.yaml", 4, 14, "move the file to dml/payments-apis/2.4.0.yaml or set metadata.component: payments-api"},
				{"layout/path", "dml/payments-api/2.4.0.yaml", 5, 12, "rename the file to dml/payments-api/2.4.1.yaml"},
			},
		},
		{
			// An invalid version in the path is semver/invalid, not layout/path.
			Name: "v-prefixed version file is left to the semver rule",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml":  "",
				"releases/payments/v2.4.0.yaml": newRelease("payments", "2.4.0", "minor").YAML(),
			},
		},
		{
			Name:  "metadata value the schema rejects is not compared",
			Files: map[string]string{"services/ledger.yaml": serviceYAML("Ledger", "")},
		},
		{
			Name:  "metadata of the wrong type is skipped",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": "apiVersion: relreg/v1\nkind: Release\nmetadata: [ledger]\nspec: {}\n"},
		},
	})
}
