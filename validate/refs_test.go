package validate

import (
	"strings"
	"testing"
)

func TestChangeIDRule(t *testing.T) {
	config := func(spec string) string {
		return "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: acme\nspec: " + spec + "\n"
	}
	runRuleCases(t, changeIDRule, []ruleCase{
		{
			Name: "change id does not match the default pattern",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Changes = "[CHG-1, chg-2]"
			})},
			Want: []wantDiag{{"ref/change-id", "releases/ledger/1.8.0.yaml", 11, 20, `change id "chg-2" does not match the registry's changePattern ^CHG-[0-9]+$: correct the id, or the pattern in relreg.yaml`}},
		},
		{
			Name: "incident id does not match the default pattern",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Review = "{outcome: successful, incidents: [INC-7, inc-8]}"
			})},
			Want: []wantDiag{{"ref/change-id", "releases/ledger/1.8.0.yaml", 20, 52, `incident id "inc-8" does not match the registry's incidentPattern ^INC-[0-9]+$`}},
		},
		{
			Name:  "registry's own change pattern replaces the default",
			Files: map[string]string{"relreg.yaml": config(`{changePattern: "^JIRA-[0-9]+$"}`)},
			Want: []wantDiag{
				{"ref/change-id", "releases/ledger/1.8.0.yaml", 11, 13, `change id "CHG-1" does not match the registry's changePattern ^JIRA-[0-9]+$`},
				{"ref/change-id", "releases/payments/2.3.1.yaml", 11, 13, "changePattern"},
				{"ref/change-id", "releases/payments/2.4.0.yaml", 11, 13, "changePattern"},
			},
		},
		{
			Name: "ids matching the registry's own patterns",
			Files: map[string]string{
				"relreg.yaml": config(`{changePattern: "^(CHG|JIRA)-[0-9]+$", incidentPattern: "^P[1-4]-[0-9]+$"}`),
				"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
					r.Changes = "[JIRA-12, CHG-3]"
					r.Review = "{outcome: successful, incidents: [P1-9]}"
				}),
				"releases/payments/2.3.1.yaml": "",
			},
		},
		{
			// The schema rule reports the pattern (format: regex); the
			// check is skipped rather than run with the default.
			Name: "pattern that does not compile is skipped",
			Files: map[string]string{
				"relreg.yaml": config(`{changePattern: "^CHG-[0-9+$"}`),
				"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
					r.Changes = "[JIRA-1]"
					r.Review = "{outcome: successful, incidents: [inc-8]}"
				}),
			},
			Want: []wantDiag{{"ref/change-id", "releases/ledger/1.8.0.yaml", 20, 45, `incident id "inc-8"`}},
		},
		{
			Name: "non-string ids are left to the schema",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Changes = "[1042, {id: CHG-1}]"
			})},
		},
	})
}

