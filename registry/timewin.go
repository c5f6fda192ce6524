package registry

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	// Weekly windows name IANA zones; embedding the database makes relreg
	// work on machines and containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Calendar logic for deployment windows and freezes. Every interval is
// half-open, [Start, End): a window ending at 22:00 and one starting at 22:00
// do not overlap. Weekly windows are wall-clock times in the schedule's
// timezone, so they follow daylight saving time.

// MaxWeeklyDuration is the longest a weekly window may last.
const MaxWeeklyDuration = 7 * 24 * time.Hour

// TimeFormat is how relreg prints instants in messages: RFC 3339 in UTC.
const TimeFormat = time.RFC3339

// Interval is a half-open time interval [Start, End).
type Interval struct {
	Start, End time.Time
}

// ParseInterval parses two RFC 3339 times. It fails if either does not parse;
// it does not check that start is before end (see Interval.Empty).
func ParseInterval(start, end string) (Interval, error) {
	s, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return Interval{}, fmt.Errorf("start: %w", err)
	}
	e, err := time.Parse(time.RFC3339, end)
	if err != nil {
		return Interval{}, fmt.Errorf("end: %w", err)
	}
	return Interval{Start: s, End: e}, nil
}

// Empty reports whether i holds no instant: its start is not before its end.
func (i Interval) Empty() bool { return !i.Start.Before(i.End) }

// Contains reports whether t lies in [Start, End).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.Start) && t.Before(i.End) }

// Covers reports whether j lies entirely inside i.
func (i Interval) Covers(j Interval) bool { return !j.Start.Before(i.Start) && !j.End.After(i.End) }

// Overlaps reports whether i and j share an instant.
func (i Interval) Overlaps(j Interval) bool { return i.Start.Before(j.End) && j.Start.Before(i.End) }

// Passed reports whether the whole interval lies before t.
func (i Interval) Passed(t time.Time) bool { return !t.Before(i.End) }

// String prints the interval in UTC, as "2026-12-03T21:00:00Z–2026-12-04T01:00:00Z".
func (i Interval) String() string {
	return i.Start.UTC().Format(TimeFormat) + "–" + i.End.UTC().Format(TimeFormat)
}

// Weekdays by the names a weekly window uses.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

var clockRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ParseClock parses a wall-clock time written HH:MM (00:00 to 23:59).
func ParseClock(s string) (hour, minute int, err error) {
	m := clockRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("start %q is not a time of day HH:MM such as \"22:00\"", s)
	}
	hour, _ = strconv.Atoi(m[1])
	minute, _ = strconv.Atoi(m[2])
	return hour, minute, nil
}

// ParseWeeklyDuration parses the duration of a weekly window: a Go duration
// string (4h, 90m, 4h30m) above zero and at most seven days.
func ParseWeeklyDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("duration %q does not parse: write it as hours and minutes such as 4h, 90m or 4h30m", s)
	case d <= 0:
		return 0, fmt.Errorf("duration %s must be above zero", s)
	case d > MaxWeeklyDuration:
		return 0, fmt.Errorf("duration %s is longer than a week (168h): a weekly window repeats every 7 days", s)
	}
	return d, nil
}

