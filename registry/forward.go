package registry

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// The forward schedule of change (ITIL's FSC): what the registry plans to
// deploy in a period, the freezes that forbid it, and the windows that
// allow it. `relreg schedule` prints it as text, JSON or iCalendar; the
// JSON form is this file's types, documented in registry/SCHEDULE.md.

// DefaultForwardPeriod is how far ahead the forward schedule looks by default.
const DefaultForwardPeriod = 90 * 24 * time.Hour

// MaxForwardPeriod is the longest period a forward schedule covers: weekly
// windows are expanded one occurrence at a time, and ten years of them is
// more than anyone reads.
const MaxForwardPeriod = 3653 * 24 * time.Hour

// Errors of Forward.
var (
	// ErrEmptyPeriod is returned for a period whose start is not before its end.
	ErrEmptyPeriod = errors.New("the period is empty: --from must be before --to")
	// ErrLongPeriod is returned for a period longer than MaxForwardPeriod.
	ErrLongPeriod = errors.New("the period is longer than ten years: narrow --from and --to")
)

// ForwardSchedule is the forward schedule of change of [From, To). Every
// time is in UTC.
type ForwardSchedule struct {
	// Registry is the registry's metadata.name (empty when relreg.yaml
	// does not parse); it keeps iCalendar UIDs of two registries apart.
	Registry string    `json:"-"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	// Releases are the releases, not cancelled, whose deployment window
	// overlaps the period, by window start, end, service and version.
	Releases []ScheduledRelease `json:"releases"`
	// Freezes are the freezes overlapping the period, by schedule and start.
	Freezes []ScheduledFreeze `json:"freezes"`
	// Windows are the deployment windows open in the period (each weekly
	// occurrence, each fixed window), by schedule and start.
	Windows []ScheduledWindow `json:"windows"`
	// Schedules are every schedule of the registry, by name.
	Schedules []ScheduleSummary `json:"schedules"`
}

// ScheduledRelease is a release in the forward schedule.
type ScheduledRelease struct {
	Service string `json:"service"`
	Version string `json:"version"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Risk    string `json:"risk"`
	Phase   string `json:"phase"`
	// Active is set from planned to deploying: the release holds its
	// window and counts towards the schedule's maxConcurrent.
	Active      bool      `json:"active"`
	Schedule    string    `json:"schedule"`
	Environment string    `json:"environment"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Owner       string    `json:"owner"`
}

// Subject returns the release's approval subject, release/<service>@<version>.
func (r ScheduledRelease) Subject() string { return "release/" + r.Service + "@" + r.Version }

// ScheduledFreeze is a freeze of a schedule in the forward schedule.
type ScheduledFreeze struct {
	Schedule    string    `json:"schedule"`
	Environment string    `json:"environment"`
	Name        string    `json:"name"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	// Allow lists the release types exempt from the freeze; never null.
	Allow []string `json:"allow"`
	// index is the freeze's position in spec.freezes; repeated is set when
	// an earlier freeze of the schedule has the same name. Together they
	// tell two freezes of one name apart, whatever the period shows.
	index    int
	repeated bool
}

// Kinds of deployment windows.
const (
	WindowWeekly = "weekly"
	WindowFixed  = "fixed"
)

// ScheduledWindow is one open deployment window of a schedule: one
// occurrence of a weekly window, or a fixed window.
type ScheduledWindow struct {
	Schedule    string    `json:"schedule"`
	Environment string    `json:"environment"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"` // WindowWeekly or WindowFixed
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	// Recurrence describes a weekly window, "Thu 22:00–02:00 Europe/Berlin".
	Recurrence string `json:"recurrence,omitempty"`
	// FrozenBy names the schedule's freezes that overlap the window, in
	// file order; never null. Only the release types they allow may be
	// deployed in it.
	FrozenBy []string `json:"frozenBy"`
}

// ScheduleSummary describes a schedule, so that a schedule without windows
// in the period still shows.
type ScheduleSummary struct {
	Name        string `json:"name"`
	Environment string `json:"environment"`
	Timezone    string `json:"timezone"`
	// MaxConcurrent is the number of active releases whose windows may
	// overlap (1 when the schedule does not say).
	MaxConcurrent int `json:"maxConcurrent"`
	// AnyTime is set when the schedule lists no windows at all: releases
	// may be deployed at any time outside its freezes.
	AnyTime bool `json:"anyTime"`
}

