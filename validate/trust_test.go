package validate

import (
	"slices"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
)

// TestChangeTrustFromTip checks that ChangeInput.Trust, not Base, says who
// may approve: a role or key the tip took away no longer counts, and a nil
// Trust falls back to Base.
func TestChangeTrustFromTip(t *testing.T) {
	const rel = "releases/payments/1.0.0.yaml"
	tests := []struct {
		name string
		tip  func(w *world) // edits a copy of the base into the trust tip; nil: no Trust
		want []ruleAt
		msg  string
	}{
		{name: "no trust tip: the base's trust"},
		{name: "tip as the base", tip: func(w *world) {}},
		{
			name: "tip took the role away",
			tip: func(w *world) {
				w.edit("approvers.yaml", "roles: [release-manager, registry-admin]", "roles: [registry-admin]")
			},
			want: []ruleAt{{"approval/insufficient", rel}},
			msg:  "alice does not hold role release-manager at the base",
		},
		{
			name: "tip revoked the key",
			tip: func(w *world) {
				w.set("approvers.yaml", strings.Replace(w.approversYAML("alice", "bob", "carol", "dave"), "\n    - id: bob", "\n          revoked: true\n    - id: bob", 1))
			},
			want: []ruleAt{{"approval/insufficient", rel}},
			msg:  "is revoked",
		},
		{
			name: "tip raised the requirement",
			tip: func(w *world) {
				w.edit("relreg.yaml", "plan: {low: [{role: release-manager, count: 1}]", "plan: {low: [{role: release-manager, count: 2}]")
			},
			want: []ruleAt{{"approval/insufficient", rel}},
			msg:  "1 more release-manager",
		},
		{
			name: "tip's relreg.yaml cannot be read: fail closed",
			tip:  func(w *world) { w.set("relreg.yaml", "apiVersion: relreg/v1\nkind: [\n") },
			want: []ruleAt{{"approval/insufficient", rel}},
			msg:  "relreg.yaml cannot be read at the base",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			base := w.snapshot()
			in := ChangeInput{Base: load(t, base), Now: checkTime}
			if tt.tip != nil {
				tw := &world{t: t, people: w.people, files: w.snapshot()}
				tt.tip(tw)
				in.Trust = load(t, tw.files)
			}
			w.set(rel, chgRelease("1.0.0", "planned", window1))
			w.approve(rel, "plan", "alice", "release-manager")
			in.Head = load(t, w.files)
			ds := Change(in)
			if got := rulesOf(ds); !slices.Equal(got, tt.want) {
				t.Fatalf("rules = %v, want %v\n%v", got, tt.want, ds)
			}
			if tt.msg != "" && !strings.Contains(ds[0].Message, tt.msg) {
				t.Errorf("message = %q, want it to say %q", ds[0].Message, tt.msg)
			}
		})
	}
}

// TestChangeEarlierApprovals checks that approval entries the base already
// had, over an older digest, are no error and do not count, while a stale
// entry the change adds is approval/stale.
func TestChangeEarlierApprovals(t *testing.T) {
	const sched = "schedules/production.yaml"
	tests := []struct {
		name string
		head func(w *world)
		want []ruleAt
		msg  []string // each said by one of the diagnostics
	}{
		{
			name: "fresh approval beside the earlier one",
			head: func(w *world) {
				w.edit(sched, "maxConcurrent: 2", "maxConcurrent: 3")
				w.approve(sched, "schedule", "carol", "service-owner")
			},
		},
		{
			name: "earlier approval alone",
			head: func(w *world) { w.edit(sched, "maxConcurrent: 2", "maxConcurrent: 3") },
			want: []ruleAt{{"approval/insufficient", sched}},
			msg:  []string{"schedule approvals missing: 1 more service-owner; 1 earlier approval signs an older digest and does not count; sign with"},
		},
		{
			name: "added entry over an older digest",
			head: func(w *world) {
				w.edit(sched, "maxConcurrent: 2", "maxConcurrent: 3")
				w.approve(sched, "schedule", "carol", "service-owner")
				w.edit(sched, "maxConcurrent: 3", "maxConcurrent: 4")
			},
			want: []ruleAt{{"approval/insufficient", sched}, {"approval/stale", sched}},
			msg: []string{
				"1 earlier approval signs an older digest and does not count (not counted: carol's approval added in this change signs another digest)",
				"added in this change, signs sha256:",
				"remove this entry, then ask carol to sign again",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.approve(sched, "schedule", "carol", "service-owner")
			base := w.snapshot()
			tt.head(w)
			ds := change(t, base, w.files, nil)
			if got := rulesOf(ds); !slices.Equal(got, tt.want) {
				t.Fatalf("rules = %v, want %v\n%v", got, tt.want, ds)
			}
			for _, m := range tt.msg {
				if !slices.ContainsFunc(ds, func(d registry.Diagnostic) bool { return strings.Contains(d.Message, m) }) {
					t.Errorf("no diagnostic says %q:\n%v", m, ds)
				}
			}
		})
	}
}
