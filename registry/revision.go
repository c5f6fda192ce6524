package registry

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// AmbiguousRevisionError is returned for a revision that git would resolve
// in more than one way: a short name that is both a tag and a
// remote-tracking branch (origin/main), or a hex string that is both a ref
// name and an abbreviated object id, or an abbreviation of more than one
// object. relreg refuses it rather than guess as git does.
type AmbiguousRevisionError struct {
	Rev string
	// Names are what Rev could mean, in git's order: full ref names
	// (refs/tags/origin/main), a pseudo-ref such as HEAD, and the full
	// SHAs of the objects an abbreviation matches.
	Names []string
}

func (e *AmbiguousRevisionError) Error() string {
	var full, shadowed []string
	for _, n := range e.Names {
		if strings.HasPrefix(n, "refs/") || plumbing.IsHash(n) {
			full = append(full, n)
		} else {
			shadowed = append(shadowed, n)
		}
	}
	msg := fmt.Sprintf("revision %q is ambiguous: it names %s", e.Rev, orList(e.Names, "and"))
	if len(full) > 0 {
		msg += "; name the one you mean in full: " + orList(full, "or")
	}
	if len(shadowed) > 0 {
		msg += fmt.Sprintf("; to mean %s, rename or delete the refs that shadow it", orList(shadowed, "or"))
	}
	return msg
}

// orList joins names as "a, b and c" (or "or").
func orList(names []string, conj string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// UnsupportedRevisionError is returned for a revision form that relreg
// does not resolve exactly as git does (an upstream, a reflog entry, a
// range, a path): relreg refuses it rather than read it as something else.
type UnsupportedRevisionError struct {
	Rev  string
	Form string // the form, such as "@{...}"
	What string // what the form means to git
}

func (e *UnsupportedRevisionError) Error() string {
	return fmt.Sprintf("revision %q uses %s (%s), which relreg does not resolve: name the commit itself, by its full ref name (refs/remotes/origin/main, refs/heads/main, refs/tags/v1) or its SHA, optionally followed by ~N or ^N", e.Rev, e.Form, e.What)
}

// Resolve returns the commit a revision names, exactly as git would
// resolve it, or an error when git could read it in more than one way.
//
// It reads HEAD (and @, which git reads as HEAD); full ref names
// (refs/heads/main, refs/remotes/origin/main, refs/tags/v1), taken as
// they are; short names by git's rules, in git's order (gitrevisions(7)):
// <name> itself for a pseudo-ref such as HEAD or FETCH_HEAD, refs/<name>,
// refs/tags/<name>, refs/heads/<name>, refs/remotes/<name> and
// refs/remotes/<name>/HEAD, refused with an *AmbiguousRevisionError when
// more than one of them exists; full 40-hex SHAs, which are always the
// object (git reads them so even when a ref has that name); and unique
// abbreviated SHAs of 4 hex digits or more, refused when they abbreviate
// more than one object or are also a ref's name. Any chain of ~, ~N, ^, ^N
// (^0 is the commit itself), ^{} and ^{commit} may follow. Annotated tags
// are peeled to their commit; a revision that names a tree or a blob is an
// error.
//
// Every other form of gitrevisions(7) (@{u}, @{push}, @{N}, @{-N},
// @{date}, ^{tree}, ^{/text}, :/text, rev:path, A..B, A...B, ^!, ^@, ^-N,
// ^A) is refused with an *UnsupportedRevisionError, never truncated to
// the part before it. An unknown name wraps ErrUnknownRevision.
func (r *Repo) Resolve(rev string) (*object.Commit, error) {
	name, steps, err := parseRevision(rev)
	if err != nil {
		return nil, err
	}
	h, err := r.resolveName(rev, name)
	if err != nil {
		return nil, err
	}
	obj, err := r.object(rev, h)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		if obj, err = r.step(rev, obj, s); err != nil {
			return nil, err
		}
	}
	return r.peelCommit(rev, obj)
}

// revStep is one suffix of a revision: ~N, ^N, ^{} or ^{commit}.
type revStep struct {
	op byte // '~', '^', '{' (^{}) or 'c' (^{commit})
	n  int
}

