package validate

import (
	"strings"
	"testing"
)

func TestSemverRuleInvalid(t *testing.T) {
	base := baseRegistry()
	runRuleCases(t, semverRule, []ruleCase{
		{
			Name: "v prefix in file name and metadata",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml":  "",
				"releases/payments/v2.4.0.yaml": strings.Replace(base["releases/payments/2.4.0.yaml"], "version: 2.4.0", "version: v2.4.0", 1),
			},
			Want: []wantDiag{{"semver/invalid", "releases/payments/v2.4.0.yaml", 5, 12,
				`version "v2.4.0" in the file name is not a strict SemVer 2.0.0 version: no "v" prefix: rename the file to releases/payments/2.4.0.yaml and set metadata.version: "2.4.0"`}},
		},
		{
			Name: "v prefix in file name only",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml":  "",
				"releases/payments/v2.4.0.yaml": base["releases/payments/2.4.0.yaml"],
			},
			Want: []wantDiag{{"semver/invalid", "releases/payments/v2.4.0.yaml", 5, 12,
				`no "v" prefix: rename the file to releases/payments/2.4.0.yaml`}},
		},
		{
			Name: "metadata version with two numbers",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Version = `"1.8"`
			})},
			Want: []wantDiag{{"semver/invalid", "releases/ledger/1.8.0.yaml", 5, 12,
				`metadata.version: "1.8" is not a strict SemVer 2.0.0 version: it needs all three numbers, MAJOR.MINOR.PATCH, write 1.8.0`}},
		},
		{
			Name: "version written as a number is left to the schema",
			Files: map[string]string{"releases/ledger/1.8.0.yaml": newRelease("ledger", "1.8.0", "major").with(func(r *fixtureRelease) {
				r.Version = "1.8"
			})},
		},
		{
			Name: "DML entry version with a leading zero",
			Files: map[string]string{
				"dml/payments-api/2.4.0.yaml":  "",
				"dml/payments-api/2.04.0.yaml": dmlYAML("payments-api", "2.04.0", "candidate"),
			},
			Want: []wantDiag{{"semver/invalid", "dml/payments-api/2.04.0.yaml", 5, 12,
				`version "2.04.0" in the file name is not a strict SemVer 2.0.0 version: numbers have no leading zeros: rename the file to dml/payments-api/2.4.0.yaml and set metadata.version: "2.4.0"`}},
		},
		{
			Name: "component version with four numbers",
			Files: map[string]string{"releases/payments/2.4.0.yaml": strings.Replace(base["releases/payments/2.4.0.yaml"],
				"version: 2.4.0}", "version: 2.4.0.1}", 1)},
			Want: []wantDiag{{"semver/invalid", "releases/payments/2.4.0.yaml", 12, 46,
				`component version: "2.4.0.1" is not a strict SemVer 2.0.0 version: write MAJOR.MINOR.PATCH`}},
		},
		{
			Name: "dependency version with a v prefix",
			Files: map[string]string{"releases/payments/2.4.0.yaml": strings.Replace(base["releases/payments/2.4.0.yaml"],
				"ledger@1.8.0", "ledger@v1.8.0", 1)},
			Want: []wantDiag{{"semver/invalid", "releases/payments/2.4.0.yaml", 13, 15,
				`dependsOn ledger@v1.8.0: "v1.8.0" is not a strict SemVer 2.0.0 version: no "v" prefix, write 1.8.0`}},
		},
		{
			Name:  "supported constraint that does not parse",
			Files: map[string]string{"services/payments.yaml": serviceYAML("payments", "  supported: \">=two\"\n")},
			Want:  []wantDiag{{"semver/invalid", "services/payments.yaml", 8, 14, `spec.supported ">=two" is not a version constraint`}},
		},
		{
			Name: "pre-release and build metadata are valid",
			Files: map[string]string{
				"releases/payments/3.0.0-rc.1+build.7.yaml": newRelease("payments", "3.0.0-rc.1+build.7", "major").with(func(r *fixtureRelease) {
					r.Components = "[{name: payments-api, version: 3.0.0-rc.1}]"
				}),
			},
		},
	})
}

