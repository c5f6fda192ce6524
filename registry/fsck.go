package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-billy/v5"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// A git tree relreg reads must be one git reads the same way: git checks
// out the last of two entries with one name, while relreg (and go-git)
// find the first; an entry out of git's order is missed by git's lookups;
// go-git silently turns an unknown mode into another. So every tree a
// change reaches is checked as `git fsck --strict` checks it, from its raw
// bytes, before relreg trusts what it decoded.

// TreeProblem is one way a git tree is malformed.
type TreeProblem struct {
	// Entry is the name of the entry at fault, as the tree stores it;
	// empty when the fault is the tree's encoding itself.
	Entry   string
	Message string
}

// CheckTree checks the content of a git tree object (without the
// "tree <size>" header) as `git fsck --strict` checks a tree, and returns
// what is wrong with it, in the order found; nil for a tree git accepts.
//
// It rejects every tree git fsck --strict rejects as a tree (badTree,
// duplicateEntries, treeNotSorted, fullPathname, emptyName, hasDot,
// hasDotdot, hasDotgit, nullSha1, zeroPaddedFilemode, badFilemode,
// gitmodulesSymlink), and is stricter in one way: a mode is accepted only
// as git writes it (100644, 100755, 120000, 40000, 160000), so the 100664
// of early git and modes that overflow git's 32-bit parse are refused too.
// A name cannot hold NUL: NUL ends it in the encoding.
func CheckTree(raw []byte) []TreeProblem {
	_, problems := decodeTree(raw)
	return problems
}

// decodeTree decodes the content of a git tree object into its entries, in
// the order stored and none dropped, and checks them (see CheckTree). An
// entry's Mode is the mode go-git would give it; what cannot be decoded
// ends the entries and is a problem.
func decodeTree(raw []byte) ([]object.TreeEntry, []TreeProblem) {
	entries := make([]object.TreeEntry, 0, len(raw)/32+1)
	var problems []TreeProblem
	add := func(e *object.TreeEntry, format string, args ...any) {
		problems = append(problems, TreeProblem{Entry: e.Name, Message: fmt.Sprintf(format, args...)})
	}
	sorted := true
	var dups []int // entries reported as duplicates
	for len(raw) > 0 {
		mode, n, err := decodeEntry(raw, &entries)
		if err != "" {
			problems = append(problems, TreeProblem{Message: fmt.Sprintf("the tree cannot be decoded after %d entries: %s", len(entries), err)})
			break
		}
		raw = raw[n:]
		i := len(entries) - 1
		e := &entries[i]
		switch string(mode) {
		case "100644", "100755", "120000", "40000", "160000":
		default:
			add(e, "entry %q has mode %s, which git does not write (only 100644, 100755, 120000, 40000 and 160000)", e.Name, mode)
		}
		if bad := badName(e.Name); bad != "" {
			add(e, "entry name %q is not allowed in a git tree: %s", e.Name, bad)
		}
		if e.Mode == filemode.Symlink && isDotGitmodules(e.Name) {
			add(e, "entry %q is a symbolic link named .gitmodules", e.Name)
		}
		if e.Hash.IsZero() {
			add(e, "entry %q names the null object id", e.Name)
		}
		if i == 0 {
			continue
		}
		prev := &entries[i-1]
		switch {
		case prev.Name == e.Name:
			add(e, duplicateMessage, e.Name)
			dups = append(dups, i)
		case gitOrder(prev, e) >= 0:
			add(e, "entry %q is out of git's order: it comes after %q (git sorts names bytewise, a folder as if it ended in /)", e.Name, prev.Name)
			sorted = false
		case e.Mode == filemode.Dir && sorted:
			// A file of a folder's name sorts before it, with only names
			// it prefixes between them.
			for j := i - 2; j >= 0 && strings.HasPrefix(entries[j].Name, e.Name); j-- {
				if entries[j].Name == e.Name {
					add(e, duplicateMessage, e.Name)
					dups = append(dups, i)
					break
				}
			}
		}
	}
	if !sorted { // duplicates may lie anywhere
		at := make(map[string]int, len(entries))
		for i := range entries {
			e := &entries[i]
			if _, ok := at[e.Name]; ok && !slices.Contains(dups, i) {
				add(e, duplicateMessage, e.Name)
			}
			at[e.Name] = i
		}
	}
	return entries, problems
}

const duplicateMessage = "entry %q appears more than once (git checks out one of them, relreg may read another)"

