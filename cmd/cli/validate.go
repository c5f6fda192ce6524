package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const validateLong = `Validate every file of the registry as it is on disk: YAML, JSON Schemas,
layout, references, semantic versioning, schedules, the DML and the
signatures of approvals.

Diagnostics are printed one a line as file:line:column: severity: rule: message,
sorted by file and position. The exit code is 1 when any is an error.`

const validateExample = `  relreg validate
  relreg validate --registry ./registry --format json
  relreg validate --format sarif > relreg.sarif`

type validateOptions struct {
	format string
	now    string
}

func newValidateCmd(g *globals) *cobra.Command {
	o := &validateOptions{}
	c := &cobra.Command{
		Use:     "validate",
		Short:   "Validate the whole registry as it is on disk",
		Long:    validateLong,
		Example: validateExample,
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runValidate(g, o) },
	}
	c.Flags().StringVar(&o.format, "format", output.Text, "output format: "+strings.Join(output.Formats, ", "))
	c.Flags().StringVar(&o.now, "now", "", "the check time, RFC 3339 (default: now)")
	return c
}

func runValidate(g *globals, o *validateOptions) error {
	w, now, err := diagnosticFlags(o.format, o.now)
	if err != nil {
		return err
	}
	reg, err := g.loadRegistry()
	if err != nil {
		return err
	}
	ds := validate.Static(reg, validate.Options{Now: now})
	res := output.Result{Files: len(reg.Files), Diagnostics: ds}
	if o.format == output.SARIF {
		// SARIF paths are relative to the repository, when there is one;
		// a --repo given explicitly must open.
		if dir, err := g.registryRoot(); err == nil {
			repo, err := registry.OpenRepo(dir, g.repoDir)
			switch {
			case err == nil:
				res.RepoPrefix = repo.Prefix
			case g.repoDir != "":
				return err
			}
		}
	}
	return g.writeResult(w, res)
}
