package validate

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/relreg/relreg/registry"
)

// ruleMalformedTree is the rule of a git tree that git fsck refuses: git
// could check out other bytes than relreg read (contract section 3, Git
// integrity).
const ruleMalformedTree = "git/malformed-tree"

// maxTreeProblems bounds the diagnostics of one malformed tree.
const maxTreeProblems = 20

// treeChecker finds the malformed trees of commits. Trees found
// well-formed are remembered by the repository, so each is read once.
type treeChecker struct {
	repo *registry.Repo
	// The malformed trees of the commits last asked about, by commit: in
	// a history walked in order, the next commits' parents.
	known map[plumbing.Hash][]registry.MalformedTree
}

// maxKnownCommits bounds treeChecker.known.
const maxKnownCommits = 1024

func newTreeChecker(repo *registry.Repo) *treeChecker {
	return &treeChecker{repo: repo, known: map[plumbing.Hash][]registry.MalformedTree{}}
}

// malformed returns the malformed trees of c.
func (tc *treeChecker) malformed(c *object.Commit) ([]registry.MalformedTree, error) {
	if bad, ok := tc.known[c.Hash]; ok {
		return bad, nil
	}
	bad, err := tc.repo.MalformedTrees(c)
	if err != nil {
		return nil, err
	}
	if len(tc.known) >= maxKnownCommits {
		clear(tc.known)
	}
	tc.known[c.Hash] = bad
	return bad, nil
}

// check returns the git/malformed-tree diagnostics of every malformed
// tree of the commits, each tree once, on the first commit holding it.
func (tc *treeChecker) check(commits ...*object.Commit) ([]registry.Diagnostic, error) {
	return tc.report(commits, false)
}

// introduced is check, but counts a malformed tree only on a commit none
// of whose parents holds it: the commit that brought it, as the audit
// judges every other rule.
func (tc *treeChecker) introduced(commits ...*object.Commit) ([]registry.Diagnostic, error) {
	return tc.report(commits, true)
}

func (tc *treeChecker) report(commits []*object.Commit, onlyNew bool) ([]registry.Diagnostic, error) {
	var ds []registry.Diagnostic
	reported := map[plumbing.Hash]bool{}
	for _, c := range commits {
		if c == nil {
			continue
		}
		inParents := map[plumbing.Hash]bool{}
		if onlyNew {
			if err := tc.parentsBad(c, inParents); err != nil {
				return nil, err
			}
		}
		bad, err := tc.malformed(c)
		if err != nil {
			return nil, err
		}
		for _, t := range bad {
			if !reported[t.Hash] && !inParents[t.Hash] {
				reported[t.Hash] = true
				ds = append(ds, treeDiagnostics(tc.repo, c, t)...)
			}
		}
	}
	registry.SortDiagnostics(ds)
	return ds, nil
}

// parentsBad adds the malformed trees of c's parents to bad.
func (tc *treeChecker) parentsBad(c *object.Commit, bad map[plumbing.Hash]bool) error {
	for _, h := range c.ParentHashes {
		trees, ok := tc.known[h]
		if !ok {
			p, err := tc.repo.Git.CommitObject(h)
			if err != nil {
				return fmt.Errorf("read parent %s of %s: %w", h, c.Hash, err)
			}
			if trees, err = tc.malformed(p); err != nil {
				return err
			}
		}
		for _, t := range trees {
			bad[t.Hash] = true
		}
	}
	return nil
}

