package validate

import "testing"

func TestBackoutRule(t *testing.T) {
	release := func(risk, backout string) string {
		return newRelease("payments", "2.4.0", "minor").with(func(r *fixtureRelease) {
			r.Risk = risk
			r.Backout = backout
		})
	}
	const file = "releases/payments/2.4.0.yaml"
	runRuleCases(t, backoutRule, []ruleCase{
		{
			Name:  "medium risk without backout",
			Files: map[string]string{file: release("medium", omit)},
			Want:  []wantDiag{{"backout/missing", file, 6, 1, "a medium-risk release needs a backout plan: say how to undo it in spec.backout.plan"}},
		},
		{
			Name:  "high risk with an empty plan",
			Files: map[string]string{file: release("high", `{plan: ""}`)},
			Want:  []wantDiag{{"backout/missing", file, 17, 19, "a high-risk release needs a backout plan"}},
		},
		{
			Name:  "high risk with a blank plan",
			Files: map[string]string{file: release("high", `{plan: "  "}`)},
			Want:  []wantDiag{{"backout/missing", file, 17, 19, "a high-risk release needs a backout plan"}},
		},
		{
			Name:  "medium risk with backout but no plan",
			Files: map[string]string{file: release("medium", "{}")},
			Want:  []wantDiag{{"backout/missing", file, 17, 12, "a medium-risk release needs a backout plan"}},
		},
		{
			Name:  "medium risk with a null backout",
			Files: map[string]string{file: release("medium", "null")},
			Want:  []wantDiag{{"backout/missing", file, 17, 12, "a medium-risk release needs a backout plan"}},
		},
		{
			Name:  "high risk with a plan",
			Files: map[string]string{file: release("high", "{plan: Redeploy 2.3.1}")},
		},
		{
			Name:  "low risk without backout",
			Files: map[string]string{file: release("low", omit)},
		},
		{
			Name:  "plan of the wrong type is left to the schema",
			Files: map[string]string{file: release("high", "{plan: [redeploy]}")},
		},
	})
}
