package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate/output"
)

const dmlLong = `Work with the Definitive Media Library (DML): the dml/<component>/<version>.yaml
entries that record each component version's artifacts by SHA-256 digest.
'relreg new dml' creates an entry from the files.`

func newDMLCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "dml",
		Short: "Check artifacts against the Definitive Media Library",
		Long:  dmlLong,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return fmt.Errorf("name what to do: %s verify FILE", c.CommandPath())
		},
	}
	c.AddCommand(newDMLVerifyCmd(g))
	return c
}

const dmlVerifyLong = `Digest each FILE (SHA-256, read as a stream) and look the digest up among
the artifacts of every DML entry of the registry, as it is on disk.

One line per file: the result, the entries holding the file
(dml/component@version and the artifact's recorded name), and why it does not
pass. The results:

  verified    in a verified entry (and in no withdrawn one)
  candidate   only in entries that are not verified yet
  withdrawn   in a withdrawn entry, with the entry's reason
  unknown     in no entry
  unreadable  the file could not be read

A file whose name differs from the recorded artifact name still matches by
its digest; the line says so. The registry's status.state is trusted as it
is: relreg check and relreg validate judge the approvals behind it.

--format json prints one document:
{"ok", "summary": {"files", "verified", "candidate", "withdrawn", "unknown",
"unreadable"}, "files": [{"file", "result", "digest", "size", "entries":
[{"subject", "component", "version", "path", "artifact", "uri", "state",
"reason", "nameMatches"}], "error"}]}; see registry/DML.md.

Exit codes: 0 every file is verified, 1 any file is a candidate, withdrawn
or unknown, 2 a file cannot be read (or the registry cannot be loaded).`

const dmlVerifyExample = `  relreg dml verify payments-api_2.4.0_linux_amd64.tar.gz
  relreg dml verify --registry ../registry dist/*.tar.gz --format json`

type dmlVerifyOptions struct {
	format string
}

func newDMLVerifyCmd(g *globals) *cobra.Command {
	o := &dmlVerifyOptions{}
	c := &cobra.Command{
		Use:     "verify FILE...",
		Short:   "Is this artifact in the DML, verified?",
		Long:    dmlVerifyLong,
		Example: dmlVerifyExample,
		Args:    cobra.MinimumNArgs(1),
		RunE:    func(c *cobra.Command, args []string) error { return runDMLVerify(g, o, args) },
	}
	c.Flags().StringVar(&o.format, "format", formatText, "output format: text, json")
	return c
}

func runDMLVerify(g *globals, o *dmlVerifyOptions, files []string) error {
	if err := checkFormat(o.format, formatText, formatJSON); err != nil {
		return err
	}
	reg, err := g.loadRegistry()
	if err != nil {
		return err
	}
	checks := registry.CheckArtifacts(reg, files)
	if o.format == formatJSON {
		err = writeDMLVerifyJSON(g.stdout, checks)
	} else {
		err = writeDMLVerifyText(g.stdout, checks)
	}
	if err != nil {
		return err
	}
	code := exitOK
	for _, c := range checks {
		switch {
		case c.Result == registry.ArtifactUnreadable:
			code = exitError
		case !c.OK() && code == exitOK:
			code = exitInvalid
		}
	}
	if code != exitOK {
		return exitCode(code)
	}
	return nil
}

// dmlVerifyReport is the --format json document of dml verify.
type dmlVerifyReport struct {
	OK      bool                     `json:"ok"`
	Summary dmlVerifySummary         `json:"summary"`
	Files   []registry.ArtifactCheck `json:"files"`
}

type dmlVerifySummary struct {
	Files      int `json:"files"`
	Verified   int `json:"verified"`
	Candidate  int `json:"candidate"`
	Withdrawn  int `json:"withdrawn"`
	Unknown    int `json:"unknown"`
	Unreadable int `json:"unreadable"`
}

func writeDMLVerifyJSON(w io.Writer, checks []registry.ArtifactCheck) error {
	r := dmlVerifyReport{OK: true, Files: checks}
	r.Summary.Files = len(checks)
	for _, c := range checks {
		r.OK = r.OK && c.OK()
		switch c.Result {
		case registry.ArtifactVerified:
			r.Summary.Verified++
		case registry.ArtifactCandidate:
			r.Summary.Candidate++
		case registry.ArtifactWithdrawn:
			r.Summary.Withdrawn++
		case registry.ArtifactUnknown:
			r.Summary.Unknown++
		case registry.ArtifactUnreadable:
			r.Summary.Unreadable++
		}
	}
	enc := json.NewEncoder(output.JSONWriter(w))
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func writeDMLVerifyText(w io.Writer, checks []registry.ArtifactCheck) error {
	for _, c := range checks {
		if _, err := fmt.Fprintln(w, dmlVerifyLine(c)); err != nil {
			return err
		}
	}
	return nil
}

// dmlVerifyLine is the text line for one file:
//
//	FILE: RESULT: dml/c@v (artifact)[, ...][: why it does not pass]
//
// The file name and the rest are escaped (output.Escape): one line.
func dmlVerifyLine(c registry.ArtifactCheck) string {
	return output.EscapePath(c.File) + ": " + output.Escape(dmlVerifyResult(c))
}

// dmlVerifyResult is dmlVerifyLine after the file name.
func dmlVerifyResult(c registry.ArtifactCheck) string {
	switch c.Result {
	case registry.ArtifactUnreadable:
		return fmt.Sprintf("%s: %s", c.Result, c.Error)
	case registry.ArtifactUnknown:
		return fmt.Sprintf("%s: %s is in no DML entry", c.Result, c.Digest)
	}
	base := filepath.Base(c.File)
	matches := make([]string, 0, len(c.Entries))
	var reasons []string
	for _, m := range c.Entries {
		var notes []string
		if m.State != c.Result {
			notes = append(notes, m.State)
		}
		if !m.NameMatches {
			notes = append(notes, "the file is named "+base)
		}
		s := fmt.Sprintf("%s (%s", m.Subject, m.Artifact)
		if len(notes) > 0 {
			s += "; " + strings.Join(notes, "; ")
		}
		matches = append(matches, s+")")
		if m.State == registry.StateWithdrawn {
			reason := strings.Join(strings.Fields(m.Reason), " ")
			if reason == "" {
				reason = "no reason given"
			}
			if len(c.Entries) > 1 {
				reason = m.Subject + ": " + reason
			}
			reasons = append(reasons, reason)
		}
	}
	line := fmt.Sprintf("%s: %s", c.Result, strings.Join(matches, ", "))
	switch c.Result {
	case registry.ArtifactCandidate:
		line += ": not verified: the entry needs its verify approvals and status.state: verified"
	case registry.ArtifactWithdrawn:
		line += ": reason: " + strings.Join(reasons, "; ")
	}
	return line
}