func TestReferenceRule(t *testing.T) {
	billing := serviceYAML("billing", "")
	runRuleCases(t, referenceRule, []ruleCase{
		{
			Name:  "release of a service without a service file",
			Files: map[string]string{"releases/billing/1.0.0.yaml": newRelease("billing", "1.0.0", "major").YAML()},
			Want:  []wantDiag{{"ref/unknown-service", "releases/billing/1.0.0.yaml", 4, 12, "service billing has no services/billing.yaml: add the service, or move the release"}},
		},
		{
			Name: "release of a known service",
			Files: map[string]string{
				"services/billing.yaml":       billing,
				"releases/billing/1.0.0.yaml": newRelease("billing", "1.0.0", "major").YAML(),
			},
		},
		{
			Name: "unknown schedule",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Schedule = "staging"
			})},
			Want: []wantDiag{{"ref/unknown-schedule", "releases/ledger/1.8.0.yaml", 15, 15, "schedule staging has no schedules/staging.yaml"}},
		},
		{
			// "ledger" is not service@version: a schema error, not repeated here.
			Name: "dependency on a release that does not exist",
			Files: map[string]string{"releases/payments/2.4.0.yaml": strings.Replace(baseRegistry()["releases/payments/2.4.0.yaml"],
				"dependsOn: [ledger@1.8.0]", "dependsOn: [ledger@1.9.0, ledger]", 1)},
			Want: []wantDiag{
				{"ref/unknown-dependency", "releases/payments/2.4.0.yaml", 13, 15, "dependsOn ledger@1.9.0: there is no release releases/ledger/1.9.0.yaml"},
			},
		},
		{
			// billing -> payments -> ledger -> billing; reported once, on the
			// first release of the cycle by path.
			Name: "three-release dependency cycle",
			Files: map[string]string{
				"services/billing.yaml": billing,
				"releases/billing/1.0.0.yaml": newRelease("billing", "1.0.0", "major").with(func(r *fixtureRelease) {
					r.DependsOn = "[payments@2.4.0]"
				}),
				"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
					r.DependsOn = "[billing@1.0.0]"
				}),
			},
			Want: []wantDiag{{"ref/dependency-cycle", "releases/billing/1.0.0.yaml", 13, 15,
				"dependsOn forms a cycle: billing@1.0.0 -> payments@2.4.0 -> ledger@1.8.0 -> billing@1.0.0: no release in it can be deployed first"}},
		},
		{
			Name: "cycle through the second dependency",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.DependsOn = "[payments@2.3.1, payments@2.4.0]"
			})},
			Want: []wantDiag{{"ref/dependency-cycle", "releases/ledger/1.8.0.yaml", 13, 31, "ledger@1.8.0 -> payments@2.4.0 -> ledger@1.8.0"}},
		},
		{
			Name: "release depending on itself",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.DependsOn = "[ledger@1.8.0]"
			})},
			Want: []wantDiag{{"ref/dependency-cycle", "releases/ledger/1.8.0.yaml", 13, 15, "dependsOn forms a cycle: ledger@1.8.0 -> ledger@1.8.0"}},
		},
		{
			Name: "diamond of dependencies is no cycle",
			Files: map[string]string{
				"services/billing.yaml": billing,
				"releases/billing/1.0.0.yaml": newRelease("billing", "1.0.0", "major").with(func(r *fixtureRelease) {
					r.DependsOn = "[payments@2.4.0, ledger@1.8.0, payments@2.3.1]"
				}),
				"releases/payments/2.3.1.yaml": newRelease("payments", "2.3.1", "patch").with(func(r *fixtureRelease) {
					r.DependsOn = "[ledger@1.8.0]"
				}),
			},
		},
		{
			Name: "owner who is not an approver",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Owner = "carol"
			})},
			Want: []wantDiag{{"ref/unknown-owner", "releases/ledger/1.8.0.yaml", 10, 10, "owner carol is not an approver id in approvers.yaml"}},
		},
		{
			Name: "owner is judged against a missing approvers.yaml",
			Files: map[string]string{
				"approvers.yaml":               "",
				"releases/payments/2.3.1.yaml": "",
				"releases/payments/2.4.0.yaml": "",
			},
			Want: []wantDiag{{"ref/unknown-owner", "releases/ledger/1.8.0.yaml", 10, 10, "owner bob"}},
		},
		{
			Name: "component outside the service's allow-list",
			Files: map[string]string{"releases/payments/2.4.0.yaml": strings.Replace(baseRegistry()["releases/payments/2.4.0.yaml"],
				"components: [{name: payments-api", "components: [{name: payments-web", 1)},
			Want: []wantDiag{{"ref/component-not-allowed", "releases/payments/2.4.0.yaml", 12, 23,
				"component payments-web is not in the allow-list of service payments (spec.components of services/payments.yaml: payments-api, payments-db): add it there, or remove it from the release"}},
		},
		{
			Name: "any component of a service without an allow-list",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Components = "[{name: ledger-api, version: 1.8.0}]"
			})},
		},
	})
}
