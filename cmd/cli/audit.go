package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const auditLong = `Replay the change rules over the history of a branch, as 'relreg check'
would have judged every commit when it landed: each first-parent commit of
--ref against its first parent. A merge is judged as the merge request it
closed, with the authors of the commits it brought in; any other commit is
a direct push.

Committer times are self-declared, so the check time never goes back: each
commit is judged at the latest committer time on the first-parent chain so
far, from the trust root on, and among the commits it merges, and a commit
whose own time is earlier gets a history/clock-skew warning (warnings alone
exit 0). Nor does it run ahead of the audit: a commit dated after the audit
ran is judged at the current time, with a history/clock-skew warning, and
moves no later commit's check time. --since compares with that check time
too.

The commit that introduced relreg.yaml is the trust root: it is named, not
judged, and commits before it are skipped. Every violation is reported with
its commit (the full SHA); a direct push with violations bypassed the rules,
a merge with violations was merged anyway.

--verified names a commit an earlier audit accepted. If it is unknown, no
longer an ancestor of --ref (a force push), or no longer on its
first-parent chain (a foxtrot merge fast-forwarded onto the branch),
history was rewritten: that is reported first, and the audit fails.

Formats: text (default), json and csv; see validate/AUDIT.md.`

const auditExample = `  relreg audit
  relreg audit --ref refs/remotes/origin/main --since 2026-01-01T00:00:00Z --format csv > audit.csv

  # in a scheduled job: fail when main was force-pushed since the last audit
  relreg audit --ref refs/remotes/origin/main --verified "$(cat last-audited-sha)"`

// Audit output formats.
const auditCSV = "csv"

var auditFormats = []string{output.Text, output.JSON, auditCSV}

type auditOptions struct {
	ref, since, verified string
	format               string
}

func newAuditCmd(g *globals) *cobra.Command {
	o := &auditOptions{}
	c := &cobra.Command{
		Use:     "audit [--ref REF] [--since T] [--verified SHA]",
		Short:   "Replay the change rules over history and report every violation with its commit",
		Long:    auditLong,
		Example: auditExample,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// An empty --verified (a missing file in "$(cat last-audited)")
			// must not skip the check it asks for.
			if c.Flags().Changed("verified") && !shaRE.MatchString(o.verified) {
				return fmt.Errorf("--verified %q is not a commit SHA (4 to 40 hex digits): pass the commit an earlier audit accepted", o.verified)
			}
			return runAudit(g, o)
		},
	}
	c.Flags().StringVar(&o.ref, "ref", "", "the branch or commit whose first-parent history is audited (default: HEAD)")
	c.Flags().StringVar(&o.since, "since", "", "judge only commits with a committer time at or after T, RFC 3339")
	c.Flags().StringVar(&o.verified, "verified", "", "a commit an earlier audit accepted; fail if it is no longer on the first-parent chain of --ref")
	c.Flags().StringVar(&o.format, "format", output.Text, "output format: "+strings.Join(auditFormats, ", "))
	return c
}