func TestSemverRuleBump(t *testing.T) {
	release := func(version, typ, phase string) string {
		return newRelease("payments", version, typ).with(func(r *fixtureRelease) { r.Phase = phase })
	}
	runRuleCases(t, semverRule, []ruleCase{
		{
			Name: "minor release numbered as a patch",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml": "",
				"releases/payments/2.3.2.yaml": release("2.3.2", "minor", "planned"),
			},
			Want: []wantDiag{{"semver/bump-mismatch", "releases/payments/2.3.2.yaml", 8, 9,
				"minor release after 2.3.1 must be 2.4.0, not 2.3.2: renumber the release, or set type: patch"}},
		},
		{
			Name: "minor release that skips a version",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml": "",
				"releases/payments/2.6.0.yaml": release("2.6.0", "minor", "planned"),
			},
			Want: []wantDiag{{"semver/bump-mismatch", "releases/payments/2.6.0.yaml", 8, 9,
				"minor release after 2.3.1 must be 2.4.0, not 2.6.0: renumber the release"}},
		},
		{
			Name: "patch after a cancelled release counts from the cancelled one",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml": release("2.4.0", "minor", "cancelled"),
				"releases/payments/2.4.1.yaml": release("2.4.1", "patch", "planned"),
			},
		},
		{
			Name: "minor after a cancelled release counts from the cancelled one",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml": release("2.4.0", "minor", "cancelled"),
				"releases/payments/2.4.1.yaml": release("2.4.1", "minor", "planned"),
			},
			Want: []wantDiag{{"semver/bump-mismatch", "releases/payments/2.4.1.yaml", 8, 9,
				"minor release after 2.4.0 must be 2.5.0, not 2.4.1: renumber the release, or set type: patch"}},
		},
		{
			Name: "release candidates and the final release share the previous release",
			Files: map[string]string{
				"releases/payments/3.0.0-rc.1.yaml": release("3.0.0-rc.1", "major", "cancelled"),
				"releases/payments/3.0.0-rc.2.yaml": release("3.0.0-rc.2", "major", "closed"),
				"releases/payments/3.0.0.yaml":      release("3.0.0", "major", "planned"),
				"releases/payments/3.0.1.yaml":      release("3.0.1", "emergency", "planned"),
			},
		},
		{
			Name: "pre-release compared on its core",
			Files: map[string]string{
				"releases/payments/3.0.0-rc.1.yaml": release("3.0.0-rc.1", "minor", "planned"),
				"releases/payments/3.0.0.yaml":      release("3.0.0", "minor", "planned"),
			},
			Want: []wantDiag{
				{"semver/bump-mismatch", "releases/payments/3.0.0-rc.1.yaml", 8, 9,
					"minor release after 2.4.0 must be 2.5.0, not 3.0.0-rc.1 (core 3.0.0): renumber the release, or set type: major"},
				{"semver/bump-mismatch", "releases/payments/3.0.0.yaml", 8, 9,
					"minor release after 2.4.0 must be 2.5.0, not 3.0.0: renumber the release, or set type: major"},
			},
		},
		{
			Name: "pre-releases that differ only in case",
			Files: map[string]string{
				"releases/payments/2.5.0-RC.1.yaml": release("2.5.0-RC.1", "minor", "planned"),
				"releases/payments/2.5.0-rc.1.yaml": release("2.5.0-rc.1", "minor", "planned"),
			},
			Want: []wantDiag{{"semver/invalid", "releases/payments/2.5.0-rc.1.yaml", 5, 12,
				"version 2.5.0-rc.1 is the same version as 2.5.0-RC.1 (releases/payments/2.5.0-RC.1.yaml): pre-release identifiers that differ only in case name the same release to a person; give this release a version of its own"}},
		},
		{
			Name: "versions that differ only in build metadata",
			Files: map[string]string{
				"releases/payments/2.5.0+a.yaml": release("2.5.0+a", "minor", "planned"),
				"releases/payments/2.5.0+b.yaml": release("2.5.0+b", "minor", "planned"),
			},
			Want: []wantDiag{{"semver/invalid", "releases/payments/2.5.0+b.yaml", 5, 12,
				"version 2.5.0+b is the same version as 2.5.0+a (releases/payments/2.5.0+a.yaml): build metadata does not count in SemVer precedence; give this release a version of its own"}},
		},
		{
			Name: "distinct pre-releases and a final release of one core",
			Files: map[string]string{
				"releases/payments/2.5.0-rc.1.yaml": release("2.5.0-rc.1", "minor", "cancelled"),
				"releases/payments/2.5.0-rc.2.yaml": release("2.5.0-rc.2", "minor", "cancelled"),
				"releases/payments/2.5.0.yaml":      release("2.5.0", "minor", "planned"),
			},
		},
		{
			Name: "release after a pre-release-only version",
			Files: map[string]string{
				"releases/payments/3.0.0-rc.1.yaml": release("3.0.0-rc.1", "major", "cancelled"),
				"releases/payments/3.1.0.yaml":      release("3.1.0", "patch", "planned"),
			},
			Want: []wantDiag{{"semver/bump-mismatch", "releases/payments/3.1.0.yaml", 8, 9,
				"patch release after 3.0.0-rc.1 must be 3.0.1, not 3.1.0: renumber the release, or set type: minor"}},
		},
		{
			Name: "first release of a service may be any version",
			Files: map[string]string{
				"services/billing.yaml":       serviceYAML("billing", ""),
				"releases/billing/7.3.2.yaml": newRelease("billing", "7.3.2", "patch").YAML(),
			},
		},
		{
			Name: "a lower release added later renumbers nothing above it",
			Files: map[string]string{
				"releases/payments/2.3.2.yaml": release("2.3.2", "emergency", "deployed"),
			},
		},
		{
			Name: "unknown type is left to the schema",
			Files: map[string]string{
				"releases/payments/2.4.0.yaml": "",
				"releases/payments/2.6.0.yaml": release("2.6.0", "hotfix", "planned"),
			},
		},
	})
}

