package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const hookLong = `Install relreg as a git hook, or run it as one.

'relreg hook install' writes a pre-commit hook into the repository that
checks the working tree against HEAD before every commit.

'relreg hook pre-receive' is a server-side hook. It reads "old new ref" lines
on stdin as git gives them, checks every update of a protected branch as
'relreg check' would (base: the old tip, head: the new tip), refuses
deletions and non-fast-forward updates of protected branches, prints the
diagnostics (git shows them to the pusher) and exits non-zero to refuse the
push.

Protected branches are named with --branch (repeatable or comma-separated)
or RELREG_PROTECTED_BRANCHES, by name (main) or full ref (refs/heads/main);
spaces around a name are trimmed. A name git would not accept as a branch
(empty, holding a space, a ref outside refs/heads/) stops the hook with
exit 2, so git refuses every push until the list is fixed: a typo never
leaves a branch unprotected.

The primary protected branch is the first one (in --branch order) whose
tip holds a registry. Its trust binds every protected branch: a push to
another protected branch is judged twice, under the trust of that
branch's old tip and under the primary branch's, and passes only if both
pass ("refused ... under the trust of main (refs/heads/main at <sha>)"
says which refused it). So a protected branch on an old commit of main
escapes no key main has since revoked, no role or approver it has removed
and no requirement it has raised.

A new protected branch, or one whose old tip holds no registry, is checked
as a merge request into the primary branch: trust from its tip, changes
from the merge-base. Only when no protected branch holds a registry is a
push judged by the static rules alone. Every ref is judged against the refs as they
were before the push. Pushes of refs/replace/* are refused: git shows the
replacement objects, relreg judges the real ones.

The hook has a wall-clock budget (--timeout, default 60s, or
RELREG_HOOK_TIMEOUT): a push it has not finished judging by then is refused
with a message saying so. It never accepts a push it did not judge.`

const hookExample = `  # on a laptop, in the registry's repository
  relreg hook install

  # on a self-hosted git server, in <repo>.git/hooks/pre-receive:
  #!/bin/sh
  exec relreg hook pre-receive --branch main --registry .`

func newHookCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:     "hook",
		Short:   "Install or run relreg as a git hook",
		Long:    hookLong,
		Example: hookExample,
	}
	c.AddCommand(newHookInstallCmd(g), newHookPreReceiveCmd(g))
	return c
}

const preCommitMarker = "# installed by relreg hook install"

func newHookInstallCmd(g *globals) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "install",
		Short: "Write a pre-commit hook that runs relreg check against HEAD",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, repo, err := g.openRepo(false)
			if err != nil {
				return err
			}
			path, err := installPreCommit(repo, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "installed %s\n", output.EscapePath(path))
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "replace an existing pre-commit hook that relreg did not write")
	return c
}

