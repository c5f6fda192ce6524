package validate_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// auditHistory is a generated git history for the audit: a trust root,
// then for each release five first-parent commits — a direct push that
// creates it as a draft with its DML entry, a merge request (one branch
// commit and its merge) that plans it with a signed plan approval, direct
// pushes to building (build approval), testing and cancelled. Every
// skipGateEvery-th release skips its build approval: a known bypass.
type auditHistory struct {
	releases, services, skipGateEvery int

	signers map[string]ssh.Signer
	stream  bytes.Buffer
	mark    int
	when    time.Time
}

const auditBenchRegistry = `apiVersion: relreg/v1
kind: Registry
metadata:
  name: audit-bench
spec:
  approvals:
    plan: {low: [{role: release-manager, count: 1}]}
    build: {low: [{role: release-manager, count: 1}]}
    accept: {low: [{role: release-manager, count: 1}]}
    deploy: {low: [{role: release-manager, count: 1}]}
    verify: [{role: release-manager, count: 1}]
    govern: [{role: registry-admin, count: 1}]
`

func newAuditHistory(tb testing.TB, releases, services, skipGateEvery int) *auditHistory {
	h := &auditHistory{releases: releases, services: services, skipGateEvery: skipGateEvery,
		signers: map[string]ssh.Signer{}, when: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, id := range []string{"rm-one", "rm-two", "dev"} {
		seed := sha256.Sum256([]byte(id))
		s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed[:]))
		if err != nil {
			tb.Fatal(err)
		}
		h.signers[id] = s
	}
	return h
}

func (h *auditHistory) approversYAML() string {
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: Approvers\nmetadata:\n  name: approvers\nspec:\n  approvers:\n")
	for _, a := range []struct{ id, role string }{{"rm-one", "release-manager"}, {"rm-two", "release-manager"}, {"dev", "developer"}} {
		key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.signers[a.id].PublicKey())))
		fmt.Fprintf(&b, "    - id: %s\n      name: %s\n      email: %s@example.com\n      roles: [%s]\n      keys:\n        - key: %s\n", a.id, a.id, a.id, a.role, key)
	}
	return b.String()
}

// commit starts a commit on ref with files (path -> content) and, for a
// merge, the mark of the merged branch. It returns the commit's mark.
func (h *auditHistory) commit(ref, author string, from, merge int, files map[string]string) int {
	h.mark++
	h.when = h.when.Add(time.Minute)
	fmt.Fprintf(&h.stream, "commit %s\nmark :%d\nauthor %s <%s@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n",
		ref, h.mark, author, author, h.when.Unix(), h.when.Unix())
	h.data(fmt.Sprintf("commit %d", h.mark))
	if from > 0 {
		fmt.Fprintf(&h.stream, "from :%d\n", from)
	}
	if merge > 0 {
		fmt.Fprintf(&h.stream, "merge :%d\n", merge)
	}
	for p, content := range files {
		fmt.Fprintf(&h.stream, "M 100644 inline %s\n", p)
		h.data(content)
	}
	return h.mark
}

func (h *auditHistory) data(s string) { fmt.Fprintf(&h.stream, "data %d\n%s\n", len(s), s) }

func releaseYAML(svc, version, phase string, slot int, extra string) string {
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(slot) * time.Hour)
	schedule := []string{"production", "staging"}[slot%2]
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: Release
metadata:
  service: %s
  version: %s
spec:
  title: %s %s
  type: minor
  risk: low
  owner: dev
  changes: [CHG-%d]
  components:
    - {name: %s-app, version: %s}
  deployment:
    schedule: %s
    window: {start: %s, end: %s}
status:
  phase: %s
%s`, svc, version, svc, version, 1000+slot, svc, version, schedule,
		start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339), phase, extra)
}

func dmlYAML(component, version string) string {
	sum := sha256.Sum256([]byte(component + version))
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: DMLEntry
metadata:
  component: %s
  version: %s
spec:
  artifacts:
    - name: %s_%s.tar.gz
      uri: https://artifacts.example.com/%s_%s.tar.gz
      digest: sha256:%x
      size: 1024
status:
  state: candidate
`, component, version, component, version, component, version, sum)
}