func TestSemverRuleUnsupported(t *testing.T) {
	payments := func(supported string) string {
		return serviceYAML("payments", "  supported: \""+supported+"\"\n  components: [payments-api, payments-db]\n")
	}
	release := func(version, typ, phase string) string {
		return newRelease("payments", version, typ).with(func(r *fixtureRelease) { r.Phase = phase })
	}
	runRuleCases(t, semverRule, []ruleCase{
		{
			Name:  "planned release below the supported range",
			Files: map[string]string{"services/payments.yaml": payments(">=2.5.0")},
			Want: []wantDiag{{"semver/unsupported", "releases/payments/2.4.0.yaml", 5, 12,
				`version 2.4.0 is outside the supported range ">=2.5.0" of service payments (services/payments.yaml): release a supported version, or change spec.supported there`}},
		},
		{
			Name: "draft release below the supported range",
			Files: map[string]string{
				"services/payments.yaml":       payments(">=2.5.0"),
				"releases/payments/2.4.0.yaml": release("2.4.0", "minor", "draft"),
			},
			Want: []wantDiag{{"semver/unsupported", "releases/payments/2.4.0.yaml", 5, 12, `version 2.4.0 is outside the supported range ">=2.5.0"`}},
		},
		{
			Name: "release past planned is not judged",
			Files: map[string]string{
				"services/payments.yaml":       payments(">=2.5.0"),
				"releases/payments/2.4.0.yaml": release("2.4.0", "minor", "building"),
			},
		},
		{
			// Masterminds/semver alone would refuse 3.0.0-rc.1 for >=2.4.0.
			Name: "pre-release judged by its core",
			Files: map[string]string{
				"services/payments.yaml":            payments(">=2.4.0"),
				"releases/payments/3.0.0-rc.1.yaml": release("3.0.0-rc.1", "major", "draft"),
			},
		},
		{
			Name: "pre-release whose core is outside the range",
			Files: map[string]string{
				"services/payments.yaml":            payments("<3.0.0"),
				"releases/payments/3.0.0-rc.1.yaml": release("3.0.0-rc.1", "major", "draft"),
			},
			Want: []wantDiag{{"semver/unsupported", "releases/payments/3.0.0-rc.1.yaml", 5, 12, `version 3.0.0-rc.1 is outside the supported range "<3.0.0"`}},
		},
	})
}
