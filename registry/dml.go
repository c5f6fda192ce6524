package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The Definitive Media Library from the artifact's side: `relreg new dml`
// digests files into a new candidate entry, and `relreg dml verify` digests
// files and looks them up in the registry's entries. Artifacts can be
// gigabytes, so files are always hashed as streams.

// FileDigest returns the digest ("sha256:<64 lowercase hex>") and the size
// in bytes of the regular file at name, reading it as a stream.
func FileDigest(name string) (digest string, size int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s is not a regular file", name)
	}
	digest, size, err = ReaderDigest(f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return digest, size, nil
}

// ReaderDigest returns the digest ("sha256:<64 lowercase hex>") of
// everything r yields and its length in bytes, without holding more than a
// small buffer of it in memory.
func ReaderDigest(r io.Reader) (digest string, size int64, err error) {
	h := sha256.New()
	// A larger buffer than io.Copy's 32 KiB halves the system calls on
	// big files; hashing, not reading, is then the cost.
	size, err = io.CopyBuffer(h, r, make([]byte, 1<<20))
	if err != nil {
		return "", 0, err
	}
	return DigestPrefix + hex.EncodeToString(h.Sum(nil)), size, nil
}

// NewDMLOptions describe a DML entry to scaffold from local files.
type NewDMLOptions struct {
	Component string
	Version   string
	// Files are the paths of the artifacts; each becomes one artifact
	// named after the file's base name, in the order given.
	Files []string
	// URIPrefix, when set, is an absolute URL; each artifact's uri is
	// URIPrefix + "/" + its name.
	URIPrefix string
	// SourceRepository and SourceRevision fill spec.source; give both or
	// neither. The revision is a 40-hex git commit id.
	SourceRepository string
	SourceRevision   string
}

var revisionRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// NewDML scaffolds a candidate DML entry of opts.Component at opts.Version,
// digesting every file. It returns the entry's path relative to the registry
// root, the file's content, and warnings for a person (such as a component
// no service may name); it writes nothing (see CreateFile). It fails when
// the entry exists, an option is invalid or a file cannot be read. Cheap
// checks come first, so a refusal never waits for a large file's digest.
func NewDML(reg *Registry, opts NewDMLOptions) (rel string, data []byte, warnings []string, err error) {
	if !ValidName(opts.Component) {
		return "", nil, nil, fmt.Errorf("component name %q does not match %s: use lowercase letters, digits and dashes", opts.Component, NamePattern)
	}
	if _, err := ParseVersion(opts.Version); err != nil {
		return "", nil, nil, err
	}
	id := opts.Component + "@" + opts.Version
	rel = path.Join(DMLDir, opts.Component, opts.Version+".yaml")
	if _, exists := reg.DML[id]; exists {
		return "", nil, nil, fmt.Errorf("DML entry %s already exists in %s: an entry's spec never changes; publish a new version instead: %w", id, rel, fs.ErrExist)
	}
	if len(opts.Files) == 0 {
		return "", nil, nil, fmt.Errorf("name at least one artifact file")
	}
	prefix, err := uriPrefix(opts.URIPrefix)
	if err != nil {
		return "", nil, nil, err
	}
	source, err := dmlSource(opts.SourceRepository, opts.SourceRevision)
	if err != nil {
		return "", nil, nil, err
	}
	seen := map[string]string{}
	for _, f := range opts.Files {
		name := filepath.Base(f)
		if prev, dup := seen[name]; dup {
			return "", nil, nil, fmt.Errorf("%s and %s have the same name %q: artifacts of one entry need distinct names; rename one of the files", prev, f, name)
		}
		seen[name] = f
	}

	spec := DMLSpec{Source: source}
	for _, f := range opts.Files {
		digest, size, err := FileDigest(f)
		if err != nil {
			return "", nil, nil, err
		}
		a := Artifact{Name: filepath.Base(f), Digest: digest, Size: size}
		if prefix != "" {
			a.URI = prefix + "/" + url.PathEscape(a.Name)
		}
		spec.Artifacts = append(spec.Artifacts, a)
	}
	if w := unlistedComponent(reg, opts.Component); w != "" {
		warnings = append(warnings, w)
	}

	doc := DMLEntry{
		Header:   Header{APIVersion: APIVersion, Kind: KindDMLEntry},
		Metadata: DMLMeta{Component: opts.Component, Version: opts.Version},
		Spec:     spec,
		Status:   DMLStatus{State: StateCandidate},
	}
	header := fmt.Sprintf(dmlHeader, id, "dml/"+id)
	if source == nil {
		header += dmlNoSource
	}
	data, err = EncodeDocument(header, doc)
	if err != nil {
		return "", nil, nil, err
	}
	return rel, data, warnings, nil
}