// approve appends a signed approval of the document's current spec.
func (h *auditHistory) approve(tb testing.TB, data, subject, step, by string) string {
	n, diags := registry.ParseYAML([]byte(data), registry.DefaultLimits)
	if n == nil || len(diags) > 0 {
		tb.Fatalf("generated document does not parse: %v\n%s", diags, data)
	}
	digest, err := registry.Digest(n.Value.(map[string]any)["spec"])
	if err != nil {
		tb.Fatal(err)
	}
	a := registry.Approval{Step: step, By: by, Role: "release-manager", At: h.when.Format(time.RFC3339), Digest: digest}
	sig, err := registry.Sign(h.signers[by], registry.Payload("audit-bench", subject, a))
	if err != nil {
		tb.Fatal(err)
	}
	a.Signature = string(sig)
	out, err := registry.AppendApproval([]byte(data), a)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// write imports the history into a new repository and returns its folder.
func (h *auditHistory) write(tb testing.TB) string {
	tb.Helper()
	testtool.Need(tb, "git")
	files := map[string]string{"relreg.yaml": auditBenchRegistry, "approvers.yaml": h.approversYAML()}
	for _, s := range []string{"production", "staging"} {
		files["schedules/"+s+".yaml"] = fmt.Sprintf("apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: %s\nspec:\n  environment: %s\n  timezone: UTC\n  maxConcurrent: 2\n", s, s)
	}
	for s := range h.services {
		svc := fmt.Sprintf("svc-%03d", s)
		files["services/"+svc+".yaml"] = fmt.Sprintf("apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n  title: Service %d\n  owner: team-%s\n", svc, s, svc)
	}
	main := h.commit("refs/heads/main", "admin", 0, 0, files)
	for i := range h.releases {
		svc := fmt.Sprintf("svc-%03d", i%h.services)
		version := fmt.Sprintf("1.%d.0", i/h.services)
		path := fmt.Sprintf("releases/%s/%s.yaml", svc, version)
		subject := "release/" + svc + "@" + version
		doc := releaseYAML(svc, version, "draft", i, "")
		main = h.commit("refs/heads/main", "dev", main, 0, map[string]string{
			path: doc, fmt.Sprintf("dml/%s-app/%s.yaml", svc, version): dmlYAML(svc+"-app", version)})
		// The plan, through a merge request.
		doc = h.approve(tb, releaseYAML(svc, version, "planned", i, ""), subject, "plan", "rm-one")
		branch := h.commit("refs/heads/mr", "dev", main, 0, map[string]string{path: doc})
		main = h.commit("refs/heads/main", "merger", main, branch, nil)
		doc = strings.Replace(doc, "phase: planned", "phase: building", 1)
		if h.skipGateEvery == 0 || i%h.skipGateEvery != 0 {
			doc = h.approve(tb, doc, subject, "build", "rm-two")
		}
		main = h.commit("refs/heads/main", "dev", main, 0, map[string]string{path: doc})
		doc = strings.Replace(doc, "phase: building", "phase: testing", 1)
		main = h.commit("refs/heads/main", "dev", main, 0, map[string]string{path: doc})
		doc = strings.Replace(doc, "phase: testing", "phase: cancelled\n  cancellation: {reason: superseded}", 1)
		main = h.commit("refs/heads/main", "dev", main, 0, map[string]string{path: doc})
	}
	return fastImport(tb, &h.stream)
}

// TestAuditGeneratedHistory audits a small generated history: exactly the
// releases that skipped their build approval are reported, as bypasses.
func TestAuditGeneratedHistory(t *testing.T) {
	h := newAuditHistory(t, 40, 7, 10)
	dir := h.write(t)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := validate.Audit(repo, validate.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Audited, 40*5; got != want {
		t.Errorf("Audited = %d, want %d", got, want)
	}
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.Rule+" "+d.File)
	}
	want := []string{
		"approval/insufficient releases/svc-000/1.0.0.yaml",
		"approval/insufficient releases/svc-003/1.1.0.yaml",
		"approval/insufficient releases/svc-006/1.2.0.yaml",
		"approval/insufficient releases/svc-002/1.4.0.yaml",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := res.Bypasses(), 4; got != want {
		t.Errorf("Bypasses() = %d, want %d", got, want)
	}
}

// BenchmarkAudit10k audits 10,000 first-parent commits (and 2,000 branch
// commits) over 2,000 releases, and compares with `git log --raw
// --no-renames` on the same repository, timed in the same run.
func BenchmarkAudit10k(b *testing.B) {
	h := newAuditHistory(b, 2000, 100, 100)
	dir := h.write(b)
	gitLog := gitLogTime(b, dir)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	defer stop()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		res, err := validate.Audit(repo, validate.AuditOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if got, want := res.Bypasses(), 20; got != want {
			b.Fatalf("Bypasses() = %d, want %d", got, want)
		}
		n++
	}
	perOp := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(gitLog.Milliseconds()), "git-log-ms")
	b.ReportMetric(float64(perOp)/float64(gitLog), "x-git-log")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakRSS())/(1<<10), "peak-RSS-MiB")
}

// gitLogTime times `git log --raw --no-renames` over the whole history:
// the median of three runs, since one run varies by ±15% on a busy machine.
func gitLogTime(b *testing.B, dir string) time.Duration {
	var runs []time.Duration
	for range 3 {
		cmd := exec.Command("git", "log", "--raw", "--no-renames", "main")
		cmd.Dir = dir
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("git log: %v", err)
		}
		runs = append(runs, time.Since(start))
	}
	slices.Sort(runs)
	return runs[1]
}

// sampleHeap records the largest heap in use every few milliseconds until
// the returned function is called.
func sampleHeap(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}

// peakRSS returns the process's peak resident set in KiB (Linux), or 0.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