// treeDiagnostics turns the problems of a malformed tree of commit c into
// diagnostics. Their file is the folder holding the entries: relative to
// the registry ("." for the registry's folder) or, for a folder outside
// the registry, to the repository ("." for its root).
func treeDiagnostics(repo *registry.Repo, c *object.Commit, t registry.MalformedTree) []registry.Diagnostic {
	file, where := t.Path, "folder "+t.Path
	switch {
	case t.Path == repo.Prefix:
		file, where = ".", "the registry's folder"
		if t.Path == "" {
			where = "the registry's folder (the repository's root)"
		}
	case repo.Prefix != "" && strings.HasPrefix(t.Path, repo.Prefix+"/"):
		file = strings.TrimPrefix(t.Path, repo.Prefix+"/")
	case t.Path == "":
		file, where = ".", "the repository's root folder"
	}
	fix := "git could check out other bytes than relreg reads, so this commit is never accepted: rewrite it with git's own tools (git add and git commit; git rebase or git filter-repo to replace a pushed commit) until git fsck --strict accepts it"
	problems := t.Problems
	var more int
	if len(problems) > maxTreeProblems {
		problems, more = problems[:maxTreeProblems], len(problems)-maxTreeProblems
	}
	ds := make([]registry.Diagnostic, 0, len(problems)+1)
	for _, p := range problems {
		ds = append(ds, registry.Diagnostic{Rule: ruleMalformedTree, Severity: registry.SeverityError, File: file,
			Message: fmt.Sprintf("malformed git tree %s (%s) in commit %s: %s; %s", t.Hash, where, c.Hash, p.Message, fix)})
	}
	if more > 0 {
		ds = append(ds, registry.Diagnostic{Rule: ruleMalformedTree, Severity: registry.SeverityError, File: file,
			Message: fmt.Sprintf("malformed git tree %s (%s) in commit %s: %d more problems; %s", t.Hash, where, c.Hash, more, fix)})
	}
	return ds
}

// changeTrees returns the git/malformed-tree diagnostics of every tree a
// check reaches: the base's tip, the merge-base, the head and each commit
// between the merge-base and the head.
func changeTrees(repo *registry.Repo, baseTip, base, head *object.Commit) ([]registry.Diagnostic, error) {
	commits := []*object.Commit{baseTip, base, head}
	if head != nil && (base == nil || head.Hash != base.Hash) {
		between, err := commitsBetween(base, head)
		if err != nil {
			return nil, err
		}
		commits = append(commits, between...)
	}
	return newTreeChecker(repo).check(commits...)
}

// malformedChange returns the result of a check whose trees are not all
// well-formed (see changeTrees), or nil. Nothing else is judged then: git
// could read every other file otherwise than relreg.
func malformedChange(repo *registry.Repo, baseTip, base, head *object.Commit, headIsCommit bool) (*CheckResult, error) {
	ds, err := changeTrees(repo, baseTip, base, head)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	res := &CheckResult{Diagnostics: ds}
	if base != nil { // nil when the two share no history
		res.Base = base.Hash.String()
	}
	if headIsCommit {
		res.Head = head.Hash.String()
	}
	return res, nil
}

// commitsBetween returns the commits reachable from head and not from
// base, head first.
func commitsBetween(base, head *object.Commit) ([]*object.Commit, error) {
	inBase, err := ancestors(base)
	if err != nil {
		return nil, err
	}
	var out []*object.Commit
	seen := map[plumbing.Hash]bool{}
	queue := []*object.Commit{head}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seen[c.Hash] || inBase[c.Hash] {
			continue
		}
		seen[c.Hash] = true
		out = append(out, c)
		if err := c.Parents().ForEach(func(p *object.Commit) error { queue = append(queue, p); return nil }); err != nil {
			return nil, fmt.Errorf("read parents of %s: %w", c.Hash, err)
		}
	}
	return out, nil
}

// historyTrees returns the git/malformed-tree diagnostics of every commit
// reachable from c: a push that creates the first protected branch has no
// base, so nothing of its history is trusted yet.
func historyTrees(repo *registry.Repo, c *object.Commit) ([]registry.Diagnostic, error) {
	var commits []*object.Commit
	err := object.NewCommitPreorderIter(c, nil, nil).ForEach(func(x *object.Commit) error {
		commits = append(commits, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the history of %s: %w", c.Hash, err)
	}
	return newTreeChecker(repo).check(commits...)
}

// withTrees returns a commit's malformed-tree diagnostics and its other
// diagnostics, sorted together.
func withTrees(trees, ds []registry.Diagnostic) []registry.Diagnostic {
	if len(trees) == 0 {
		return ds
	}
	all := append(append([]registry.Diagnostic(nil), trees...), ds...)
	registry.SortDiagnostics(all)
	return all
}