// parseRevision splits a revision into its name and its suffixes, and
// refuses the forms Resolve does not read.
func parseRevision(rev string) (string, []revStep, error) {
	unsupported := func(form, what string) error {
		return &UnsupportedRevisionError{Rev: rev, Form: form, What: what}
	}
	switch {
	case rev == "":
		return "", nil, fmt.Errorf("%w \"\": the revision is empty: name a branch, tag or commit", ErrUnknownRevision)
	case strings.Contains(rev, "@{"):
		return "", nil, unsupported("@{...}", "an upstream, push target, reflog entry or previously checked out branch")
	case strings.Contains(rev, ":"):
		return "", nil, unsupported(":", "a path in a tree, the index, or a search of commit messages")
	case strings.Contains(rev, ".."):
		return "", nil, unsupported("..", "a range of commits")
	case strings.HasPrefix(rev, "^"):
		return "", nil, unsupported("^REV", "the commits not reachable from REV, a range")
	}
	i := strings.IndexAny(rev, "~^")
	if i < 0 {
		return rev, nil, nil
	}
	name, rest := rev[:i], rev[i:]
	var steps []revStep
	for rest != "" {
		op := rest[0]
		rest = rest[1:]
		if op != '~' && op != '^' {
			return "", nil, fmt.Errorf("%w %q: %q after the name is not ~N or ^N", ErrUnknownRevision, rev, string(op)+rest)
		}
		if op == '^' && rest != "" {
			switch rest[0] {
			case '{':
				end := strings.IndexByte(rest, '}')
				if end < 0 {
					return "", nil, unsupported("^{", "an object type or a search")
				}
				switch rest[1:end] {
				case "":
					steps = append(steps, revStep{op: '{'})
				case "commit":
					steps = append(steps, revStep{op: 'c'})
				default:
					return "", nil, unsupported("^{"+rest[1:end]+"}", "an object of another type than a commit, or a search of commit messages")
				}
				rest = rest[end+1:]
				continue
			case '!':
				return "", nil, unsupported("^!", "a commit without its parents, a range")
			case '@':
				return "", nil, unsupported("^@", "all parents of a commit, a range")
			case '-':
				return "", nil, unsupported("^-", "a commit without one parent's history, a range")
			}
		}
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		n := 1
		if digits > 0 {
			var err error
			if n, err = strconv.Atoi(rest[:digits]); err != nil {
				return "", nil, fmt.Errorf("%w %q: %s%s is out of range", ErrUnknownRevision, rev, string(op), rest[:digits])
			}
		}
		steps = append(steps, revStep{op: op, n: n})
		rest = rest[digits:]
	}
	return name, steps, nil
}

// refRules, after a pseudo-ref, are git's rules for a short name
// (ref_rev_parse_rules in git's refs.c): a pseudo-ref at the top of the
// git folder (only for names of capitals and underscores, as git's
// refname_is_safe has it), then refs by prefix, in this order.
var refRules = []string{"refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"}

// resolveName returns the object a revision's name (without suffixes)
// names.
func (r *Repo) resolveName(rev, name string) (plumbing.Hash, error) {
	if name == "@" {
		name = "HEAD" // git reads @ alone as HEAD, before any ref named @
	}
	if len(name) == 2*len(plumbing.ZeroHash) && isHexString(name) {
		return plumbing.NewHash(strings.ToLower(name)), nil
	}
	if strings.HasPrefix(name, "refs/") {
		if !validRefName(name) {
			return plumbing.ZeroHash, fmt.Errorf("%w %q: %s is not a valid ref name", ErrUnknownRevision, rev, name)
		}
		h, ok, err := r.ref(plumbing.ReferenceName(name))
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("resolve %q: %w", rev, err)
		}
		if !ok {
			return plumbing.ZeroHash, fmt.Errorf("%w %q: no ref %s", ErrUnknownRevision, rev, name)
		}
		return h, nil
	}
	var names []string
	var hashes []plumbing.Hash
	if validRefName(name) {
		var candidates []string
		if isPseudoRefName(name) {
			candidates = append(candidates, name)
		}
		for _, rule := range refRules {
			candidates = append(candidates, fmt.Sprintf(rule, name))
		}
		for _, c := range candidates {
			h, ok, err := r.ref(plumbing.ReferenceName(c))
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("resolve %q: %w", rev, err)
			}
			if ok {
				names = append(names, c)
				hashes = append(hashes, h)
			}
		}
	}
	if len(name) >= minAbbrev && isHexString(name) {
		objs, err := r.objectsWithPrefix(name)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("resolve %q: %w", rev, err)
		}
		for _, h := range objs {
			names = append(names, h.String())
			hashes = append(hashes, h)
		}
	}
	switch len(names) {
	case 0:
		return plumbing.ZeroHash, fmt.Errorf("%[1]w %[2]q: no ref refs/%[3]s, refs/tags/%[3]s, refs/heads/%[3]s or refs/remotes/%[3]s, and no object with that SHA: check the name, or fetch it", ErrUnknownRevision, rev, name)
	case 1:
		return hashes[0], nil
	}
	return plumbing.ZeroHash, &AmbiguousRevisionError{Rev: rev, Names: names}
}

// minAbbrev is the shortest abbreviated SHA git reads (MINIMUM_ABBREV).
const minAbbrev = 4

// ref returns the object a ref points at, following symbolic refs. A ref
// that does not exist, or a symbolic ref pointing nowhere, is not there (ok
// false), as git ignores a dangling symbolic ref.
func (r *Repo) ref(name plumbing.ReferenceName) (plumbing.Hash, bool, error) {
	ref, err := storer.ResolveReference(r.Git.Storer, name)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, false, nil
	}
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("read ref %s: %w", name, err)
	}
	return ref.Hash(), true, nil
}

