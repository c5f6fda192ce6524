package registry

import (
	"slices"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func iv(t *testing.T, start, end string) Interval {
	t.Helper()
	return Interval{Start: mustTime(t, start), End: mustTime(t, end)}
}

func TestIntervalHalfOpen(t *testing.T) {
	tests := []struct {
		name       string
		a, b       [2]string
		overlaps   bool
		aCoversB   bool
		aHoldsBEnd bool // a.Contains(b.End)
	}{
		{name: "touching at 22:00", a: [2]string{"2026-12-03T18:00:00Z", "2026-12-03T22:00:00Z"}, b: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}},
		{name: "one minute of overlap", a: [2]string{"2026-12-03T18:00:00Z", "2026-12-03T22:01:00Z"}, b: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}, overlaps: true},
		{name: "equal", a: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}, b: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}, overlaps: true, aCoversB: true},
		{name: "inside", a: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}, b: [2]string{"2026-12-03T23:00:00+01:00", "2026-12-04T00:00:00Z"}, overlaps: true, aCoversB: true, aHoldsBEnd: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := iv(t, tt.a[0], tt.a[1]), iv(t, tt.b[0], tt.b[1])
			if got := a.Overlaps(b); got != tt.overlaps {
				t.Errorf("Overlaps() = %v, want %v", got, tt.overlaps)
			}
			if got := b.Overlaps(a); got != tt.overlaps {
				t.Errorf("Overlaps() reversed = %v, want %v", got, tt.overlaps)
			}
			if got := a.Covers(b); got != tt.aCoversB {
				t.Errorf("Covers() = %v, want %v", got, tt.aCoversB)
			}
			if got := a.Contains(b.End); got != tt.aHoldsBEnd {
				t.Errorf("Contains(end) = %v, want %v", got, tt.aHoldsBEnd)
			}
		})
	}
}

func TestParseWeeklyDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "4h", want: 4 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "4h30m", want: 4*time.Hour + 30*time.Minute},
		{in: "168h", want: 168 * time.Hour},
		{in: "169h", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "four hours", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWeeklyDuration(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseWeeklyDuration(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseWeeklyDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in           string
		hour, minute int
		wantErr      bool
	}{
		{in: "22:00", hour: 22},
		{in: "00:05", minute: 5},
		{in: "23:59", hour: 23, minute: 59},
		{in: "24:00", wantErr: true},
		{in: "9:00", wantErr: true},
		{in: "22:60", wantErr: true},
		{in: "22h", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, m, err := ParseClock(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseClock(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if h != tt.hour || m != tt.minute {
				t.Errorf("ParseClock(%q) = %d:%d, want %d:%d", tt.in, h, m, tt.hour, tt.minute)
			}
		})
	}
}

func TestLoadTimezone(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "", want: "UTC"},
		{in: "Europe/Berlin", want: "Europe/Berlin"},
		{in: "America/New_York", want: "America/New_York"},
		{in: "Europe/Atlantis", wantErr: true},
		{in: "Local", wantErr: true},
		{in: "../etc/passwd", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := LoadTimezone(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("LoadTimezone(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && loc.String() != tt.want {
				t.Errorf("LoadTimezone(%q) = %s, want %s", tt.in, loc, tt.want)
			}
		})
	}
}

