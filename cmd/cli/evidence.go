package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/evidence"
	"github.com/relreg/relreg/validate/output"
)

const evidenceLong = `Write a self-contained evidence bundle (JSON) for one subject: every
first-parent commit of --ref that changed it, with the commit (SHA, parents,
author, committer, message), the document's exact YAML bytes and spec
digest, its approvals with their signatures and payloads, and the approvers'
keys and roles as they were trusted at the base of that change. For a
release, the DML entries of its components and its schedule come along.

'relreg evidence verify FILE' checks a bundle offline, without the
repository. The format is documented in validate/AUDIT.md.`

const evidenceVerifyLong = `Verify an evidence bundle offline: its integrity sum, each document's
blob hash and digest, and each approval's payload and signature against the
keys the bundle lists for the base of its change.

Those keys are the bundle's own: anyone can make a bundle that checks out
with keys of their own. --allowed-signers F ties it to keys you hold: F is
an OpenSSH allowed_signers file (the format 'ssh-keygen -Y verify -f'
reads; 'relreg approvers allowed-signers' writes one from a clone you
trust), whose principals are approver ids. Every key the bundle trusts for
an approver must be on a line of F for that approver's id (namespaces, if
given, holding relreg-approval), and every verified approval must be signed
at a time F allows for its key; else each key that is not is listed, and
the exit is 1.`

const evidenceExample = `  relreg evidence payments@2.4.0 -o payments-2.4.0.evidence.json
  relreg evidence dml/payments-api@2.4.0 --ref refs/remotes/origin/main -o dml.json
  relreg evidence verify payments-2.4.0.evidence.json
  relreg evidence verify payments-2.4.0.evidence.json --allowed-signers allowed_signers`

type evidenceOptions struct {
	ref, out string
}

func newEvidenceCmd(g *globals) *cobra.Command {
	o := &evidenceOptions{}
	c := &cobra.Command{
		Use:     "evidence SUBJECT [--ref REF] [-o FILE]",
		Short:   "Write an evidence bundle of a subject's history, or verify one",
		Long:    evidenceLong,
		Example: evidenceExample,
		Args:    cobra.ExactArgs(1),
		RunE:    func(c *cobra.Command, args []string) error { return runEvidence(g, o, args[0]) },
	}
	c.Flags().StringVar(&o.ref, "ref", "", "the branch or commit whose first-parent history is read (default: HEAD)")
	c.Flags().StringVarP(&o.out, "output", "o", "-", "the file to write (- for stdout)")
	var allowed string
	verify := &cobra.Command{
		Use:   "verify FILE [--allowed-signers F]",
		Short: "Verify an evidence bundle offline: integrity, digests and signatures",
		Long:  evidenceVerifyLong,
		Args:  cobra.ExactArgs(1),
		RunE:  func(c *cobra.Command, args []string) error { return runEvidenceVerify(g, args[0], allowed) },
	}
	verify.Flags().StringVar(&allowed, "allowed-signers", "", "an OpenSSH allowed_signers file of keys you hold, principals approver ids: every key the bundle trusts must be in it")
	c.AddCommand(verify)
	return c
}

func runEvidence(g *globals, o *evidenceOptions, subject string) error {
	_, repo, err := g.openRepo(true)
	if err != nil {
		return err
	}
	b, err := evidence.Build(repo, evidence.Options{Subject: subject, Ref: o.ref})
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if o.out == "-" {
		_, err = g.stdout.Write(data)
		return err
	}
	if err := registry.WriteFileAtomic(o.out, data); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	return nil
}

// runEvidenceVerify prints what a bundle holds when it verifies; otherwise
// each problem on a line and exit 1. An unreadable file, bundle or
// allowed_signers is exit 2.
func runEvidenceVerify(g *globals, file, allowedFile string) error {
	var allowed []registry.AllowedSigner
	if allowedFile != "" {
		data, err := os.ReadFile(allowedFile)
		if err != nil {
			return fmt.Errorf("--allowed-signers: %w", err)
		}
		if allowed, err = registry.ParseAllowedSigners(data); err != nil {
			return fmt.Errorf("--allowed-signers %s: %w", allowedFile, err)
		}
	}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(g.stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	b, err := evidence.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var problems []string
	sum, err := evidence.Verify(b)
	var verr *evidence.VerifyError
	switch {
	case errors.As(err, &verr):
		problems = verr.Problems
	case err != nil:
		return err
	}
	var signers *evidence.SignersSummary
	if allowedFile != "" {
		signers, err = evidence.VerifySigners(b, allowed)
		switch {
		case errors.As(err, &verr):
			problems = append(problems, verr.Problems...)
		case err != nil:
			return err
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(g.stdout, "%s: %s\n", output.EscapePath(file), output.Escape(p))
		}
		return exitCode(exitInvalid)
	}
	if signers == nil {
		fmt.Fprintf(g.stdout, "%s: ok: %s at %s, %d changes, %d of %d approvals verified with the keys the bundle lists for each base; those keys are the bundle's own and prove nothing on their own: pass --allowed-signers with keys you hold (and check the commits against a clone)\n",
			output.EscapePath(file), output.Escape(sum.Subject), output.Escape(sum.Ref), sum.Changes, sum.Verified, sum.Approvals)
		return nil
	}
	fmt.Fprintf(g.stdout, "%s: ok: %s at %s, %d changes, %d of %d approvals verified; all %d keys the bundle trusts (of %d approvers) are in %s for their approver; roles and requirements are still the bundle's own (check them, and the commits, against a clone)\n",
		output.EscapePath(file), output.Escape(sum.Subject), output.Escape(sum.Ref), sum.Changes, sum.Verified, sum.Approvals, signers.Keys, signers.Approvers, output.EscapePath(allowedFile))
	return nil
}