// decodeEntry decodes the entry at the start of raw, "<octal mode>
// <name>\x00<20-byte id>", as git does, appends it to entries, and
// returns its mode as written and its length, or why it cannot.
func decodeEntry(raw []byte, entries *[]object.TreeEntry) ([]byte, int, string) {
	sp := bytes.IndexByte(raw, ' ')
	nul := bytes.IndexByte(raw, 0)
	switch {
	case sp <= 0 || nul >= 0 && nul < sp:
		return nil, 0, "an entry has no mode"
	case nul < 0:
		return nil, 0, "an entry's name is not terminated"
	case nul == sp+1:
		return nil, 0, "an entry has an empty name"
	case len(raw) < nul+1+20:
		return nil, 0, "an entry's object id is cut short"
	}
	mode := raw[:sp]
	var m uint32 // as git reads it: 32 bits that wrap
	for _, c := range mode {
		if c < '0' || c > '7' {
			return nil, 0, fmt.Sprintf("mode %q is not octal", mode)
		}
		m = m<<3 | uint32(c-'0')
	}
	e := object.TreeEntry{Name: string(raw[sp+1 : nul]), Mode: canonicalMode(m)}
	copy(e.Hash[:], raw[nul+1:nul+21])
	*entries = append(*entries, e)
	return mode, nul + 21, ""
}

// canonicalMode returns the mode go-git gives an entry of raw mode m.
func canonicalMode(m uint32) filemode.FileMode {
	switch m & 0o170000 {
	case 0o040000:
		return filemode.Dir
	case 0o100000:
		if m&0o111 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	}
	return filemode.Submodule
}

// badName says why git fsck refuses an entry name, or "".
func badName(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case name == ".", name == "..":
		return "it is . or .."
	case strings.Contains(name, "/"):
		return "it holds /"
	case isDotGit(name):
		return "git reads it as .git (in some spelling: case, NTFS short names, trailing dots or spaces, ignorable Unicode)"
	}
	return ""
}

// isDotGit reports whether a name means .git to git on some file system:
// HFS+ (case-insensitive, ignoring some Unicode code points) or NTFS
// (case-insensitive, "git~1", trailing dots and spaces, alternate data
// streams after ":", and "\" as a separator).
func isDotGit(name string) bool {
	if hfsDot(name, "git") || ntfsDotGit(name) {
		return true
	}
	for i := strings.IndexByte(name, '\\'); i >= 0; {
		name = name[i+1:]
		if ntfsDotGit(name) {
			return true
		}
		i = strings.IndexByte(name, '\\')
	}
	return false
}

// isDotGitmodules reports whether a name means .gitmodules to git.
func isDotGitmodules(name string) bool {
	if hfsDot(name, "gitmodules") || ntfsDot(name, "gitmodules", "gi7eba") {
		return true
	}
	for i := strings.IndexByte(name, '\\'); i >= 0; {
		name = name[i+1:]
		if ntfsDot(name, "gitmodules", "gi7eba") {
			return true
		}
		i = strings.IndexByte(name, '\\')
	}
	return false
}

// hfsIgnored are the code points HFS+ ignores in names.
var hfsIgnored = map[rune]bool{
	0x200c: true, 0x200d: true, 0x200e: true, 0x200f: true,
	0x202a: true, 0x202b: true, 0x202c: true, 0x202d: true, 0x202e: true,
	0x206a: true, 0x206b: true, 0x206c: true, 0x206d: true, 0x206e: true, 0x206f: true,
	0xfeff: true,
}

// hfsDot reports whether name is "." + needle to HFS+: ASCII case folded,
// ignorable code points skipped. As in git, the name ends at its end, at a
// "/", or at bytes that are not UTF-8 (git's reader stops there).
func hfsDot(name, needle string) bool {
	next := func() rune {
		for {
			if name == "" {
				return 0
			}
			r, n := utf8.DecodeRuneInString(name)
			if r == utf8.RuneError && n <= 1 || r == 0xfffe || r == 0xffff {
				return 0
			}
			name = name[n:]
			if !hfsIgnored[r] {
				return r
			}
		}
	}
	if next() != '.' {
		return false
	}
	for i := 0; i < len(needle); i++ {
		r := next()
		if r > 127 || lowerASCII(byte(r)) != needle[i] {
			return false
		}
	}
	r := next()
	return r == 0 || r == '/'
}

// ntfsDotGit reports whether name starts a path that NTFS reads as .git:
// ".git" or "git~1" in any case, then only dots and spaces up to the end,
// a separator or a ":".
func ntfsDotGit(name string) bool {
	var rest string
	switch {
	case len(name) >= 4 && name[0] == '.' && strings.EqualFold(name[1:4], "git"):
		rest = name[4:]
	case len(name) >= 5 && strings.EqualFold(name[:3], "git") && name[3:5] == "~1":
		rest = name[5:]
	default:
		return false
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\', '/', ':':
			return true
		case '.', ' ':
		default:
			return false
		}
	}
	return true
}

