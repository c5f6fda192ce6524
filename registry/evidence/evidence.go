// Package evidence builds and verifies evidence bundles: self-contained
// JSON files that show an auditor, without the repository, how one
// registry subject (a release, with its DML entries and schedule) changed
// along a branch's history, who approved each change, and with which keys
// those approvers were trusted at the base of the change. The format is
// documented in validate/AUDIT.md.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/gowebpki/jcs"

	"github.com/relreg/relreg/registry"
)

// Version is the version field of every bundle of this format.
const Version = "relreg/evidence/v1"

// Bundle is an evidence bundle.
type Bundle struct {
	Version  string `json:"version"`
	Registry string `json:"registry"` // the registry's name at Ref
	Ref      string `json:"ref"`      // the commit whose first-parent history was read
	// Subjects holds the requested subject first, then for a release the
	// DML entries of its components and its schedule, as named at Ref.
	Subjects []Subject `json:"subjects"`
	// SHA256 is the lowercase hex SHA-256 of the RFC 8785 canonical JSON
	// of the bundle without this member.
	SHA256 string `json:"sha256,omitempty"`
}

// Subject is the history of one registry file.
type Subject struct {
	Subject string   `json:"subject"` // release/payments@2.4.0, dml/..., schedule/...
	Path    string   `json:"path"`    // relative to the registry folder
	Changes []Change `json:"changes"` // oldest first
}

// Change is one first-parent commit that changed the subject's file.
type Change struct {
	Commit Commit `json:"commit"`
	// Document is the file at the commit; nil when the commit deleted it.
	Document *Document `json:"document,omitempty"`
	// Trust is what the base of the change (the first parent) trusted.
	Trust     Trust      `json:"trust"`
	Approvals []Approval `json:"approvals"`
}

// Commit describes a git commit.
type Commit struct {
	SHA       string    `json:"sha"`
	Parents   []string  `json:"parents"`
	Author    Signature `json:"author"`
	Committer Signature `json:"committer"`
	Message   string    `json:"message"`
}

// Signature is a git identity with its time.
type Signature struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Time  string `json:"time"` // RFC 3339, with the commit's own offset
}

// Document is a registry file as git stored it.
type Document struct {
	Blob   string `json:"blob"`   // the git blob SHA-1 of YAML
	YAML   []byte `json:"yaml"`   // the exact bytes, base64 in JSON
	Digest string `json:"digest"` // the spec's digest (contract section 4)
}

// Trust is the base of a change: the registry name approvals sign, and
// the approvers the change's approvals name, with their roles and keys as
// approvers.yaml listed them at the base.
type Trust struct {
	// Base is the first parent, whose relreg.yaml and approvers.yaml are
	// trusted; empty when the first parent has no registry.
	Base string `json:"base"`
	// Root is set for the commit that introduces the registry (the trust
	// root): it has no trusted base and is read against itself. A commit
	// that adds relreg.yaml again after a deletion has neither, and none of
	// its approvals verifies.
	Root      bool                `json:"root,omitempty"`
	Registry  string              `json:"registry"`
	Approvers []registry.Approver `json:"approvers"` // every approver of the trusted approvers.yaml
}

// Approval is an approval entry of the document, as written, with the
// exact payload it signs and what relreg made of it under the base's trust.
type Approval struct {
	registry.Approval
	Payload string `json:"payload"`
	// Verified is true when the approver is trusted at the base with the
	// role and the signature verifies with one of their listed keys, not
	// revoked and valid at the approval's at.
	Verified bool     `json:"verified"`
	Problems []string `json:"problems,omitempty"`
	// Current is true when the approval signs the document's digest.
	Current bool `json:"current"`
}

// Options say what to put in a bundle.
type Options struct {
	Subject string // a path, service@version or subject string
	Ref     string // default HEAD
	Cache   *registry.ParseCache
}

// ErrNoHistory is returned when no first-parent commit changed the subject.
var ErrNoHistory = errors.New("no commit of this history changed the subject")

