package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixtures are the results every format is checked against.
var fixtures = []struct {
	name   string
	result Result
}{
	{
		name:   "valid",
		result: Result{Files: 12, Version: "1.2.3"},
	},
	{
		name: "errors",
		result: Result{Files: 42, Version: "1.2.3", Diagnostics: []registry.Diagnostic{
			{Rule: "yaml/duplicate-key", Severity: registry.SeverityError, File: "releases/ledger/1.8.0.yaml", Line: 4, Column: 3,
				Subject: "release/ledger@1.8.0", Message: `duplicate key "title" (first at line 3): remove one of them`},
			{Rule: "schema", Severity: registry.SeverityError, File: "releases/payments/2.4.0.yaml", Line: 5, Column: 3,
				Subject: "release/payments@2.4.0", Message: "missing property \"risk\""},
			{Rule: "semver/bump-mismatch", Severity: registry.SeverityError, File: "releases/payments/2.4.0.yaml", Line: 7, Column: 9,
				Subject: "release/payments@2.4.0", Message: "minor release after 2.3.1 must be 2.4.0"},
			{Rule: "layout/path", Severity: registry.SeverityError, File: "releases/payments/notes.txt",
				Message: "unexpected file: releases/payments holds only <version>.yaml files & nothing else"},
		}},
	},
	{
		name: "warnings",
		result: Result{Files: 3, Diagnostics: []registry.Diagnostic{
			{Rule: "schedule/conflict", Severity: registry.SeverityWarning, File: "schedules/production.yaml", Line: 9, Column: 7,
				Subject: "schedule/production", Message: "three releases overlap"},
		}},
	},
	{
		name: "audit",
		result: Result{Files: 5, Version: "dev", Diagnostics: []registry.Diagnostic{
			{Rule: "lifecycle/illegal-transition", Severity: registry.SeverityError, File: "releases/payments/2.4.0.yaml", Line: 30, Column: 10,
				Subject: "release/payments@2.4.0", Message: "planned -> deployed is not an edge of the lifecycle",
				Commit: "0123456789abcdef0123456789abcdef01234567"},
		}},
	},
}

var extensions = map[string]string{Text: "txt", JSON: "json", SARIF: "sarif", JUnit: "xml"}

func TestGolden(t *testing.T) {
	for _, format := range Formats {
		for _, fx := range fixtures {
			t.Run(format+"/"+fx.name, func(t *testing.T) {
				w, err := New(format)
				if err != nil {
					t.Fatalf("New(%q) error: %v", format, err)
				}
				var buf bytes.Buffer
				if err := w.Write(&buf, fx.result); err != nil {
					t.Fatalf("Write() error: %v", err)
				}
				golden := filepath.Join("testdata", fx.name+"."+extensions[format])
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./validate/output -update to create it)", err)
				}
				if got := buf.String(); got != string(want) {
					t.Errorf("Write() for %s differs from %s:\ngot:\n%s\nwant:\n%s", format, golden, got, want)
				}
			})
		}
	}
}

func TestNewUnknownFormat(t *testing.T) {
	for _, name := range []string{"yaml", "JSON", "csv"} {
		t.Run(name, func(t *testing.T) {
			_, err := New(name)
			var ufe *UnknownFormatError
			if !errors.As(err, &ufe) {
				t.Fatalf("New(%q) error = %v, want *UnknownFormatError", name, err)
			}
			if !strings.Contains(err.Error(), "text, json, sarif, junit") {
				t.Errorf("error %q does not list the formats", err)
			}
		})
	}
}

