package validate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoProtectedBranch is returned by ProtectedBranches for an empty list:
// a hook that protects nothing would accept every push unjudged.
var ErrNoProtectedBranch = errors.New("no protected branch is named, so the hook would judge nothing: name at least one, such as --branch main or RELREG_PROTECTED_BRANCHES=main,master")

// ProtectedBranches returns the branch names of a protected-branch list as
// --branch and RELREG_PROTECTED_BRANCHES give them: spaces around a name
// are trimmed, a refs/heads/ prefix is dropped and repeated names are
// kept once. A name that is not a valid git branch name (empty, holding a
// space, a ref outside refs/heads/ ...) is an error that names it and the
// fix, never a branch silently left unprotected.
func ProtectedBranches(names []string) ([]string, error) {
	var out []string
	for _, raw := range names {
		name := strings.TrimSpace(raw)
		name = strings.TrimPrefix(name, "refs/heads/")
		if why := badBranchName(name); why != "" {
			return nil, fmt.Errorf("protected branch %q is not a valid git branch name: %s; name each branch as git does (main, release/1.x) or by its full ref (refs/heads/main), separated by commas: --branch main,master or RELREG_PROTECTED_BRANCHES=main,master", raw, why)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoProtectedBranch
	}
	return out, nil
}

// badBranchName says why name is not a branch name git accepts
// (git check-ref-format --branch), or returns "".
func badBranchName(name string) string {
	switch {
	case name == "":
		return "it is empty (two commas in a row, or one at the end?)"
	case name == "HEAD" || name == "@":
		return fmt.Sprintf("%s is not a branch", name)
	case strings.HasPrefix(name, "refs/"):
		return "it names a ref outside refs/heads/, and only branches are protected"
	case strings.HasPrefix(name, "-"):
		return "it starts with '-'"
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return "it starts or ends with '/', or holds '//'"
	case strings.HasSuffix(name, "."):
		return "it ends with '.'"
	case strings.Contains(name, ".."):
		return "it holds '..'"
	case strings.Contains(name, "@{"):
		return "it holds '@{'"
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == ' ':
			return "it holds a space"
		case c < 0x20 || c == 0x7f:
			return "it holds a control character"
		case strings.IndexByte("~^:?*[\\", c) >= 0:
			return fmt.Sprintf("it holds %q, which git does not allow in a ref name", c)
		}
	}
	for comp := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return fmt.Sprintf("its part %q starts with '.' or ends with '.lock'", comp)
		}
	}
	return ""
}