// Build reads the first-parent history of opts.Ref and returns the
// evidence bundle of opts.Subject, sealed with its SHA-256.
func Build(repo *registry.Repo, opts Options) (*Bundle, error) {
	if opts.Cache == nil {
		opts.Cache = registry.NewParseCache()
	}
	path, err := registry.SubjectPath(opts.Subject)
	if err != nil {
		return nil, err
	}
	tip, commits, err := repo.History(opts.Ref)
	if err != nil {
		return nil, err
	}
	b := &builder{repo: repo, cache: opts.Cache, approvers: map[string]*registry.ApproversDoc{}}
	bundle := &Bundle{Version: Version, Ref: tip.Hash.String()}
	tipFS, err := repo.FS(tip)
	if err != nil {
		return nil, err
	}
	bundle.Registry = registryName(tipFS)
	paths := append([]string{path}, related(tipFS, path)...)
	subjects := make(map[string]*Subject, len(paths))
	for _, p := range paths {
		kind, id := pathKind(p)
		subjects[p] = &Subject{Subject: (&registry.Document{Kind: kind, ID: id}).Subject(), Path: p, Changes: []Change{}}
	}
	for i, c := range commits {
		var parent *object.Commit
		if i > 0 {
			parent = commits[i-1]
		}
		changes, err := repo.ChangedFiles(parent, c)
		if err != nil {
			return nil, err
		}
		for _, ch := range changes {
			s := subjects[ch.Path]
			if s == nil {
				continue
			}
			change, err := b.change(parent, c, s, ch)
			if err != nil {
				return nil, err
			}
			s.Changes = append(s.Changes, *change)
		}
		for _, ch := range changes {
			if ch.Path == registry.ConfigFile && ch.To != "" {
				b.rooted = true
			}
		}
	}
	if len(subjects[path].Changes) == 0 {
		return nil, fmt.Errorf("%w: %s (%s) at %s", ErrNoHistory, subjects[path].Subject, path, bundle.Ref)
	}
	for _, p := range paths {
		bundle.Subjects = append(bundle.Subjects, *subjects[p])
	}
	if bundle.SHA256, err = bundle.Sum(); err != nil {
		return nil, err
	}
	return bundle, nil
}

// builder carries what is read once across commits.
type builder struct {
	repo      *registry.Repo
	cache     *registry.ParseCache
	approvers map[string]*registry.ApproversDoc // by approvers.yaml blob; nil when it does not decode
	// rooted is set once a commit of the history introduced relreg.yaml.
	rooted bool
}

func (b *builder) change(parent, c *object.Commit, s *Subject, ch registry.FileChange) (*Change, error) {
	out := &Change{Commit: commitOf(c), Approvals: []Approval{}}
	// Trust comes from the base; the commit that introduces the registry
	// has none and is read against itself; one that adds it again after a
	// deletion has no trusted base at all.
	fsys, err := b.repo.FS(c)
	if err != nil {
		return nil, err
	}
	trusted := true
	if parent != nil {
		base, err := b.repo.FS(parent)
		if err != nil {
			return nil, err
		}
		if _, err := fs.Stat(base, registry.ConfigFile); err == nil {
			fsys = base
			out.Trust.Base = parent.Hash.String()
		}
	}
	if out.Trust.Base == "" {
		out.Trust.Root = !b.rooted
		trusted = !b.rooted
	}
	out.Trust.Registry = registryName(fsys)
	out.Trust.Approvers = []registry.Approver{}
	if ch.To == "" {
		return out, nil
	}
	data, err := b.blob(ch.To)
	if err != nil {
		return nil, err
	}
	doc := &Document{Blob: ch.To, YAML: data}
	kind, id := pathKind(s.Path)
	n, _ := registry.ParseYAML(data, registry.DefaultLimits)
	rd := &registry.Document{Path: s.Path, Kind: kind, ID: id, Node: n}
	if n != nil {
		doc.Digest, _ = rd.Digest()
	}
	out.Document = doc
	approvers, kr := b.trust(fsys)
	if !trusted {
		approvers, kr = nil, registry.NewKeyring(nil)
	}
	// Every approver of the trusted approvers.yaml, so that verify builds
	// the very keyring used here (a key listed twice, or revoked in another
	// listing, counts for every approval).
	if approvers != nil {
		out.Trust.Approvers = append(out.Trust.Approvers, approvers.Spec.Approvers...)
	}
	for _, a := range rd.Approvals() {
		ap := Approval{Approval: a, Payload: string(registry.Payload(out.Trust.Registry, s.Subject, a)), Current: a.Digest == doc.Digest}
		if !trusted {
			ap.Problems = append(ap.Problems, "no trusted base: relreg.yaml was added again after it was deleted, so nothing vouches for the approvers of this commit")
		}
		for _, p := range kr.Check(out.Trust.Registry, s.Subject, a) {
			ap.Problems = append(ap.Problems, p.Error())
		}
		ap.Verified = len(ap.Problems) == 0
		out.Approvals = append(out.Approvals, ap)
	}
	return out, nil
}

