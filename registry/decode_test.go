package registry

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeValue must agree with encoding/json on every document shape the
// model has, including values of the wrong type, which both leave zero.
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
status: {phase: 3, review: {satisfaction: 4.5, completedAsPlanned: "yes"}}
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
