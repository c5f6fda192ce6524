package validate

import (
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
)

// TestEditsSpecOrStatus pins what counts as an edit for segregation of
// duties, the one test check, audit and the pre-receive hook share.
func TestEditsSpecOrStatus(t *testing.T) {
	w := newWorld(t)
	const rel = "releases/payments/1.0.0.yaml"
	planned := chgRelease("1.0.0", "planned", window1)
	w.set(rel, planned)
	w.approve(rel, "plan", "alice", "release-manager")
	approved := w.get(rel)
	tests := []struct {
		name          string
		before, after string // "" is an absent file
		want          bool
	}{
		{name: "same bytes", before: planned, after: planned, want: false},
		{name: "only an approval added", before: planned, after: approved, want: false},
		{name: "comment and layout", before: planned, after: "# a comment\n" + strings.Replace(planned, "title: Release 1.0.0", "title:   'Release 1.0.0'", 1), want: false},
		{name: "spec changed", before: planned, after: strings.Replace(planned, "title: Release 1.0.0", "title: Other", 1), want: true},
		{name: "status changed", before: planned, after: strings.Replace(planned, "phase: planned", "phase: building", 1), want: true},
		{name: "status changed with an approval", before: planned, after: strings.Replace(approved, "phase: planned", "phase: building", 1), want: true},
		{name: "added", before: "", after: planned, want: true},
		{name: "deleted", before: planned, after: "", want: true},
		{name: "unparseable after", before: planned, after: planned + "spec: again\n", want: true},
		{name: "unparseable before", before: "spec: [\n", after: planned, want: true},
		{name: "not a mapping", before: "- a\n", after: "- a\n", want: true},
	}
	parse := func(s string) *registry.Node {
		if s == "" {
			return nil
		}
		n, _ := registry.ParseYAML([]byte(s), registry.DefaultLimits)
		return n
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := editsSpecOrStatus(parse(tt.before), parse(tt.after)); got != tt.want {
				t.Errorf("editsSpecOrStatus() = %v, want %v", got, tt.want)
			}
		})
	}
}