// trust returns approvers.yaml of fsys and its keyring, each parsed once
// per blob.
func (b *builder) trust(fsys fs.FS) (*registry.ApproversDoc, *registry.Keyring) {
	data, err := fs.ReadFile(fsys, registry.ApproversFile)
	if err != nil {
		return nil, registry.NewKeyring(nil)
	}
	key := plumbing.ComputeHash(plumbing.BlobObject, data).String()
	doc, ok := b.approvers[key]
	if !ok {
		n, _ := registry.ParseYAML(data, registry.DefaultLimits)
		doc = registry.ApproversOf(n)
		b.approvers[key] = doc
	}
	return doc, doc.Keyring()
}

func (b *builder) blob(h string) ([]byte, error) {
	blob, err := b.repo.Git.BlobObject(plumbing.NewHash(h))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// registryName returns relreg.yaml's metadata.name in fsys, or "".
func registryName(fsys fs.FS) string {
	data, err := fs.ReadFile(fsys, registry.ConfigFile)
	if err != nil {
		return ""
	}
	n, _ := registry.ParseYAML(data, registry.DefaultLimits)
	if n == nil {
		return ""
	}
	m, _ := n.Value.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	return name
}

// related returns, for a release at the tip, the paths of its components'
// DML entries and of its schedule.
func related(fsys fs.FS, path string) []string {
	if kind, _ := pathKind(path); kind != registry.KindRelease {
		return nil
	}
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil
	}
	n, _ := registry.ParseYAML(data, registry.DefaultLimits)
	if n == nil {
		return nil
	}
	raw, err := json.Marshal(n.Value)
	if err != nil {
		return nil
	}
	var rel registry.Release
	if json.Unmarshal(raw, &rel) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{path: true}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, c := range rel.Spec.Components {
		if c.Name != "" && c.Version != "" && !strings.ContainsAny(c.Name+c.Version, "/\\") {
			add(registry.DMLDir + "/" + c.Name + "/" + c.Version + ".yaml")
		}
	}
	if s := rel.Spec.Deployment.Schedule; s != "" && !strings.ContainsAny(s, "/\\") {
		add(registry.SchedulesDir + "/" + s + ".yaml")
	}
	return out
}

func commitOf(c *object.Commit) Commit {
	out := Commit{SHA: c.Hash.String(), Parents: []string{}, Message: c.Message,
		Author: signature(c.Author), Committer: signature(c.Committer)}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out
}

func signature(s object.Signature) Signature {
	return Signature{Name: s.Name, Email: s.Email, Time: s.When.Format(time.RFC3339)}
}

// Sum returns the bundle's integrity sum: the lowercase hex SHA-256 of the
// RFC 8785 canonical JSON of the bundle without its sha256 member.
func (b *Bundle) Sum() (string, error) {
	c := *b
	c.SHA256 = ""
	raw, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode bundle: %w", err)
	}
	canon, err := jcs.Transform(raw)
	if err != nil {
		return "", fmt.Errorf("canonicalize bundle: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// pathKind returns the kind and identity the layout gives a path, or ""
// for a path outside it.
func pathKind(p string) (kind, id string) {
	kind, id, ok := registry.PathKind(p)
	if !ok {
		return "", ""
	}
	return kind, id
}
