package validate

import (
	"fmt"
	"strings"

	"github.com/relreg/relreg/registry"
)

// backoutRule checks that releases of risk medium and high say how to undo
// them in spec.backout.plan (backout/missing). The diagnostic points at the
// empty plan, at spec.backout when it has no plan, or at the spec key when
// there is no backout at all.
func backoutRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for _, rel := range sortedReleases(reg, opts.perFileScope()) {
		d := rel.Doc
		risk, _ := stringAt(d, "spec", "risk")
		if risk != "medium" && risk != "high" {
			continue
		}
		if v, _ := valueAt(d, "spec", "backout", "plan"); v != nil {
			if plan, isStr := v.(string); !isStr || strings.TrimSpace(plan) != "" {
				continue // a plan, or a wrong type the schema reports
			}
		}
		if v, ok := valueAt(d, "spec", "backout"); ok && v != nil {
			if _, isMap := v.(map[string]any); !isMap {
				continue // schema
			}
		}
		msg := fmt.Sprintf("a %s-risk release needs a backout plan: say how to undo it in spec.backout.plan", risk)
		if _, ok := valueAt(d, "spec", "backout"); ok {
			ds = append(ds, d.Diag("backout/missing", msg, "spec", "backout", "plan"))
			continue
		}
		line, col := d.KeyPos("spec")
		diag := d.Diag("backout/missing", msg)
		diag.Line, diag.Column = line, col
		ds = append(ds, diag)
	}
	return ds
}