func installPreCommit(repo *registry.Repo, force bool) (string, error) {
	gitDir := filepath.Join(repo.Root, ".git")
	if fi, err := os.Stat(gitDir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s is not a .git folder (worktrees and submodules: install the hook by hand, see 'relreg hook --help')", gitDir)
	}
	hooks := filepath.Join(gitDir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(hooks, "pre-commit")
	if old, err := os.ReadFile(path); err == nil && !strings.Contains(string(old), preCommitMarker) && !force {
		return "", fmt.Errorf("%s exists and was not written by relreg: call relreg from it yourself, or pass --force to replace it", path)
	}
	reg := repo.Prefix
	if reg == "" {
		reg = "."
	}
	script := fmt.Sprintf(`#!/bin/sh
%s
# Checks the registry in the working tree against HEAD before each commit.
# Skip once with: git commit --no-verify
git rev-parse --verify -q HEAD >/dev/null || exit 0   # first commit: nothing to compare
cd "$(git rev-parse --show-toplevel)" || exit 1
exec relreg check --base HEAD --registry %q
`, preCommitMarker, reg)
	if err := registry.WriteFileAtomic(path, []byte(script)); err != nil {
		return "", err
	}
	return path, os.Chmod(path, 0o755)
}

func newHookPreReceiveCmd(g *globals) *cobra.Command {
	var branches []string
	var format, now string
	timeout := defaultHookTimeout()
	c := &cobra.Command{
		Use:   "pre-receive",
		Short: "Check a push on the git server (reads old new ref lines on stdin)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			w, t, err := diagnosticFlags(format, now)
			if err != nil {
				return err
			}
			if branches, err = protectedBranches(c, branches); err != nil {
				return err
			}
			updates, err := validate.ParseRefUpdates(g.stdin)
			if err != nil {
				return err
			}
			gitDir := os.Getenv("GIT_DIR")
			if gitDir == "" {
				gitDir = "."
			}
			repo, err := registry.OpenServerRepo(gitDir, g.registryDir, os.Getenv("GIT_QUARANTINE_PATH"))
			if err != nil {
				return err
			}
			results, err := receiveWithin(timeout, func() ([]validate.RefResult, error) {
				return validate.Receive(repo, updates, validate.ReceiveOptions{Protected: branches, Now: t})
			})
			if errors.Is(err, errHookTimeout) {
				fmt.Fprintf(g.stdout, "relreg: push refused: judging it took longer than the hook's budget of %s; nothing was accepted. Push fewer or smaller changes at once, or raise the budget (relreg hook pre-receive --timeout, or RELREG_HOOK_TIMEOUT)\n", timeout)
				return exitCode(exitInvalid)
			}
			if err != nil {
				return err
			}
			refused := false
			for _, r := range results {
				if !r.Checked {
					continue
				}
				if r.Refused != "" {
					fmt.Fprintf(g.stdout, "relreg: %s: refused: %s\n", output.Escape(r.Update.Ref), output.Escape(r.Refused))
					refused = true
					continue
				}
				if !r.NetOK() {
					fmt.Fprintf(g.stdout, "relreg: %s: refused: the change breaks the registry's rules%s:\n", output.Escape(r.Update.Ref), output.Escape(underTrust(r.RefusedUnder)))
					if err := w.Write(g.stdout, output.Result{Diagnostics: r.Diagnostics, Version: Version, RepoPrefix: repo.Prefix}); err != nil {
						return err
					}
				}
				for _, cr := range r.Commits {
					fmt.Fprintf(g.stdout, "relreg: %s: refused: %s:\n", output.Escape(r.Update.Ref), output.Escape(commitRefusal(cr, r.Update.New)))
					if err := w.Write(g.stdout, output.Result{Diagnostics: cr.Diagnostics, Version: Version, RepoPrefix: repo.Prefix}); err != nil {
						return err
					}
				}
				if r.OK() {
					fmt.Fprintf(g.stdout, "relreg: %s: ok\n", output.Escape(r.Update.Ref))
				}
				refused = refused || !r.OK()
			}
			if refused {
				return exitCode(exitInvalid)
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&branches, "branch", defaultProtected(), "protected branch, by name or as refs/heads/NAME (repeatable or comma-separated; default from RELREG_PROTECTED_BRANCHES, else main,master)")
	c.Flags().StringVar(&format, "format", output.Text, "output format: "+strings.Join(output.Formats, ", "))
	c.Flags().StringVar(&now, "now", "", "the check time, RFC 3339 (default: now)")
	c.Flags().DurationVar(&timeout, "timeout", timeout, "refuse the push when judging it takes longer (default from RELREG_HOOK_TIMEOUT, else 60s)")
	return c
}

// underTrust says under which trusts a change was refused, when it was
// judged under more than one: " under the trust of main (refs/heads/main
// at <sha>)".
func underTrust(ts []validate.TrustSource) string {
	if len(ts) == 0 {
		return ""
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.String()
	}
	return " under the trust of " + strings.Join(names, " and of ")
}

// commitRefusal says why a commit of a push on the way to tip refuses it,
// and how to push the same change so that it is judged as one.
func commitRefusal(cr validate.CommitResult, tip string) string {
	what := fmt.Sprintf("commit %s on the way to %s breaks the rules", cr.SHA, tip)
	if cr.SHA == tip {
		what = fmt.Sprintf("commit %s, the pushed tip, breaks the rules against its first parent", cr.SHA)
	}
	return what + underTrust(cr.RefusedUnder) + "; squash the commits, or merge with a merge commit so the change is judged as one"
}

// errHookTimeout is returned by receiveWithin when the budget ran out.
var errHookTimeout = errors.New("the hook's time budget ran out")

// receiveWithin runs judge, and gives up with errHookTimeout when it has
// not returned within budget: the process then exits and refuses the push,
// so that a push that cannot be judged in time is never accepted. A budget
// of 0 or less waits for ever.
func receiveWithin(budget time.Duration, judge func() ([]validate.RefResult, error)) ([]validate.RefResult, error) {
	if budget <= 0 {
		return judge()
	}
	type verdict struct {
		results []validate.RefResult
		err     error
	}
	done := make(chan verdict, 1)
	go func() {
		r, err := judge()
		done <- verdict{r, err}
	}()
	timer := time.NewTimer(budget)
	defer timer.Stop()
	select {
	case v := <-done:
		return v.results, v.err
	case <-timer.C:
		return nil, errHookTimeout
	}
}

// defaultHookTimeout is RELREG_HOOK_TIMEOUT when it parses, else 60 s.
func defaultHookTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("RELREG_HOOK_TIMEOUT")); err == nil {
		return d
	}
	return 60 * time.Second
}

// protectedBranches checks the protected-branch list, naming where it came
// from when it is wrong: a list that fails open would let every push
// through unjudged.
func protectedBranches(c *cobra.Command, branches []string) ([]string, error) {
	out, err := validate.ProtectedBranches(branches)
	if err == nil {
		return out, nil
	}
	switch {
	case c.Flags().Changed("branch"):
		return nil, fmt.Errorf("--branch: %w", err)
	case os.Getenv("RELREG_PROTECTED_BRANCHES") != "":
		return nil, fmt.Errorf("RELREG_PROTECTED_BRANCHES: %w", err)
	}
	return nil, err
}

func defaultProtected() []string {
	if v := os.Getenv("RELREG_PROTECTED_BRANCHES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"main", "master"}
}
