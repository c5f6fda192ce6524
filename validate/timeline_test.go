package validate_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
)

// A small history built commit by commit with go-git: real commits with
// set committer times, approvals signed with ed25519 keys made for the
// test. Times are hours after histT0, so KPIs can be computed by hand.

var histT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func histAt(hours float64) time.Time { return histT0.Add(time.Duration(hours * float64(time.Hour))) }

type histRepo struct {
	t       *testing.T
	dir     string
	wt      *git.Worktree
	signers map[string]ssh.Signer
	commits []string // SHAs, in order
}

func newHistRepo(t *testing.T) *histRepo {
	t.Helper()
	dir := t.TempDir()
	g, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := g.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	h := &histRepo{t: t, dir: dir, wt: wt, signers: map[string]ssh.Signer{}}
	for _, id := range []string{"alice", "bob", "carol", "erin"} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if h.signers[id], err = ssh.NewSignerFromKey(priv); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// approvers returns approvers.yaml listing ids with their roles.
func (h *histRepo) approvers(ids ...string) string {
	roles := map[string]string{"alice": "release-manager, registry-admin", "bob": "release-manager, cab", "carol": "service-owner", "erin": "release-manager"}
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "    - id: %s\n      name: %s\n      roles: [%s]\n      keys:\n        - key: %s\n", id, id, roles[id],
			strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.signers[id].PublicKey()))))
	}
	return b.String()
}

func (h *histRepo) write(path, content string) {
	h.t.Helper()
	name := filepath.Join(h.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *histRepo) read(path string) string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.dir, filepath.FromSlash(path)))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(data)
}

func (h *histRepo) remove(path string) {
	h.t.Helper()
	if _, err := h.wt.Remove(path); err != nil {
		h.t.Fatal(err)
	}
}

