package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const checkLong = `Check a change to the registry as a merge request proposes it: from the
merge-base of --base and the head, to the head. The head is the working tree
(the files on disk, tracked or not) unless --head names a commit.

Every change rule applies: the release lifecycle and its gates, frozen fields,
append-only releases, DML entries and approvals, schedule and governance
approvals. Approvers, roles, keys and requirements are read from --base
itself (the target branch's tip, not the merge-base), never from the
change. A head that forked before relreg.yaml existed, or shares no history
with --base, adds every file of its registry. The static rules run on the
files the change touches and on what they affect.

A revision is HEAD, a full ref name (refs/remotes/origin/main), a short
name git reads in one way only, or a SHA, followed by any ~N or ^N. A short
name git could read in more than one way (a tag named origin/main beside
the remote-tracking branch) and the forms relreg does not read as git does
(@{u}, @{1}, A..B, rev:path, ...) are exit 2.`

const checkExample = `  # in CI, on a merge request: name the base in full, since a tag named
  # origin/main would make the short name ambiguous (exit 2)
  relreg check --base refs/remotes/origin/main --head HEAD

  # before pushing: the working tree against main
  relreg check --base main

  relreg check --base refs/remotes/origin/main --format json`

type checkOptions struct {
	base, head string
	format     string
	now        string
}

func newCheckCmd(g *globals) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:     "check --base REV [--head REV]",
		Short:   "Check a change (base → head) against the lifecycle and approval rules",
		Long:    checkLong,
		Example: checkExample,
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runCheck(g, o) },
	}
	c.Flags().StringVar(&o.base, "base", "", "the branch or commit the change is proposed against (required)")
	c.Flags().StringVar(&o.head, "head", "", "the commit to check (default: the working tree)")
	c.Flags().StringVar(&o.format, "format", output.Text, "output format: "+strings.Join(output.Formats, ", "))
	c.Flags().StringVar(&o.now, "now", "", "the check time, RFC 3339 (default: now)")
	_ = c.MarkFlagRequired("base")
	return c
}

func runCheck(g *globals, o *checkOptions) error {
	w, now, err := diagnosticFlags(o.format, o.now)
	if err != nil {
		return err
	}
	dir, repo, err := g.openRepo(false)
	if err != nil {
		return err
	}
	res, err := validate.Check(repo, validate.CheckOptions{Base: o.base, Head: o.head, WorkDir: dir, Now: now})
	if err != nil {
		return err
	}
	return g.writeResult(w, output.Result{Files: res.Files, Diagnostics: res.Diagnostics, RepoPrefix: repo.Prefix})
}
