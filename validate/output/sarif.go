package output

import (
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/relreg/relreg/registry"
)

// SARIF 2.1.0, the subset GitHub code scanning reads:
// https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// HelpURI is where every rule is explained, one line each.
	HelpURI = "https://github.com/relreg/relreg#rules"
)

// RuleDescriptions gives a one-line description of every rule id of the
// contract. SARIF reports them as each rule's shortDescription.
var RuleDescriptions = map[string]string{
	"yaml/syntax":                  "The file is not valid YAML.",
	"yaml/duplicate-key":           "A mapping holds the same key twice.",
	"yaml/multiple-documents":      "The file holds more than one YAML document.",
	"yaml/limits":                  "The file is over 1 MiB, nested deeper than 64, or holds an integer beyond ±(2^53−1).",
	"yaml/unsupported":             "Anchors, aliases, merge keys and custom tags are refused.",
	"layout/path":                  "The file's path does not agree with the registry layout or with its metadata.",
	"layout/extension":             "A registry file ends in .yml instead of .yaml.",
	"schema":                       "The document does not match its kind's JSON Schema.",
	"ref/unknown-service":          "A release names a service that does not exist.",
	"ref/unknown-schedule":         "A release names a schedule that does not exist.",
	"ref/unknown-dependency":       "A release depends on a release that does not exist.",
	"ref/dependency-cycle":         "Releases depend on each other in a cycle.",
	"ref/unknown-owner":            "A release's owner is not a known approver.",
	"ref/component-not-allowed":    "A release component is not in its service's allow-list.",
	"ref/change-id":                "A change or incident id does not match the registry's pattern.",
	"semver/invalid":               "A version is not strict SemVer 2.0.0.",
	"semver/bump-mismatch":         "A release's type does not match its version bump from the previous release.",
	"semver/unsupported":           "A new release does not satisfy the service's supported constraint.",
	"schedule/invalid-window":      "A window or freeze does not start before it ends.",
	"schedule/outside-window":      "A release's deployment window is outside its schedule's windows.",
	"schedule/freeze":              "A release's deployment window overlaps a freeze.",
	"schedule/conflict":            "Too many active releases overlap in one schedule, or two of one service.",
	"schedule/window-passed":       "A release enters deploying after its window ended.",
	"lifecycle/invalid-start":      "A new release or DML entry starts in the wrong phase.",
	"lifecycle/illegal-transition": "A release moves along an edge the lifecycle does not have.",
	"lifecycle/gate":               "A condition to enter a phase is not met.",
	"lifecycle/frozen":             "A part of a document changed that may no longer change.",
	"lifecycle/deleted":            "A release was deleted or renamed.",
	"dml/missing":                  "A release names a DML entry that does not exist.",
	"dml/not-verified":             "A release at accepted or deploying names a DML entry that is not verified.",
	"dml/withdrawn":                "A release at accepted or deploying names a withdrawn DML entry.",
	"dml/immutable":                "A merged DML entry's spec changed.",
	"dml/illegal-transition":       "A DML entry moves along a state edge that does not exist.",
	"dml/deleted":                  "A DML entry was deleted or renamed.",
	"approval/unknown-approver":    "An approval names an approver that does not exist.",
	"approval/role":                "An approval's approver does not hold its role.",
	"approval/bad-signature":       "An approval's signature does not verify.",
	"approval/key-expired":         "An approval was signed with a key outside its validity.",
	"approval/key-revoked":         "An approval was signed with a revoked key.",
	"approval/stale":               "An approval the change adds signs another digest than the subject's.",
	"approval/self-approval":       "An approver approved a subject they own or changed.",
	"approval/insufficient":        "A step lacks the approvals the registry requires.",
	"approval/tampered":            "An existing approval entry was changed or removed.",
	"governance/unapproved":        "A change to relreg.yaml or approvers.yaml lacks govern approvals.",
	"backout/missing":              "A medium or high risk release has no backout plan.",
	"git/malformed-tree":           "A git tree the change reaches is one git fsck refuses: git could check out other bytes than relreg read.",
	"history/clock-skew":           "A commit's committer time is earlier than one before it on the first-parent chain (a warning).",
}

// warningRules are the rule ids whose diagnostics are warnings by default;
// every other rule is an error.
var warningRules = map[string]bool{"history/clock-skew": true}

type sarifWriter struct{}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     *sarifText   `json:"shortDescription,omitempty"`
	HelpURI              string       `json:"helpUri"`
	DefaultConfiguration *sarifLevels `json:"defaultConfiguration,omitempty"`
}

type sarifLevels struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// Write prints one SARIF log with one run. The rules list holds the rule ids
// of the diagnostics present, sorted; results keep the diagnostics' order.
// File paths are relative to the registry folder.
func (sarifWriter) Write(w io.Writer, r Result) error {
	var ids []string
	for _, d := range r.Diagnostics {
		if !slices.Contains(ids, d.Rule) {
			ids = append(ids, d.Rule)
		}
	}
	slices.Sort(ids)
	rules := make([]sarifRule, 0, len(ids))
	for _, id := range ids {
		level := "error"
		if warningRules[id] {
			level = "warning"
		}
		rule := sarifRule{ID: id, HelpURI: HelpURI, DefaultConfiguration: &sarifLevels{Level: level}}
		if desc, ok := RuleDescriptions[id]; ok {
			rule.ShortDescription = &sarifText{Text: desc}
		}
		rules = append(rules, rule)
	}
	results := make([]sarifResult, 0, len(r.Diagnostics))
	for _, d := range r.Diagnostics {
		res := sarifResult{
			RuleID:    d.Rule,
			RuleIndex: slices.Index(ids, d.Rule),
			Level:     sarifLevel(d.Severity),
			Message:   sarifText{Text: d.Message},
		}
		if d.Commit != "" {
			res.Message.Text = d.Message + " (commit " + d.Commit + ")"
		}
		if d.File != "" {
			uri := d.File
			if r.RepoPrefix != "" {
				uri = strings.TrimSuffix(r.RepoPrefix, "/") + "/" + d.File
			}
			uri = escapePath(uri)
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}}}
			if d.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Line, StartColumn: d.Column}
			}
			res.Locations = []sarifLocation{loc}
		}
		results = append(results, res)
	}
	enc := json.NewEncoder(JSONWriter(w))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "relreg",
				Version:        r.Version,
				InformationURI: "https://github.com/relreg/relreg",
				Rules:          rules,
			}},
			Results: results,
		}},
	})
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s registry.Severity) string {
	if s == registry.SeverityWarning {
		return "warning"
	}
	return "error"
}

// escapePath makes a slash-separated path a valid URI reference: each
// segment percent-encoded, so "2.4.0 copy.yaml" or "notes#1.txt" stay paths.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
