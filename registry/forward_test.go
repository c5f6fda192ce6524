package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"
)

// forwardRegistry loads a registry of the given releases ("svc@ver" ->
// phase, window start, end, schedule) and schedules (name -> YAML spec).
func forwardRegistry(t *testing.T, schedules map[string]string, releases []forwardRelease) *Registry {
	t.Helper()
	fsys := fstest.MapFS{
		ConfigFile: {Data: []byte("apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: acme\nspec: {}\n")},
	}
	for name, spec := range schedules {
		fsys["schedules/"+name+".yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: %s\nspec:\n%s", name, spec))}
	}
	for _, r := range releases {
		svc, ver, _ := strings.Cut(r.id, "@")
		sched := r.schedule
		if sched == "" {
			sched = "production"
		}
		fsys["releases/"+svc+"/"+ver+".yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`apiVersion: relreg/v1
kind: Release
metadata:
  service: %s
  version: "%s"
spec:
  title: Release %s
  type: minor
  risk: low
  owner: alice
  changes: [CHG-1]
  deployment:
    schedule: %s
    window: {start: "%s", end: "%s"}
status:
  phase: %s
`, svc, ver, r.id, sched, r.start, r.end, r.phase))}
	}
	reg, err := Load(fsys, Options{})
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	return reg
}

type forwardRelease struct {
	id, phase, start, end, schedule string
}

const forwardProduction = `  environment: prod-eu
  timezone: Europe/Berlin
  maxConcurrent: 2
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
    - name: backwards
      start: 2026-12-05T00:00:00Z
      end: 2026-12-04T00:00:00Z
`

// forwardStaging lists no windows: any time outside freezes.
const forwardStaging = `  environment: staging
`

func mustInterval(t *testing.T, start, end string) Interval {
	t.Helper()
	iv, err := ParseInterval(start, end)
	if err != nil {
		t.Fatalf("ParseInterval(%s, %s) error = %v", start, end, err)
	}
	return iv
}

func TestForwardReleases(t *testing.T) {
	releases := []forwardRelease{
		{id: "pay@1.0.0", phase: "closed", start: "2026-12-01T00:00:00Z", end: "2026-12-01T02:00:00Z"},
		{id: "pay@1.1.0", phase: "planned", start: "2026-12-03T21:00:00Z", end: "2026-12-03T23:00:00Z"},
		{id: "pay@1.10.0", phase: "draft", start: "2026-12-03T21:00:00Z", end: "2026-12-03T23:00:00Z"},
		{id: "pay@1.9.0", phase: "deploying", start: "2026-12-03T21:00:00Z", end: "2026-12-03T23:00:00Z"},
		{id: "web@2.0.0", phase: "accepted", start: "2026-12-03T21:00:00Z", end: "2026-12-03T22:00:00Z"},
		{id: "web@2.1.0", phase: "cancelled", start: "2026-12-03T21:00:00Z", end: "2026-12-03T22:00:00Z"},
		{id: "web@2.2.0", phase: "retired", start: "2026-12-10T21:00:00Z", end: "2026-12-10T22:00:00Z"},
		{id: "web@2.3.0", phase: "planned", start: "2026-12-11T00:00:00Z", end: "2026-12-11T01:00:00Z", schedule: "staging"},
		{id: "web@2.4.0", phase: "planned", start: "2026-12-12T00:00:00Z", end: "2026-12-12T01:00:00Z", schedule: "nowhere"},
		{id: "web@2.5.0", phase: "planned", start: "2026-12-13T05:00:00Z", end: "2026-12-13T01:00:00Z"}, // backwards
		{id: "web@2.6.0", phase: "planned", start: "next week", end: "2026-12-13T01:00:00Z"},            // does not parse
	}
	reg := forwardRegistry(t, map[string]string{"production": forwardProduction, "staging": forwardStaging}, releases)

	tests := []struct {
		name       string
		from, to   string
		want       []string // service@version in order
		wantActive []bool
	}{
		{
			name: "everything not cancelled, by start, end, service, version",
			from: "2026-11-01T00:00:00Z", to: "2027-01-01T00:00:00Z",
			want:       []string{"pay@1.0.0", "web@2.0.0", "pay@1.1.0", "pay@1.9.0", "pay@1.10.0", "web@2.2.0", "web@2.3.0", "web@2.4.0"},
			wantActive: []bool{false, true, true, true, false, false, true, true},
		},
		{
			name: "a window ending at the period's start is out",
			from: "2026-12-01T02:00:00Z", to: "2026-12-03T21:00:01Z",
			want: []string{"web@2.0.0", "pay@1.1.0", "pay@1.9.0", "pay@1.10.0"}, wantActive: []bool{true, true, true, false},
		},
		{
			name: "a window starting at the period's end is out",
			from: "2026-11-01T00:00:00Z", to: "2026-12-03T21:00:00Z",
			want: []string{"pay@1.0.0"}, wantActive: []bool{false},
		},
		{
			name: "a window overlapping the period's start is in",
			from: "2026-12-01T01:59:59Z", to: "2026-12-01T03:00:00Z",
			want: []string{"pay@1.0.0"}, wantActive: []bool{false},
		},
		{
			name: "a period inside a window",
			from: "2026-12-03T22:30:00Z", to: "2026-12-03T22:31:00Z",
			want: []string{"pay@1.1.0", "pay@1.9.0", "pay@1.10.0"}, wantActive: []bool{true, true, false},
		},
		{
			name: "nothing",
			from: "2027-02-01T00:00:00Z", to: "2027-03-01T00:00:00Z",
			want: []string{}, wantActive: []bool{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Forward(reg, mustInterval(t, tt.from, tt.to))
			if err != nil {
				t.Fatalf("Forward() error = %v", err)
			}
			got, gotActive := []string{}, []bool{}
			for _, r := range f.Releases {
				got = append(got, r.Service+"@"+r.Version)
				gotActive = append(gotActive, r.Active)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Forward() releases = %v, want %v", got, tt.want)
			}
			if !slices.Equal(gotActive, tt.wantActive) {
				t.Errorf("Forward() active = %v, want %v", gotActive, tt.wantActive)
			}
		})
	}

	t.Run("fields", func(t *testing.T) {
		f, err := Forward(reg, mustInterval(t, "2026-12-10T00:00:00Z", "2026-12-13T00:00:00Z"))
		if err != nil {
			t.Fatalf("Forward() error = %v", err)
		}
		want := []ScheduledRelease{
			{Service: "web", Version: "2.2.0", Title: "Release web@2.2.0", Type: "minor", Risk: "low", Phase: "retired",
				Schedule: "production", Environment: "prod-eu", Owner: "alice",
				Start: time.Date(2026, 12, 10, 21, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 10, 22, 0, 0, 0, time.UTC)},
			{Service: "web", Version: "2.3.0", Title: "Release web@2.3.0", Type: "minor", Risk: "low", Phase: "planned", Active: true,
				Schedule: "staging", Environment: "staging", Owner: "alice",
				Start: time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 11, 1, 0, 0, 0, time.UTC)},
			{Service: "web", Version: "2.4.0", Title: "Release web@2.4.0", Type: "minor", Risk: "low", Phase: "planned", Active: true,
				Schedule: "nowhere", Environment: "", Owner: "alice",
				Start: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 12, 1, 0, 0, 0, time.UTC)},
		}
		if !slices.Equal(f.Releases, want) {
			t.Errorf("Forward() releases =\n%+v\nwant\n%+v", f.Releases, want)
		}
		if f.Registry != "acme" {
			t.Errorf("Forward() registry = %q, want acme", f.Registry)
		}
	})
}

func TestForwardBadPeriod(t *testing.T) {
	reg := forwardRegistry(t, map[string]string{"staging": forwardStaging}, nil)
	for _, tt := range []struct {
		name, from, to string
		want           error
	}{
		{name: "from equals to", from: "2026-12-01T00:00:00Z", to: "2026-12-01T00:00:00Z", want: ErrEmptyPeriod},
		{name: "from after to", from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z", want: ErrEmptyPeriod},
		{name: "longer than ten years", from: "0001-01-01T00:00:00Z", to: "9999-12-31T23:59:59Z", want: ErrLongPeriod},
		{name: "ten years", from: "2026-01-01T00:00:00Z", to: "2036-01-01T00:00:00Z", want: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Forward(reg, mustInterval(t, tt.from, tt.to))
			if !errors.Is(err, tt.want) {
				t.Errorf("Forward() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// windowSpans prints windows as "name start–end" in UTC.
func windowSpans(ws []ScheduledWindow) []string {
	out := []string{}
	for _, w := range ws {
		s := w.Schedule + "/" + w.Name + " " + Interval{w.Start, w.End}.String()
		if w.FrozenBy == nil {
			s += " frozenBy=nil"
		} else if len(w.FrozenBy) > 0 {
			s += " frozenBy=" + strings.Join(w.FrozenBy, ",")
		}
		out = append(out, s)
	}
	return out
}

func TestForwardWindows(t *testing.T) {
	// Europe/Berlin leaves summer time on Sunday 2026-10-25 (03:00 CEST ->
	// 02:00 CET) and enters it on Sunday 2026-03-29 (02:00 CET -> 03:00
	// CEST): Thursday 22:00 is 20:00Z in summer and 21:00Z in winter. The
	// Saturday window spans the autumn change and lasts 8 elapsed hours.
	schedules := map[string]string{
		"production": forwardProduction,
		"staging":    forwardStaging,
		"weekend": `  environment: prod-eu
  timezone: Europe/Berlin
  windows:
    - name: saturday-night
      weekly: {days: [sat], start: "22:00", duration: 8h}
    - name: broken
      weekly: {days: [sun], start: "25:00", duration: 1h}
`,
	}
	reg := forwardRegistry(t, schedules, nil)
	tests := []struct {
		name     string
		from, to string
		want     []string
	}{
		{
			name: "autumn: summer time ends",
			from: "2026-10-15T00:00:00Z", to: "2026-11-06T00:00:00Z",
			want: []string{
				"production/thursday-night 2026-10-15T20:00:00Z–2026-10-16T00:00:00Z",
				"production/thursday-night 2026-10-22T20:00:00Z–2026-10-23T00:00:00Z",
				"production/thursday-night 2026-10-29T21:00:00Z–2026-10-30T01:00:00Z",
				"production/thursday-night 2026-11-05T21:00:00Z–2026-11-06T01:00:00Z",
				"weekend/saturday-night 2026-10-17T20:00:00Z–2026-10-18T04:00:00Z",
				"weekend/saturday-night 2026-10-24T20:00:00Z–2026-10-25T04:00:00Z",
				"weekend/saturday-night 2026-10-31T21:00:00Z–2026-11-01T05:00:00Z",
			},
		},
		{
			name: "spring: summer time starts",
			from: "2026-03-19T00:00:00Z", to: "2026-04-03T00:00:00Z",
			want: []string{
				"production/thursday-night 2026-03-19T21:00:00Z–2026-03-20T01:00:00Z",
				"production/thursday-night 2026-03-26T21:00:00Z–2026-03-27T01:00:00Z",
				"production/thursday-night 2026-04-02T20:00:00Z–2026-04-03T00:00:00Z",
				"weekend/saturday-night 2026-03-21T21:00:00Z–2026-03-22T05:00:00Z",
				"weekend/saturday-night 2026-03-28T21:00:00Z–2026-03-29T05:00:00Z",
			},
		},
		{
			name: "an occurrence under way at the period's start is in",
			from: "2026-10-15T23:59:00Z", to: "2026-10-16T12:00:00Z",
			want: []string{"production/thursday-night 2026-10-15T20:00:00Z–2026-10-16T00:00:00Z"},
		},
		{
			name: "an occurrence ending at the period's start is out",
			from: "2026-10-16T00:00:00Z", to: "2026-10-16T12:00:00Z",
			want: []string{},
		},
		{
			name: "an occurrence starting at the period's end is out",
			from: "2026-10-15T00:00:00Z", to: "2026-10-15T20:00:00Z",
			want: []string{},
		},
		{
			name: "windows in freezes name them",
			from: "2026-11-26T00:00:00Z", to: "2026-12-25T00:00:00Z",
			want: []string{
				"production/thursday-night 2026-11-26T21:00:00Z–2026-11-27T01:00:00Z frozenBy=audit",
				"production/thursday-night 2026-12-03T21:00:00Z–2026-12-04T01:00:00Z",
				"production/december-special 2026-12-10T20:00:00Z–2026-12-11T04:00:00Z",
				"production/thursday-night 2026-12-10T21:00:00Z–2026-12-11T01:00:00Z",
				"production/thursday-night 2026-12-17T21:00:00Z–2026-12-18T01:00:00Z",
				"production/thursday-night 2026-12-24T21:00:00Z–2026-12-25T01:00:00Z frozenBy=year-end",
				"weekend/saturday-night 2026-11-28T21:00:00Z–2026-11-29T05:00:00Z",
				"weekend/saturday-night 2026-12-05T21:00:00Z–2026-12-06T05:00:00Z",
				"weekend/saturday-night 2026-12-12T21:00:00Z–2026-12-13T05:00:00Z",
				"weekend/saturday-night 2026-12-19T21:00:00Z–2026-12-20T05:00:00Z",
			},
		},
		{
			name: "fixed windows, and weekly ones by start",
			from: "2026-12-10T00:00:00Z", to: "2026-12-11T00:00:00Z",
			want: []string{
				"production/december-special 2026-12-10T20:00:00Z–2026-12-11T04:00:00Z",
				"production/thursday-night 2026-12-10T21:00:00Z–2026-12-11T01:00:00Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Forward(reg, mustInterval(t, tt.from, tt.to))
			if err != nil {
				t.Fatalf("Forward() error = %v", err)
			}
			if got := windowSpans(f.Windows); !slices.Equal(got, tt.want) {
				t.Errorf("Forward() windows =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	t.Run("schedules", func(t *testing.T) {
		f, err := Forward(reg, mustInterval(t, "2026-10-15T00:00:00Z", "2026-10-16T00:00:00Z"))
		if err != nil {
			t.Fatalf("Forward() error = %v", err)
		}
		want := []ScheduleSummary{
			{Name: "production", Environment: "prod-eu", Timezone: "Europe/Berlin", MaxConcurrent: 2},
			{Name: "staging", Environment: "staging", Timezone: "UTC", MaxConcurrent: 1, AnyTime: true},
			{Name: "weekend", Environment: "prod-eu", Timezone: "Europe/Berlin", MaxConcurrent: 1},
		}
		if !slices.Equal(f.Schedules, want) {
			t.Errorf("Forward() schedules = %+v, want %+v", f.Schedules, want)
		}
		w := f.Windows[0]
		if w.Kind != WindowWeekly || w.Recurrence != "Thu 22:00–02:00 Europe/Berlin" || w.Environment != "prod-eu" {
			t.Errorf("Forward() window = %+v, want weekly, Thu 22:00–02:00 Europe/Berlin, prod-eu", w)
		}
	})
}

func TestForwardFreezes(t *testing.T) {
	reg := forwardRegistry(t, map[string]string{"production": forwardProduction, "staging": forwardStaging + `  freezes:
    - name: year-end
      start: 2026-12-22T00:00:00Z
      end: 2027-01-02T00:00:00Z
`}, nil)
	tests := []struct {
		name      string
		from, to  string
		want      []string
		wantAllow [][]string
	}{
		{
			name: "by schedule, then start; the backwards freeze is left out",
			from: "2026-11-01T00:00:00Z", to: "2027-02-01T00:00:00Z",
			want: []string{
				"production/audit 2026-11-26T00:00:00Z–2026-11-27T12:00:00Z",
				"production/year-end 2026-12-20T00:00:00Z–2027-01-04T00:00:00Z",
				"staging/year-end 2026-12-22T00:00:00Z–2027-01-02T00:00:00Z",
			},
			wantAllow: [][]string{{}, {"emergency"}, {}},
		},
		{
			name: "a freeze ending at the period's start is out",
			from: "2026-11-27T12:00:00Z", to: "2026-12-20T00:00:01Z",
			want:      []string{"production/year-end 2026-12-20T00:00:00Z–2027-01-04T00:00:00Z"},
			wantAllow: [][]string{{"emergency"}},
		},
		{
			name: "a freeze starting at the period's end is out",
			from: "2026-11-01T00:00:00Z", to: "2026-11-26T00:00:00Z",
			want: []string{}, wantAllow: [][]string{},
		},
		{
			name: "a period inside freezes",
			from: "2026-12-25T00:00:00Z", to: "2026-12-26T00:00:00Z",
			want: []string{
				"production/year-end 2026-12-20T00:00:00Z–2027-01-04T00:00:00Z",
				"staging/year-end 2026-12-22T00:00:00Z–2027-01-02T00:00:00Z",
			},
			wantAllow: [][]string{{"emergency"}, {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Forward(reg, mustInterval(t, tt.from, tt.to))
			if err != nil {
				t.Fatalf("Forward() error = %v", err)
			}
			got, gotAllow := []string{}, [][]string{}
			for _, fr := range f.Freezes {
				got = append(got, fr.Schedule+"/"+fr.Name+" "+Interval{fr.Start, fr.End}.String())
				if fr.Allow == nil {
					t.Errorf("freeze %s: Allow is nil, want an empty list (JSON [])", fr.Name)
				}
				gotAllow = append(gotAllow, fr.Allow)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Forward() freezes =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !slices.EqualFunc(gotAllow, tt.wantAllow, slices.Equal) {
				t.Errorf("Forward() allow = %q, want %q", gotAllow, tt.wantAllow)
			}
		})
	}
}

func TestForwardJSONShape(t *testing.T) {
	reg := forwardRegistry(t, nil, nil)
	f, err := Forward(reg, mustInterval(t, "2026-12-01T01:00:00+01:00", "2026-12-02T00:00:00Z"))
	if err != nil {
		t.Fatalf("Forward() error = %v", err)
	}
	got, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	// Empty lists are [], never null, and times are UTC.
	want := `{"from":"2026-12-01T00:00:00Z","to":"2026-12-02T00:00:00Z","releases":[],"freezes":[],"windows":[],"schedules":[]}`
	if string(got) != want {
		t.Errorf("json.Marshal(Forward()) = %s, want %s", got, want)
	}
}

func TestICSText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "SEPA instant transfers", want: "SEPA instant transfers"},
		{name: "backslash", in: `C:\path`, want: `C:\\path`},
		{name: "semicolon and comma", in: "a;b,c", want: `a\;b\,c`},
		{name: "newlines", in: "one\ntwo\r\nthree\rfour", want: `one\ntwo\nthree\nfour`},
		{name: "colon stays", in: "payments 2.4.0: SEPA", want: "payments 2.4.0: SEPA"},
		{name: "control characters", in: "a\tb\x00c", want: "a b c"},
		{name: "multi-byte", in: "Überweisung – 10 €", want: "Überweisung – 10 €"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := icsText(tt.in); got != tt.want {
				t.Errorf("icsText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldICS(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantLines int
	}{
		{name: "short", in: "SUMMARY:short", wantLines: 1},
		{name: "exactly 75 octets", in: "SUMMARY:" + strings.Repeat("x", 67), wantLines: 1},
		{name: "76 octets", in: "SUMMARY:" + strings.Repeat("x", 68), wantLines: 2},
		{name: "149 octets", in: "SUMMARY:" + strings.Repeat("x", 141), wantLines: 2},
		{name: "150 octets", in: "SUMMARY:" + strings.Repeat("x", 142), wantLines: 3},
		// "ü" is 2 octets, "€" 3: a cut at 75 would fall inside them.
		{name: "two-octet characters at the boundary", in: "SUMMARY:" + strings.Repeat("ü", 60), wantLines: 2},
		{name: "three-octet characters at the boundary", in: "SUMMARY:" + strings.Repeat("€", 60), wantLines: 3},
		{name: "four-octet characters", in: "SUMMARY:" + strings.Repeat("🚀", 40), wantLines: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := foldICS(tt.in)
			if !strings.HasSuffix(got, "\r\n") {
				t.Fatalf("foldICS() = %q, want it to end in CRLF", got)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
			if len(lines) != tt.wantLines {
				t.Errorf("foldICS() has %d lines, want %d: %q", len(lines), tt.wantLines, lines)
			}
			for i, l := range lines {
				if len(l) > icsLineOctets {
					t.Errorf("line %d is %d octets, want at most %d: %q", i+1, len(l), icsLineOctets, l)
				}
				if !utf8.ValidString(l) {
					t.Errorf("line %d splits a character: %q", i+1, l)
				}
				if strings.ContainsAny(l, "\r\n") {
					t.Errorf("line %d holds a bare CR or LF: %q", i+1, l)
				}
				if i > 0 && !strings.HasPrefix(l, " ") {
					t.Errorf("continuation line %d does not start with a space: %q", i+1, l)
				}
			}
			// Unfolding (RFC 5545 3.1) restores the line.
			if unfolded := strings.ReplaceAll(strings.TrimSuffix(got, "\r\n"), "\r\n ", ""); unfolded != tt.in {
				t.Errorf("unfold(foldICS()) = %q, want %q", unfolded, tt.in)
			}
		})
	}
}

func TestWriteICS(t *testing.T) {
	f := &ForwardSchedule{
		Registry: "acme",
		From:     time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		To:       time.Date(2027, 2, 22, 12, 0, 0, 0, time.UTC),
		Releases: []ScheduledRelease{
			{Service: "payments", Version: "2.4.0", Title: "SEPA instant transfers; Überweisungen in Echtzeit, mit Bestätigung per App für Beträge über 10 000 €",
				Type: "minor", Risk: "medium", Phase: "accepted", Active: true, Schedule: "production", Environment: "production", Owner: "bob",
				Start: time.Date(2026, 12, 3, 21, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC)},
			{Service: "ledger", Version: "1.9.0", Title: `Intercompany eliminations\netc`,
				Type: "minor", Risk: "low", Phase: "planned", Active: true, Schedule: "production", Environment: "production", Owner: "erin",
				Start: time.Date(2026, 12, 10, 21, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 10, 23, 30, 0, 0, time.UTC)},
		},
		Freezes: []ScheduledFreeze{
			{Schedule: "production", Environment: "production", Name: "year-end", Allow: []string{"emergency"},
				Start: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)},
			{Schedule: "production", Environment: "production", Name: "year-end", Allow: []string{}, index: 3, repeated: true,
				Start: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 2, 2, 0, 0, 0, 0, time.UTC)},
		},
	}
	var buf bytes.Buffer
	if err := f.WriteICS(&buf, time.Date(2026, 11, 24, 12, 0, 0, 0, time.FixedZone("CET", 3600))); err != nil {
		t.Fatalf("WriteICS() error = %v", err)
	}
	got := buf.Bytes()

	golden := filepath.Join("testdata", "forward", "schedule.ics")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (go test ./registry -run TestWriteICS -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("WriteICS() =\n%s\nwant (%s)\n%s", got, golden, want)
	}

	// Every line ends in CRLF and is at most 75 octets.
	if !bytes.HasSuffix(got, []byte("\r\n")) {
		t.Errorf("WriteICS() does not end in CRLF")
	}
	for i, l := range strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n") {
		if len(l) > icsLineOctets || strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d = %q: %d octets or a bare CR/LF", i+1, l, len(l))
		}
	}
	for _, want := range []string{
		"DTSTAMP:20261124T110000Z\r\n",
		"UID:release/payments@2.4.0@acme.relreg\r\n",
		"UID:freeze/production/year-end@acme.relreg\r\n",
		"UID:freeze/production/year-end/3@acme.relreg\r\n",
		"DTSTART:20261203T210000Z\r\nDTEND:20261203T230000Z\r\n",
		"STATUS:CONFIRMED\r\n", "STATUS:TENTATIVE\r\n",
		"SUMMARY:ledger 1.9.0: Intercompany eliminations\\\\netc\r\n",
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("WriteICS() lacks %q", want)
		}
	}
}

// A freeze's UID does not depend on the period: the second freeze of a
// name keeps its /<index> suffix even when the first is outside the period.
func TestFreezeUIDStableAcrossPeriods(t *testing.T) {
	reg := forwardRegistry(t, map[string]string{"staging": forwardStaging + `  freezes:
    - name: x
      start: 2026-12-22T00:00:00Z
      end: 2027-01-02T00:00:00Z
    - name: x
      start: 2027-02-01T00:00:00Z
      end: 2027-02-02T00:00:00Z
`}, nil)
	uids := func(from, to string) []string {
		f, err := Forward(reg, mustInterval(t, from, to))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := f.WriteICS(&b, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(b.String(), "\r\n") {
			if strings.HasPrefix(l, "UID:freeze/") {
				out = append(out, l)
			}
		}
		return out
	}
	all := uids("2026-11-01T00:00:00Z", "2027-12-31T00:00:00Z")
	late := uids("2027-01-10T00:00:00Z", "2027-12-31T00:00:00Z")
	if len(all) != 2 || len(late) != 1 || late[0] != all[1] {
		t.Errorf("freeze UIDs: whole period %v, later period %v; want the later one to be the whole period's second", all, late)
	}
}

// A period with nothing in it is still a calendar RFC 5545 accepts: it
// holds one component, and no event.
func TestWriteICSEmptyPeriod(t *testing.T) {
	reg := forwardRegistry(t, nil, nil)
	f, err := Forward(reg, mustInterval(t, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Releases) != 0 || len(f.Freezes) != 0 {
		t.Fatalf("the period holds %d releases and %d freezes, want none", len(f.Releases), len(f.Freezes))
	}
	var b bytes.Buffer
	if err := f.WriteICS(&b, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	var components []string
	for _, l := range lines {
		if name, ok := strings.CutPrefix(l, "BEGIN:"); ok && name != "VCALENDAR" && name != "STANDARD" {
			components = append(components, name)
		}
	}
	if !slices.Equal(components, []string{"VTIMEZONE"}) || lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Errorf("WriteICS() of an empty period =\n%s\nwant one VTIMEZONE and no VEVENT", b.String())
	}
}