// objectsWithPrefix returns the objects whose SHA starts with a prefix of
// hex digits.
func (r *Repo) objectsWithPrefix(prefix string) ([]plumbing.Hash, error) {
	prefix = strings.ToLower(prefix)
	even, err := hex.DecodeString(prefix[:len(prefix)&^1])
	if err != nil {
		return nil, err
	}
	var candidates []plumbing.Hash
	type prefixer interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	if p, ok := r.Git.Storer.(prefixer); ok {
		if candidates, err = p.HashesWithPrefix(even); err != nil {
			return nil, fmt.Errorf("look up objects %s…: %w", prefix, err)
		}
	} else {
		iter, err := r.Git.Storer.IterEncodedObjects(plumbing.AnyObject)
		if err != nil {
			return nil, fmt.Errorf("look up objects %s…: %w", prefix, err)
		}
		err = iter.ForEach(func(o plumbing.EncodedObject) error {
			candidates = append(candidates, o.Hash())
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look up objects %s…: %w", prefix, err)
		}
	}
	var out []plumbing.Hash
	for _, h := range candidates {
		if strings.HasPrefix(h.String(), prefix) && !containsHash(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

func containsHash(hs []plumbing.Hash, h plumbing.Hash) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// object reads an object of any type.
func (r *Repo) object(rev string, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, err := r.Git.Storer.EncodedObject(plumbing.AnyObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w %q: no object %s in this repository (fetch it, or is this a shallow clone?)", ErrUnknownRevision, rev, h)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %q: read object %s: %w", rev, h, err)
	}
	return o, nil
}

// step applies one suffix of a revision to an object.
func (r *Repo) step(rev string, obj plumbing.EncodedObject, s revStep) (plumbing.EncodedObject, error) {
	if s.op == '{' {
		return r.peelTags(rev, obj)
	}
	c, err := r.peelCommit(rev, obj)
	if err != nil {
		return nil, err
	}
	switch s.op {
	case '~':
		for range s.n {
			if c.NumParents() == 0 {
				return nil, fmt.Errorf("%w %q: commit %s has no parent (the first commit, or the edge of a shallow clone)", ErrUnknownRevision, rev, c.Hash)
			}
			if c, err = r.parent(rev, c, 0); err != nil {
				return nil, err
			}
		}
	case '^':
		if s.n > 0 {
			if s.n > c.NumParents() {
				return nil, fmt.Errorf("%w %q: commit %s has %d parents, not %d", ErrUnknownRevision, rev, c.Hash, c.NumParents(), s.n)
			}
			if c, err = r.parent(rev, c, s.n-1); err != nil {
				return nil, err
			}
		}
	}
	return r.object(rev, c.Hash)
}

func (r *Repo) parent(rev string, c *object.Commit, i int) (*object.Commit, error) {
	p, err := c.Parent(i)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w %q: parent %d of %s is not in this repository (a shallow clone? fetch the whole history)", ErrUnknownRevision, rev, i+1, c.Hash)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %q: read parent of %s: %w", rev, c.Hash, err)
	}
	return p, nil
}

// peelTags follows annotated tags to the object they tag.
func (r *Repo) peelTags(rev string, obj plumbing.EncodedObject) (plumbing.EncodedObject, error) {
	for depth := 0; obj.Type() == plumbing.TagObject; depth++ {
		if depth > 64 {
			return nil, fmt.Errorf("resolve %q: tag %s is nested too deep", rev, obj.Hash())
		}
		tag, err := object.DecodeTag(r.Git.Storer, obj)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: read tag %s: %w", rev, obj.Hash(), err)
		}
		if obj, err = r.object(rev, tag.Target); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// peelCommit follows annotated tags to a commit, or says what else the
// revision names.
func (r *Repo) peelCommit(rev string, obj plumbing.EncodedObject) (*object.Commit, error) {
	obj, err := r.peelTags(rev, obj)
	if err != nil {
		return nil, err
	}
	if obj.Type() != plumbing.CommitObject {
		return nil, fmt.Errorf("revision %q names a %s (%s), not a commit: name a branch, tag or commit", rev, obj.Type(), obj.Hash())
	}
	c, err := object.DecodeCommit(r.Git.Storer, obj)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: read commit %s: %w", rev, obj.Hash(), err)
	}
	return c, nil
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// isPseudoRefName reports whether git looks a short name up at the top of
// the git folder (HEAD, FETCH_HEAD, ORIG_HEAD…): only names of capitals and
// underscores (git's refname_is_safe).
func isPseudoRefName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return name != ""
}

// validRefName reports whether a name passes git check-ref-format with
// --allow-onelevel: what git requires of any ref name it resolves.
func validRefName(name string) bool {
	if name == "" || name == "@" || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for comp := range strings.SplitSeq(name, "/") {
		if comp == "" || strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return false
		}
	}
	return true
}
