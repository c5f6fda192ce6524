package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate/output"
)

const scheduleLong = `Print the forward schedule of change (ITIL's FSC) of the registry on disk:
for the period [--from, --to), every release whose deployment window
overlaps it and that is not cancelled, sorted by window start, then per
schedule the freezes that overlap the period and the deployment windows
open in it (weekly windows expanded in the schedule's timezone).

--from defaults to --now (default: the current time), --to to 90 days after
--from; the period may be at most ten years long. Times are RFC 3339.

Formats: text (tables, times in UTC), json (one document, described in
registry/SCHEDULE.md), ics (an RFC 5545 iCalendar with one event per
release window and per freeze, for a calendar subscription).

This command does not validate: files that do not parse, and windows that
cannot be resolved, are left out. Run relreg validate for those.`

const scheduleExample = `  relreg schedule
  relreg schedule --from 2026-12-01T00:00:00Z --to 2027-01-01T00:00:00Z
  relreg schedule --format ics > releases.ics
  relreg schedule --format json | jq '.releases[] | select(.active)'`

// formatICS is the iCalendar output format of schedule.
const formatICS = "ics"

type scheduleOptions struct {
	from, to string
	now      string
	format   string
}

func newScheduleCmd(g *globals) *cobra.Command {
	o := &scheduleOptions{}
	c := &cobra.Command{
		Use:     "schedule",
		Short:   "Print the forward schedule of change: releases, freezes and windows",
		Long:    scheduleLong,
		Example: scheduleExample,
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runSchedule(g, o) },
	}
	c.Flags().StringVar(&o.from, "from", "", "start of the period, RFC 3339 (default: --now)")
	c.Flags().StringVar(&o.to, "to", "", "end of the period, RFC 3339, not included (default: 90 days after --from)")
	c.Flags().StringVar(&o.now, "now", "", "the present, RFC 3339: the default --from and the iCalendar DTSTAMP (default: now)")
	c.Flags().StringVar(&o.format, "format", formatText, "output format: text, json, ics")
	return c
}

func runSchedule(g *globals, o *scheduleOptions) error {
	if err := checkFormat(o.format, formatText, formatJSON, formatICS); err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	period, err := schedulePeriod(o.from, o.to, now)
	if err != nil {
		return err
	}
	reg, err := g.loadRegistry()
	if err != nil {
		return err
	}
	f, err := registry.Forward(reg, period)
	if err != nil {
		return err
	}
	switch o.format {
	case formatJSON:
		enc := json.NewEncoder(output.JSONWriter(g.stdout))
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	case formatICS:
		return f.WriteICS(g.stdout, now)
	}
	return writeScheduleText(g.stdout, f)
}

// schedulePeriod resolves --from and --to against now.
func schedulePeriod(from, to string, now time.Time) (registry.Interval, error) {
	iv := registry.Interval{Start: now}
	if from != "" {
		t, err := time.Parse(time.RFC3339, from)
		if err != nil {
			return iv, fmt.Errorf("--from %q is not an RFC 3339 time such as 2026-12-01T00:00:00Z", from)
		}
		iv.Start = t
	}
	iv.End = iv.Start.Add(registry.DefaultForwardPeriod)
	if to != "" {
		t, err := time.Parse(time.RFC3339, to)
		if err != nil {
			return iv, fmt.Errorf("--to %q is not an RFC 3339 time such as 2027-01-01T00:00:00Z", to)
		}
		iv.End = t
	}
	if iv.Empty() {
		return iv, fmt.Errorf("--from %s is not before --to %s: the period is empty",
			iv.Start.UTC().Format(time.RFC3339), iv.End.UTC().Format(time.RFC3339))
	}
	return iv, nil
}

// scheduleTime prints an instant compactly in UTC: 2026-12-03 22:00Z, with
// seconds only when there are any.
func scheduleTime(t time.Time) string {
	t = t.UTC()
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.Format("2006-01-02 15:04:05Z")
	}
	return t.Format("2006-01-02 15:04Z")
}

// cell makes a value safe for one tab-separated cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return output.Escape(s)
}

// writeScheduleText prints the releases, the freezes and the windows of each
// schedule as tables.
func writeScheduleText(w io.Writer, f *registry.ForwardSchedule) error {
	fmt.Fprintf(w, "Forward schedule of change, %s to %s (times in UTC)\n\n", scheduleTime(f.From), scheduleTime(f.To))

	fmt.Fprintln(w, "RELEASES")
	if len(f.Releases) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  START\tEND\tRELEASE\tPHASE\tTYPE\tRISK\tSCHEDULE\tENVIRONMENT\tOWNER\tTITLE")
		active := false
		for _, r := range f.Releases {
			phase := cell(r.Phase)
			if r.Active {
				phase += " *"
				active = true
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				scheduleTime(r.Start), scheduleTime(r.End), cell(r.Service+"@"+r.Version), phase,
				cell(r.Type), cell(r.Risk), cell(r.Schedule), cell(r.Environment), cell(r.Owner), cell(r.Title))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if active {
			fmt.Fprintln(w, "  * active (planned to deploying): holds its window")
		}
	}

	fmt.Fprintln(w, "\nFREEZES")
	if len(f.Freezes) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  START\tEND\tSCHEDULE\tNAME\tALLOW")
		for _, fr := range f.Freezes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", scheduleTime(fr.Start), scheduleTime(fr.End),
				cell(fr.Schedule), cell(fr.Name), cell(strings.Join(fr.Allow, ",")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nWINDOWS")
	if len(f.Schedules) == 0 {
		fmt.Fprintln(w, "  no schedules")
	}
	for _, s := range f.Schedules {
		fmt.Fprintf(w, "  %s (environment %s, %s, maxConcurrent %d)\n", cell(s.Name), cell(s.Environment), cell(s.Timezone), s.MaxConcurrent)
		var mine []registry.ScheduledWindow
		for _, win := range f.Windows {
			if win.Schedule == s.Name {
				mine = append(mine, win)
			}
		}
		switch {
		case s.AnyTime:
			fmt.Fprintln(w, "    any time outside freezes (the schedule lists no windows)")
			continue
		case len(mine) == 0:
			fmt.Fprintln(w, "    none in the period")
			continue
		}
		// Each weekly rule once, then the occurrences.
		seen := map[string]bool{}
		for _, win := range mine {
			if win.Recurrence != "" && !seen[win.Name] {
				seen[win.Name] = true
				fmt.Fprintf(w, "    %s: weekly, %s\n", cell(win.Name), win.Recurrence)
			}
		}
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		for _, win := range mine {
			note := ""
			if win.Kind == registry.WindowFixed {
				note = "fixed"
			}
			if len(win.FrozenBy) > 0 {
				note = strings.TrimPrefix(note+", frozen: "+cell(strings.Join(win.FrozenBy, ", ")), ", ")
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", scheduleTime(win.Start), scheduleTime(win.End), cell(win.Name), note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// The note column is mostly empty: no trailing blanks.
		for line := range strings.Lines(table.String()) {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
	return nil
}