// shaRE matches a full or abbreviated commit SHA.
var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{4,40}$`)

func runAudit(g *globals, o *auditOptions) error {
	if err := output.CheckFormat(o.format, auditFormats...); err != nil {
		return err
	}
	var since time.Time
	if o.since != "" {
		t, err := time.Parse(time.RFC3339, o.since)
		if err != nil {
			return fmt.Errorf("--since %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", o.since)
		}
		since = t
	}
	_, repo, err := g.openRepo(true)
	if err != nil {
		return err
	}
	var p *progress
	res, err := validate.Audit(repo, validate.AuditOptions{
		Ref: o.ref, Since: since, Verified: o.verified,
		Progress: func(done, total int) {
			if done == 1 && since.IsZero() && total > registry.AuditWarnCommits {
				fmt.Fprintf(g.stderr, "relreg: auditing all %d commits of the history; --since T judges only the commits from T on (earlier ones are still replayed)\n", total)
			}
			if p == nil && done == 1 {
				p = newProgress(g.stderr, "auditing", total)
			}
			p.Set(done)
		},
	})
	p.Done()
	if err != nil {
		return err
	}
	switch o.format {
	case output.JSON:
		err = writeAuditJSON(g.stdout, res)
	case auditCSV:
		err = writeAuditCSV(g.stdout, res)
	default:
		err = writeAuditText(g.stdout, res)
	}
	if err != nil {
		return err
	}
	if !res.OK() {
		return exitCode(exitInvalid)
	}
	return nil
}

func auditCommits(res *validate.AuditResult) map[string]validate.AuditCommit {
	m := make(map[string]validate.AuditCommit, len(res.Commits))
	for _, c := range res.Commits {
		m[c.SHA] = c
	}
	return m
}

func kindText(kind string) string {
	switch kind {
	case validate.CommitMergedAnyway:
		return "merged anyway: a merge request check would have refused"
	case validate.CommitWarned:
		return "warned: check would have accepted it, with warnings"
	}
	return "bypass: a direct push check would have refused"
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writeAuditText prints a rewrite first, then the trust root, each judged
// commit that broke a rule with its diagnostics, and a summary line.
func writeAuditText(w io.Writer, res *validate.AuditResult) error {
	var b strings.Builder
	if rw := res.Rewritten; rw != nil {
		fmt.Fprintf(&b, "history rewritten: %s\n", output.Escape(rw.Reason))
	}
	tr := res.TrustRoot
	fmt.Fprintf(&b, "trust root: %s by %s at %s\n", tr.SHA, output.Escape(tr.Author.String()), rfc3339(tr.Time))
	commits := auditCommits(res)
	last := ""
	for _, d := range res.Diagnostics {
		if d.Commit != last {
			c := commits[d.Commit]
			fmt.Fprintf(&b, "commit %s: %s (%s, committed %s)\n", c.SHA, kindText(c.Kind), output.Escape(c.Author.String()), rfc3339(c.Time))
			last = d.Commit
		}
		b.WriteString(output.Line(d))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "audited %d commits, %d violations in %d commits (%d direct pushes bypassed the rules)",
		res.Audited, res.Errors(), res.Violating(), res.Bypasses())
	if n := res.Warnings(); n > 0 {
		fmt.Fprintf(&b, ", %d warnings", n)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// auditDocument is the JSON document of an audit: the contract's
// diagnostics document, extended.
type auditDocument struct {
	OK          bool                     `json:"ok"`
	Rewritten   *validate.Rewrite        `json:"rewritten,omitempty"`
	Ref         string                   `json:"ref"`
	TrustRoot   *validate.AuditTrustRoot `json:"trustRoot"`
	Summary     auditSummary             `json:"summary"`
	Commits     []validate.AuditCommit   `json:"commits"`
	Diagnostics []auditDiagnostic        `json:"diagnostics"`
}

type auditSummary struct {
	Files    int `json:"files"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	// Audited counts the judged commits; Violating those that broke a
	// rule (not those with warnings only); Bypasses the direct pushes
	// among them.
	Audited   int `json:"commits"`
	Violating int `json:"violatingCommits"`
	Bypasses  int `json:"bypasses"`
}

// auditDiagnostic is the contract's diagnostic, every field present.
type auditDiagnostic struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
	Commit   string `json:"commit"`
}

func writeAuditJSON(w io.Writer, res *validate.AuditResult) error {
	doc := auditDocument{
		OK: res.OK(), Rewritten: res.Rewritten, Ref: res.Ref, TrustRoot: res.TrustRoot,
		Summary: auditSummary{Files: res.Files, Errors: res.Errors(), Warnings: res.Warnings(),
			Audited: res.Audited, Violating: res.Violating(), Bypasses: res.Bypasses()},
		Commits:     res.Commits,
		Diagnostics: make([]auditDiagnostic, 0, len(res.Diagnostics)),
	}
	if doc.Commits == nil {
		doc.Commits = []validate.AuditCommit{}
	}
	for _, d := range res.Diagnostics {
		doc.Diagnostics = append(doc.Diagnostics, auditDiagnostic{Rule: d.Rule, Severity: string(d.Severity), File: d.File,
			Line: d.Line, Column: d.Column, Subject: d.Subject, Message: d.Message, Commit: d.Commit})
	}
	enc := json.NewEncoder(output.JSONWriter(w))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// auditCSVHeader are the fixed columns of the CSV format.
var auditCSVHeader = []string{"commit", "kind", "time", "author", "file", "line", "column", "rule", "message"}

// writeAuditCSV prints one row per diagnostic, after a row of kind
// "rewritten" when history was rewritten. Authors, files and messages are
// escaped as in the text format, so that a row is one line (JSON has them
// exactly).
func writeAuditCSV(w io.Writer, res *validate.AuditResult) error {
	cw := csv.NewWriter(w)
	rows := [][]string{auditCSVHeader}
	if rw := res.Rewritten; rw != nil {
		rows = append(rows, []string{rw.Verified, "rewritten", "", "", "", "0", "0", "", output.Escape(rw.Reason)})
	}
	commits := auditCommits(res)
	for _, d := range res.Diagnostics {
		c := commits[d.Commit]
		rows = append(rows, []string{d.Commit, c.Kind, rfc3339(c.Time), output.Escape(c.Author.String()), output.EscapePath(d.File),
			strconv.Itoa(d.Line), strconv.Itoa(d.Column), output.Escape(d.Rule), output.Escape(d.Message)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
