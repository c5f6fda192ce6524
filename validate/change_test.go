package validate

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
)

// A change-rule fixture: a tiny registry with three approvers whose keys are
// generated for the test, and helpers to sign approvals for real.

type person struct {
	id, email string
	roles     []string
	signer    ssh.Signer
}

func newPerson(t *testing.T, id string, roles ...string) *person {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &person{id: id, email: id + "@example.com", roles: roles, signer: s}
}

func (p *person) yaml() string {
	return fmt.Sprintf("    - id: %s\n      name: %s\n      email: %s\n      roles: [%s]\n      keys:\n        - key: %s",
		p.id, p.id, p.email, strings.Join(p.roles, ", "), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(p.signer.PublicKey()))))
}

const testRegistryYAML = `apiVersion: relreg/v1
kind: Registry
metadata:
  name: test-registry
spec:
  approvals:
    plan: {low: [{role: release-manager, count: 1}], medium: [{role: release-manager, count: 1}, {role: cab, count: 1}], high: [{role: release-manager, count: 1}, {role: cab, count: 2}]}
    build: {low: [{role: release-manager, count: 1}], medium: [{role: release-manager, count: 1}], high: [{role: release-manager, count: 1}]}
    accept: {low: [{role: release-manager, count: 1}], medium: [{role: release-manager, count: 1}], high: [{role: release-manager, count: 1}]}
    deploy: {low: [{role: release-manager, count: 1}], medium: [{role: release-manager, count: 1}], high: [{role: release-manager, count: 1}]}
    verify: [{role: release-manager, count: 1}]
    schedule: [{role: service-owner, count: 1}]
    govern: [{role: registry-admin, count: 1}]
`

type world struct {
	t      *testing.T
	people map[string]*person
	files  fstest.MapFS
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, people: map[string]*person{}, files: fstest.MapFS{}}
	for _, p := range []*person{
		newPerson(t, "alice", "release-manager", "registry-admin"),
		newPerson(t, "bob", "release-manager", "cab"),
		newPerson(t, "carol", "cab", "service-owner"),
		newPerson(t, "dave", "developer"),
	} {
		w.people[p.id] = p
	}
	w.set("relreg.yaml", testRegistryYAML)
	w.set("approvers.yaml", w.approversYAML("alice", "bob", "carol", "dave"))
	w.set("services/payments.yaml", "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: payments\nspec:\n  title: Payments\n  owner: team-payments\n")
	w.set("schedules/production.yaml", "apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: production\nspec:\n  environment: production\n  timezone: UTC\n  maxConcurrent: 2\n")
	w.set("dml/payments-api/1.0.0.yaml", chgDML("1.0.0", "candidate"))
	return w
}

func (w *world) approversYAML(ids ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n")
	for _, id := range ids {
		b.WriteString(w.people[id].yaml() + "\n")
	}
	return b.String()
}

func chgDML(version, state string) string {
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: DMLEntry
metadata:
  component: payments-api
  version: %s
spec:
  artifacts:
    - name: payments-api.tar.gz
      uri: https://artifacts.example.com/payments-api.tar.gz
      digest: sha256:%s
      size: 1024
status:
  state: %s
`, version, strings.Repeat("ab", 32), state)
}

// chgRelease is a low-risk release of payments at a phase, with a status
// that satisfies every gate up to that phase.
func chgRelease(version, phase, window string) string {
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: Release
metadata:
  service: payments
  version: %s
spec:
  title: Release %s
  type: minor
  risk: low
  owner: dave
  changes: [CHG-1]
  components:
    - {name: payments-api, version: 1.0.0}
  deployment:
    schedule: production
    window: %s
status:
  phase: %s
  tests: [{name: e2e, result: passed}]
  verification: {result: passed}
  backout: {executedAt: "2026-12-01T23:00:00Z"}
  review: {outcome: successful}
`, version, version, window, phase)
}

const window1 = "{start: 2026-12-01T22:00:00Z, end: 2026-12-02T02:00:00Z}"

func (w *world) set(path, content string) { w.files[path] = &fstest.MapFile{Data: []byte(content)} }

func (w *world) get(path string) string { return string(w.files[path].Data) }

