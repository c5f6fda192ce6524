package validate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// scheduleRule checks deployment windows against schedules (contract
// section 3, schedule):
//
//   - schedule/invalid-window: a window, freeze or release window whose start
//     is not before its end; a weekly window whose start or duration does
//     not parse; an unknown timezone.
//   - schedule/outside-window: a release's window does not lie inside one
//     window of its schedule (one weekly occurrence or one fixed window).
//     Emergency releases may be deployed outside the windows. A schedule
//     that lists no windows at all (one that only declares freezes) allows
//     any time.
//   - schedule/freeze: a release's window overlaps a freeze that does not
//     list the release's type in allow.
//   - schedule/conflict: more than maxConcurrent active releases of one
//     schedule, or two active releases of one service, overlap.
//
// Only releases not yet deployed (draft, and planned … deploying) are checked
// against windows and freezes: from deployed on, the window is history, and a
// schedule edited later must not fail releases it already let through.
// Cancelled releases are not checked. A release window whose start is not
// before its end is reported in every phase, like a schema error. Releases whose schedule does not exist
// are left to ref/unknown-schedule, and times that are not RFC 3339 to the
// schema rule.
func scheduleRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	calendars := make(map[string]*registry.Calendar, len(reg.Schedules))
	for _, name := range slices.Sorted(maps.Keys(reg.Schedules)) {
		cal, diags := registry.NewCalendar(reg.Schedules[name])
		calendars[name] = cal
		ds = append(ds, diags...)
	}

	// Conflicts are judged per schedule and per service: only the groups
	// of a release whose diagnostics are wanted need to be built.
	wantSchedule, wantService := map[string]bool{}, map[string]bool{}
	for _, rel := range sortedReleases(reg, opts.Only) {
		wantSchedule[rel.Spec.Deployment.Schedule] = true
		wantService[serviceOf(rel.Doc.ID)] = true
	}
	var ids []string
	for id, rel := range reg.Releases {
		if opts.reports(rel.Doc.Path) || wantSchedule[rel.Spec.Deployment.Schedule] || wantService[serviceOf(id)] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	bySchedule := map[string][]booking{}
	byService := map[string][]booking{}
	for _, id := range ids {
		rel := reg.Releases[id]
		reported := opts.reports(rel.Doc.Path)
		w := rel.Spec.Deployment.Window
		iv, err := rel.Interval()
		if err != nil {
			continue
		}
		if iv.Empty() {
			ds = append(ds, rel.Doc.Diag("schedule/invalid-window",
				fmt.Sprintf("deployment window starts at %s, not before its end %s: the end must come after the start", w.Start, w.End),
				releaseWindowPath...))
			continue
		}
		phase := rel.Status.Phase
		name := rel.Spec.Deployment.Schedule
		cal := calendars[name]
		if registry.Active(phase) {
			b := booking{rel: rel, iv: iv}
			svc := id[:strings.IndexByte(id, '@')]
			byService[svc] = append(byService[svc], b)
			if cal != nil {
				bySchedule[name] = append(bySchedule[name], b)
			}
		}
		if !reported || cal == nil || !(phase == registry.PhaseDraft || registry.Active(phase)) {
			continue
		}
		ds = append(ds, checkReleaseWindow(rel, iv, name, cal)...)
	}

	for _, name := range slices.Sorted(maps.Keys(bySchedule)) {
		limit := max(1, reg.Schedules[name].Spec.MaxConcurrent)
		ds = append(ds, scheduleConflicts(bySchedule[name], limit, func(b booking, others string) string {
			return fmt.Sprintf("%s overlaps %s: schedule %s allows %s at a time (maxConcurrent): move the window to a time fewer releases hold, or raise maxConcurrent in schedules/%s.yaml",
				b.rel.Doc.Subject(), others, name, scheduleCount(limit, "active release"), name)
		})...)
	}
	for _, svc := range slices.Sorted(maps.Keys(byService)) {
		ds = append(ds, scheduleConflicts(byService[svc], 1, func(b booking, others string) string {
			return fmt.Sprintf("%s overlaps %s: two active releases of service %s may never be deployed at the same time: move the window so they do not overlap",
				b.rel.Doc.Subject(), others, svc)
		})...)
	}
	return ds
}

var releaseWindowPath = []string{"spec", "deployment", "window"}

