package registry

import (
	"cmp"
	"slices"
)

// Severity of a diagnostic.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one finding about a registry file. Line and Column are 1-based
// and point at the offending YAML node; both are 0 when there is no node (a
// deleted file, for example).
type Diagnostic struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Subject  string   `json:"subject,omitempty"`
	Message  string   `json:"message"`
	Commit   string   `json:"commit,omitempty"`
}

// SortDiagnostics orders diagnostics by file, line, column, rule and message,
// the order in which every output format prints them.
func SortDiagnostics(ds []Diagnostic) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