// Forward returns the forward schedule of change of period from reg.
//
// It is lenient, like a reader rather than a validator: a release whose
// window does not parse or is empty, and a window or freeze that cannot be
// resolved, are left out (relreg validate reports them); a release whose
// schedule does not exist is listed with an empty environment. Cancelled
// releases are left out; every other phase is listed.
func Forward(reg *Registry, period Interval) (*ForwardSchedule, error) {
	if period.Empty() {
		return nil, ErrEmptyPeriod
	}
	if period.End.Sub(period.Start) > MaxForwardPeriod {
		return nil, ErrLongPeriod
	}
	period = Interval{Start: period.Start.UTC(), End: period.End.UTC()}
	f := &ForwardSchedule{
		From:      period.Start,
		To:        period.End,
		Releases:  []ScheduledRelease{},
		Freezes:   []ScheduledFreeze{},
		Windows:   []ScheduledWindow{},
		Schedules: []ScheduleSummary{},
	}
	if reg.Config != nil {
		f.Registry = reg.Config.Metadata.Name
	}

	for _, name := range slices.Sorted(maps.Keys(reg.Schedules)) {
		s := reg.Schedules[name]
		env := s.Spec.Environment
		cal, _ := NewCalendar(s)
		f.Schedules = append(f.Schedules, ScheduleSummary{
			Name:          name,
			Environment:   env,
			Timezone:      cmp.Or(s.Spec.Timezone, "UTC"),
			MaxConcurrent: max(1, s.Spec.MaxConcurrent),
			AnyTime:       cal.Unrestricted,
		})
		var freezes []ScheduledFreeze
		named := map[string]bool{}
		for _, fr := range cal.Freezes {
			repeated := named[fr.Name]
			named[fr.Name] = true
			if fr.Overlaps(period) {
				freezes = append(freezes, ScheduledFreeze{
					Schedule: name, Environment: env, Name: fr.Name,
					Start: fr.Start.UTC(), End: fr.End.UTC(),
					Allow: append([]string{}, fr.Allow...), index: fr.Index, repeated: repeated,
				})
			}
		}
		slices.SortStableFunc(freezes, func(a, b ScheduledFreeze) int { return compareSpan(a.Start, a.End, b.Start, b.End) })
		f.Freezes = append(f.Freezes, freezes...)

		var windows []ScheduledWindow
		add := func(slot Slot, kind, recurrence string, o Interval) {
			frozen := []string{}
			for _, fr := range cal.Freezes {
				if fr.Overlaps(o) {
					frozen = append(frozen, fr.Name)
				}
			}
			windows = append(windows, ScheduledWindow{
				Schedule: name, Environment: env, Name: slot.Name, Kind: kind,
				Start: o.Start.UTC(), End: o.End.UTC(), Recurrence: recurrence, FrozenBy: frozen,
			})
		}
		for _, slot := range cal.Windows {
			if slot.Weekly == nil {
				if slot.Fixed.Overlaps(period) {
					add(slot, WindowFixed, "", slot.Fixed)
				}
				continue
			}
			for _, o := range slot.Weekly.Occurrences(period) {
				add(slot, WindowWeekly, slot.Weekly.String(), o)
			}
		}
		// Stable: two windows of one span keep file order.
		slices.SortStableFunc(windows, func(a, b ScheduledWindow) int { return compareSpan(a.Start, a.End, b.Start, b.End) })
		f.Windows = append(f.Windows, windows...)
	}

	for _, rel := range reg.Releases {
		if rel.Status.Phase == PhaseCancelled {
			continue
		}
		iv, err := rel.Interval()
		if err != nil || iv.Empty() || !iv.Overlaps(period) {
			continue
		}
		service, version, _ := strings.Cut(rel.Doc.ID, "@")
		sched := rel.Spec.Deployment.Schedule
		env := ""
		if s, ok := reg.Schedules[sched]; ok {
			env = s.Spec.Environment
		}
		f.Releases = append(f.Releases, ScheduledRelease{
			Service: service, Version: version,
			Title: rel.Spec.Title, Type: rel.Spec.Type, Risk: rel.Spec.Risk,
			Phase: rel.Status.Phase, Active: Active(rel.Status.Phase),
			Schedule: sched, Environment: env,
			Start: iv.Start.UTC(), End: iv.End.UTC(),
			Owner: rel.Spec.Owner,
		})
	}
	slices.SortFunc(f.Releases, func(a, b ScheduledRelease) int {
		return cmp.Or(compareSpan(a.Start, a.End, b.Start, b.End),
			strings.Compare(a.Service, b.Service), compareVersions(a.Version, b.Version))
	})
	return f, nil
}

// compareSpan orders intervals by start, then end.
func compareSpan(aStart, aEnd, bStart, bEnd time.Time) int {
	return cmp.Or(aStart.Compare(bStart), aEnd.Compare(bEnd))
}

// compareVersions orders SemVer versions by precedence, and anything else
// after them by text, so that 2.10.0 follows 2.9.0.
func compareVersions(a, b string) int {
	va, erra := semver.StrictNewVersion(a)
	vb, errb := semver.StrictNewVersion(b)
	switch {
	case erra == nil && errb == nil:
		if c := va.Compare(vb); c != 0 {
			return c
		}
	case erra == nil:
		return -1
	case errb == nil:
		return 1
	}
	return strings.Compare(a, b)
}