// checkReleaseWindow returns outside-window and freeze diagnostics for a release
// deployed over iv on schedule name.
func checkReleaseWindow(rel *registry.Release, iv registry.Interval, name string, cal *registry.Calendar) []registry.Diagnostic {
	var ds []registry.Diagnostic
	w := rel.Spec.Deployment.Window
	typ := rel.Spec.Type
	// A broken window may be the one that holds iv: fix the schedule first.
	if typ != "emergency" && !cal.Incomplete && !cal.Allowed(iv) {
		ds = append(ds, rel.Doc.Diag("schedule/outside-window",
			fmt.Sprintf("deployment window %s–%s is not inside one window of schedule %s: move it into %s; if the release cannot wait, make it type: emergency",
				w.Start, w.End, name, suggestWindows(cal, iv)),
			releaseWindowPath...))
	}
	for _, f := range cal.Freezing(iv, typ) {
		exempt := "the freeze exempts no release type"
		if len(f.Allow) > 0 {
			exempt = "the freeze exempts only type " + strings.Join(f.Allow, ", ")
		}
		ds = append(ds, rel.Doc.Diag("schedule/freeze",
			fmt.Sprintf("deployment window %s–%s overlaps freeze %s (%s) of schedule %s, and %s: move the window to end by %s or start from %s",
				w.Start, w.End, f.Name, f.Interval, name, exempt,
				f.Start.UTC().Format(registry.TimeFormat), f.End.UTC().Format(registry.TimeFormat)),
			releaseWindowPath...))
	}
	return ds
}

// suggestWindows lists the schedule's windows, each weekly one with its next
// occurrence from the release's start, so the message says where to move.
func suggestWindows(cal *registry.Calendar, iv registry.Interval) string {
	const shown = 3
	var parts []string
	for _, s := range cal.Windows[:min(shown, len(cal.Windows))] {
		p := s.String()
		if s.Weekly != nil {
			if next, ok := s.Weekly.Next(iv.Start); ok {
				p = fmt.Sprintf("%s (%s; next %s)", s.Name, s.Weekly, next)
			}
		}
		parts = append(parts, p)
	}
	if more := len(cal.Windows) - shown; more > 0 {
		return strings.Join(parts, ", ") + " or one of " + scheduleCount(more, "more window")
	}
	return scheduleJoinOr(parts)
}

// booking is an active release holding its deployment window.
type booking struct {
	rel *registry.Release
	iv  registry.Interval
}

// maxNamedConflicts bounds how many other releases a conflict message names.
const maxNamedConflicts = 5

// scheduleConflicts reports each booking that takes part in an instant where more
// than limit bookings overlap, naming the bookings it overlaps. It sorts
// group and runs in O(n log n) plus the names it prints.
func scheduleConflicts(group []booking, limit int, message func(b booking, others string) string) []registry.Diagnostic {
	slices.SortFunc(group, func(a, b booking) int {
		if c := a.iv.Start.Compare(b.iv.Start); c != 0 {
			return c
		}
		if c := a.iv.End.Compare(b.iv.End); c != 0 {
			return c
		}
		return strings.Compare(a.rel.Doc.ID, b.rel.Doc.ID)
	})
	ivs := make([]registry.Interval, len(group))
	ends := make([]time.Time, len(group))
	// reach[i] is the latest end among group[:i+1]: a backward scan for
	// bookings still open at some start stops where reach falls behind it.
	reach := make([]time.Time, len(group))
	for i, b := range group {
		ivs[i], ends[i] = b.iv, b.iv.End
		reach[i] = b.iv.End
		if i > 0 && reach[i-1].After(b.iv.End) {
			reach[i] = reach[i-1]
		}
	}
	crowded := registry.Crowded(ivs, limit)
	if !slices.Contains(crowded, true) {
		return nil
	}
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })

	var ds []registry.Diagnostic
	for i, b := range group {
		if !crowded[i] {
			continue
		}
		// Bookings that start before b ends, less those that end by b's start.
		startsBefore := sort.Search(len(group), func(k int) bool { return !group[k].iv.Start.Before(b.iv.End) })
		endedBy := sort.Search(len(ends), func(k int) bool { return ends[k].After(b.iv.Start) })
		total := startsBefore - endedBy - 1

		var before []string
		for j := i - 1; j >= 0 && len(before) < maxNamedConflicts && reach[j].After(b.iv.Start); j-- {
			if group[j].iv.End.After(b.iv.Start) {
				before = append(before, group[j].rel.Doc.Subject())
			}
		}
		slices.Reverse(before)
		names := before
		for j := i + 1; j < startsBefore && len(names) < maxNamedConflicts; j++ {
			names = append(names, group[j].rel.Doc.Subject())
		}
		others := scheduleJoin(names)
		if more := total - len(names); more > 0 {
			others = strings.Join(names, ", ") + " and " + strconv.Itoa(more) + " more"
		}
		ds = append(ds, b.rel.Doc.Diag("schedule/conflict", message(b, others), releaseWindowPath...))
	}
	return ds
}

// scheduleJoin joins names as "a, b and c".
func scheduleJoin(s []string) string { return scheduleJoinWith(s, " and ") }

// scheduleJoinOr joins names as "a, b or c".
func scheduleJoinOr(s []string) string { return scheduleJoinWith(s, " or ") }

func scheduleJoinWith(s []string, last string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + last + s[len(s)-1]
}

// scheduleCount prints "1 active release" or "2 active releases".
func scheduleCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
