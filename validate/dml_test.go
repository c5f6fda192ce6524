package validate

import (
	"strings"
	"testing"
)

func TestDMLRule(t *testing.T) {
	release := func(phase string) string {
		return newRelease("payments", "2.4.0", "minor").with(func(r *fixtureRelease) {
			r.Phase = phase
			r.Components = "[{name: payments-api, version: 2.4.0}]"
		})
	}
	withdrawn := strings.Replace(dmlYAML("payments-api", "2.4.0", "withdrawn"), "state: withdrawn", "state: withdrawn\n  reason: CVE-2026-1234", 1)
	const file = "releases/payments/2.4.0.yaml"
	runRuleCases(t, dmlRule, []ruleCase{
		{
			Name:  "accepted release with a candidate entry",
			Files: map[string]string{file: release("accepted")},
			Want: []wantDiag{{"dml/not-verified", file, 12, 16,
				"DML entry payments-api@2.4.0 is a candidate, not verified: a release at accepted deploys only verified media"}},
		},
		{
			Name: "accepted release with a verified entry",
			Files: map[string]string{
				file:                          release("accepted"),
				"dml/payments-api/2.4.0.yaml": dmlYAML("payments-api", "2.4.0", "verified"),
			},
		},
		{
			Name:  "accepted release with a withdrawn entry",
			Files: map[string]string{file: release("accepted"), "dml/payments-api/2.4.0.yaml": withdrawn},
			Want: []wantDiag{{"dml/withdrawn", file, 12, 16,
				"DML entry payments-api@2.4.0 is withdrawn (CVE-2026-1234): a release at accepted may not deploy it"}},
		},
		{
			Name:  "deploying release with a withdrawn entry",
			Files: map[string]string{file: release("deploying"), "dml/payments-api/2.4.0.yaml": withdrawn},
			Want:  []wantDiag{{"dml/withdrawn", file, 12, 16, "a release at deploying may not deploy it"}},
		},
		{
			// The entry was withdrawn after the release went out.
			Name:  "deployed release with a withdrawn entry",
			Files: map[string]string{file: release("deployed"), "dml/payments-api/2.4.0.yaml": withdrawn},
		},
		{
			Name:  "closed release with a candidate entry",
			Files: map[string]string{file: release("closed")},
		},
		{
			Name:  "closed release without its entry",
			Files: map[string]string{file: release("closed"), "dml/payments-api/2.4.0.yaml": ""},
			Want: []wantDiag{{"dml/missing", file, 12, 16,
				"component payments-api@2.4.0 has no DML entry dml/payments-api/2.4.0.yaml: a release at closed ships only what is in the DML"}},
		},
		{
			Name:  "retired release without its entry",
			Files: map[string]string{file: release("retired"), "dml/payments-api/2.4.0.yaml": ""},
			Want:  []wantDiag{{"dml/missing", file, 12, 16, "has no DML entry dml/payments-api/2.4.0.yaml"}},
		},
		{
			Name: "second component missing",
			Files: map[string]string{
				file: newRelease("payments", "2.4.0", "minor").with(func(r *fixtureRelease) {
					r.Phase = "deployed"
					r.Components = "[{name: payments-api, version: 2.4.0}, {name: payments-db, version: 2.4.0}]"
				}),
			},
			Want: []wantDiag{{"dml/missing", file, 12, 54, "component payments-db@2.4.0 has no DML entry"}},
		},
		{
			Name:  "cancelled release without its entry",
			Files: map[string]string{file: release("cancelled"), "dml/payments-api/2.4.0.yaml": ""},
		},
		{
			Name:  "testing release without its entry",
			Files: map[string]string{file: release("testing"), "dml/payments-api/2.4.0.yaml": ""},
		},
	})
}
