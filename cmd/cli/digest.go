package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
)

const digestLong = `Print the digest of a document: sha256 of the RFC 8785 canonical JSON of its
spec. Comments, key order, quoting and layout do not change it.

With --step, --as and --role, print instead the exact payload an approval
signs (canonical JSON, no trailing newline), so that it can be signed by hand:

  relreg digest payments@2.4.0 --step plan --as alice --role release-manager \
      --at 2026-11-20T10:00:00Z > payload
  ssh-keygen -Y sign -n relreg-approval -f ~/.ssh/id_ed25519 payload
  relreg approve payments@2.4.0 --step plan --as alice --role release-manager \
      --at 2026-11-20T10:00:00Z --signature payload.sig

SUBJECT is a file path relative to the registry, service@version for a
release, or a subject: release/payments@2.4.0, dml/payments-api@2.4.0,
schedule/production, registry, approvers.`

const digestExample = `  relreg digest releases/payments/2.4.0.yaml
  relreg digest payments@2.4.0
  relreg digest registry
  relreg digest schedule/production --step schedule --as carol --role service-owner --at 2026-11-20T10:00:00Z`

type digestOptions struct {
	step, as, role, at string
}

func newDigestCmd(g *globals) *cobra.Command {
	o := &digestOptions{}
	c := &cobra.Command{
		Use:     "digest SUBJECT",
		Short:   "Print a document's digest, or the payload an approval of it signs",
		Long:    digestLong,
		Example: digestExample,
		Args:    cobra.ExactArgs(1),
		RunE:    func(c *cobra.Command, args []string) error { return runDigest(g, o, args[0]) },
	}
	c.Flags().StringVar(&o.step, "step", "", "print the payload of an approval for this step")
	c.Flags().StringVar(&o.as, "as", "", "the approver id of the payload")
	c.Flags().StringVar(&o.role, "role", "", "the role of the payload")
	c.Flags().StringVar(&o.at, "at", "", "the approval time of the payload, RFC 3339 (default: now, UTC)")
	return c
}

func runDigest(g *globals, o *digestOptions, subject string) error {
	payload := o.step != "" || o.as != "" || o.role != "" || o.at != ""
	if payload && (o.step == "" || o.as == "" || o.role == "") {
		return fmt.Errorf("a payload needs --step, --as and --role together")
	}
	reg, err := g.loadRegistry()
	if err != nil {
		return err
	}
	doc, err := registry.ResolveSubject(reg, subject)
	if err != nil {
		return err
	}
	if !payload {
		d, err := doc.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, d)
		return nil
	}
	at := o.at
	if at == "" {
		at = approvalTime()
		fmt.Fprintf(g.stderr, "relreg: the payload is for at=%s: pass --at %s to 'relreg approve --signature'\n", at, at)
	}
	_, p, err := registry.NewApproval(reg, doc, o.step, o.as, o.role, at)
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(p)
	return err
}

// approvalTime returns the current time as approvals write it: UTC, seconds.
func approvalTime() string {
	return time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
}