func TestJSONShape(t *testing.T) {
	tests := []struct {
		name       string
		result     Result
		wantOK     bool
		wantFields []string // keys of the first diagnostic
	}{
		{name: "valid", result: fixtures[0].result, wantOK: true},
		{name: "errors", result: fixtures[1].result, wantOK: false,
			wantFields: []string{"column", "file", "line", "message", "rule", "severity", "subject"}},
		{name: "warnings only", result: fixtures[2].result, wantOK: true,
			wantFields: []string{"column", "file", "line", "message", "rule", "severity", "subject"}},
		{name: "audit", result: fixtures[3].result, wantOK: false,
			wantFields: []string{"column", "commit", "file", "line", "message", "rule", "severity", "subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (jsonWriter{}).Write(&buf, tt.result); err != nil {
				t.Fatal(err)
			}
			var got struct {
				OK          bool                     `json:"ok"`
				Summary     map[string]int           `json:"summary"`
				Diagnostics []map[string]interface{} `json:"diagnostics"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
			}
			if got.OK != tt.wantOK {
				t.Errorf("ok = %v, want %v", got.OK, tt.wantOK)
			}
			wantSummary := map[string]int{"files": tt.result.Files, "errors": tt.result.Errors(), "warnings": tt.result.Warnings()}
			if !reflect.DeepEqual(got.Summary, wantSummary) {
				t.Errorf("summary = %v, want %v", got.Summary, wantSummary)
			}
			if got.Diagnostics == nil {
				t.Fatalf("diagnostics is null, want an array")
			}
			if len(got.Diagnostics) != len(tt.result.Diagnostics) {
				t.Fatalf("%d diagnostics, want %d", len(got.Diagnostics), len(tt.result.Diagnostics))
			}
			if len(got.Diagnostics) == 0 {
				return
			}
			var keys []string
			for k := range got.Diagnostics[0] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tt.wantFields) {
				t.Errorf("diagnostic keys = %v, want %v", keys, tt.wantFields)
			}
		})
	}
}

func TestSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := (sarifWriter{}).Write(&buf, fixtures[1].result); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with 1", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if got, want := run.Tool.Driver.Name, "relreg"; got != want {
		t.Errorf("driver name = %q, want %q", got, want)
	}
	if got, want := run.Tool.Driver.Version, "1.2.3"; got != want {
		t.Errorf("driver version = %q, want %q", got, want)
	}
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
		if r.ShortDescription == nil {
			t.Errorf("rule %s has no shortDescription", r.ID)
		}
	}
	wantIDs := []string{"layout/path", "schema", "semver/bump-mismatch", "yaml/duplicate-key"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("rules = %v, want %v", ids, wantIDs)
	}
	if len(run.Results) != 4 {
		t.Fatalf("%d results, want 4", len(run.Results))
	}
	for i, res := range run.Results {
		d := fixtures[1].result.Diagnostics[i]
		if res.RuleID != d.Rule || ids[res.RuleIndex] != d.Rule {
			t.Errorf("result %d: ruleId %q ruleIndex %d, want %q", i, res.RuleID, res.RuleIndex, d.Rule)
		}
		if res.Level != "error" || res.Message.Text != d.Message {
			t.Errorf("result %d: level %q message %q, want error %q", i, res.Level, res.Message.Text, d.Message)
		}
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation.ArtifactLocation.URI != d.File {
			t.Fatalf("result %d: locations %+v, want one at %s", i, res.Locations, d.File)
		}
		region := res.Locations[0].PhysicalLocation.Region
		switch {
		case d.Line == 0 && region != nil:
			t.Errorf("result %d: region %+v, want none for line 0", i, region)
		case d.Line > 0 && (region == nil || region.StartLine != d.Line || region.StartColumn != d.Column):
			t.Errorf("result %d: region %+v, want %d:%d", i, region, d.Line, d.Column)
		}
	}
}

func TestJUnit(t *testing.T) {
	tests := []struct {
		name         string
		result       Result
		wantCases    []string
		wantFailures int
	}{
		{name: "valid", result: fixtures[0].result, wantCases: []string{"registry"}},
		{name: "errors", result: fixtures[1].result, wantFailures: 3,
			wantCases: []string{"releases/ledger/1.8.0.yaml", "releases/payments/2.4.0.yaml", "releases/payments/notes.txt"}},
		{name: "warnings only", result: fixtures[2].result, wantCases: []string{"schedules/production.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (junitWriter{}).Write(&buf, tt.result); err != nil {
				t.Fatal(err)
			}
			var got junitSuites
			if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("output is not XML: %v\n%s", err, buf.String())
			}
			if len(got.Suites) != 1 || got.Suites[0].Name != "relreg" {
				t.Fatalf("suites = %+v, want one named relreg", got.Suites)
			}
			s := got.Suites[0]
			var names []string
			failures := 0
			for _, c := range s.Cases {
				names = append(names, c.Name)
				if c.Failure != nil {
					failures++
				}
			}
			if !slices.Equal(names, tt.wantCases) {
				t.Errorf("testcases = %v, want %v", names, tt.wantCases)
			}
			if failures != tt.wantFailures || s.Failures != tt.wantFailures || s.Tests != len(tt.wantCases) {
				t.Errorf("failures = %d (attr %d), tests attr %d; want %d failures, %d tests",
					failures, s.Failures, s.Tests, tt.wantFailures, len(tt.wantCases))
			}
		})
	}
}

func TestRuleDescriptionsCoverContract(t *testing.T) {
	// The rule ids of contract section 5.
	ids := strings.Fields(`yaml/syntax yaml/duplicate-key yaml/multiple-documents yaml/limits yaml/unsupported
		layout/path layout/extension schema
		ref/unknown-service ref/unknown-schedule ref/unknown-dependency ref/dependency-cycle
		ref/unknown-owner ref/component-not-allowed ref/change-id
		semver/invalid semver/bump-mismatch semver/unsupported
		schedule/invalid-window schedule/outside-window schedule/freeze schedule/conflict schedule/window-passed
		lifecycle/invalid-start lifecycle/illegal-transition lifecycle/gate lifecycle/frozen lifecycle/deleted
		dml/missing dml/not-verified dml/withdrawn dml/immutable dml/illegal-transition dml/deleted
		approval/unknown-approver approval/role approval/bad-signature approval/key-expired approval/key-revoked
		approval/stale approval/self-approval approval/insufficient approval/tampered
		governance/unapproved backout/missing
		history/clock-skew git/malformed-tree`)
	for _, id := range ids {
		if RuleDescriptions[id] == "" {
			t.Errorf("RuleDescriptions[%q] is missing", id)
		}
	}
	if len(RuleDescriptions) != len(ids) {
		t.Errorf("RuleDescriptions has %d entries, want the contract's %d", len(RuleDescriptions), len(ids))
	}
}

// TestSARIFWarningRule checks that history/clock-skew, the contract's one
// warning rule, is a warning in SARIF, as its rule and as its result, with
// no location (it has no file) and its commit in the message.
func TestSARIFWarningRule(t *testing.T) {
	sha := strings.Repeat("a", 40)
	r := Result{Files: 1, Diagnostics: []registry.Diagnostic{
		{Rule: "history/clock-skew", Severity: registry.SeverityWarning, Message: "committer time went back", Commit: sha},
		{Rule: "approval/insufficient", Severity: registry.SeverityError, File: "releases/p/1.0.0.yaml", Line: 3, Column: 1, Message: "missing", Commit: sha},
	}}
	var b strings.Builder
	if err := (sarifWriter{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(b.String()), &log); err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		levels[rule.ID] = rule.DefaultConfiguration.Level
	}
	if got, want := levels["history/clock-skew"], "warning"; got != want {
		t.Errorf("rule history/clock-skew level = %q, want %q", got, want)
	}
	if got, want := levels["approval/insufficient"], "error"; got != want {
		t.Errorf("rule approval/insufficient level = %q, want %q", got, want)
	}
	res := log.Runs[0].Results[0]
	if res.RuleID != "history/clock-skew" || res.Level != "warning" || len(res.Locations) != 0 || !strings.Contains(res.Message.Text, sha) {
		t.Errorf("result = %+v, want a clock-skew warning without location naming its commit", res)
	}
}

func TestJUnitEscapesCDATAEnd(t *testing.T) {
	msg := `value "]]>" & <b> is odd`
	r := Result{Files: 1, Diagnostics: []registry.Diagnostic{
		{Rule: "schema", Severity: registry.SeverityError, File: "services/x.yaml", Line: 1, Column: 1, Message: msg},
	}}
	var buf bytes.Buffer
	if err := (junitWriter{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not XML: %v\n%s", err, buf.String())
	}
	f := got.Suites[0].Cases[0].Failure
	if f == nil || !strings.Contains(f.Text, msg) || !strings.Contains(f.Message, msg) {
		t.Errorf("failure = %+v, want the message %q in text and message", f, msg)
	}
}

// SARIF locations are relative to the repository: a registry in a subfolder
// prefixes its paths so code scanning annotates the right files.
func TestSARIFRepoPrefix(t *testing.T) {
	tests := []struct {
		prefix, want string
	}{
		{"", "releases/payments/2.4.0.yaml"},
		{"registry", "registry/releases/payments/2.4.0.yaml"},
		{"ops/registry/", "ops/registry/releases/payments/2.4.0.yaml"},
		{"my registry", "my%20registry/releases/payments/2.4.0.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			res := Result{RepoPrefix: tt.prefix, Diagnostics: []registry.Diagnostic{{Rule: "schema", Severity: registry.SeverityError, File: "releases/payments/2.4.0.yaml", Line: 3, Column: 1, Message: "m"}}}
			var buf bytes.Buffer
			if err := (sarifWriter{}).Write(&buf, res); err != nil {
				t.Fatal(err)
			}
			var log sarifLog
			if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			if got := log.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != tt.want {
				t.Errorf("uri = %q, want %q", got, tt.want)
			}
		})
	}
}
