package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const reportLong = `Print release management KPIs computed from the first-parent history of
REF (default HEAD), per service and for all releases: releases completed as
planned and scheduled, rescheduled, delayed, needing revision, cancelled,
emergency share, incidents per reviewed release, customer satisfaction,
elapsed time in each phase and between phases, and approval latency
(median and 90th percentile). Every definition is in the README section
"Auditing: log and report".

--since T (RFC 3339) keeps only releases created at or after T.

Formats: text (compact tables), json (one document), csv (one row per
service and a last row "all", with fixed columns).`

const reportExample = `  relreg report
  relreg report --since 2026-01-01T00:00:00Z --format csv > kpis.csv
  relreg report --ref refs/remotes/origin/main --format json`

type reportOptions struct {
	ref    string
	since  string
	format string
}

func newReportCmd(g *globals) *cobra.Command {
	o := &reportOptions{}
	c := &cobra.Command{
		Use:     "report",
		Short:   "Print release management KPIs computed from git history",
		Long:    reportLong,
		Example: reportExample,
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runReport(g, o) },
	}
	c.Flags().StringVar(&o.ref, "ref", "HEAD", "the revision whose first-parent history is read")
	c.Flags().StringVar(&o.since, "since", "", "only releases created at or after this RFC 3339 time")
	c.Flags().StringVar(&o.format, "format", formatText, "output format: text, json, csv")
	return c
}

func runReport(g *globals, o *reportOptions) error {
	if err := checkFormat(o.format, formatText, formatJSON, formatCSV); err != nil {
		return err
	}
	var opts validate.ReportOptions
	if o.since != "" {
		t, err := time.Parse(time.RFC3339, o.since)
		if err != nil {
			return fmt.Errorf("--since %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", o.since)
		}
		opts.Since = t
	}
	_, repo, err := g.openRepo(true)
	if err != nil {
		return err
	}
	var p *progress
	tl, err := validate.BuildTimeline(repo, validate.TimelineOptions{Ref: o.ref, Progress: func(done, total int) {
		if done == 1 {
			p = newProgress(g.stderr, "reading history", total)
		}
		p.Set(done)
	}})
	p.Done()
	if err != nil {
		return err
	}
	r := validate.Report(tl, opts)
	switch o.format {
	case formatJSON:
		enc := json.NewEncoder(output.JSONWriter(g.stdout))
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case formatCSV:
		return writeReportCSV(g.stdout, r)
	}
	return writeReportText(g.stdout, r)
}

// reportScopes returns the services' KPIs and then "all".
func reportScopes(r *validate.KPIReport) []validate.ServiceKPIs {
	return append(append([]validate.ServiceKPIs{}, r.Services...), validate.ServiceKPIs{Service: "all", KPIs: r.All})
}

// reportCSVHeader lists the CSV columns of relreg report, in order.
func reportCSVHeader() []string {
	h := []string{"service", "releases", "completed", "completed_as_planned_and_scheduled", "rescheduled", "delayed",
		"needing_revision", "cancelled", "emergency", "emergency_share", "reviewed", "incidents",
		"incidents_per_reviewed_release", "satisfaction_count", "satisfaction_mean"}
	col := func(name string) string { return strings.ReplaceAll(name, "-", "_") }
	three := func(prefix string) {
		h = append(h, prefix+"_count", prefix+"_median_s", prefix+"_p90_s")
	}
	for _, p := range validate.ReportPhases {
		three("phase_" + col(p))
	}
	for _, tr := range validate.ReportTransitions {
		three(col(tr[0]) + "_to_" + col(tr[1]))
	}
	for _, s := range validate.ReportSteps {
		three("approval_" + s.Step)
	}
	return h
}

func writeReportCSV(w io.Writer, r *validate.KPIReport) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportCSVHeader()); err != nil {
		return err
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	for _, s := range reportScopes(r) {
		k := s.KPIs
		row := []string{output.Escape(s.Service)}
		for _, n := range []int{k.Releases, k.Completed, k.CompletedAsPlanned, k.Rescheduled, k.Delayed, k.NeedingRevision, k.Cancelled, k.Emergency} {
			row = append(row, strconv.Itoa(n))
		}
		row = append(row, num(k.EmergencyShare), strconv.Itoa(k.Reviewed), strconv.Itoa(k.Incidents), num(k.IncidentsPerRelease),
			strconv.Itoa(k.Satisfaction.Count), num(k.Satisfaction.Mean))
		three := func(d validate.Durations) { row = append(row, strconv.Itoa(d.Count), num(d.Median), num(d.P90)) }
		for _, p := range k.Phases {
			three(p.Durations)
		}
		for _, t := range k.Transitions {
			three(t.Durations)
		}
		for _, l := range k.ApprovalLatency {
			three(l.Durations)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeReportText prints two tables: the counts per service, and the
// elapsed times (n, median, p90) per metric and service.
func writeReportText(w io.Writer, r *validate.KPIReport) error {
	since := ""
	if r.Since != "" {
		since = ", releases created since " + r.Since
	}
	fmt.Fprintf(w, "ref %s, %d commits%s\n\n", r.Ref[:min(12, len(r.Ref))], r.Commits, since)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tRELEASES\tCOMPLETED\tAS PLANNED\tRESCHEDULED\tDELAYED\tREVISED\tCANCELLED\tEMERGENCY\tINCIDENTS/REVIEW\tSATISFACTION")
	for _, s := range reportScopes(r) {
		k := s.KPIs
		sat := "-"
		if k.Satisfaction.Count > 0 {
			sat = fmt.Sprintf("%.2f (%d)", k.Satisfaction.Mean, k.Satisfaction.Count)
		}
		inc := "-"
		if k.Reviewed > 0 {
			inc = fmt.Sprintf("%.2f (%d)", k.IncidentsPerRelease, k.Reviewed)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d (%.0f%%)\t%s\t%s\n", output.Escape(s.Service), k.Releases, k.Completed, k.CompletedAsPlanned,
			k.Rescheduled, k.Delayed, k.NeedingRevision, k.Cancelled, k.Emergency, 100*k.EmergencyShare, inc, sat)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ELAPSED\tSERVICE\tN\tMEDIAN\tP90")
	row := func(metric, service string, d validate.Durations) {
		if d.Count > 0 {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", metric, output.Escape(service), d.Count, shortDuration(d.Median), shortDuration(d.P90))
		}
	}
	scopes := reportScopes(r)
	for i, p := range validate.ReportPhases {
		for _, s := range scopes {
			row("in "+p, s.Service, s.Phases[i].Durations)
		}
	}
	for i, tr := range validate.ReportTransitions {
		for _, s := range scopes {
			row(tr[0]+" -> "+tr[1], s.Service, s.Transitions[i].Durations)
		}
	}
	for i, st := range validate.ReportSteps {
		for _, s := range scopes {
			row(st.Step+" approval", s.Service, s.ApprovalLatency[i].Durations)
		}
	}
	return tw.Flush()
}

// shortDuration formats seconds as the two largest units: 3d4h, 5h20m, 12m, 30s.
func shortDuration(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second)).Round(time.Second)
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	mins, secs := int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh%dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm%ds", mins, secs)
	}
	return fmt.Sprintf("%ds", secs)
}
