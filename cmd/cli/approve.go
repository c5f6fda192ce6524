package cli

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/term"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate/output"
)

const approveLong = `Sign an approval of SUBJECT's current digest and append it to the
document's approvals, editing the file in place: comments, layout and every
other byte are kept, and the file is replaced atomically. The file is read
again under a lock before the entry is appended, so approvals that others
add at the same moment are kept; when the document's spec changed since it
was signed, nothing is written. A file inside the registry that is, or lies
under, a symbolic link is never written.

The signature is an SSHSIG signature (namespace relreg-approval), exactly what
ssh-keygen -Y sign writes. Choose how it is made:

  --key FILE        sign with a private key file. An encrypted key reads its
                    passphrase from RELREG_PASSPHRASE, or asks for it on the
                    terminal.
  --agent           sign with a key held by ssh-agent (SSH_AUTH_SOCK); the
                    first agent key listed for the approver is used. Use this
                    for hardware (FIDO, sk-) keys.
  --signature FILE  attach a signature made elsewhere, by ssh-keygen over the
                    payload 'relreg digest SUBJECT --step .. --as .. --role ..
                    --at ..' prints; pass the same --at.

approve refuses an approval that would not pass 'relreg validate': unknown
approver, missing role, a signature that does not verify with one of the
approver's keys, a revoked key or one not valid at the approval's time.`

const approveExample = `  relreg approve payments@2.4.0 --step plan --as alice --role release-manager --key ~/.ssh/id_ed25519
  relreg approve registry --step govern --as alice --role registry-admin --agent
  relreg approve dml/payments-api@2.4.0 --step verify --as bob --role release-manager \
      --at 2026-11-20T10:00:00Z --signature payload.sig`

type approveOptions struct {
	step, as, role, at string
	key, signature     string
	agent              bool
}

func newApproveCmd(g *globals) *cobra.Command {
	o := &approveOptions{}
	c := &cobra.Command{
		Use:     "approve SUBJECT --step S --as ID --role R (--key FILE | --agent | --signature FILE)",
		Short:   "Sign an approval and append it to a document",
		Long:    approveLong,
		Example: approveExample,
		Args:    cobra.ExactArgs(1),
		RunE:    func(c *cobra.Command, args []string) error { return runApprove(g, o, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.step, "step", "", "the approval step: plan, build, accept, deploy, verify, schedule or govern")
	f.StringVar(&o.as, "as", "", "your approver id in approvers.yaml")
	f.StringVar(&o.role, "role", "", "the role you approve in")
	f.StringVar(&o.at, "at", "", "the approval time, RFC 3339 (default: now, UTC, whole seconds)")
	f.StringVar(&o.key, "key", "", "sign with this private key file")
	f.BoolVar(&o.agent, "agent", false, "sign with a key of the running ssh-agent")
	f.StringVar(&o.signature, "signature", "", "attach this armored signature made elsewhere")
	for _, name := range []string{"step", "as", "role"} {
		_ = c.MarkFlagRequired(name)
	}
	c.MarkFlagsMutuallyExclusive("key", "agent", "signature")
	c.MarkFlagsOneRequired("key", "agent", "signature")
	return c
}

func runApprove(g *globals, o *approveOptions, subject string) error {
	dir, reg, err := g.loadRegistryDir()
	if err != nil {
		return err
	}
	doc, err := registry.ResolveSubject(reg, subject)
	if err != nil {
		return err
	}
	at := o.at
	if at == "" {
		at = approvalTime()
	}
	a, payload, err := registry.NewApproval(reg, doc, o.step, o.as, o.role, at)
	if err != nil {
		return err
	}
	var sig []byte
	switch {
	case o.signature != "":
		sig, err = os.ReadFile(o.signature)
	case o.key != "":
		var signer ssh.Signer
		if signer, err = keySigner(o.key); err == nil {
			sig, err = registry.Sign(signer, payload)
		}
	case o.agent:
		sig, err = agentSign(reg, o.as, payload)
	}
	if err != nil {
		return err
	}
	a.Signature = string(sig)
	if err := registry.AddApproval(reg, dir, doc, a); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: approved %s as %s (%s) at %s\n", output.EscapePath(doc.Path), output.Escape(a.Step), output.Escape(a.By), output.Escape(a.Role), output.Escape(a.At))
	return nil
}

// keySigner reads a private key file; an encrypted one is opened with the
// passphrase in RELREG_PASSPHRASE, or one asked for on the terminal.
func keySigner(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pass, err := passphrase(path)
		if err != nil {
			return nil, err
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, pass)
		if err != nil {
			return nil, fmt.Errorf("read private key %s: %w", path, err)
		}
		return signer, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read private key %s: %w (a hardware key signs with --agent or ssh-keygen -Y sign and --signature)", path, err)
	}
	return signer, nil
}

// passphrase returns the passphrase of an encrypted key: RELREG_PASSPHRASE
// when set and not empty (for scripts), else what the user types on the
// terminal, as ssh-keygen asks for it.
func passphrase(path string) ([]byte, error) {
	if pass := os.Getenv("RELREG_PASSPHRASE"); pass != "" {
		return []byte(pass), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return nil, fmt.Errorf("%s is encrypted and there is no terminal to ask for its passphrase: set RELREG_PASSPHRASE, or load the key into ssh-agent and use --agent", path)
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Enter passphrase for %s: ", path)
	pass, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase for %s: %w", path, err)
	}
	return pass, nil
}

// agentSign signs payload with the first ssh-agent key listed for approver.
func agentSign(reg *registry.Registry, approver string, payload []byte) ([]byte, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, errors.New("--agent: SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add your key")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("--agent: connect to ssh-agent: %w", err)
	}
	defer conn.Close()
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		return nil, fmt.Errorf("--agent: list keys: %w", err)
	}
	listed := map[string]bool{}
	for _, k := range registry.NewKeyring(reg.Approvers).Keys(approver) {
		listed[k.Fingerprint] = true
	}
	for _, s := range signers {
		if listed[ssh.FingerprintSHA256(s.PublicKey())] {
			return registry.Sign(s, payload)
		}
	}
	return nil, fmt.Errorf("--agent: ssh-agent holds none of %s's keys listed in approvers.yaml (ssh-add -l lists what it holds)", approver)
}