// edit replaces the first old in a file with new; a fixture that no longer
// holds old fails the test instead of silently changing nothing.
func (w *world) edit(path, old, new string) {
	w.t.Helper()
	s := w.get(path)
	if !strings.Contains(s, old) {
		w.t.Fatalf("edit %s: %q not found", path, old)
	}
	w.set(path, strings.Replace(s, old, new, 1))
}

func (w *world) snapshot() fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range w.files {
		out[k] = &fstest.MapFile{Data: append([]byte(nil), v.Data...)}
	}
	return out
}

func load(t *testing.T, fsys fstest.MapFS) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(fsys, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// approve signs the current content of path as person by for step and
// appends the approval to the file, as 'relreg approve' does.
func (w *world) approve(path, step, by, role string) {
	w.t.Helper()
	reg := load(w.t, w.files)
	var doc *registry.Document
	for _, d := range reg.Files {
		if d.Path == path {
			doc = d
		}
	}
	if doc == nil || doc.Node == nil {
		w.t.Fatalf("approve: no parsed %s", path)
	}
	digest, err := doc.Digest()
	if err != nil {
		w.t.Fatal(err)
	}
	a := registry.Approval{Step: step, By: by, Role: role, At: "2026-11-20T10:00:00Z", Digest: digest}
	sig, err := registry.Sign(w.people[by].signer, registry.Payload("test-registry", doc.Subject(), a))
	if err != nil {
		w.t.Fatal(err)
	}
	a.Signature = string(sig)
	out, err := registry.AppendApproval(w.files[path].Data, a)
	if err != nil {
		w.t.Fatal(err)
	}
	w.files[path].Data = out
}

var checkTime = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type ruleAt struct{ rule, file string }

func change(t *testing.T, base, head fstest.MapFS, authors map[string][]string) []registry.Diagnostic {
	t.Helper()
	return Change(ChangeInput{Base: load(t, base), Head: load(t, head), Now: checkTime, Authors: authors})
}

func rulesOf(ds []registry.Diagnostic) []ruleAt {
	var out []ruleAt
	for _, d := range ds {
		out = append(out, ruleAt{d.Rule, d.File})
	}
	return out
}

func TestChangeRules(t *testing.T) {
	const rel = "releases/payments/1.0.0.yaml"
	const dml = "dml/payments-api/1.0.0.yaml"
	tests := []struct {
		name string
		// base prepares the base; head edits a copy of it into the head.
		base, head func(w *world)
		authors    map[string][]string
		want       []ruleAt
	}{
		{
			name: "new draft release",
			head: func(w *world) { w.set(rel, chgRelease("1.0.0", "draft", window1)) },
		},
		{
			// The file whose path sorts later is reported, here the one
			// already at the base: the change still answers for it.
			name: "new release of the same precedence as an existing one",
			base: func(w *world) { w.set("releases/payments/1.0.0+b.yaml", chgRelease("1.0.0+b", "draft", window1)) },
			head: func(w *world) {
				w.set("releases/payments/1.0.0+a.yaml", chgRelease("1.0.0+a", "draft", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"))
			},
			want: []ruleAt{{"semver/invalid", "releases/payments/1.0.0+b.yaml"}},
		},
		{
			name: "new planned release with plan approval",
			head: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
		},
		{
			name: "new planned release without approvals",
			head: func(w *world) { w.set(rel, chgRelease("1.0.0", "planned", window1)) },
			want: []ruleAt{{"approval/insufficient", rel}},
		},
		{
			name: "new release may not start at building",
			head: func(w *world) { w.set(rel, chgRelease("1.0.0", "building", window1)) },
			want: []ruleAt{{"lifecycle/invalid-start", rel}},
		},
		{
			name: "owner may not approve",
			head: func(w *world) {
				w.set(rel, strings.Replace(chgRelease("1.0.0", "planned", window1), "owner: dave", "owner: bob", 1))
				w.approve(rel, "plan", "bob", "release-manager")
			},
			want: []ruleAt{{"approval/insufficient", rel}, {"approval/self-approval", rel}},
		},
		{
			name: "author of the change may not approve",
			head: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			authors: map[string][]string{rel: {"alice@example.com"}},
			want:    []ruleAt{{"approval/insufficient", rel}, {"approval/self-approval", rel}},
		},
		{
			name: "approver added in the same change does not count",
			base: func(w *world) { w.set("approvers.yaml", w.approversYAML("bob", "carol", "dave")) },
			head: func(w *world) {
				w.set("approvers.yaml", w.approversYAML("alice", "bob", "carol", "dave"))
				w.approve("approvers.yaml", "govern", "alice", "registry-admin")
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			want: []ruleAt{{"governance/unapproved", "approvers.yaml"}, {"approval/insufficient", rel}},
		},
		{
			name: "a base whose relreg.yaml cannot be read approves nothing",
			base: func(w *world) {
				w.set("relreg.yaml", strings.Replace(testRegistryYAML, "spec:\n", "spec:\n  changePattern: a\n  changePattern: b\n", 1))
			},
			head: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			want: []ruleAt{{"approval/insufficient", rel}},
		},
		{
			name: "an approver without email cannot be ruled out as an author",
			base: func(w *world) {
				w.edit("approvers.yaml", "email: alice@example.com\n", "")
			},
			head: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			authors: map[string][]string{rel: {"someone@example.com"}},
			want:    []ruleAt{{"approval/insufficient", rel}},
		},
		{
			name: "stale approval",
			head: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
				w.edit(rel, "title: Release 1.0.0", "title: Changed after signing")
			},
			want: []ruleAt{{"approval/insufficient", rel}, {"approval/stale", rel}},
		},
		{
			name: "planned to building with build approval",
			base: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			head: func(w *world) {
				w.edit(rel, "phase: planned", "phase: building")
				w.approve(rel, "build", "bob", "release-manager")
			},
		},
		{
			name: "skipping to accepted needs every gate on the way",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "planned", window1)) },
			head: func(w *world) {
				w.edit(rel, "phase: planned", "phase: accepted")
			},
			// build and accept approvals missing, component not verified
			want: []ruleAt{{"dml/not-verified", rel}, {"lifecycle/gate", rel}, {"approval/insufficient", rel}, {"approval/insufficient", rel}},
		},
		{
			name: "illegal transition",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "deployed", window1)) },
			head: func(w *world) { w.edit(rel, "phase: deployed", "phase: testing") },
			want: []ruleAt{{"lifecycle/illegal-transition", rel}},
		},
		{
			name: "editing a closed release",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "closed", window1)) },
			head: func(w *world) { w.edit(rel, "outcome: successful", "outcome: failed") },
			want: []ruleAt{{"lifecycle/frozen", rel}},
		},
		{
			name: "closed to retired",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "closed", window1)) },
			head: func(w *world) { w.edit(rel, "phase: closed", "phase: retired") },
		},
		{
			name: "reschedule at accepted",
			base: func(w *world) {
				w.set(dml, chgDML("1.0.0", "verified"))
				w.set(rel, chgRelease("1.0.0", "accepted", window1))
			},
			head: func(w *world) {
				w.edit(rel, "2026-12-02T02:00:00Z", "2026-12-02T03:00:00Z")
			},
		},
		{
			name: "component change at accepted",
			base: func(w *world) {
				w.set(dml, chgDML("1.0.0", "verified"))
				w.set(rel, chgRelease("1.0.0", "accepted", window1))
			},
			head: func(w *world) {
				w.edit(rel, "{name: payments-api, version: 1.0.0}", "{name: payments-api, version: 1.0.1}")
			},
			want: []ruleAt{{"lifecycle/frozen", rel}, {"dml/missing", rel}},
		},
		{
			name: "deleting a release",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "draft", window1)) },
			head: func(w *world) { delete(w.files, rel) },
			want: []ruleAt{{"lifecycle/deleted", rel}},
		},
		{
			name: "deleting a DML entry",
			head: func(w *world) { delete(w.files, dml) },
			want: []ruleAt{{"dml/deleted", dml}},
		},
		{
			name: "changing a DML digest",
			head: func(w *world) { w.edit(dml, "sha256:abab", "sha256:cdab") },
			want: []ruleAt{{"dml/immutable", dml}},
		},
		{
			name: "DML verified with approval",
			head: func(w *world) {
				w.edit(dml, "state: candidate", "state: verified")
				w.approve(dml, "verify", "bob", "release-manager")
			},
		},
		{
			name: "new DML entry may not start withdrawn",
			head: func(w *world) {
				w.set("dml/payments-api/2.0.0.yaml", strings.Replace(chgDML("2.0.0", "withdrawn"), "state: withdrawn", "state: withdrawn\n  reason: never built", 1))
			},
			want: []ruleAt{{"lifecycle/invalid-start", "dml/payments-api/2.0.0.yaml"}},
		},
		{
			name: "new DML entry verified without approval",
			head: func(w *world) { w.set("dml/payments-api/2.0.0.yaml", chgDML("2.0.0", "verified")) },
			want: []ruleAt{{"approval/insufficient", "dml/payments-api/2.0.0.yaml"}},
		},
		{
			name: "DML verified back to candidate",
			base: func(w *world) { w.set(dml, chgDML("1.0.0", "verified")) },
			head: func(w *world) { w.set(dml, chgDML("1.0.0", "candidate")) },
			want: []ruleAt{{"dml/illegal-transition", dml}},
		},
		{
			name: "removing an approval",
			base: func(w *world) {
				w.set(rel, chgRelease("1.0.0", "planned", window1))
				w.approve(rel, "plan", "alice", "release-manager")
			},
			head: func(w *world) { w.set(rel, chgRelease("1.0.0", "planned", window1)) },
			want: []ruleAt{{"approval/tampered", rel}},
		},
		{
			name: "schedule change needs approval",
			head: func(w *world) {
				w.edit("schedules/production.yaml", "maxConcurrent: 2", "maxConcurrent: 3")
			},
			want: []ruleAt{{"approval/insufficient", "schedules/production.yaml"}},
		},
		{
			name: "deleting a schedule",
			head: func(w *world) { delete(w.files, "schedules/production.yaml") },
			want: []ruleAt{{"approval/insufficient", "schedules/production.yaml"}},
		},
		{
			name: "schedule change approved",
			head: func(w *world) {
				w.edit("schedules/production.yaml", "maxConcurrent: 2", "maxConcurrent: 3")
				w.approve("schedules/production.yaml", "schedule", "carol", "service-owner")
			},
		},
		{
			name: "policy change without govern approval",
			head: func(w *world) { w.edit("relreg.yaml", "count: 2", "count: 1") },
			want: []ruleAt{{"governance/unapproved", "relreg.yaml"}},
		},
		{
			name: "policy change with govern approval",
			head: func(w *world) {
				w.edit("relreg.yaml", "count: 2", "count: 1")
				w.approve("relreg.yaml", "govern", "alice", "registry-admin")
			},
		},
		{
			name: "a key line's comment may change",
			head: func(w *world) {
				line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(w.people["bob"].signer.PublicKey())))
				w.edit("approvers.yaml", line, line+" bob@new-laptop")
				w.approve("approvers.yaml", "govern", "alice", "registry-admin")
			},
		},
		{
			name: "an approver may not be removed",
			head: func(w *world) {
				w.set("approvers.yaml", w.approversYAML("alice", "bob", "dave"))
				w.approve("approvers.yaml", "govern", "alice", "registry-admin")
			},
			want: []ruleAt{{"lifecycle/frozen", "approvers.yaml"}},
		},
		{
			name: "renaming the registry",
			head: func(w *world) {
				w.edit("relreg.yaml", "name: test-registry", "name: other")
			},
			want: []ruleAt{{"lifecycle/frozen", "relreg.yaml"}},
		},
		{
			name: "deploying after the window",
			base: func(w *world) {
				w.set(dml, chgDML("1.0.0", "verified"))
				w.set(rel, chgRelease("1.0.0", "accepted", "{start: 2026-11-01T22:00:00Z, end: 2026-11-02T02:00:00Z}"))
			},
			head: func(w *world) {
				w.edit(rel, "phase: accepted", "phase: deploying")
				w.approve(rel, "deploy", "alice", "release-manager")
			},
			want: []ruleAt{{"schedule/window-passed", rel}},
		},
		{
			name: "deploying while another release of the service deploys",
			base: func(w *world) {
				w.set(dml, chgDML("1.0.0", "verified"))
				w.set(rel, chgRelease("1.0.0", "accepted", window1))
				w.set("releases/payments/1.1.0.yaml", chgRelease("1.1.0", "deploying", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"))
			},
			head: func(w *world) {
				w.edit(rel, "phase: accepted", "phase: deploying")
				w.approve(rel, "deploy", "alice", "release-manager")
			},
			want: []ruleAt{{"lifecycle/gate", rel}},
		},
		{
			name: "deploying before a dependency is deployed",
			base: func(w *world) {
				w.set(dml, chgDML("1.0.0", "verified"))
				w.set(rel, chgRelease("1.0.0", "accepted", window1))
				w.set("releases/payments/1.1.0.yaml", strings.Replace(chgRelease("1.1.0", "accepted", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"), "  changes: [CHG-1]", "  changes: [CHG-1]\n  dependsOn: [payments@1.0.0]", 1))
			},
			head: func(w *world) {
				const next = "releases/payments/1.1.0.yaml"
				w.edit(next, "phase: accepted", "phase: deploying")
				w.approve(next, "deploy", "alice", "release-manager")
			},
			want: []ruleAt{{"lifecycle/gate", "releases/payments/1.1.0.yaml"}},
		},
		{
			name: "cancelled without a reason",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "draft", window1)) },
			head: func(w *world) { w.edit(rel, "phase: draft", "phase: cancelled") },
			want: []ruleAt{{"lifecycle/gate", rel}},
		},
		{
			name: "cancelled with a reason",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "draft", window1)) },
			head: func(w *world) {
				w.edit(rel, "phase: draft", "phase: cancelled\n  cancellation: {reason: superseded}")
			},
		},
		{
			name: "rolled back without the backout time",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "deploying", window1)) },
			head: func(w *world) {
				w.edit(rel, "phase: deploying", "phase: rolled-back")
				w.edit(rel, "  backout: {executedAt: \"2026-12-01T23:00:00Z\"}\n", "")
			},
			want: []ruleAt{{"lifecycle/gate", rel}},
		},
		{
			name: "closed without a review",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "deployed", window1)) },
			head: func(w *world) {
				w.edit(rel, "phase: deployed", "phase: closed")
				w.edit(rel, "  review: {outcome: successful}\n", "")
			},
			want: []ruleAt{{"lifecycle/gate", rel}},
		},
		{
			name: "a failed deployment rolled back and closed in one change",
			base: func(w *world) {
				w.set(rel, strings.Replace(chgRelease("1.0.0", "deploying", window1), "verification: {result: passed}", "verification: {result: failed}", 1))
			},
			head: func(w *world) { w.edit(rel, "phase: deploying", "phase: closed") },
		},
		{
			name: "deployed without verification",
			base: func(w *world) { w.set(rel, chgRelease("1.0.0", "deploying", window1)) },
			head: func(w *world) {
				w.edit(rel, "phase: deploying", "phase: deployed")
				w.edit(rel, "verification: {result: passed}", "verification: {result: failed}")
			},
			want: []ruleAt{{"lifecycle/gate", rel}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.base != nil {
				tt.base(w)
			}
			base := w.snapshot()
			tt.head(w)
			ds := change(t, base, w.files, tt.authors)
			got := rulesOf(ds)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Change() rules = %v, want %v", got, tt.want)
				for _, d := range ds {
					t.Logf("  %s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Rule, d.Message)
				}
			}
		})
	}
}

func TestPhasePath(t *testing.T) {
	tests := []struct {
		from, to string
		want     []string // nil: no path
	}{
		{"draft", "planned", []string{"planned"}},
		{"planned", "accepted", []string{"building", "testing", "accepted"}},
		{"testing", "building", []string{"building"}},
		{"deploying", "closed", []string{"deployed", "closed"}},
		{"deployed", "testing", nil},
		{"retired", "draft", nil},
		{"closed", "closed", []string{}},
	}
	for _, tt := range tests {
		got := phasePath(tt.from, tt.to)
		if (got == nil) != (tt.want == nil) || !slices.Equal(got, tt.want) {
			t.Errorf("phasePath(%s, %s) = %#v, want %#v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestPhasePaths(t *testing.T) {
	got := phasePaths("deploying", "closed")
	want := [][]string{{"deployed", "closed"}, {"rolled-back", "closed"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phasePaths(deploying, closed) = %v, want %v", got, want)
	}
	if got := phasePaths("retired", "draft"); got != nil {
		t.Errorf("phasePaths(retired, draft) = %v, want nil", got)
	}
}
