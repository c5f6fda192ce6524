package validate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/relreg/relreg/registry"
)

const scheduleTestConfig = `apiVersion: relreg/v1
kind: Registry
metadata:
  name: test
spec: {}
`

// productionSchedule is the schedule most cases deploy on. Thursday
// 2026-11-26 is frozen for everyone; the year-end freeze lets emergencies
// through. 2026-12-03 and 2026-12-24 are Thursdays.
const productionSchedule = `apiVersion: relreg/v1
kind: Schedule
metadata:
  name: production
spec:
  environment: production
  timezone: Europe/Berlin
  windows:
    - name: thursday-night
      weekly: {days: [thu], start: "22:00", duration: 4h}
    - name: december-special
      start: 2026-12-10T20:00:00Z
      end: 2026-12-11T04:00:00Z
  freezes:
    - name: year-end
      start: 2026-12-20T00:00:00Z
      end: 2027-01-04T00:00:00Z
      allow: [emergency]
    - name: audit
      start: 2026-11-26T00:00:00Z
      end: 2026-11-27T12:00:00Z
`

// stagingSchedule lists no windows, so any time is allowed, and lets two
// releases overlap.
const stagingSchedule = `apiVersion: relreg/v1
kind: Schedule
metadata:
  name: staging
spec:
  environment: staging
  maxConcurrent: 2
`

// rel is a release file; its window is at line 14, column 13.
type rel struct {
	id, typ, phase, schedule, start, end string
}

func (r rel) path() string {
	svc, ver, _ := strings.Cut(r.id, "@")
	return "releases/" + svc + "/" + ver + ".yaml"
}

func (r rel) yaml() string {
	svc, ver, _ := strings.Cut(r.id, "@")
	typ := r.typ
	if typ == "" {
		typ = "minor"
	}
	sched := r.schedule
	if sched == "" {
		sched = "production"
	}
	return fmt.Sprintf(`apiVersion: relreg/v1
kind: Release
metadata:
  service: %s
  version: "%s"
spec:
  title: test release
  type: %s
  risk: low
  owner: bob
  changes: [CHG-1]
  deployment:
    schedule: %s
    window: {start: %s, end: %s}
status:
  phase: %s
`, svc, ver, typ, sched, r.start, r.end, r.phase)
}

// loadScheduleRegistry loads a registry of relreg.yaml, the production and
// staging schedules (unless replaced through files), the releases and files.
func loadScheduleRegistry(t testing.TB, releases []rel, files map[string]string) *registry.Registry {
	t.Helper()
	fsys := fstest.MapFS{
		"relreg.yaml":               {Data: []byte(scheduleTestConfig)},
		"schedules/production.yaml": {Data: []byte(productionSchedule)},
		"schedules/staging.yaml":    {Data: []byte(stagingSchedule)},
	}
	for _, r := range releases {
		fsys[r.path()] = &fstest.MapFile{Data: []byte(r.yaml())}
	}
	for p, data := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(data)}
	}
	reg, err := registry.Load(fsys, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Diagnostics) > 0 {
		t.Fatalf("fixture does not load cleanly: %v", reg.Diagnostics)
	}
	return reg
}

// where is what a test asserts of a diagnostic: rule, file, line, column.
func where(d registry.Diagnostic) string {
	return fmt.Sprintf("%s %s:%d:%d", d.Rule, d.File, d.Line, d.Column)
}