// digest returns the digest of the file's spec as it is on disk.
func (h *histRepo) digest(path string) string {
	h.t.Helper()
	n, diags := registry.ParseYAML([]byte(h.read(path)), registry.DefaultLimits)
	if n == nil {
		h.t.Fatalf("parse %s: %v", path, diags)
	}
	d, err := registry.Digest(n.Value.(map[string]any)["spec"])
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// approve appends an approval of the file by `by`, signed for real, over
// digest (the file's current digest when empty).
func (h *histRepo) approve(path, subject, step, by, role, digest string) {
	h.t.Helper()
	if digest == "" {
		digest = h.digest(path)
	}
	a := registry.Approval{Step: step, By: by, Role: role, At: "2026-11-01T00:00:00Z", Digest: digest}
	sig, err := registry.Sign(h.signers[by], registry.Payload("test-registry", subject, a))
	if err != nil {
		h.t.Fatal(err)
	}
	a.Signature = string(sig)
	out, err := registry.AppendApproval([]byte(h.read(path)), a)
	if err != nil {
		h.t.Fatal(err)
	}
	h.write(path, string(out))
}

// commit commits every change of the work tree as who, at the committer
// time hours after histT0. The author time is always histT0, so a test
// that reads it instead of the committer time fails.
func (h *histRepo) commit(who string, hours float64) {
	h.t.Helper()
	if err := h.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		h.t.Fatal(err)
	}
	sha, err := h.wt.Commit(fmt.Sprintf("commit %d", len(h.commits)+1), &git.CommitOptions{
		AllowEmptyCommits: true,
		Author:            &object.Signature{Name: who, Email: who + "@example.com", When: histT0},
		Committer:         &object.Signature{Name: "ci", Email: "ci@example.com", When: histAt(hours)},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.commits = append(h.commits, sha.String())
}

func histRelease(service, version, typ, phase, window, status string) string {
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: Release
metadata:
  service: %s
  version: %s
spec:
  title: Release %s
  type: %s
  risk: low
  owner: dave
  changes: [CHG-1]
  deployment:
    schedule: production
    window: %s
status:
  phase: %s
%s`, service, version, version, typ, window, phase, status)
}

func histDML(state string) string {
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: DMLEntry
metadata:
  component: payments-api
  version: 1.0.0
spec:
  artifacts:
    - name: payments-api.tar.gz
      digest: sha256:%s
status:
  state: %s
`, strings.Repeat("ab", 32), state)
}

const (
	histW1 = "{start: 2026-11-10T22:00:00Z, end: 2026-11-11T02:00:00Z}"
	histW2 = "{start: 2026-11-05T22:00:00Z, end: 2026-11-06T02:00:00Z}"
	histW3 = "{start: 2026-11-12T22:00:00Z, end: 2026-11-13T02:00:00Z}"
)

// Paths of the story's files.
const (
	pathP1  = "releases/payments/1.0.0.yaml"
	pathP2  = "releases/payments/1.1.0.yaml"
	pathW20 = "releases/web/2.0.0.yaml"
	pathW21 = "releases/web/2.1.0.yaml"
	pathDML = "dml/payments-api/1.0.0.yaml"
)

// buildStory writes the history the timeline and report tests read. The
// comments give each commit's number (1-based) and committer hour.
func buildStory(t *testing.T) *histRepo {
	h := newHistRepo(t)
	// 1 @0: the registry.
	h.write("relreg.yaml", "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: test-registry\nspec: {}\n")
	h.write("approvers.yaml", h.approvers("alice", "bob", "carol"))
	h.write("services/payments.yaml", "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: payments\nspec:\n  title: Payments\n  owner: team\n")
	h.write("README.md", "not a registry file\n")
	h.commit("alice", 0)
	// 2 @1: payments 1.0.0 at draft, DML entry candidate.
	h.write(pathP1, histRelease("payments", "1.0.0", "minor", "draft", histW1, ""))
	h.write(pathDML, histDML("candidate"))
	h.commit("dave", 1)
	// 3 @3: plan approval by alice.
	h.approve(pathP1, "release/payments@1.0.0", "plan", "alice", "release-manager", "")
	h.commit("bob", 3)
	// 4 @4: planned.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: draft", "phase: planned", 1))
	h.commit("dave", 4)
	// 5 @10: building, with the build approval by bob.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: planned", "phase: building", 1))
	h.approve(pathP1, "release/payments@1.0.0", "build", "bob", "release-manager", "")
	h.commit("dave", 10)
	// 6 @20: testing; the DML entry verified by alice.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: building", "phase: testing", 1))
	h.write(pathDML, histDML("verified"))
	h.approve(pathDML, "dml/payments-api@1.0.0", "verify", "alice", "release-manager", "")
	h.commit("dave", 20)
	// 7 @30: back to building (a revision).
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: testing", "phase: building", 1))
	h.commit("dave", 30)
	// 8 @32: testing again, with test results.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: building\n", "phase: testing\n  tests: [{name: e2e, result: passed}]\n", 1))
	h.commit("dave", 32)
	// 9 @40: accepted with alice's approval, and one by carol, who does not
	// hold the role.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: testing", "phase: accepted", 1))
	h.approve(pathP1, "release/payments@1.0.0", "accept", "alice", "release-manager", "")
	h.approve(pathP1, "release/payments@1.0.0", "accept", "carol", "release-manager", "")
	h.commit("dave", 40)
	// 10 @50: deploying with alice's approval.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: accepted", "phase: deploying", 1))
	h.approve(pathP1, "release/payments@1.0.0", "deploy", "alice", "release-manager", "")
	h.commit("dave", 50)
	// 11 @52: deployed.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: deploying\n", "phase: deployed\n  verification: {result: passed}\n", 1))
	h.commit("dave", 52)
	// 12 @100: closed with a review.
	h.write(pathP1, strings.Replace(h.read(pathP1), "phase: deployed\n", "phase: closed\n  review: {outcome: successful, completedAsPlanned: true, incidents: [INC-1], satisfaction: 4}\n", 1))
	h.commit("dave", 100)
	// 13 @60: payments 1.1.0 created at planned with bob's plan approval.
	h.write(pathP2, histRelease("payments", "1.1.0", "minor", "planned", histW2, ""))
	h.approve(pathP2, "release/payments@1.1.0", "plan", "bob", "release-manager", "")
	oldDigest := h.digest(pathP2)
	h.commit("dave", 60)
	// 14 @70: rescheduled to W3.
	h.write(pathP2, strings.Replace(h.read(pathP2), histW2, histW3, 1))
	h.commit("dave", 70)
	// 15 @80: planned -> accepted in one change, with a stale build
	// approval by alice (over the digest before the reschedule).
	h.write(pathP2, strings.Replace(h.read(pathP2), "phase: planned", "phase: accepted", 1))
	h.approve(pathP2, "release/payments@1.1.0", "build", "alice", "release-manager", oldDigest)
	h.commit("dave", 80)
	// 16 @288: deploying, after the first approved window ended.
	h.write(pathP2, strings.Replace(h.read(pathP2), "phase: accepted", "phase: deploying", 1))
	h.commit("dave", 288)
	// 17 @289: rolled back.
	h.write(pathP2, strings.Replace(h.read(pathP2), "phase: deploying\n", "phase: rolled-back\n  backout: {executedAt: \"2026-11-13T01:00:00Z\"}\n", 1))
	h.commit("dave", 289)
	// 18 @300: web 2.0.0 (emergency) at draft; erin is added to the
	// approvers in the same change and approves it: not trusted yet.
	h.write("approvers.yaml", h.approvers("alice", "bob", "carol", "erin"))
	h.write(pathW20, histRelease("web", "2.0.0", "emergency", "draft", histW1, ""))
	h.approve(pathW20, "release/web@2.0.0", "plan", "erin", "release-manager", "")
	h.commit("alice", 300)
	// 19 @301: cancelled.
	h.write(pathW20, strings.Replace(h.read(pathW20), "phase: draft\n", "phase: cancelled\n  cancellation: {reason: not needed}\n", 1))
	h.commit("alice", 301)
	// 20 @302: web 2.1.0 at draft with erin's plan approval, now trusted.
	h.write(pathW21, histRelease("web", "2.1.0", "minor", "draft", histW1, ""))
	h.approve(pathW21, "release/web@2.1.0", "plan", "erin", "release-manager", "")
	h.commit("erin", 302)
	// 21 @303: web 2.1.0 deleted.
	h.remove(pathW21)
	h.commit("erin", 303)
	return h
}

func openHist(t *testing.T, h *histRepo) *registry.Repo {
	t.Helper()
	repo, err := registry.OpenRepo(h.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// evt is an event reduced to what the tests compare; commit is the 1-based
// number of the story's commit.
type evt struct {
	commit   int
	kind     validate.EventKind
	from, to string
	fields   string
	approval string // "step by role verified|<first problem rule> current|stale"
}

func reduce(t *testing.T, h *histRepo, s *validate.SubjectHistory) []evt {
	t.Helper()
	index := map[string]int{}
	for i, sha := range h.commits {
		index[sha] = i + 1
	}
	var out []evt
	for _, e := range s.Events {
		r := evt{commit: index[e.Commit.SHA], kind: e.Kind, from: e.From, to: e.To, fields: strings.Join(e.Fields, ",")}
		if a := e.Approval; a != nil {
			v := "verified"
			if !a.Verified {
				v, _, _ = strings.Cut(a.Problems[0], ":")
			}
			d := "current"
			if !a.DigestCurrent {
				d = "stale"
			}
			r.approval = strings.Join([]string{a.Step, a.By, a.Role, v, d}, " ")
		}
		out = append(out, r)
	}
	return out
}

func TestTimeline(t *testing.T) {
	h := buildStory(t)
	tl, err := validate.BuildTimeline(openHist(t, h), validate.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tl.Commits != len(h.commits) || tl.Ref != h.commits[len(h.commits)-1] {
		t.Fatalf("timeline ref %s over %d commits, want %s over %d", tl.Ref, tl.Commits, h.commits[len(h.commits)-1], len(h.commits))
	}
	tests := []struct {
		path    string
		subject string
		want    []evt
	}{
		{path: pathP1, subject: "release/payments@1.0.0", want: []evt{
			{commit: 2, kind: "created", to: "draft"},
			{commit: 3, kind: "approval", from: "draft", to: "draft", approval: "plan alice release-manager verified current"},
			{commit: 4, kind: "phase", from: "draft", to: "planned"},
			{commit: 5, kind: "phase", from: "planned", to: "building"},
			{commit: 5, kind: "approval", from: "planned", to: "building", approval: "build bob release-manager verified current"},
			{commit: 6, kind: "phase", from: "building", to: "testing"},
			{commit: 7, kind: "phase", from: "testing", to: "building"},
			{commit: 8, kind: "phase", from: "building", to: "testing"},
			{commit: 8, kind: "status", from: "building", to: "testing", fields: "status.tests"},
			{commit: 9, kind: "phase", from: "testing", to: "accepted"},
			{commit: 9, kind: "approval", from: "testing", to: "accepted", approval: "accept alice release-manager verified current"},
			{commit: 9, kind: "approval", from: "testing", to: "accepted", approval: "accept carol release-manager approval/role current"},
			{commit: 10, kind: "phase", from: "accepted", to: "deploying"},
			{commit: 10, kind: "approval", from: "accepted", to: "deploying", approval: "deploy alice release-manager verified current"},
			{commit: 11, kind: "phase", from: "deploying", to: "deployed"},
			{commit: 11, kind: "status", from: "deploying", to: "deployed", fields: "status.verification"},
			{commit: 12, kind: "phase", from: "deployed", to: "closed"},
			{commit: 12, kind: "status", from: "deployed", to: "closed", fields: "status.review"},
		}},
		{path: pathP2, subject: "release/payments@1.1.0", want: []evt{
			{commit: 13, kind: "created", to: "planned"},
			{commit: 13, kind: "approval", to: "planned", approval: "plan bob release-manager verified current"},
			{commit: 14, kind: "reschedule", from: "planned", to: "planned"},
			{commit: 15, kind: "phase", from: "planned", to: "accepted"},
			{commit: 15, kind: "approval", from: "planned", to: "accepted", approval: "build alice release-manager verified stale"},
			{commit: 16, kind: "phase", from: "accepted", to: "deploying"},
			{commit: 17, kind: "phase", from: "deploying", to: "rolled-back"},
			{commit: 17, kind: "status", from: "deploying", to: "rolled-back", fields: "status.backout"},
		}},
		{path: pathW20, subject: "release/web@2.0.0", want: []evt{
			{commit: 18, kind: "created", to: "draft"},
			{commit: 18, kind: "approval", to: "draft", approval: "plan erin release-manager approval/unknown-approver current"},
			{commit: 19, kind: "phase", from: "draft", to: "cancelled"},
			{commit: 19, kind: "status", from: "draft", to: "cancelled", fields: "status.cancellation"},
		}},
		{path: pathW21, subject: "release/web@2.1.0", want: []evt{
			{commit: 20, kind: "created", to: "draft"},
			{commit: 20, kind: "approval", to: "draft", approval: "plan erin release-manager verified current"},
			{commit: 21, kind: "deleted", from: "draft"},
		}},
		{path: pathDML, subject: "dml/payments-api@1.0.0", want: []evt{
			{commit: 2, kind: "created", to: "candidate"},
			{commit: 6, kind: "phase", from: "candidate", to: "verified"},
			{commit: 6, kind: "approval", from: "candidate", to: "verified", approval: "verify alice release-manager verified current"},
		}},
		{path: "approvers.yaml", subject: "approvers", want: []evt{
			{commit: 1, kind: "created"},
			{commit: 18, kind: "spec", fields: "spec.approvers"},
		}},
		{path: "relreg.yaml", subject: "registry", want: []evt{
			{commit: 1, kind: "created"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s := tl.Subject(tt.path)
			if s == nil {
				t.Fatalf("Subject(%s) = nil", tt.path)
			}
			if s.Subject != tt.subject {
				t.Errorf("subject = %s, want %s", s.Subject, tt.subject)
			}
			got := reduce(t, h, s)
			if len(got) != len(tt.want) {
				t.Fatalf("%d events, want %d:\ngot  %+v\nwant %+v", len(got), len(tt.want), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("event %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	if s := tl.Subject("README.md"); s != nil {
		t.Errorf("README.md has a history: %+v", s)
	}
}

func TestTimelineDetails(t *testing.T) {
	h := buildStory(t)
	tl, err := validate.BuildTimeline(openHist(t, h), validate.TimelineOptions{Ref: "HEAD~4", Path: pathP2})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Subjects) != 1 || tl.Subjects[0].Path != pathP2 {
		t.Fatalf("Path-limited timeline has subjects %v, want only %s", tl.Subjects, pathP2)
	}
	if tl.Ref != h.commits[16] {
		t.Errorf("Ref = %s, want commit 17 %s", tl.Ref, h.commits[16])
	}
	ev := tl.Subjects[0].Events
	resched := ev[2]
	if resched.Kind != validate.EventReschedule || *resched.WindowFrom != (registry.Window{Start: "2026-11-05T22:00:00Z", End: "2026-11-06T02:00:00Z"}) ||
		*resched.WindowTo != (registry.Window{Start: "2026-11-12T22:00:00Z", End: "2026-11-13T02:00:00Z"}) {
		t.Errorf("reschedule = %+v from %v to %v", resched, resched.WindowFrom, resched.WindowTo)
	}
	c := ev[0].Commit
	if c.SHA != h.commits[12] || c.Author.String() != "dave <dave@example.com>" || c.Committer.String() != "ci <ci@example.com>" || !c.Time.Equal(histAt(60)) || c.Merge {
		t.Errorf("commit of creation = %+v, want commit 13 by dave, committed by ci at %s", c, histAt(60))
	}
	if _, err := validate.BuildTimeline(openHist(t, h), validate.TimelineOptions{Ref: "no-such-branch"}); err == nil {
		t.Error("BuildTimeline(no-such-branch) succeeded, want an error")
	}
}

// TestTimelineAcrossAnUnreadableVersion checks that a version that does
// not parse is an event of its own, and that the next readable version is
// compared with the last readable one: its approvals are not listed again.
func TestTimelineAcrossAnUnreadableVersion(t *testing.T) {
	h := newHistRepo(t)
	h.write("relreg.yaml", "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: test-registry\nspec: {}\n")
	h.write("approvers.yaml", h.approvers("alice", "bob"))
	h.commit("alice", 0)
	h.write(pathP1, histRelease("payments", "1.0.0", "minor", "draft", histW1, ""))
	h.approve(pathP1, "release/payments@1.0.0", "plan", "alice", "release-manager", "")
	h.commit("dave", 1)
	good := h.read(pathP1)
	h.write(pathP1, good+"  broken: [\n")
	h.commit("dave", 2)
	h.write(pathP1, strings.Replace(good, "phase: draft", "phase: planned", 1))
	h.commit("dave", 3)
	tl, err := validate.BuildTimeline(openHist(t, h), validate.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := tl.Subject(pathP1)
	if s == nil {
		t.Fatalf("Subject(%s) = nil", pathP1)
	}
	got := reduce(t, h, s)
	want := []evt{
		{commit: 2, kind: "created", to: "draft"},
		{commit: 2, kind: "approval", to: "draft", approval: "plan alice release-manager verified current"},
		{commit: 3, kind: "unreadable", from: "draft"},
		{commit: 4, kind: "phase", from: "draft", to: "planned"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events =\n%+v\nwant\n%+v", got, want)
	}
}