// ntfsDot reports whether NTFS reads name as "." + needle: the name in any
// case, its short name (the first six letters, then ~1 to ~4), or its
// fall-back short name (shortPrefix, the first letters of a hash, then
// ~ and digits), each followed by dots and spaces only, or a ":".
func ntfsDot(name, needle, shortPrefix string) bool {
	rest, ok := "", false
	switch {
	case len(name) >= 1+len(needle) && name[0] == '.' && strings.EqualFold(name[1:1+len(needle)], needle):
		rest, ok = name[1+len(needle):], true
	case len(name) >= 8 && strings.EqualFold(name[:6], needle[:6]) && name[6] == '~' && name[7] >= '1' && name[7] <= '4':
		rest, ok = name[8:], true
	default:
		rest, ok = ntfsShortName(name, shortPrefix)
	}
	if !ok {
		return false
	}
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case ':':
			return true
		case '.', ' ':
		default:
			return false
		}
	}
	return true
}

// ntfsShortName matches a fall-back NTFS short name as git does: up to
// six letters of shortPrefix (case-insensitive), "~", a digit 1-9, then
// digits, eight characters in all (nine when the "~" is the eighth). It
// returns what follows.
func ntfsShortName(name, shortPrefix string) (string, bool) {
	at := func(i int) byte {
		if i < len(name) {
			return name[i]
		}
		return 0
	}
	i, sawTilde := 0, false
	for ; i < 8; i++ {
		c := at(i)
		switch {
		case c == 0:
			return "", false
		case sawTilde:
			if c < '0' || c > '9' {
				return "", false
			}
		case c == '~':
			i++
			if c := at(i); c < '1' || c > '9' {
				return "", false
			}
			sawTilde = true
		case i >= 6, c&0x80 != 0, lowerASCII(c) != shortPrefix[i]:
			return "", false
		}
	}
	return name[i:], true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// MalformedTree is a tree of a commit that git fsck would refuse.
type MalformedTree struct {
	// Path is the folder holding the entries, slash-separated and
	// relative to the repository's root; empty for the root itself.
	Path     string
	Hash     plumbing.Hash
	Problems []TreeProblem
}

// MalformedTrees walks the whole tree of a commit, every folder of the
// repository, and returns the trees git fsck --strict would refuse, each
// once, in the order walked. Trees found well-formed, with everything
// below them, by an earlier call are not read again: walking each commit
// of a history reads only the trees that commit brought. A folder entry
// whose object is not a tree is a problem of the tree holding it; an
// object that is missing is an error.
func (r *Repo) MalformedTrees(c *object.Commit) ([]MalformedTree, error) {
	r.goodMu.Lock()
	defer r.goodMu.Unlock()
	if r.goodTrees == nil {
		r.loadGoodTrees()
	}
	w := &treeWalk{trees: r.treeCache(), good: r.goodTrees}
	_, err := w.visit(c.TreeHash, "")
	r.saveGoodTrees(w.found)
	var nt notTreeError
	if errors.As(err, &nt) {
		return []MalformedTree{{Hash: c.TreeHash, Problems: []TreeProblem{{Message: fmt.Sprintf("the commit's tree %s is a %s, not a tree", c.TreeHash, nt.typ)}}}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check the trees of commit %s: %w", c.Hash, err)
	}
	return w.out, nil
}

// treeWalk is one walk of MalformedTrees.
type treeWalk struct {
	trees *treeCache
	good  map[plumbing.Hash]bool // well-formed, with every tree below
	seen  map[plumbing.Hash]bool // visited in this walk
	found []plumbing.Hash        // found well-formed in this walk
	out   []MalformedTree
}

// notTreeError says that an object a folder entry names is no tree.
type notTreeError struct {
	hash plumbing.Hash
	typ  plumbing.ObjectType
}

func (e notTreeError) Error() string {
	return fmt.Sprintf("object %s is a %s, not a tree", e.hash, e.typ)
}

// visit checks the tree h at path p and those below it, and reports
// whether they are all well-formed.
func (w *treeWalk) visit(h plumbing.Hash, p string) (bool, error) {
	if w.good[h] {
		return true, nil
	}
	if w.seen[h] {
		return false, nil // malformed, and reported where first found
	}
	if w.seen == nil {
		w.seen = map[plumbing.Hash]bool{}
	}
	w.seen[h] = true
	ct, err := w.trees.get(h)
	if err != nil {
		return false, err
	}
	problems := ct.problems
	ok := len(problems) == 0
	for i := range ct.tree.Entries {
		e := &ct.tree.Entries[i]
		if e.Mode != filemode.Dir {
			continue
		}
		sub := e.Name
		if p != "" {
			sub = p + "/" + e.Name
		}
		subOK, err := w.visit(e.Hash, sub)
		var nt notTreeError
		if errors.As(err, &nt) {
			problems = append(problems[:len(problems):len(problems)], TreeProblem{Entry: e.Name, Message: fmt.Sprintf("entry %q is a folder but its object %s is a %s, not a tree", e.Name, e.Hash, nt.typ)})
			subOK, err = false, nil
		}
		if err != nil {
			return false, err
		}
		ok = ok && subOK
	}
	if len(problems) > 0 {
		w.out = append(w.out, MalformedTree{Path: p, Hash: h, Problems: problems})
		return false, nil
	}
	if ok {
		w.good[h] = true
		w.found = append(w.found, h)
	}
	return ok, nil
}

// goodTreesFormat names the good-trees file's format and the checks that
// found its trees well-formed: change it whenever CheckTree or the walk
// refuses more, and every stored file is ignored.
const goodTreesFormat = "relreg good trees 1"

// maxGoodTrees bounds the good-trees file: past it, it starts again.
const maxGoodTrees = 1 << 20

// goodTreesEvery is how often the good-trees file is written at most.
const goodTreesEvery = 250 * time.Millisecond

// loadGoodTrees reads the trees earlier runs found well-formed from the
// git directory's relreg/trees: so that a check in a new process reads
// only the trees its change brought, as the facts cache lets it parse
// only the files it changed. A file that is damaged, or written by
// another build, is ignored. Like the facts cache, the file is trusted:
// whoever can write the git directory can change what relreg runs.
func (r *Repo) loadGoodTrees() {
	r.goodTrees = map[plumbing.Hash]bool{}
	st, ok := r.Git.Storer.(interface{ Filesystem() billy.Filesystem })
	if !ok {
		return
	}
	r.goodPath = filepath.Join(st.Filesystem().Root(), "relreg", "trees")
	data, err := os.ReadFile(r.goodPath)
	header := buildIdentity(goodTreesFormat) + "\n"
	rest, ok := bytes.CutPrefix(data, []byte(header))
	if err != nil || !ok || len(rest)%len(plumbing.ZeroHash) != 0 {
		return
	}
	for ; len(rest) > 0; rest = rest[len(plumbing.ZeroHash):] {
		r.goodTrees[plumbing.Hash(rest)] = true
	}
}

// saveGoodTrees adds trees found well-formed to the good-trees file, best
// effort: a read-only repository only loses speed. Walking a history
// finds a few trees a commit: they are written at most every
// goodTreesEvery, and the last ones found may be lost, to be found again.
func (r *Repo) saveGoodTrees(found []plumbing.Hash) {
	if r.goodPath == "" {
		return
	}
	r.goodPending = append(r.goodPending, found...)
	if len(r.goodPending) == 0 || time.Since(r.goodSaved) < goodTreesEvery && len(r.goodPending) < 4096 {
		return
	}
	found, r.goodPending, r.goodSaved = r.goodPending, nil, time.Now()
	header := buildIdentity(goodTreesFormat) + "\n"
	info, err := os.Stat(r.goodPath)
	if err != nil || info.Size() < int64(len(header)) || (info.Size()-int64(len(header)))%20 != 0 || len(r.goodTrees) > maxGoodTrees {
		// Missing, damaged, from another build or full: start again with
		// what this run knows.
		if len(r.goodTrees) > maxGoodTrees {
			r.goodTrees = map[plumbing.Hash]bool{}
			for _, h := range found {
				r.goodTrees[h] = true
			}
		}
		data := []byte(header)
		for h := range r.goodTrees {
			data = append(data, h[:]...)
		}
		if os.MkdirAll(filepath.Dir(r.goodPath), 0o755) == nil {
			_ = WriteFileAtomic(r.goodPath, data)
		}
		return
	}
	f, err := os.OpenFile(r.goodPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	data := make([]byte, 0, len(found)*len(plumbing.ZeroHash))
	for _, h := range found {
		data = append(data, h[:]...)
	}
	_, _ = f.Write(data) // one write: appends of concurrent runs do not interleave
	_ = f.Close()
}

// cachedTree is a tree decoded by the tree cache, with what is wrong with
// it.
type cachedTree struct {
	tree     *object.Tree
	problems []TreeProblem
}

// readTree reads and decodes the tree object h from the storage: every
// entry as stored, none dropped or reordered (see decodeTree).
func readTree(s storer.EncodedObjectStorer, h plumbing.Hash) (*cachedTree, error) {
	o, err := s.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			if other, err2 := s.EncodedObject(plumbing.AnyObject, h); err2 == nil {
				return nil, notTreeError{hash: h, typ: other.Type()}
			}
		}
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	data := make([]byte, o.Size())
	_, err = io.ReadFull(rd, data)
	rd.Close()
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	entries, problems := decodeTree(data)
	return &cachedTree{tree: &object.Tree{Hash: h, Entries: entries}, problems: problems}, nil
}
