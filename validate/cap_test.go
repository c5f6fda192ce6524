package validate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
)

// TestStaticCapsDiagnosticsPerFileAndRule: a release with 250 bad change
// ids gets the first MaxDiagnosticsPerRule of them and one diagnostic for
// the other 150, which still counts them; a release with exactly the cap
// gets no summary.
func TestStaticCapsDiagnosticsPerFileAndRule(t *testing.T) {
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("BAD-%d", i)
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	reg := loadFixture(t, map[string]string{
		"releases/payments/2.4.0.yaml": newRelease("payments", "2.4.0", "minor").with(func(r *fixtureRelease) { r.Changes = ids(250) }),
		"releases/ledger/1.8.0.yaml":   newRelease("ledger", "1.8.0", "minor").with(func(r *fixtureRelease) { r.Changes = ids(registry.MaxDiagnosticsPerRule) }),
	})
	byFile := map[string][]registry.Diagnostic{}
	for _, d := range Static(reg, Options{Now: checkTime}) {
		if d.Rule == "ref/change-id" {
			byFile[d.File] = append(byFile[d.File], d)
		}
	}
	capped := byFile["releases/payments/2.4.0.yaml"]
	if len(capped) != registry.MaxDiagnosticsPerRule+1 {
		t.Fatalf("capped file: %d ref/change-id diagnostics, want %d", len(capped), registry.MaxDiagnosticsPerRule+1)
	}
	last := capped[len(capped)-1]
	if last.Omitted != 150 || !strings.Contains(last.Message, "150 more ref/change-id diagnostics") || last.Line == 0 {
		t.Errorf("summary = %+v, want 150 omitted at a position", last)
	}
	total := 0
	for _, d := range capped {
		total += d.Count()
	}
	if total != 250 {
		t.Errorf("capped diagnostics count %d findings, want 250", total)
	}
	full := byFile["releases/ledger/1.8.0.yaml"]
	if len(full) != registry.MaxDiagnosticsPerRule || full[len(full)-1].Omitted != 0 {
		t.Errorf("file at the cap: %d diagnostics, last %+v; want %d and no summary", len(full), full[len(full)-1], registry.MaxDiagnosticsPerRule)
	}
}

// TestCapDiagnosticsMergesAcrossRules keeps other rules and files apart
// and folds a rule's own pre-counted diagnostic into the summary.
func TestCapDiagnosticsMergesAcrossRules(t *testing.T) {
	var ds []registry.Diagnostic
	for i := range 120 {
		ds = append(ds, registry.Diagnostic{Rule: "schema", Severity: registry.SeverityError, File: "a.yaml", Line: i + 1})
	}
	ds = append(ds, registry.Diagnostic{Rule: "schema", Severity: registry.SeverityError, File: "a.yaml", Line: 500, Omitted: 30})
	for i := range 5 {
		ds = append(ds, registry.Diagnostic{Rule: "layout/path", Severity: registry.SeverityError, File: "a.yaml", Line: i + 1})
		ds = append(ds, registry.Diagnostic{Rule: "schema", Severity: registry.SeverityError, File: "b.yaml", Line: i + 1})
	}
	registry.SortDiagnostics(ds)
	out := registry.CapDiagnostics(ds)
	count := map[string]int{}
	for _, d := range out {
		count[d.File+" "+d.Rule] += d.Count()
	}
	want := map[string]int{"a.yaml schema": 150, "a.yaml layout/path": 5, "b.yaml schema": 5}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("counts after the cap = %v, want %v", count, want)
	}
	if len(out) != registry.MaxDiagnosticsPerRule+1+10 {
		t.Errorf("%d diagnostics after the cap, want %d", len(out), registry.MaxDiagnosticsPerRule+11)
	}
}
