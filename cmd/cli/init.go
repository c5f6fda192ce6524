package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate/output"
)

const initLong = `Create a new registry in DIR (default: the current folder): relreg.yaml with
a default approval policy, approvers.yaml with one approver, a production
schedule, a README.md and a GitHub Actions workflow that runs relreg on every
pull request. The result validates clean.

Without --key, the approver gets a placeholder key that can sign nothing:
replace it with your own public key before the first approval.

relreg init never overwrites a registry: it refuses a folder that already
holds relreg.yaml or approvers.yaml, and keeps an existing README.md and
workflow. When DIR is a subfolder of a git work tree, the workflow goes to
.github/workflows/relreg.yml at the work tree's root, where GitHub reads it,
and passes --registry DIR to relreg.`

const initExample = `  relreg init
  relreg init registry --name acme-production --approver alice \
      --approver-name "Alice Example" --key ~/.ssh/id_ed25519.pub \
      --service payments --service ledger --timezone Europe/Berlin`

type initOptions struct {
	registry.InitOptions
	keyFile string
}

func newInitCmd(g *globals) *cobra.Command {
	o := &initOptions{}
	c := &cobra.Command{
		Use:     "init [DIR]",
		Short:   "Create a new registry",
		Long:    initLong,
		Example: initExample,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(g, o, dir)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Name, "name", "", "the registry's name, part of every signed approval (default: the folder's name)")
	f.StringVar(&o.Approver, "approver", "admin", "the first approver's id")
	f.StringVar(&o.ApproverName, "approver-name", "", "the first approver's full name")
	f.StringVar(&o.ApproverEmail, "approver-email", "", "the first approver's email (matched against commit authors)")
	f.StringVar(&o.keyFile, "key", "", "the first approver's OpenSSH public key file, such as ~/.ssh/id_ed25519.pub (default: a placeholder)")
	f.StringArrayVar(&o.Services, "service", nil, "create a service with this name (repeatable)")
	f.StringVar(&o.Timezone, "timezone", "UTC", "the IANA timezone of the production schedule's weekly windows")
	return c
}

func runInit(g *globals, o *initOptions, dir string) error {
	if o.keyFile != "" {
		b, err := os.ReadFile(o.keyFile)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		o.Key = strings.TrimSpace(string(b))
	}
	written, err := registry.Init(dir, o.InitOptions)
	for _, p := range written {
		fmt.Fprintf(g.stdout, "wrote %s\n", output.EscapePath(p))
	}
	return err
}