func mustRecurrence(t *testing.T, w Weekly, zone string) *Recurrence {
	t.Helper()
	loc, err := LoadTimezone(zone)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecurrence(w, loc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRecurrenceDST pins Thursday 22:00 Europe/Berlin on both sides of the
// autumn change (Sunday 2026-10-25) and the spring change (Sunday 2027-03-28):
// the same wall-clock time is a different UTC instant.
func TestRecurrenceDST(t *testing.T) {
	r := mustRecurrence(t, Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, "Europe/Berlin")
	tests := []struct {
		name string
		from string
		want [2]string
	}{
		{name: "summer time before autumn change", from: "2026-10-19T00:00:00Z", want: [2]string{"2026-10-22T20:00:00Z", "2026-10-23T00:00:00Z"}},
		{name: "winter time after autumn change", from: "2026-10-24T00:00:00Z", want: [2]string{"2026-10-29T21:00:00Z", "2026-10-30T01:00:00Z"}},
		{name: "winter time before spring change", from: "2027-03-22T00:00:00Z", want: [2]string{"2027-03-25T21:00:00Z", "2027-03-26T01:00:00Z"}},
		{name: "summer time after spring change", from: "2027-03-27T00:00:00Z", want: [2]string{"2027-04-01T20:00:00Z", "2027-04-02T00:00:00Z"}},
		{name: "under way at from", from: "2026-10-29T23:00:00Z", want: [2]string{"2026-10-29T21:00:00Z", "2026-10-30T01:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Next(mustTime(t, tt.from))
			want := iv(t, tt.want[0], tt.want[1])
			if !ok || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("Next(%s) = %s, %v, want %s", tt.from, got, ok, want)
			}
		})
	}
}

func TestRecurrenceCovering(t *testing.T) {
	tests := []struct {
		name   string
		weekly Weekly
		zone   string
		iv     [2]string
		want   bool
	}{
		{name: "whole occurrence", weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "Europe/Berlin",
			iv: [2]string{"2026-12-03T21:00:00Z", "2026-12-04T01:00:00Z"}, want: true},
		{name: "after midnight part", weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "Europe/Berlin",
			iv: [2]string{"2026-12-04T00:00:00+01:00", "2026-12-04T02:00:00+01:00"}, want: true},
		{name: "runs past the end", weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "Europe/Berlin",
			iv: [2]string{"2026-12-04T00:00:00+01:00", "2026-12-04T02:01:00+01:00"}},
		{name: "written in UTC as if the zone were UTC", weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "Europe/Berlin",
			iv: [2]string{"2026-12-03T22:00:00Z", "2026-12-04T02:00:00Z"}},
		{name: "wrong weekday", weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "UTC",
			iv: [2]string{"2026-12-02T22:00:00Z", "2026-12-02T23:00:00Z"}},
		{name: "across the end of the week", weekly: Weekly{Days: []string{"sun"}, Start: "22:00", Duration: "4h"}, zone: "UTC",
			iv: [2]string{"2026-12-06T23:00:00Z", "2026-12-07T01:30:00Z"}, want: true},
		{name: "a whole week", weekly: Weekly{Days: []string{"mon"}, Start: "00:00", Duration: "168h"}, zone: "UTC",
			iv: [2]string{"2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"}, want: true},
		{name: "two occurrences are not one", weekly: Weekly{Days: []string{"mon", "tue"}, Start: "00:00", Duration: "24h"}, zone: "UTC",
			iv: [2]string{"2026-12-07T12:00:00Z", "2026-12-08T12:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRecurrence(t, tt.weekly, tt.zone)
			if _, got := r.Covering(iv(t, tt.iv[0], tt.iv[1])); got != tt.want {
				t.Errorf("Covering(%s–%s) = %v, want %v", tt.iv[0], tt.iv[1], got, tt.want)
			}
		})
	}
}

func TestRecurrenceString(t *testing.T) {
	tests := []struct {
		weekly Weekly
		zone   string
		want   string
	}{
		{weekly: Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}, zone: "Europe/Berlin", want: "Thu 22:00–02:00 Europe/Berlin"},
		{weekly: Weekly{Days: []string{"thu", "tue"}, Start: "09:30", Duration: "90m"}, zone: "", want: "Tue,Thu 09:30–11:00 UTC"},
		{weekly: Weekly{Days: []string{"fri"}, Start: "18:00", Duration: "60h"}, zone: "UTC", want: "Fri 18:00 for 60h UTC"},
		{weekly: Weekly{Days: []string{"sun", "mon"}, Start: "01:00", Duration: "24h30m"}, zone: "UTC", want: "Mon,Sun 01:00 for 24h30m UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := mustRecurrence(t, tt.weekly, tt.zone).String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCrowded(t *testing.T) {
	h := func(from, to int) Interval {
		base := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		return Interval{Start: base.Add(time.Duration(from) * time.Hour), End: base.Add(time.Duration(to) * time.Hour)}
	}
	tests := []struct {
		name string
		ivs  []Interval
		max  int
		want []bool
	}{
		{name: "touching", ivs: []Interval{h(18, 22), h(22, 26)}, max: 1, want: []bool{false, false}},
		{name: "two overlap, one allowed", ivs: []Interval{h(18, 23), h(22, 26)}, max: 1, want: []bool{true, true}},
		{name: "two overlap, two allowed", ivs: []Interval{h(18, 23), h(22, 26)}, max: 2, want: []bool{false, false}},
		{name: "three overlap, two allowed", ivs: []Interval{h(20, 24), h(21, 23), h(22, 26), h(30, 31)}, max: 2, want: []bool{true, true, true, false}},
		{name: "chain never three at once", ivs: []Interval{h(20, 22), h(21, 24), h(23, 26)}, max: 2, want: []bool{false, false, false}},
		{name: "excess ends before a late one starts", ivs: []Interval{h(0, 10), h(1, 2), h(3, 4)}, max: 1, want: []bool{true, true, true}},
		{name: "empty intervals take no part", ivs: []Interval{h(1, 1), h(0, 3)}, max: 1, want: []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Crowded(tt.ivs, tt.max); !slices.Equal(got, tt.want) {
				t.Errorf("Crowded() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCalendarOpen(t *testing.T) {
	s := &Schedule{Doc: &Document{Path: "schedules/production.yaml", Kind: KindSchedule, ID: "production"},
		Spec: ScheduleSpec{Timezone: "Europe/Berlin",
			Windows: []ScheduleWindow{{Name: "thursday-night", Weekly: &Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}}},
			Freezes: []Freeze{{Name: "year-end", Start: "2026-12-20T00:00:00Z", End: "2027-01-04T00:00:00Z", Allow: []string{"emergency"}}},
		}}
	cal, diags := NewCalendar(s)
	if len(diags) != 0 {
		t.Fatalf("NewCalendar() diagnostics = %v, want none", diags)
	}
	tests := []struct {
		at, typ string
		want    bool
	}{
		{at: "2026-12-03T21:00:00Z", typ: "minor", want: true},
		{at: "2026-12-04T00:59:59Z", typ: "minor", want: true},
		{at: "2026-12-04T01:00:00Z", typ: "minor"}, // the end is not in the window
		{at: "2026-12-03T20:59:59Z", typ: "minor"},
		{at: "2026-12-24T21:30:00Z", typ: "minor"}, // frozen
		{at: "2026-12-24T21:30:00Z", typ: "emergency", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.at+" "+tt.typ, func(t *testing.T) {
			if got := cal.Open(mustTime(t, tt.at), tt.typ); got != tt.want {
				t.Errorf("Open(%s, %s) = %v, want %v", tt.at, tt.typ, got, tt.want)
			}
		})
	}
}
