package validate

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
)

// gitHistory builds a real git repository commit by commit from a world's
// files, with the git CLI, so that audits read history as git wrote it.
type gitHistory struct {
	t    *testing.T
	w    *world
	dir  string
	when time.Time // the next commit's author and committer time
}

func newGitHistory(t *testing.T, w *world) *gitHistory {
	t.Helper()
	testtool.Need(t, "git")
	h := &gitHistory{t: t, w: w, dir: t.TempDir(), when: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	h.git("init", "-q", "-b", "main")
	return h
}

// git runs git in the repository as the test identity and returns its
// trimmed output.
func (h *gitHistory) git(args ...string) string {
	h.t.Helper()
	return h.gitAs("Test Author", "author@example.com", args...)
}

func (h *gitHistory) gitAs(name, email string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = h.dir
	date := h.when.Format(time.RFC3339)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+h.dir,
		"GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+email, "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Merge Bot", "GIT_COMMITTER_EMAIL=bot@example.com", "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes the world's files and commits them as person id, an hour
// after the previous commit, and returns the commit's SHA.
func (h *gitHistory) commit(id, msg string) string {
	h.t.Helper()
	for p, f := range h.w.files {
		name := filepath.Join(h.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	h.when = h.when.Add(time.Hour)
	h.git("add", "-A")
	h.gitAs(id, id+"@example.com", "commit", "-q", "-m", msg)
	return h.git("rev-parse", "HEAD")
}

// merge merges branch into main with a merge commit, as a merge request
// closes, and returns the merge's SHA.
func (h *gitHistory) merge(branch string) string {
	h.t.Helper()
	h.git("checkout", "-q", "main")
	h.when = h.when.Add(time.Hour)
	h.git("merge", "-q", "--no-ff", "-m", "Merge "+branch, branch)
	return h.git("rev-parse", "HEAD")
}

func (h *gitHistory) audit(opts AuditOptions) *AuditResult {
	h.t.Helper()
	repo, err := registry.OpenRepo(h.dir, "")
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := Audit(repo, opts)
	if err != nil {
		h.t.Fatalf("Audit() error = %v", err)
	}
	return res
}

// finding is what the audit tests compare: a violation and its commit.
type finding struct{ commit, rule, file string }

func findingsOf(ds []registry.Diagnostic) []finding {
	out := []finding{}
	for _, d := range ds {
		out = append(out, finding{d.Commit, d.Rule, d.File})
	}
	return out
}

// auditStory is a history with known violations: a trust root, a good
// merge request, a direct push that skips the build gate, a self-approved
// merge request merged anyway, and a direct push rewriting a DML digest.
type auditStory struct {
	h                                         *gitHistory
	root, goodMerge, skipGate, selfMerge, dml string
}

func newAuditStory(t *testing.T) *auditStory {
	const rel1, rel2 = "releases/payments/1.0.0.yaml", "releases/payments/1.1.0.yaml"
	const dml = "dml/payments-api/1.0.0.yaml"
	w := newWorld(t)
	h := newGitHistory(t, w)
	s := &auditStory{h: h}
	s.root = h.commit("alice", "registry: trust root")

	// A good merge request: dave proposes, alice (not an author of the
	// edit) signs the plan approval in a commit of her own.
	h.git("checkout", "-q", "-b", "propose-1.0.0")
	w.set(rel1, chgRelease("1.0.0", "planned", window1))
	h.commit("dave", "payments 1.0.0: plan")
	w.approve(rel1, "plan", "alice", "release-manager")
	h.commit("alice", "payments 1.0.0: plan approval")
	s.goodMerge = h.merge("propose-1.0.0")

	// A direct push to main that enters building without build approvals.
	w.set(rel1, strings.Replace(w.get(rel1), "phase: planned", "phase: building", 1))
	s.skipGate = h.commit("dave", "payments 1.0.0: building")

	// A merge request where alice writes the release and approves it.
	h.git("checkout", "-q", "-b", "propose-1.1.0")
	w.set(rel2, chgRelease("1.1.0", "planned", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"))
	h.commit("alice", "payments 1.1.0: plan")
	w.approve(rel2, "plan", "alice", "release-manager")
	h.commit("bob", "payments 1.1.0: plan approval")
	s.selfMerge = h.merge("propose-1.1.0")

	// A direct push that rewrites the digest of a merged DML entry.
	w.set(dml, strings.Replace(w.get(dml), "digest: sha256:abab", "digest: sha256:cdcd", 1))
	s.dml = h.commit("dave", "payments-api 1.0.0: fix digest")
	return s
}

func TestAuditReportsKnownViolations(t *testing.T) {
	s := newAuditStory(t)
	res := s.h.audit(AuditOptions{})

	if res.TrustRoot == nil || res.TrustRoot.SHA != s.root || res.TrustRoot.Author.Email != "alice@example.com" {
		t.Fatalf("TrustRoot = %+v, want %s by alice@example.com", res.TrustRoot, s.root)
	}
	if got, want := res.Ref, s.dml; got != want {
		t.Errorf("Ref = %s, want %s", got, want)
	}
	// Branch commits are not first-parent commits: 2 merges, 2 pushes.
	if got, want := res.Audited, 4; got != want {
		t.Errorf("Audited = %d, want %d", got, want)
	}
	wantFindings := []finding{
		{s.skipGate, "approval/insufficient", "releases/payments/1.0.0.yaml"},
		{s.selfMerge, "approval/insufficient", "releases/payments/1.1.0.yaml"},
		{s.selfMerge, "approval/self-approval", "releases/payments/1.1.0.yaml"},
		{s.dml, "dml/immutable", "dml/payments-api/1.0.0.yaml"},
	}
	if got := findingsOf(res.Diagnostics); !slices.Equal(got, wantFindings) {
		t.Errorf("findings =\n%v\nwant\n%v\ndiagnostics: %+v", got, wantFindings, res.Diagnostics)
	}
	type kindOf struct{ sha, kind, author string }
	var gotKinds []kindOf
	for _, c := range res.Commits {
		gotKinds = append(gotKinds, kindOf{c.SHA, c.Kind, c.Author.Email})
	}
	wantKinds := []kindOf{
		{s.skipGate, CommitBypass, "dave@example.com"},
		{s.selfMerge, CommitMergedAnyway, "author@example.com"}, // the merger
		{s.dml, CommitBypass, "dave@example.com"},
	}
	if !slices.Equal(gotKinds, wantKinds) {
		t.Errorf("Commits = %v, want %v", gotKinds, wantKinds)
	}
	if got, want := res.Bypasses(), 2; got != want {
		t.Errorf("Bypasses() = %d, want %d", got, want)
	}
	for _, d := range res.Diagnostics {
		if len(d.Commit) != 40 || d.Line == 0 {
			t.Errorf("diagnostic %+v: want a full SHA and a position", d)
		}
	}
	if res.OK() {
		t.Error("OK() = true, want false")
	}
}

func TestAuditSince(t *testing.T) {
	s := newAuditStory(t)
	repo, err := registry.OpenRepo(s.h.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.Resolve(s.selfMerge)
	if err != nil {
		t.Fatal(err)
	}
	res := s.h.audit(AuditOptions{Since: c.Committer.When})
	if got, want := res.Audited, 2; got != want {
		t.Errorf("Audited = %d, want %d", got, want)
	}
	var commits []string
	for _, c := range res.Commits {
		commits = append(commits, c.SHA)
	}
	if want := []string{s.selfMerge, s.dml}; !slices.Equal(commits, want) {
		t.Errorf("Commits = %v, want %v", commits, want)
	}
}

func TestAuditVerified(t *testing.T) {
	s := newAuditStory(t)
	tests := []struct {
		name     string
		rewrite  func(h *gitHistory) // edits the history before the audit
		verified string
		want     string // a substring of the rewrite's reason; empty: no rewrite
	}{
		{name: "ancestor", verified: s.skipGate},
		{name: "tip", verified: s.dml},
		{name: "unknown commit", verified: strings.Repeat("0", 40), want: "is unknown to this repository"},
		{
			name: "force push drops the verified commit",
			rewrite: func(h *gitHistory) {
				h.git("reset", "-q", "--hard", s.selfMerge)
				h.w.set("README.md", "rewritten\n")
				h.commit("mallory", "rewrite")
			},
			verified: s.dml,
			want:     "is not an ancestor of",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rewrite != nil {
				tt.rewrite(s.h)
			}
			res := s.h.audit(AuditOptions{Verified: tt.verified})
			switch {
			case tt.want == "" && res.Rewritten != nil:
				t.Errorf("Rewritten = %+v, want nil", res.Rewritten)
			case tt.want != "" && res.Rewritten == nil:
				t.Errorf("Rewritten = nil, want a reason with %q", tt.want)
			case tt.want != "" && !strings.Contains(res.Rewritten.Reason, tt.want):
				t.Errorf("Rewritten.Reason = %q, want it to contain %q", res.Rewritten.Reason, tt.want)
			case tt.want != "" && res.OK():
				t.Error("OK() = true with a rewrite, want false")
			}
		})
	}
}

// TestAuditVerifiedFoxtrot checks --verified against a foxtrot merge: main
// merged into a feature branch, and main fast-forwarded to that merge. The
// commit an earlier audit accepted is still an ancestor, but it is now a
// second parent: the first-parent chain, which the audit replays as the
// branch's history, runs through the feature branch instead. An honest
// fast-forward keeps it on the chain.
func TestAuditVerifiedFoxtrot(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *auditStory)
		want   string // a substring of the rewrite's reason; empty: no rewrite
	}{
		{
			name: "honest fast-forward",
			change: func(s *auditStory) {
				s.h.git("checkout", "-q", "-b", "feature", s.dml)
				s.h.w.set("README.md", "feature\n")
				s.h.commit("dave", "feature")
				s.h.git("checkout", "-q", "main")
				s.h.git("merge", "-q", "--ff-only", "feature")
			},
		},
		{
			name: "foxtrot merge fast-forwarded onto main",
			change: func(s *auditStory) {
				s.h.git("checkout", "-q", "-b", "feature", s.selfMerge)
				s.h.w.set("README.md", "feature\n")
				s.h.commit("mallory", "feature")
				s.h.when = s.h.when.Add(time.Hour)
				s.h.git("merge", "-q", "--no-ff", "-m", "Merge main into feature", "main")
				s.h.git("checkout", "-q", "main")
				s.h.git("merge", "-q", "--ff-only", "feature")
			},
			want: "is no longer on the first-parent chain of",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuditStory(t)
			tt.change(s)
			if got := s.h.git("merge-base", "--is-ancestor", s.dml, "main"); got != "" {
				t.Fatalf("git merge-base --is-ancestor: %s", got)
			}
			res := s.h.audit(AuditOptions{Verified: s.dml})
			switch {
			case tt.want == "" && res.Rewritten != nil:
				t.Errorf("Rewritten = %+v, want nil", res.Rewritten)
			case tt.want != "" && res.Rewritten == nil:
				t.Errorf("Rewritten = nil, want a reason with %q", tt.want)
			case tt.want != "" && !strings.Contains(res.Rewritten.Reason, tt.want):
				t.Errorf("Rewritten.Reason = %q, want it to contain %q", res.Rewritten.Reason, tt.want)
			case tt.want != "" && res.OK():
				t.Error("OK() = true with a rewrite, want false")
			}
			// A commit still on the chain stays verified.
			if res := s.h.audit(AuditOptions{Verified: s.skipGate}); res.Rewritten != nil {
				t.Errorf("Verified %s (on the chain): Rewritten = %+v, want nil", s.skipGate, res.Rewritten)
			}
		})
	}
}

// TestAuditClockSkew plays a backdated direct push: alice's key expired
// on 2026-11-22; after a commit of 2026-11-25, dave pushes a commit dated
// 2026-11-20 that plans a release with a plan approval signed with the
// expired key at a time it was still valid. Judged at its own committer
// time, the approval would count. The audit judges it at the latest
// committer time before it, where the key no longer counts, and warns
// that its clock went backwards. Honest histories get no warning.
func TestAuditClockSkew(t *testing.T) {
	const rel = "releases/payments/1.0.0.yaml"
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	w := newWorld(t)
	w.edit("approvers.yaml", w.people["alice"].yaml(), w.people["alice"].yaml()+"\n          validBefore: 2026-11-22T00:00:00Z")

	// Honest: the plan is committed on 2026-11-20, while alice's key is
	// valid, then a README change on 2026-11-25.
	t.Run("honest", func(t *testing.T) {
		h := newGitHistory(t, w)
		h.commit("alice", "registry: trust root")
		w.set(rel, chgRelease("1.0.0", "planned", window1))
		w.approve(rel, "plan", "alice", "release-manager")
		h.commit("dave", "payments 1.0.0: plan")
		h.when = day(25, 12)
		w.set("README.md", "payments\n")
		h.commit("dave", "readme")
		res := h.audit(AuditOptions{})
		if !res.OK() || len(res.Diagnostics) != 0 {
			t.Errorf("OK() = %v, Diagnostics = %+v, want none", res.OK(), res.Diagnostics)
		}
		delete(w.files, "README.md")
		delete(w.files, rel)
	})

	t.Run("backdated", func(t *testing.T) {
		h := newGitHistory(t, w)
		h.commit("alice", "registry: trust root")
		h.when = day(25, 12)
		w.set(rel, chgRelease("1.0.0", "draft", window1))
		h.commit("dave", "payments 1.0.0: draft")

		// Backdated, breaking no rule: a warning alone.
		h.when = day(21, 12)
		w.set("README.md", "payments\n")
		readme := h.commit("dave", "readme")
		res := h.audit(AuditOptions{})
		if got, want := findingsOf(res.Diagnostics), []finding{{readme, "history/clock-skew", ""}}; !slices.Equal(got, want) {
			t.Fatalf("findings = %v, want %v\n%+v", got, want, res.Diagnostics)
		}
		d := res.Diagnostics[0]
		if d.Severity != registry.SeverityWarning || d.Line != 0 || !strings.Contains(d.Message, "2026-11-21T13:00:00Z") || !strings.Contains(d.Message, "judged at 2026-11-25T13:00:00Z") {
			t.Errorf("clock-skew diagnostic = %+v, want a warning at line 0 naming both times", d)
		}
		if !res.OK() || res.Bypasses() != 0 || len(res.Commits) != 1 || res.Commits[0].Kind != CommitWarned {
			t.Errorf("warnings only: OK() = %v, Bypasses() = %d, Commits = %+v; want OK, no bypass, one warned commit", res.OK(), res.Bypasses(), res.Commits)
		}

		// The attack: planned with the expired key, dated before the draft.
		h.when = day(21, 13)
		w.set(rel, chgRelease("1.0.0", "planned", window1))
		w.approve(rel, "plan", "alice", "release-manager")
		plan := h.commit("dave", "payments 1.0.0: plan")
		for _, since := range []time.Time{{}, day(24, 0)} {
			res := h.audit(AuditOptions{Since: since})
			want := []finding{
				{readme, "history/clock-skew", ""},
				{plan, "history/clock-skew", ""},
				{plan, "approval/insufficient", rel},
			}
			if got := findingsOf(res.Diagnostics); !slices.Equal(got, want) {
				t.Errorf("since %v: findings =\n%v\nwant\n%v\n%+v", since, got, want, res.Diagnostics)
			}
			if res.OK() || res.Bypasses() != 1 {
				t.Errorf("since %v: OK() = %v, Bypasses() = %d; want not OK, 1 bypass", since, res.OK(), res.Bypasses())
			}
		}
		delete(w.files, "README.md")
		delete(w.files, rel)
	})

	// A merge dated before the commit it merges is judged at that
	// commit's time: the plan committed on 2026-11-25 with alice's expired
	// key, merged "on 2026-11-21".
	t.Run("backdated merge", func(t *testing.T) {
		h := newGitHistory(t, w)
		h.commit("alice", "registry: trust root")
		h.git("checkout", "-q", "-b", "propose")
		h.when = day(25, 12)
		w.set(rel, chgRelease("1.0.0", "planned", window1))
		w.approve(rel, "plan", "alice", "release-manager")
		plan := h.commit("dave", "payments 1.0.0: plan")
		h.when = day(21, 12)
		merge := h.merge("propose")
		res := h.audit(AuditOptions{})
		want := []finding{{merge, "history/clock-skew", ""}, {merge, "approval/insufficient", rel}}
		if got := findingsOf(res.Diagnostics); !slices.Equal(got, want) {
			t.Fatalf("findings =\n%v\nwant\n%v\n%+v", got, want, res.Diagnostics)
		}
		if d := res.Diagnostics[0]; !strings.Contains(d.Message, "commit "+plan+" that it merges") || !strings.Contains(d.Message, "judged at 2026-11-25T13:00:00Z") {
			t.Errorf("clock-skew message = %q, want it to name %s and the time of it", d.Message, plan)
		}
		delete(w.files, rel)
	})

	// A commit dated after the audit ran (Now) is judged at Now and does
	// not move the check time of the commits after it, nor does a merged
	// commit dated after Now move its merge's.
	t.Run("future", func(t *testing.T) {
		now := day(24, 0)
		h := newGitHistory(t, w)
		h.commit("alice", "registry: trust root")
		h.when = day(29, 12)
		w.set("README.md", "payments\n")
		future := h.commit("dave", "readme")
		h.when = day(22, 12)
		w.set(rel, chgRelease("1.0.0", "draft", window1))
		h.commit("dave", "payments 1.0.0: draft")
		h.git("checkout", "-q", "-b", "propose")
		h.when = day(29, 12)
		w.set("README.md", "payments, again\n")
		h.commit("dave", "readme again")
		h.when = day(22, 13)
		h.merge("propose")
		res := h.audit(AuditOptions{Now: now})
		if got, want := findingsOf(res.Diagnostics), []finding{{future, "history/clock-skew", ""}}; !slices.Equal(got, want) {
			t.Fatalf("findings =\n%v\nwant\n%v\n%+v", got, want, res.Diagnostics)
		}
		if d := res.Diagnostics[0]; !strings.Contains(d.Message, "later than 2026-11-24T00:00:00Z, the time this audit ran") {
			t.Errorf("clock-skew message = %q, want it to name the time the audit ran", d.Message)
		}
		// Audited a day later, when the history is no longer ahead of the
		// audit, the later commits are behind the first one's time.
		res = h.audit(AuditOptions{Now: day(30, 0)})
		if got, want := len(res.Diagnostics), 2; got != want {
			t.Errorf("audit on 2026-11-30: %d diagnostics, want %d (the clock skews of the draft and the merge)\n%+v", got, want, res.Diagnostics)
		}
		delete(w.files, "README.md")
		delete(w.files, rel)
	})
}

func TestAuditCleanHistory(t *testing.T) {
	const rel = "releases/payments/1.0.0.yaml"
	w := newWorld(t)
	h := newGitHistory(t, w)
	h.w.set("README.md", "before the registry\n")
	delete(w.files, "relreg.yaml")
	h.commit("dave", "readme")
	w.set("relreg.yaml", testRegistryYAML)
	root := h.commit("alice", "registry")
	h.git("checkout", "-q", "-b", "propose")
	w.set(rel, chgRelease("1.0.0", "draft", window1))
	h.commit("dave", "payments 1.0.0: draft")
	h.merge("propose")
	res := h.audit(AuditOptions{})
	if res.TrustRoot == nil || res.TrustRoot.SHA != root {
		t.Errorf("TrustRoot = %+v, want %s (the commit that added relreg.yaml)", res.TrustRoot, root)
	}
	if got, want := res.Audited, 1; got != want {
		t.Errorf("Audited = %d, want %d", got, want)
	}
	if !res.OK() || len(res.Commits) != 0 {
		t.Errorf("audit of a clean history: OK() = %v, Commits = %v, Diagnostics = %v", res.OK(), res.Commits, res.Diagnostics)
	}
}

func TestAuditNoRegistry(t *testing.T) {
	w := newWorld(t)
	w.files = fstest.MapFS{}
	w.set("README.md", "no registry\n")
	h := newGitHistory(t, w)
	h.commit("dave", "readme")
	repo, err := registry.OpenRepo(h.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Audit(repo, AuditOptions{}); err != ErrNoTrustRoot {
		t.Errorf("Audit() error = %v, want ErrNoTrustRoot", err)
	}
}

// TestAuditDirectPushAuthors checks who a direct push counts as the author
// of an edit: alice, who plans a release and signs its plan approval in
// one push, approved her own edit. dave's push that plans 1.1.0 without
// approvals is refused, and bob's later push that only adds his approval
// changes no phase, so it is judged by nothing that reads authors and
// reports nothing.
func TestAuditDirectPushAuthors(t *testing.T) {
	const rel1, rel2 = "releases/payments/1.0.0.yaml", "releases/payments/1.1.0.yaml"
	w := newWorld(t)
	h := newGitHistory(t, w)
	h.commit("alice", "registry: trust root")

	w.set(rel1, chgRelease("1.0.0", "planned", window1))
	w.approve(rel1, "plan", "alice", "release-manager")
	self := h.commit("alice", "payments 1.0.0: plan, approved")

	w.set(rel2, chgRelease("1.1.0", "draft", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"))
	h.commit("dave", "payments 1.1.0: draft")
	w.set(rel2, chgRelease("1.1.0", "planned", "{start: 2026-12-08T22:00:00Z, end: 2026-12-09T02:00:00Z}"))
	planned := h.commit("dave", "payments 1.1.0: plan")
	w.approve(rel2, "plan", "bob", "release-manager")
	h.commit("bob", "payments 1.1.0: plan approval")

	res := h.audit(AuditOptions{})
	var got []finding
	for _, f := range findingsOf(res.Diagnostics) {
		if f.rule == "approval/self-approval" || f.file == rel2 {
			got = append(got, f)
		}
	}
	want := []finding{
		{self, "approval/self-approval", rel1},
		{planned, "approval/insufficient", rel2}, // planned without approvals, by a direct push
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings =\n%v\nwant\n%v\nall: %+v", got, want, res.Diagnostics)
	}
}

// TestAuditLeavesNoGoroutines checks that an audit's reader, parser and
// workers end with it, when it succeeds and when it stops on an error.
func TestAuditLeavesNoGoroutines(t *testing.T) {
	s := newAuditStory(t)
	settle := func(want int) int {
		n := runtime.NumGoroutine()
		for range 100 {
			if n <= want {
				break
			}
			time.Sleep(10 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	before := settle(0)
	s.h.audit(AuditOptions{})
	if n := settle(before); n > before {
		t.Errorf("%d goroutines after an audit, %d before", n, before)
	}
	repo, err := registry.OpenRepo(s.h.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	// A progress callback that panics stops the audit in the middle.
	func() {
		defer func() { _ = recover() }()
		_, _ = Audit(repo, AuditOptions{Progress: func(done, _ int) {
			if done == 2 {
				panic("stop")
			}
		}})
	}()
	if n := settle(before); n > before {
		t.Errorf("%d goroutines after an audit that stopped, %d before", n, before)
	}
}