func TestScheduleRule(t *testing.T) {
	const (
		thuStart = "2026-12-03T21:00:00Z" // Thursday 22:00 in Berlin (CET)
		thuEnd   = "2026-12-04T01:00:00Z" // Friday 02:00 in Berlin
	)
	tests := []struct {
		name     string
		releases []rel
		files    map[string]string // extra or replaced files
		want     []string          // "rule file:line:col"
		messages []string          // substrings some diagnostic's message must hold
	}{
		{
			name:     "inside the weekly window",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: thuStart, end: thuEnd}},
		},
		{
			name: "touching windows at 22:00 do not overlap",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: thuStart, end: "2026-12-03T23:00:00Z"},
				{id: "ledger@1.8.0", phase: "accepted", start: "2026-12-03T23:00:00Z", end: thuEnd},
			},
		},
		{
			name:     "weekly window across midnight",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "2026-12-04T00:00:00+01:00", end: "2026-12-04T02:00:00+01:00"}},
		},
		{
			name:     "fixed window",
			releases: []rel{{id: "payments@2.4.0", phase: "testing", start: "2026-12-10T20:00:00Z", end: "2026-12-11T04:00:00Z"}},
		},
		{
			name:     "outside every window",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "2026-12-02T21:00:00Z", end: "2026-12-02T23:00:00Z"}},
			want:     []string{"schedule/outside-window releases/payments/2.4.0.yaml:14:13"},
			messages: []string{"move it into thursday-night (Thu 22:00–02:00 Europe/Berlin; next 2026-12-03T21:00:00Z–2026-12-04T01:00:00Z) or december-special (2026-12-10T20:00:00Z–2026-12-11T04:00:00Z)", "type: emergency"},
		},
		{
			name:     "runs past the end of the occurrence",
			releases: []rel{{id: "payments@2.4.0", phase: "draft", start: thuStart, end: "2026-12-04T01:30:00Z"}},
			want:     []string{"schedule/outside-window releases/payments/2.4.0.yaml:14:13"},
		},
		{
			name:     "spans two windows but lies in neither",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "2026-12-10T21:30:00Z", end: "2026-12-11T05:00:00Z"}},
			want:     []string{"schedule/outside-window releases/payments/2.4.0.yaml:14:13"},
		},
		{
			name: "DST: Thursday 22:00 Berlin before and after the October change",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: "2026-10-22T20:00:00Z", end: "2026-10-23T00:00:00Z"},
				{id: "payments@2.5.0", phase: "planned", start: "2026-10-29T21:00:00Z", end: "2026-10-30T01:00:00Z"},
				// 20:00Z is 21:00 in winter time: an hour early.
				{id: "payments@2.6.0", phase: "planned", start: "2026-10-29T20:00:00Z", end: "2026-10-29T21:00:00Z"},
			},
			want: []string{"schedule/outside-window releases/payments/2.6.0.yaml:14:13"},
		},
		{
			name: "DST: Thursday 22:00 Berlin before and after the March change",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: "2027-03-25T21:00:00Z", end: "2027-03-26T01:00:00Z"},
				{id: "payments@2.5.0", phase: "planned", start: "2027-04-01T20:00:00Z", end: "2027-04-02T00:00:00Z"},
				// 21:00Z is 23:00 in summer time: it runs to 03:00, past the window.
				{id: "payments@2.6.0", phase: "planned", start: "2027-04-08T21:00:00Z", end: "2027-04-09T01:00:00Z"},
			},
			want: []string{"schedule/outside-window releases/payments/2.6.0.yaml:14:13"},
		},
		{
			name:     "emergency outside the windows",
			releases: []rel{{id: "payments@2.4.1", typ: "emergency", phase: "planned", start: "2026-12-02T21:00:00Z", end: "2026-12-02T23:00:00Z"}},
		},
		{
			name:     "emergency in a freeze that does not allow it",
			releases: []rel{{id: "payments@2.4.1", typ: "emergency", phase: "planned", start: "2026-11-26T21:00:00Z", end: "2026-11-26T22:00:00Z"}},
			want:     []string{"schedule/freeze releases/payments/2.4.1.yaml:14:13"},
			messages: []string{"overlaps freeze audit (2026-11-26T00:00:00Z–2026-11-27T12:00:00Z) of schedule production, and the freeze exempts no release type: move the window to end by 2026-11-26T00:00:00Z or start from 2026-11-27T12:00:00Z"},
		},
		{
			name:     "emergency in a freeze that allows it",
			releases: []rel{{id: "payments@2.4.1", typ: "emergency", phase: "planned", start: "2026-12-24T21:00:00Z", end: "2026-12-24T22:00:00Z"}},
		},
		{
			name:     "minor in a freeze that allows only emergencies",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "2026-12-24T21:00:00Z", end: "2026-12-24T22:00:00Z"}},
			want:     []string{"schedule/freeze releases/payments/2.4.0.yaml:14:13"},
			messages: []string{"freeze year-end", "exempts only type emergency"},
		},
		{
			// 23:00-01:00 Berlin in the Wednesday window, ending as the audit freeze starts.
			name:     "touching a freeze is not inside it",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "2026-11-25T22:00:00Z", end: "2026-11-26T00:00:00Z"}},
			files: map[string]string{"schedules/production.yaml": strings.Replace(productionSchedule,
				"  windows:\n    - name: thursday-night\n      weekly: {days: [thu], start: \"22:00\", duration: 4h}\n",
				"  windows:\n    - name: thursday-night\n      weekly: {days: [wed, thu], start: \"22:00\", duration: 4h}\n", 1)},
		},
		{
			name:     "schedule without windows allows any time",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", schedule: "staging", start: "2026-12-02T03:00:00Z", end: "2026-12-02T04:00:00Z"}},
		},
		{
			name: "maxConcurrent 2 with two overlapping",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", schedule: "staging", start: "2026-12-02T03:00:00Z", end: "2026-12-02T05:00:00Z"},
				{id: "ledger@1.8.0", phase: "deploying", schedule: "staging", start: "2026-12-02T04:00:00Z", end: "2026-12-02T06:00:00Z"},
			},
		},
		{
			name: "maxConcurrent 2 with three overlapping",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", schedule: "staging", start: "2026-12-02T03:00:00Z", end: "2026-12-02T05:00:00Z"},
				{id: "ledger@1.8.0", phase: "building", schedule: "staging", start: "2026-12-02T04:00:00Z", end: "2026-12-02T06:00:00Z"},
				{id: "cards@3.1.0", phase: "accepted", schedule: "staging", start: "2026-12-02T04:30:00Z", end: "2026-12-02T04:45:00Z"},
				// Touches the others only: not involved.
				{id: "fx@1.0.0", phase: "planned", schedule: "staging", start: "2026-12-02T06:00:00Z", end: "2026-12-02T07:00:00Z"},
			},
			want: []string{
				"schedule/conflict releases/cards/3.1.0.yaml:14:13",
				"schedule/conflict releases/ledger/1.8.0.yaml:14:13",
				"schedule/conflict releases/payments/2.4.0.yaml:14:13",
			},
			messages: []string{"release/ledger@1.8.0 overlaps release/payments@2.4.0 and release/cards@3.1.0: schedule staging allows 2 active releases at a time (maxConcurrent)"},
		},
		{
			name: "maxConcurrent 1 by default",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: thuStart, end: thuEnd},
				{id: "ledger@1.8.0", phase: "planned", start: "2026-12-03T22:00:00Z", end: "2026-12-03T23:00:00Z"},
			},
			want: []string{
				"schedule/conflict releases/ledger/1.8.0.yaml:14:13",
				"schedule/conflict releases/payments/2.4.0.yaml:14:13",
			},
			messages: []string{"release/payments@2.4.0 overlaps release/ledger@1.8.0: schedule production allows 1 active release at a time"},
		},
		{
			name: "same service overlaps across two schedules",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: thuStart, end: thuEnd},
				{id: "payments@2.5.0", phase: "planned", schedule: "staging", start: "2026-12-03T23:00:00Z", end: "2026-12-04T03:00:00Z"},
			},
			want: []string{
				"schedule/conflict releases/payments/2.4.0.yaml:14:13",
				"schedule/conflict releases/payments/2.5.0.yaml:14:13",
			},
			messages: []string{"release/payments@2.5.0 overlaps release/payments@2.4.0: two active releases of service payments may never be deployed at the same time"},
		},
		{
			name: "only active releases conflict",
			releases: []rel{
				{id: "payments@2.4.0", phase: "planned", start: thuStart, end: thuEnd},
				{id: "payments@2.3.0", phase: "draft", start: thuStart, end: thuEnd},
				{id: "ledger@1.8.0", phase: "deployed", start: thuStart, end: thuEnd},
				{id: "cards@3.1.0", phase: "cancelled", start: thuStart, end: thuEnd},
			},
		},
		{
			name: "deployed, closed and cancelled releases outside today's windows",
			releases: []rel{
				{id: "payments@2.4.0", phase: "deployed", start: "2026-12-02T21:00:00Z", end: "2026-12-02T23:00:00Z"},
				{id: "payments@2.3.0", phase: "closed", start: "2026-11-26T21:00:00Z", end: "2026-11-26T23:00:00Z"},
				{id: "payments@2.2.0", phase: "cancelled", start: "2026-11-25T21:00:00Z", end: "2026-11-25T23:00:00Z"},
			},
		},
		{
			name:     "unknown schedule is left to ref/unknown-schedule",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", schedule: "moon", start: "2026-12-02T21:00:00Z", end: "2026-12-02T23:00:00Z"}},
		},
		{
			name:     "times that are not RFC 3339 are left to the schema",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: "tomorrow", end: thuEnd}},
		},
		{
			name:     "release window ends before it starts",
			releases: []rel{{id: "payments@2.4.0", phase: "deployed", start: thuEnd, end: thuStart}},
			want:     []string{"schedule/invalid-window releases/payments/2.4.0.yaml:14:13"},
			messages: []string{"not before its end"},
		},
		{
			name:     "empty release window",
			releases: []rel{{id: "payments@2.4.0", phase: "planned", start: thuStart, end: thuStart}},
			want:     []string{"schedule/invalid-window releases/payments/2.4.0.yaml:14:13"},
		},
		{
			name: "broken schedule entries",
			// The release lies outside every usable window, but a broken
			// window might be the one meant to hold it: no outside-window.
			releases: []rel{{id: "payments@2.4.0", phase: "planned", schedule: "broken", start: "2026-12-02T21:00:00Z", end: "2026-12-02T23:00:00Z"}},
			files: map[string]string{"schedules/broken.yaml": `apiVersion: relreg/v1
kind: Schedule
metadata:
  name: broken
spec:
  environment: production
  timezone: Europe/Atlantis
  windows:
    - name: too-long
      weekly: {days: [thu], start: "22:00", duration: 169h}
    - name: no-duration
      weekly: {days: [thu], start: "22:00", duration: soon}
    - name: zero
      weekly: {days: [thu], start: "22:00", duration: 0s}
    - name: bad-start
      weekly: {days: [thu], start: "25:00", duration: 4h}
    - name: backwards
      start: 2026-12-11T04:00:00Z
      end: 2026-12-10T20:00:00Z
    - name: not-a-time
      start: someday
      end: 2026-12-10T20:00:00Z
  freezes:
    - name: backwards
      start: 2027-01-04T00:00:00Z
      end: 2026-12-20T00:00:00Z
`},
			want: []string{
				"schedule/invalid-window schedules/broken.yaml:7:13",
				"schedule/invalid-window schedules/broken.yaml:10:55",
				"schedule/invalid-window schedules/broken.yaml:12:55",
				"schedule/invalid-window schedules/broken.yaml:14:55",
				"schedule/invalid-window schedules/broken.yaml:16:36",
				"schedule/invalid-window schedules/broken.yaml:17:7",
				"schedule/invalid-window schedules/broken.yaml:24:7",
			},
			messages: []string{
				`unknown timezone "Europe/Atlantis"`,
				"longer than a week",
				`start "25:00" is not a time of day HH:MM`,
				"freeze backwards starts at 2027-01-04T00:00:00Z, not before its end",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := loadScheduleRegistry(t, tt.releases, tt.files)
			ds := scheduleRule(reg, Options{})
			registry.SortDiagnostics(ds)
			got := make([]string, len(ds))
			for i, d := range ds {
				got[i] = where(d)
				if d.Subject == "" || d.Severity != registry.SeverityError {
					t.Errorf("%s: subject %q, severity %q, want a subject and error", got[i], d.Subject, d.Severity)
				}
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("scheduleRule() =\n%s\nwant\n%s\nmessages:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), messagesOf(ds))
			}
			for _, m := range tt.messages {
				if !slices.ContainsFunc(ds, func(d registry.Diagnostic) bool { return strings.Contains(d.Message, m) }) {
					t.Errorf("no message holds %q; messages:\n%s", m, messagesOf(ds))
				}
			}
		})
	}
}