// LoadTimezone returns the IANA zone name; empty means UTC. "Local" is
// refused: a schedule must mean the same on every machine.
func LoadTimezone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("timezone %q is not an IANA zone: name one such as Europe/Berlin or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q: name an IANA zone such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}

// Recurrence is a weekly window resolved: on each of Days, at Hour:Minute
// wall-clock time in Location, for Duration of elapsed time. An occurrence
// may cross midnight and the end of the week. A start inside a daylight
// saving gap (02:30 on the night clocks go forward) resolves as time.Date
// does, to the same instant in the previous offset.
type Recurrence struct {
	Days         []time.Weekday
	Hour, Minute int
	Duration     time.Duration
	Location     *time.Location
}

// ParseRecurrence resolves a weekly window in loc. Unknown day names are
// skipped: the schema reports them.
func ParseRecurrence(w Weekly, loc *time.Location) (*Recurrence, error) {
	h, m, err := ParseClock(w.Start)
	if err != nil {
		return nil, err
	}
	d, err := ParseWeeklyDuration(w.Duration)
	if err != nil {
		return nil, err
	}
	r := &Recurrence{Hour: h, Minute: m, Duration: d, Location: loc}
	for _, name := range w.Days {
		if wd, ok := weekdays[strings.ToLower(name)]; ok && !slices.Contains(r.Days, wd) {
			r.Days = append(r.Days, wd)
		}
	}
	// Week order starting Monday, for stable printing.
	slices.SortFunc(r.Days, func(a, b time.Weekday) int { return cmp.Compare((a+6)%7, (b+6)%7) })
	return r, nil
}

// Occurrences returns the occurrences that overlap iv, in time order.
func (r *Recurrence) Occurrences(iv Interval) []Interval {
	var out []Interval
	r.each(iv.Start, iv.End, func(o Interval) bool {
		if o.Overlaps(iv) {
			out = append(out, o)
		}
		return true
	})
	return out
}

// Covering returns an occurrence that holds all of iv.
func (r *Recurrence) Covering(iv Interval) (Interval, bool) {
	var found Interval
	ok := false
	r.each(iv.Start, iv.Start, func(o Interval) bool {
		if o.Covers(iv) {
			found, ok = o, true
			return false
		}
		return true
	})
	return found, ok
}

// At returns the occurrence that holds t.
func (r *Recurrence) At(t time.Time) (Interval, bool) {
	return r.Covering(instant(t))
}

// instant is the shortest interval starting at t: an interval covers it
// exactly when it contains t.
func instant(t time.Time) Interval { return Interval{Start: t, End: t.Add(time.Nanosecond)} }

// Next returns the first occurrence that ends after t: the one under way at
// t, or the next one to start.
func (r *Recurrence) Next(t time.Time) (Interval, bool) {
	var found Interval
	ok := false
	r.each(t, t.Add(8*24*time.Hour), func(o Interval) bool {
		if o.End.After(t) {
			found, ok = o, true
			return false
		}
		return true
	})
	return found, ok
}

// each calls f, in time order, with every occurrence starting between the
// week before from (a window lasts at most a week; a day more absorbs
// daylight saving shifts) and the day after to, until f returns false.
func (r *Recurrence) each(from, to time.Time, f func(Interval) bool) {
	if len(r.Days) == 0 {
		return
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := from.In(loc).Date()
	first := time.Date(y, m, d-8, 0, 0, 0, 0, time.UTC)
	ty, tm, td := to.In(loc).Date()
	last := time.Date(ty, tm, td+1, 0, 0, 0, 0, time.UTC)
	days := int(last.Sub(first) / (24 * time.Hour))
	// time.Date normalizes day d+i into the right month and year.
	for i, wd := 0, first.Weekday(); i <= days; i, wd = i+1, (wd+1)%7 {
		if !slices.Contains(r.Days, wd) {
			continue
		}
		start := time.Date(y, m, d-8+i, r.Hour, r.Minute, 0, 0, loc)
		if !f(Interval{Start: start, End: start.Add(r.Duration)}) {
			return
		}
	}
}

// String describes the recurrence as "Thu 22:00–02:00 Europe/Berlin", or
// "Fri 18:00 for 60h UTC" when it lasts a day or more.
func (r *Recurrence) String() string {
	names := make([]string, len(r.Days))
	for i, d := range r.Days {
		names[i] = d.String()[:3]
	}
	loc := "UTC"
	if r.Location != nil {
		loc = r.Location.String()
	}
	start := fmt.Sprintf("%02d:%02d", r.Hour, r.Minute)
	if r.Duration >= 24*time.Hour {
		return fmt.Sprintf("%s %s for %s %s", strings.Join(names, ","), start, shortDuration(r.Duration), loc)
	}
	endMin := (r.Hour*60 + r.Minute + int(r.Duration/time.Minute)) % (24 * 60)
	return fmt.Sprintf("%s %s–%02d:%02d %s", strings.Join(names, ","), start, endMin/60, endMin%60, loc)
}

// shortDuration prints 60h0m0s as 60h and 4h30m0s as 4h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Slot is one usable deployment window of a schedule: fixed, or weekly.
type Slot struct {
	Index  int    // position in spec.windows
	Name   string // the window's name
	Fixed  Interval
	Weekly *Recurrence // nil for a fixed window
}

// Covering returns the occurrence of the slot (the fixed interval, or one
// weekly occurrence) that holds all of iv.
func (s Slot) Covering(iv Interval) (Interval, bool) {
	if s.Weekly != nil {
		return s.Weekly.Covering(iv)
	}
	return s.Fixed, s.Fixed.Covers(iv)
}

// At returns the occurrence of the slot that holds t.
func (s Slot) At(t time.Time) (Interval, bool) {
	return s.Covering(instant(t))
}

// String names the slot with its times: "thursday-night (Thu 22:00–02:00
// Europe/Berlin)".
func (s Slot) String() string {
	if s.Weekly != nil {
		return fmt.Sprintf("%s (%s)", s.Name, s.Weekly)
	}
	return fmt.Sprintf("%s (%s)", s.Name, s.Fixed)
}

// FreezePeriod is one usable freeze of a schedule.
type FreezePeriod struct {
	Index int // position in spec.freezes
	Name  string
	Interval
	Allow []string // release types exempt from the freeze
}

// Allows reports whether releases of type releaseType are exempt.
func (f FreezePeriod) Allows(releaseType string) bool { return slices.Contains(f.Allow, releaseType) }

// Calendar is a schedule's windows and freezes resolved to instants.
type Calendar struct {
	Location *time.Location
	// Windows are the usable windows, in file order.
	Windows []Slot
	// Freezes are the usable freezes, in file order.
	Freezes []FreezePeriod
	// Unrestricted is set when the schedule lists no windows at all: it only
	// declares freezes, and releases may be deployed at any other time.
	Unrestricted bool
	// Incomplete is set when some window could not be resolved (a bad
	// timezone, start, duration or time): an interval outside Windows may
	// still lie in the broken one, so "outside" proves nothing.
	Incomplete bool
}

// Rule id of the diagnostics NewCalendar returns.
const RuleInvalidWindow = "schedule/invalid-window"

// NewCalendar resolves a schedule's windows and freezes. It returns
// schedule/invalid-window diagnostics for what cannot be used: an unknown
// timezone, a weekly start or duration that does not parse, a fixed window
// or freeze whose start is not before its end. Times that are not RFC 3339
// are left to the schema rule and skipped silently.
func NewCalendar(s *Schedule) (*Calendar, []Diagnostic) {
	d := s.Doc
	var diags []Diagnostic
	c := &Calendar{Unrestricted: len(s.Spec.Windows) == 0}
	loc, err := LoadTimezone(s.Spec.Timezone)
	if err != nil {
		diags = append(diags, d.Diag(RuleInvalidWindow, err.Error(), "spec", "timezone"))
	}
	c.Location = loc
	for i, w := range s.Spec.Windows {
		idx := strconv.Itoa(i)
		if w.Weekly != nil {
			// With an unknown timezone, still check the rest of the window.
			r, err := ParseRecurrence(*w.Weekly, cmp.Or(loc, time.UTC))
			if err != nil {
				field := "duration"
				if _, _, cerr := ParseClock(w.Weekly.Start); cerr != nil {
					field = "start"
				}
				diags = append(diags, d.Diag(RuleInvalidWindow,
					fmt.Sprintf("window %s: %v", w.Name, err), "spec", "windows", idx, "weekly", field))
				c.Incomplete = true
				continue
			}
			if loc == nil {
				c.Incomplete = true
				continue
			}
			c.Windows = append(c.Windows, Slot{Index: i, Name: w.Name, Weekly: r})
			continue
		}
		iv, err := ParseInterval(w.Start, w.End)
		if err != nil {
			c.Incomplete = true
			continue
		}
		if iv.Empty() {
			diags = append(diags, d.Diag(RuleInvalidWindow,
				fmt.Sprintf("window %s starts at %s, not before its end %s: swap or correct the times", w.Name, w.Start, w.End),
				"spec", "windows", idx))
			c.Incomplete = true
			continue
		}
		c.Windows = append(c.Windows, Slot{Index: i, Name: w.Name, Fixed: iv})
	}
	for i, f := range s.Spec.Freezes {
		iv, err := ParseInterval(f.Start, f.End)
		if err != nil {
			continue
		}
		if iv.Empty() {
			diags = append(diags, d.Diag(RuleInvalidWindow,
				fmt.Sprintf("freeze %s starts at %s, not before its end %s: swap or correct the times", f.Name, f.Start, f.End),
				"spec", "freezes", strconv.Itoa(i)))
			continue
		}
		c.Freezes = append(c.Freezes, FreezePeriod{Index: i, Name: f.Name, Interval: iv, Allow: f.Allow})
	}
	return c, diags
}

// Covering returns the window, and its occurrence, that holds all of iv.
func (c *Calendar) Covering(iv Interval) (Slot, Interval, bool) {
	for _, s := range c.Windows {
		if o, ok := s.Covering(iv); ok {
			return s, o, true
		}
	}
	return Slot{}, Interval{}, false
}

// Allowed reports whether a release may be deployed over iv as far as the
// windows go: iv lies inside one window occurrence, or the schedule lists
// no windows.
func (c *Calendar) Allowed(iv Interval) bool {
	if c.Unrestricted {
		return true
	}
	_, _, ok := c.Covering(iv)
	return ok
}

// Freezing returns the freezes that iv overlaps and that do not exempt
// releaseType.
func (c *Calendar) Freezing(iv Interval, releaseType string) []FreezePeriod {
	var out []FreezePeriod
	for _, f := range c.Freezes {
		if f.Overlaps(iv) && !f.Allows(releaseType) {
			out = append(out, f)
		}
	}
	return out
}

// Open reports whether a release of releaseType may be under way at t: t
// lies in a window (or the schedule lists none) and in no freeze that
// applies to the type.
func (c *Calendar) Open(t time.Time, releaseType string) bool {
	iv := instant(t)
	return c.Allowed(iv) && len(c.Freezing(iv, releaseType)) == 0
}

// Crowded finds where more than max intervals overlap. It returns, for
// each interval, whether it takes part in such an instant. Empty intervals
// take part in nothing. It runs a sweep line in O(n log n).
func Crowded(ivs []Interval, max int) []bool {
	type event struct {
		at    time.Time
		start bool
		i     int
	}
	events := make([]event, 0, 2*len(ivs))
	for i, iv := range ivs {
		if iv.Empty() {
			continue
		}
		events = append(events, event{iv.Start, true, i}, event{iv.End, false, i})
	}
	// Half-open: at one instant, ends come before starts.
	slices.SortFunc(events, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		switch {
		case a.start == b.start:
			return cmp.Compare(a.i, b.i)
		case a.start:
			return 1
		}
		return -1
	})
	crowded := make([]bool, len(ivs))
	// excess counts the instants, so far, at which more than max overlap;
	// an interval takes part in one if the count grew while it was open.
	seen := make([]int, len(ivs))
	excess, open := 0, 0
	for k := 0; k < len(events); {
		at := events[k].at
		for ; k < len(events) && events[k].at.Equal(at); k++ {
			e := events[k]
			if e.start {
				open++
				seen[e.i] = excess
			} else {
				open--
				if excess > seen[e.i] {
					crowded[e.i] = true
				}
			}
		}
		if open > max {
			excess++
		}
	}
	return crowded
}
