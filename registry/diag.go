package registry

import (
	"cmp"
	"fmt"
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
	// Omitted is, on the one diagnostic that stands for those a cap left
	// out (CapDiagnostics), how many it stands for; 0 on every other.
	Omitted int `json:"omitted,omitempty"`
}

// Count is how many findings a diagnostic stands for: itself, or the
// diagnostics a cap left out.
func (d Diagnostic) Count() int { return max(d.Omitted, 1) }

// CapDiagnostics keeps, of sorted diagnostics, the first
// MaxDiagnosticsPerRule of each rule on each file (and commit), and puts
// in place of the rest one diagnostic at the first left out that says
// how many there are (Omitted). It keeps the order; ds is reused.
func CapDiagnostics(ds []Diagnostic) []Diagnostic {
	type key struct{ file, rule, commit string }
	var seen map[key]int
	var summaries map[key]int // index in out of the diagnostic standing for the rest
	out := ds[:0]
	for _, d := range ds {
		k := key{d.File, d.Rule, d.Commit}
		if seen == nil {
			seen, summaries = map[key]int{}, map[key]int{}
		}
		seen[k] += d.Count()
		if seen[k] <= MaxDiagnosticsPerRule && d.Omitted == 0 {
			out = append(out, d)
			continue
		}
		if i, ok := summaries[k]; ok {
			out[i].Omitted += d.Count()
			if d.Severity == SeverityError {
				out[i].Severity = SeverityError
			}
			continue
		}
		d.Omitted = d.Count()
		summaries[k] = len(out)
		out = append(out, d)
	}
	for _, i := range summaries {
		d := &out[i]
		d.Message = fmt.Sprintf("%d more %s diagnostics on this file, from here on, are not shown (at most %d of a rule on a file are): fix the ones shown and run again",
			d.Omitted, d.Rule, MaxDiagnosticsPerRule)
	}
	return out
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
