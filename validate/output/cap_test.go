package output

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/relreg/relreg/registry"
)

// TestJSONSummaryCountsCappedDiagnostics: the summary counts what a capped
// diagnostic stands for, and the diagnostic says how many it is.
func TestJSONSummaryCountsCappedDiagnostics(t *testing.T) {
	r := Result{Files: 1, Diagnostics: []registry.Diagnostic{
		{Rule: "ref/change-id", Severity: registry.SeverityError, File: "a.yaml", Line: 1, Message: "bad"},
		{Rule: "ref/change-id", Severity: registry.SeverityError, File: "a.yaml", Line: 2, Message: "41 more", Omitted: 41},
	}}
	var buf bytes.Buffer
	if err := (jsonWriter{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary     struct{ Errors int }
		Diagnostics []struct{ Omitted int }
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Errors != 42 || len(got.Diagnostics) != 2 || got.Diagnostics[1].Omitted != 41 || got.Diagnostics[0].Omitted != 0 {
		t.Errorf("summary errors %d, diagnostics %+v; want 42 errors and omitted 41 on the second", got.Summary.Errors, got.Diagnostics)
	}
}