const dmlHeader = `# DML entry %[1]s: its artifacts, with the SHA-256 digests and
# sizes relreg new dml computed from the files. spec never changes once
# merged: publish a new version to change an artifact.
#
# To verify it: check the files against it (relreg dml verify FILE...),
# have the registry's verify approvers sign it
#   relreg approve %[2]s --step verify --as ID --role ROLE --key FILE
# and set status.state: verified in the same change. To withdraw it, set
# status.state: withdrawn and say why in status.reason.
`

const dmlNoSource = `#
# TODO: add spec.source, the repository and commit the artifacts were built
# from (--source-repository URL --source-revision SHA).
`

// uriPrefix checks a --uri-prefix and returns it without trailing slashes.
func uriPrefix(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" && u.Opaque == "" {
		return "", fmt.Errorf("--uri-prefix %q is not an absolute URL such as https://artifacts.example.com/payments-api/2.4.0", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("--uri-prefix %q has a query or fragment: the artifact's name is appended after a slash, so give the folder URL only", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// dmlSource builds spec.source from its two flags.
func dmlSource(repo, rev string) (*Source, error) {
	switch {
	case repo == "" && rev == "":
		return nil, nil
	case repo == "":
		return nil, fmt.Errorf("--source-revision needs --source-repository: the URL of the repository the commit belongs to")
	case rev == "":
		return nil, fmt.Errorf("--source-repository needs --source-revision: the 40-hex commit the artifacts were built from (git rev-parse HEAD)")
	}
	rev = strings.ToLower(rev)
	if !revisionRE.MatchString(rev) {
		return nil, fmt.Errorf("--source-revision %q is not a full 40-hex git commit id: use git rev-parse HEAD, not a branch, tag or short id", rev)
	}
	return &Source{Repository: repo, Revision: rev}, nil
}

// unlistedComponent returns a warning when no service can name component:
// every service has an allow-list (spec.components) and none lists it. A
// service without an allow-list may name any component.
func unlistedComponent(reg *Registry, component string) string {
	names := make([]string, 0, len(reg.Services))
	for name, svc := range reg.Services {
		if len(svc.Spec.Components) == 0 || slices.Contains(svc.Spec.Components, component) {
			return ""
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return fmt.Sprintf("no service exists yet, so no release can name component %s: describe one in services/<service>.yaml", component)
	}
	slices.Sort(names)
	return fmt.Sprintf("no service lists component %s in spec.components (%s): no release can name it until one does",
		component, strings.Join(names, ", "))
}

// Results of checking a file against the DML, from best to worst.
const (
	// ArtifactVerified: the file is an artifact of a verified entry and of
	// no withdrawn one.
	ArtifactVerified = "verified"
	// ArtifactCandidate: the file is only in entries that are not verified
	// (and not withdrawn).
	ArtifactCandidate = "candidate"
	// ArtifactWithdrawn: the file is an artifact of a withdrawn entry.
	// Withdrawal wins over verification: the same bytes verified under
	// another entry are still the bytes someone withdrew.
	ArtifactWithdrawn = "withdrawn"
	// ArtifactUnknown: no entry has an artifact with the file's digest.
	ArtifactUnknown = "unknown"
	// ArtifactUnreadable: the file could not be read.
	ArtifactUnreadable = "unreadable"
)

// DMLMatch is one artifact of a DML entry whose digest a file matched.
type DMLMatch struct {
	Subject   string `json:"subject"` // dml/<component>@<version>
	Component string `json:"component"`
	Version   string `json:"version"`
	Path      string `json:"path"`     // the entry's file, relative to the registry
	Artifact  string `json:"artifact"` // the artifact's recorded name
	URI       string `json:"uri,omitempty"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"` // why the entry was withdrawn
	// NameMatches reports whether the file's base name is the artifact's
	// recorded name; a renamed file still matches by digest.
	NameMatches bool `json:"nameMatches"`
}

// DMLIndex finds DML artifacts by digest. Build it once with
// NewDMLIndex and look up any number of files.
type DMLIndex struct {
	byDigest map[string][]DMLMatch
}

// NewDMLIndex indexes every artifact of every DML entry of reg by digest.
func NewDMLIndex(reg *Registry) *DMLIndex {
	ix := &DMLIndex{byDigest: map[string][]DMLMatch{}}
	for _, e := range reg.DML {
		for _, a := range e.Spec.Artifacts {
			if a.Digest == "" {
				continue
			}
			m := DMLMatch{
				Subject:   "dml/" + e.Metadata.Component + "@" + e.Metadata.Version,
				Component: e.Metadata.Component,
				Version:   e.Metadata.Version,
				Artifact:  a.Name,
				URI:       a.URI,
				State:     e.Status.State,
				Reason:    e.Status.Reason,
			}
			if e.Doc != nil {
				m.Path = e.Doc.Path
				// The path is the identity; metadata may disagree with it in
				// an invalid registry, and the path is what a person opens.
				m.Subject = e.Doc.Subject()
			}
			key := strings.ToLower(a.Digest)
			ix.byDigest[key] = append(ix.byDigest[key], m)
		}
	}
	for _, ms := range ix.byDigest {
		slices.SortFunc(ms, func(a, b DMLMatch) int {
			return strings.Compare(a.Subject+"\x00"+a.Artifact, b.Subject+"\x00"+b.Artifact)
		})
	}
	return ix
}

// Lookup returns the artifacts whose digest is digest, sorted by subject
// and artifact name; nil when there are none.
func (ix *DMLIndex) Lookup(digest string) []DMLMatch {
	return slices.Clone(ix.byDigest[strings.ToLower(digest)])
}

// ArtifactCheck is the result of checking one local file against the DML.
type ArtifactCheck struct {
	File   string `json:"file"` // as given
	Result string `json:"result"`
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size"`
	// Entries are the matching artifacts, sorted; always present in JSON.
	Entries []DMLMatch `json:"entries"`
	// Error says why the file could not be read (result unreadable).
	Error string `json:"error,omitempty"`
}

// OK reports whether the file is in the DML in a verified entry and in no
// withdrawn one.
func (c ArtifactCheck) OK() bool { return c.Result == ArtifactVerified }

// CheckArtifact digests the file at name and looks it up in ix.
func (ix *DMLIndex) CheckArtifact(name string) ArtifactCheck {
	c := ArtifactCheck{File: name, Entries: []DMLMatch{}}
	digest, size, err := FileDigest(name)
	if err != nil {
		c.Result, c.Error = ArtifactUnreadable, err.Error()
		return c
	}
	c.Digest, c.Size = digest, size
	base := filepath.Base(name)
	for _, m := range ix.Lookup(digest) {
		m.NameMatches = m.Artifact == base
		c.Entries = append(c.Entries, m)
	}
	c.Result = artifactResult(c.Entries)
	return c
}

// artifactResult ranks the states of the entries a file matched.
func artifactResult(ms []DMLMatch) string {
	if len(ms) == 0 {
		return ArtifactUnknown
	}
	result := ArtifactCandidate
	for _, m := range ms {
		switch m.State {
		case StateWithdrawn:
			return ArtifactWithdrawn
		case StateVerified:
			result = ArtifactVerified
		}
	}
	return result
}

// CheckArtifacts checks each file against the DML of reg, in order.
func CheckArtifacts(reg *Registry, files []string) []ArtifactCheck {
	ix := NewDMLIndex(reg)
	out := make([]ArtifactCheck, 0, len(files))
	for _, f := range files {
		out = append(out, ix.CheckArtifact(f))
	}
	return out
}
