package cli

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
)

const allowedSignersLong = `Write an OpenSSH allowed_signers file for the approvers' keys, so that anyone
can check an approval with ssh-keygen alone.

Each key that is not revoked gets one line. The principal is the approver id
(pass it to ssh-keygen -I); the line is restricted to the relreg-approval
namespace and to the key's validAfter/validBefore. Revoked keys are left out.
Check an approval, at its own time, like this:

  relreg digest SUBJECT --step STEP --as ID --role ROLE --at AT > payload
  relreg approvers allowed-signers -o allowed_signers
  ssh-keygen -Y verify -f allowed_signers -I ID -n relreg-approval \
      -s approval.sig -O verify-time=YYYYMMDDHHMMSSZ < payload

where approval.sig holds the entry's signature and verify-time is its "at" in
UTC (2026-11-20T10:00:00Z is 20261120100000Z).`

func newApproversCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "approvers",
		Short: "Work with the approvers of the registry",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return fmt.Errorf("name what to do: %s allowed-signers", c.CommandPath())
		},
	}
	var out string
	as := &cobra.Command{
		Use:     "allowed-signers [-o FILE]",
		Short:   "Write an OpenSSH allowed_signers file of the approvers' keys",
		Long:    allowedSignersLong,
		Example: "  relreg approvers allowed-signers -o allowed_signers",
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runAllowedSigners(g, out) },
	}
	as.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	c.AddCommand(as)
	return c
}

func runAllowedSigners(g *globals, out string) error {
	reg, err := g.loadRegistry()
	if err != nil {
		return err
	}
	if reg.Approvers == nil {
		return errors.New("the registry has no readable approvers.yaml")
	}
	var b bytes.Buffer
	if err := registry.WriteAllowedSigners(&b, registry.NewKeyring(reg.Approvers), registry.ApproverIDs(reg.Approvers)); err != nil {
		return err
	}
	if out == "" {
		_, err := g.stdout.Write(b.Bytes())
		return err
	}
	return registry.WriteFileAtomic(out, b.Bytes())
}