func messagesOf(ds []registry.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %s: %s\n", where(d), d.Message)
	}
	return b.String()
}

// TestScheduleConflictNamesAreBounded checks that a crowded slot names a
// few others and counts the rest, in a stable order.
func TestScheduleConflictNamesAreBounded(t *testing.T) {
	var releases []rel
	for i := range 8 {
		releases = append(releases, rel{id: fmt.Sprintf("svc%d@1.0.0", i), phase: "planned",
			start: fmt.Sprintf("2026-12-03T21:%02d:00Z", i), end: "2026-12-04T01:00:00Z"})
	}
	reg := loadScheduleRegistry(t, releases, nil)
	ds := scheduleRule(reg, Options{})
	if len(ds) != 8 {
		t.Fatalf("scheduleRule() returned %d diagnostics, want 8:\n%s", len(ds), messagesOf(ds))
	}
	for _, d := range ds {
		if d.Subject != "release/svc7@1.0.0" {
			continue
		}
		want := "release/svc7@1.0.0 overlaps release/svc2@1.0.0, release/svc3@1.0.0, release/svc4@1.0.0, release/svc5@1.0.0, release/svc6@1.0.0 and 2 more: "
		if !strings.HasPrefix(d.Message, want) {
			t.Errorf("message = %q, want prefix %q", d.Message, want)
		}
		return
	}
	t.Errorf("no diagnostic for release/svc7@1.0.0:\n%s", messagesOf(ds))
}

