package registry

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeValue must agree with encoding/json on every document shape the
// model has, including scalars of the wrong type, which both leave zero. A
// pointer field given a value of the wrong type is where they part: see
// TestDecodeValueLeavesMismatchedPointersNil.
func TestDecodeValueAgreesWithJSON(t *testing.T) {
	docs := []string{
		`apiVersion: relreg/v1
kind: Release
metadata: {service: payments, version: 2.4.0}
spec:
  title: T
  type: minor
  risk: medium
  owner: bob
  changes: [CHG-1]
  components: [{name: api, version: 2.4.0}]
  dependsOn: [ledger@1.8.0]
  deployment: {schedule: production, window: {start: "2026-12-03T22:00:00Z", end: "2026-12-04T02:00:00Z"}, environments: [staging]}
  backout: {plan: redeploy}
status:
  phase: planned
  tests: [{name: e2e, result: passed}]
  review: {outcome: successful, completedAsPlanned: true, incidents: [INC-1], satisfaction: 4}
approvals:
  - {step: plan, by: alice, role: rm, at: "2026-11-20T10:00:00Z", digest: "sha256:00", signature: sig}
`,
		`apiVersion: relreg/v1
kind: Release
metadata: {service: 7, version: 2.10}
spec: {title: [x], changes: "CHG-1", risk: {a: 1}, components: [1, {name: 2}]}
status: {phase: 3, review: {satisfaction: 4.5, completedAsPlanned: true}}
`,
		`apiVersion: relreg/v1
kind: Schedule
metadata: {name: production}
spec:
  maxConcurrent: 2
  windows: [{name: w, weekly: {days: [thu], start: "22:00", duration: 4h}}]
  freezes: [{name: f, start: "2026-12-20T00:00:00Z", end: "2027-01-04T00:00:00Z", allow: [emergency]}]
`,
	}
	for i, src := range docs {
		n, ds := ParseYAML([]byte(src), DefaultLimits)
		if len(ds) > 0 {
			t.Fatalf("doc %d: %v", i, ds)
		}
		for _, pair := range []struct{ got, want any }{
			{&Release{}, &Release{}},
			{&Schedule{}, &Schedule{}},
		} {
			decodeValue(pair.got, n.Value)
			b, _ := json.Marshal(n.Value)
			_ = json.Unmarshal(b, pair.want)
			if !reflect.DeepEqual(pair.got, pair.want) {
				t.Errorf("doc %d: decodeValue = %+v, want %+v", i, pair.got, pair.want)
			}
		}
	}
}

// A pointer field whose value has the wrong type stays nil, where
// encoding/json would allocate an empty value: a rule that reads the field
// then sees it absent, not present and empty, and the schema rule reports
// the type.
func TestDecodeValueLeavesMismatchedPointersNil(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		get     func(s *Schedule, r *Release) any // the pointer field under test
		wantNil bool
	}{
		{
			name:    "weekly is a number",
			doc:     "spec: {windows: [{name: w, weekly: 5}]}\n",
			get:     func(s *Schedule, _ *Release) any { return s.Spec.Windows[0].Weekly },
			wantNil: true,
		},
		{
			name:    "weekly is a list",
			doc:     "spec: {windows: [{name: w, weekly: [thu]}]}\n",
			get:     func(s *Schedule, _ *Release) any { return s.Spec.Windows[0].Weekly },
			wantNil: true,
		},
		{
			name:    "weekly is a mapping",
			doc:     "spec: {windows: [{name: w, weekly: {days: [thu]}}]}\n",
			get:     func(s *Schedule, _ *Release) any { return s.Spec.Windows[0].Weekly },
			wantNil: false,
		},
		{
			name:    "weekly is an empty mapping",
			doc:     "spec: {windows: [{name: w, weekly: {}}]}\n",
			get:     func(s *Schedule, _ *Release) any { return s.Spec.Windows[0].Weekly },
			wantNil: false,
		},
		{
			name:    "review is a string",
			doc:     "status: {review: done}\n",
			get:     func(_ *Schedule, r *Release) any { return r.Status.Review },
			wantNil: true,
		},
		{
			name:    "backout is a list",
			doc:     "spec: {backout: [redeploy]}\n",
			get:     func(_ *Schedule, r *Release) any { return r.Spec.Backout },
			wantNil: true,
		},
		{
			name:    "completedAsPlanned is a string",
			doc:     "status: {review: {completedAsPlanned: \"yes\"}}\n",
			get:     func(_ *Schedule, r *Release) any { return r.Status.Review.CompletedAsPlanned },
			wantNil: true,
		},
		{
			name:    "completedAsPlanned is false",
			doc:     "status: {review: {completedAsPlanned: false}}\n",
			get:     func(_ *Schedule, r *Release) any { return r.Status.Review.CompletedAsPlanned },
			wantNil: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ds := ParseYAML([]byte(tt.doc), DefaultLimits)
			if len(ds) > 0 {
				t.Fatalf("ParseYAML: %v", ds)
			}
			var s Schedule
			var r Release
			decodeValue(&s, n.Value)
			decodeValue(&r, n.Value)
			got := tt.get(&s, &r)
			if isNil := reflect.ValueOf(got).IsNil(); isNil != tt.wantNil {
				t.Errorf("field = %#v, want nil %v", got, tt.wantNil)
			}
		})
	}
}
