package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const logLong = `Print the timeline of one registry document, read from the first-parent
history of REF (default HEAD): every commit that changed it, with the
committer time (UTC), the short SHA, the author (and the committer when it
is someone else), and what the commit did: created, a phase change (a DML
entry's state), a reschedule, another spec or status change, each approval
added, deleted.

An approval is "verified" when it holds against the approvers.yaml of the
commit's first parent (the base of that change; the commit that adds
relreg.yaml is read against itself): known approver, role, a signature that
verifies with one of their keys, neither revoked nor outside its validity at
the approval's at. "stale" means it signs another digest than the
document's at that commit.

SUBJECT is a file path relative to the registry, service@version for a
release, or a subject: release/payments@2.4.0, dml/payments-api@2.4.0,
schedule/production, service/payments, registry, approvers. A deleted
document is found from its path or subject.

--format json prints one document: {"subject", "kind", "path", "ref",
"commits", "events": [...]}, each event as README "Auditing: log and report"
describes it.`

const logExample = `  relreg log payments@2.4.0
  relreg log dml/payments-api@2.4.0 --ref refs/remotes/origin/main
  relreg log releases/payments/2.4.0.yaml --format json`

// Output formats of log and report.
const (
	formatText = "text"
	formatJSON = "json"
	formatCSV  = "csv"
)

type logOptions struct {
	ref    string
	format string
}

func newLogCmd(g *globals) *cobra.Command {
	o := &logOptions{}
	c := &cobra.Command{
		Use:     "log SUBJECT",
		Short:   "Print the history of a release, DML entry or schedule from git",
		Long:    logLong,
		Example: logExample,
		Args:    cobra.ExactArgs(1),
		RunE:    func(c *cobra.Command, args []string) error { return runLog(g, o, args[0]) },
	}
	c.Flags().StringVar(&o.ref, "ref", "HEAD", "the revision whose first-parent history is read")
	c.Flags().StringVar(&o.format, "format", formatText, "output format: text, json")
	return c
}

func runLog(g *globals, o *logOptions, arg string) error {
	if err := checkFormat(o.format, formatText, formatJSON); err != nil {
		return err
	}
	_, repo, err := g.openRepo(true)
	if err != nil {
		return err
	}
	tip, err := repo.Resolve(o.ref)
	if err != nil {
		return err
	}
	path, err := registry.SubjectPath(arg)
	if err != nil {
		return err
	}
	tl, err := validate.BuildTimeline(repo, validate.TimelineOptions{Ref: tip.Hash.String(), Path: path})
	if err != nil {
		return err
	}
	h := tl.Subject(path)
	if h == nil {
		return fmt.Errorf("%w %q: no commit of %s touched %s", registry.ErrUnknownSubject, arg, o.ref, path)
	}
	if o.format == formatJSON {
		return writeLogJSON(g.stdout, tl, h)
	}
	writeLogText(g.stdout, h)
	return nil
}

// logDocument is the JSON form of relreg log.
type logDocument struct {
	Subject string           `json:"subject"`
	Kind    string           `json:"kind"`
	Path    string           `json:"path"`
	Ref     string           `json:"ref"`
	Commits int              `json:"commits"`
	Events  []validate.Event `json:"events"`
}

func writeLogJSON(w io.Writer, tl *validate.Timeline, h *validate.SubjectHistory) error {
	enc := json.NewEncoder(output.JSONWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(logDocument{Subject: h.Subject, Kind: h.Kind, Path: h.Path, Ref: tl.Ref, Commits: tl.Commits, Events: h.Events})
}

// writeLogText prints a header line and one line per event:
//
//	2026-11-20 10:00  a1b2c3d  alice <alice@example.com>  planned -> building
func writeLogText(w io.Writer, h *validate.SubjectHistory) {
	fmt.Fprintf(w, "%s  %s\n", output.Escape(h.Subject), output.EscapePath(h.Path))
	for _, e := range h.Events {
		who := e.Commit.Author.String()
		if e.Commit.Committer != e.Commit.Author {
			who += " (committer " + e.Commit.Committer.String() + ")"
		}
		fmt.Fprintf(w, "%s  %s  %s  %s\n", e.Commit.Time.Format("2006-01-02 15:04"), e.Commit.SHA[:7], output.Escape(who), output.Escape(describeEvent(e)))
	}
}

// describeEvent is the text of one event.
func describeEvent(e validate.Event) string {
	switch e.Kind {
	case validate.EventCreated:
		if e.To != "" {
			return "created at " + e.To
		}
		return "created"
	case validate.EventPhase:
		return e.From + " -> " + e.To
	case validate.EventReschedule:
		return "rescheduled " + windowText(e.WindowFrom) + " -> " + windowText(e.WindowTo)
	case validate.EventSpec, validate.EventStatus:
		return "changed " + strings.Join(e.Fields, ", ")
	case validate.EventApproval:
		a := e.Approval
		s := fmt.Sprintf("%s approval by %s, %s: ", a.Step, a.By, a.Role)
		if a.Verified {
			s += "verified"
		} else {
			s += "NOT verified (" + strings.Join(a.Problems, "; ") + ")"
		}
		if !a.DigestCurrent {
			s += ", stale digest " + a.Digest
		}
		return s
	case validate.EventDeleted:
		return "deleted"
	case validate.EventUnreadable:
		return "unreadable (run 'relreg validate' at this commit)"
	}
	return string(e.Kind)
}

func windowText(w *registry.Window) string {
	if w == nil {
		return "(none)"
	}
	return w.Start + ".." + w.End
}

// checkFormat returns an error naming the formats a command offers when
// name is not one of them.
func checkFormat(name string, formats ...string) error {
	if slices.Contains(formats, name) {
		return nil
	}
	return fmt.Errorf("unknown format %q: use one of %s", name, strings.Join(formats, ", "))
}