// BenchmarkScheduleRule runs the rule over 10,000 active releases of 100
// services on two schedules, eight a night per schedule in half-hour steps.
func BenchmarkScheduleRule(b *testing.B) {
	files := map[string]string{"schedules/staging.yaml": strings.Replace(productionSchedule, "production", "staging", -1)}
	var releases []rel
	day := time.Date(2027, 1, 7, 22, 0, 0, 0, mustBerlin(b)) // a Thursday
	for k := range 10000 {
		night := day.AddDate(0, 0, 7*(k/16))
		start := night.Add(time.Duration(k%8) * 30 * time.Minute)
		releases = append(releases, rel{
			id:       fmt.Sprintf("svc%d@%d.0.0", k%100, k/100+1),
			phase:    "planned",
			schedule: []string{"production", "staging"}[k%16/8],
			start:    start.UTC().Format(time.RFC3339),
			end:      start.Add(30 * time.Minute).UTC().Format(time.RFC3339),
		})
	}
	reg := loadScheduleRegistry(b, releases, files)
	if n := len(reg.Releases); n != 10000 {
		b.Fatalf("loaded %d releases, want 10000", n)
	}
	if ds := scheduleRule(reg, Options{}); len(ds) != 0 {
		b.Fatalf("scheduleRule() found %d diagnostics, want 0; first: %s", len(ds), messagesOf(ds[:1]))
	}
	b.ResetTimer()
	for b.Loop() {
		scheduleRule(reg, Options{})
	}
}

func mustBerlin(tb testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}
