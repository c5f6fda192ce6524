package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
)

// Scaffolding: the files `relreg init` and `relreg new release` write. Every
// document is marshalled from the typed model through its json tags, so the
// tags that read a registry also write it, and a comment header is put in
// front. Everything written validates clean.

// InitOptions tune Init. Every field has a default.
type InitOptions struct {
	// Name is the registry's metadata.name; default: the folder's name made
	// into a valid name, or "registry".
	Name string
	// Approver is the id of the first approver; default "admin".
	Approver string
	// ApproverName and ApproverEmail describe the first approver.
	ApproverName  string
	ApproverEmail string
	// Key is the first approver's OpenSSH public key line. Empty means a
	// placeholder: a fresh ed25519 key whose private half is thrown away, so
	// the registry validates but nobody can sign with it until it is replaced.
	Key string
	// Services are the names of services to create, owned by Approver.
	Services []string
	// Timezone is the IANA zone of the production schedule; default UTC.
	Timezone string
}

// Init writes a new, valid registry into dir (creating dir when needed) and
// returns the paths it wrote, each joined to dir. It refuses to touch a
// folder that already holds relreg.yaml, approvers.yaml or one of the
// documents it would write; an existing README.md or CI workflow is kept.
// A symbolic link on the way to a file it would write is refused
// (SymlinkError), before anything is written.
//
// The GitHub Actions workflow goes where GitHub reads it: when dir is a
// subfolder of a git work tree, into the work tree's root (its path then
// joined to the root), with --registry naming dir.
func Init(dir string, opts InitOptions) ([]string, error) {
	if err := opts.defaults(dir); err != nil {
		return nil, err
	}
	home, rel := workflowHome(dir)
	docs := []initFile{
		{ConfigFile, opts.registryFile, false, dir},
		{ApproversFile, opts.approversFile, false, dir},
		{path.Join(SchedulesDir, "production.yaml"), opts.scheduleFile, false, dir},
		{"README.md", func() ([]byte, error) { return []byte(fmt.Sprintf(initReadme, opts.Name)), nil }, true, dir},
		{".github/workflows/relreg.yml", func() ([]byte, error) { return []byte(initWorkflow(rel)), nil }, true, home},
	}
	for _, s := range opts.Services {
		docs = append(docs, initFile{path.Join(ServicesDir, s+".yaml"), func() ([]byte, error) { return opts.serviceFile(s) }, false, dir})
	}

	// Check everything before writing anything, so a refusal leaves no trace.
	var conflicts []string
	var write []int
	for i, d := range docs {
		_, err := os.Lstat(filepath.Join(d.home, filepath.FromSlash(d.rel)))
		switch {
		case err == nil && d.keepIf:
		case err == nil:
			conflicts = append(conflicts, d.rel)
		case errors.Is(err, fs.ErrNotExist):
			if err := CheckWritePath(d.home, d.rel); err != nil {
				return nil, err
			}
			write = append(write, i)
		default:
			return nil, err
		}
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%s already holds %s: relreg init never overwrites a registry: %w",
			dir, strings.Join(conflicts, ", "), fs.ErrExist)
	}
	var written []string
	for _, i := range write {
		data, err := docs[i].data()
		if err != nil {
			return written, err
		}
		p := filepath.Join(docs[i].home, filepath.FromSlash(docs[i].rel))
		if err := CreateFile(docs[i].home, docs[i].rel, data); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// initFile is one file Init writes.
type initFile struct {
	rel    string // slash-separated, relative to home
	data   func() ([]byte, error)
	keepIf bool   // keep an existing file instead of refusing
	home   string // the registry's folder, or the work tree's root
}

// workflowHome returns the folder whose .github/workflows GitHub reads for
// a registry in dir, and dir relative to it, slash-separated: the root of
// the git work tree that holds dir, or dir itself (rel ".") when dir is
// that root or in no work tree.
func workflowHome(dir string) (home, rel string) {
	abs, err := resolvePath(dir)
	if err != nil {
		return dir, "."
	}
	g, err := git.PlainOpenWithOptions(existingAncestor(abs), &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return dir, "."
	}
	wt, err := g.Worktree()
	if err != nil {
		return dir, "."
	}
	root, err := resolvePath(wt.Filesystem.Root())
	if err != nil {
		return dir, "."
	}
	r, err := filepath.Rel(root, abs)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return dir, "."
	}
	return wt.Filesystem.Root(), filepath.ToSlash(r)
}

// resolvePath returns p absolute, with the symbolic links of the part of it
// that exists resolved.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	base := existingAncestor(abs)
	resolved, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", err
	}
	rest, err := filepath.Rel(base, abs)
	if err != nil {
		return "", err
	}
	return filepath.Join(resolved, rest), nil
}

// existingAncestor returns the longest prefix of the absolute path p that
// exists.
func existingAncestor(p string) string {
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

// initWorkflow returns InitWorkflow for a registry in the folder rel of the
// repository ("." for its root).
func initWorkflow(rel string) string {
	if rel == "." {
		return InitWorkflow
	}
	flag := " --registry " + shellQuote(rel)
	w := strings.Replace(InitWorkflow, "      # Add --registry DIR to both commands if the registry is in a subfolder.\n", "", 1)
	w = strings.Replace(w, "run: relreg validate\n", "run: relreg validate"+flag+"\n", 1)
	return strings.Replace(w, "run: relreg check --base", "run: relreg check"+flag+" --base", 1)
}

// shellQuote quotes s for a POSIX shell when it holds more than letters,
// digits and ./_-.
func shellQuote(s string) string {
	plain := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./_-", r))
	}) < 0
	if plain && s != "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (o *InitOptions) defaults(dir string) error {
	if o.Name == "" {
		o.Name = "registry"
		if abs, err := filepath.Abs(dir); err == nil {
			if n := nameFrom(filepath.Base(abs)); n != "" {
				o.Name = n
			}
		}
	}
	if o.Approver == "" {
		o.Approver = "admin"
	}
	if o.ApproverName == "" {
		o.ApproverName = "Registry Administrator"
	}
	for what, n := range map[string]string{"registry name": o.Name, "approver id": o.Approver} {
		if !ValidName(n) {
			return fmt.Errorf("%s %q does not match %s: use lowercase letters, digits and dashes", what, n, NamePattern)
		}
	}
	// Each service once, in the order given.
	var services []string
	for _, s := range o.Services {
		if !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	o.Services = services
	for _, s := range o.Services {
		if !ValidName(s) {
			return fmt.Errorf("service name %q does not match %s: use lowercase letters, digits and dashes", s, NamePattern)
		}
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	if _, err := LoadTimezone(o.Timezone); err != nil {
		return err
	}
	if o.Key != "" {
		// The same check as approvers.yaml's key lines: no options, no
		// certificates, an accepted key type.
		if _, err := ParsePublicKeyLine(strings.TrimSpace(o.Key)); err != nil {
			return fmt.Errorf("the approver key: %w", err)
		}
		o.Key = strings.TrimSpace(o.Key)
	}
	return nil
}

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

// nameFrom turns a folder name into a valid registry name, or "".
func nameFrom(s string) string {
	s = strings.Trim(notName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-")
	}
	if !ValidName(s) {
		return ""
	}
	return s
}

func (o *InitOptions) registryFile() ([]byte, error) {
	one := func(role string) []Requirement { return []Requirement{{Role: role, Count: 1}} }
	rm := one("release-manager")
	doc := RegistryConfig{
		Header:   Header{APIVersion: APIVersion, Kind: KindRegistry},
		Metadata: NameMeta{Name: o.Name},
		Spec: RegistrySpec{
			ChangePattern:   DefaultChangePattern,
			IncidentPattern: DefaultIncidentPattern,
			Approvals: ApprovalPolicy{
				Plan:     &RiskRequirements{Low: rm, Medium: rm, High: []Requirement{{Role: "release-manager", Count: 1}, {Role: "cab", Count: 1}}},
				Build:    &RiskRequirements{High: rm},
				Accept:   &RiskRequirements{Low: rm, Medium: rm, High: rm},
				Deploy:   &RiskRequirements{Low: rm, Medium: rm, High: rm},
				Verify:   rm,
				Schedule: rm,
				Govern:   one("registry-admin"),
			},
		},
	}
	return EncodeDocument(fmt.Sprintf(registryHeader, o.Name), doc)
}

const registryHeader = `# The policy of the registry %s.
#
# metadata.name is part of every signed approval: never rename the registry.
# spec.approvals says which roles must sign each step. A step that is absent
# needs no approval; release steps (plan, build, accept, deploy) are keyed by
# the release's risk. These defaults suit a small team: raise the counts, and
# add roles such as cab or service-owner to approvers.yaml, as the team grows.
# Changing this file needs the govern approvals of the policy it replaces.
`

func (o *InitOptions) approversFile() ([]byte, error) {
	key := o.Key
	header := approversHeader
	if key == "" {
		var err error
		if key, err = placeholderKey(); err != nil {
			return nil, err
		}
		header += approversPlaceholder
	}
	doc := ApproversDoc{
		Header:   Header{APIVersion: APIVersion, Kind: KindApprovers},
		Metadata: NameMeta{Name: "approvers"},
		Spec: ApproversSpec{Approvers: []Approver{{
			ID:    o.Approver,
			Name:  o.ApproverName,
			Email: o.ApproverEmail,
			Roles: []string{"release-manager", "registry-admin"},
			Keys:  []Key{{Key: key}},
		}}},
	}
	return EncodeDocument(header, doc)
}

const approversHeader = `# Who may approve, in which roles, with which SSH public keys.
#
# Approvers and keys that have signed are never deleted: expire a key with
# validBefore, or set revoked: true if it was compromised. Changing this
# file needs the govern approvals of the registry, read from the base commit.
`

const approversPlaceholder = `#
# TODO: replace the key below with your own public key (the line in
# ~/.ssh/id_ed25519.pub, for example), and the name and email with yours.
# relreg init generated it as a placeholder and threw its private half away:
# it can sign nothing, so the registry is valid but nobody can approve yet.
`

// placeholderKey returns the public key line of a fresh ed25519 key whose
// private half is discarded.
func placeholderKey() (string, error) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate placeholder key: %w", err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("generate placeholder key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " placeholder-replace-me", nil
}

func (o *InitOptions) scheduleFile() ([]byte, error) {
	doc := Schedule{
		Header:   Header{APIVersion: APIVersion, Kind: KindSchedule},
		Metadata: NameMeta{Name: "production"},
		Spec: ScheduleSpec{
			Environment:   "production",
			Timezone:      o.Timezone,
			MaxConcurrent: 1,
			Windows: []ScheduleWindow{{
				Name:   "weekdays",
				Weekly: &Weekly{Days: []string{"mon", "tue", "wed", "thu"}, Start: "09:00", Duration: "8h"},
			}},
		},
	}
	return EncodeDocument(scheduleHeader, doc)
}

const scheduleHeader = `# When releases may be deployed to production. Weekly windows are wall-clock
# times in the timezone, so they follow daylight saving time. Add fixed
# windows (start, end) and freezes (with allow: [emergency] to let
# emergency releases through) as you need them. Any change to a schedule
# needs the schedule approvals.
`

func (o *InitOptions) serviceFile(name string) ([]byte, error) {
	doc := Service{
		Header:   Header{APIVersion: APIVersion, Kind: KindService},
		Metadata: NameMeta{Name: name},
		Spec:     ServiceSpec{Title: name, Owner: o.Approver, Components: []string{name}},
	}
	return EncodeDocument(serviceHeader, doc)
}

const serviceHeader = `# A service: something that is released. TODO: set a real title and the
# owning team; components lists the DML components its releases may name,
# and an optional supported constraint (">=2.0.0") limits new releases.
`

// InitWorkflow is the GitHub Actions workflow Init writes for the registry's
// own repository; examples/ci/github-actions.yml is the same file.
const InitWorkflow = `# relreg for a registry repository on GitHub: copy this file to
# .github/workflows/relreg.yml in the repository that holds relreg.yaml.
#
# Every pull request is validated as a whole (relreg validate) and judged as a
# change (relreg check): lifecycle, frozen fields, append-only history and
# signed approvals, with trust read from the base branch.
name: relreg

on:
  pull_request:
  push:
    branches: [main]

# Read-only: relreg never writes to the repository.
permissions:
  contents: read

jobs:
  relreg:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          # relreg check needs the base branch and the merge-base, and reads
          # commit authors for segregation of duties: fetch the whole history.
          fetch-depth: 0

      - uses: actions/setup-go@v5
        with:
          go-version: stable

      # Pin a released version (@v1.2.3) in production instead of @latest.
      - name: Install relreg
        run: go install github.com/relreg/relreg/cmd/relreg@latest

      # Add --registry DIR to both commands if the registry is in a subfolder.
      - name: Validate the registry
        run: relreg validate

      # Judges the pull request as a merge request shows it: from the
      # merge-base with the target branch to the head of the pull request.
      # The base is named in full: a pull request may push a tag named
      # origin/<branch>, which git prefers to the remote-tracking branch.
      - name: Check the change
        if: github.event_name == 'pull_request'
        env:
          BASE_REF: ${{ github.base_ref }}
        run: relreg check --base "refs/remotes/origin/$BASE_REF"
`

const initReadme = "# Release registry %s\n\n" + `This repository is a [relreg](https://github.com/relreg/relreg) release
registry: releases, release schedules and Definitive Media Library (DML)
entries as YAML files, changed through pull requests and checked by
` + "`relreg`" + ` on every change.

| Path                                | Holds |
|-------------------------------------|-------|
| ` + "`relreg.yaml`" + `                       | the policy: who must approve each step |
| ` + "`approvers.yaml`" + `                    | the approvers, their roles and SSH public keys |
| ` + "`services/<service>.yaml`" + `           | the services that are released |
| ` + "`releases/<service>/<version>.yaml`" + ` | one file per release |
| ` + "`schedules/<schedule>.yaml`" + `         | deployment windows and freezes |
| ` + "`dml/<component>/<version>.yaml`" + `    | the Definitive Media Library |

The ` + "`services/`, `releases/` and `dml/`" + ` folders appear with their first file
(git keeps no empty folders, and only .yaml files may live in them).

## First steps

1. Put your SSH public key into ` + "`approvers.yaml`" + ` in place of the placeholder.
2. Describe a service in ` + "`services/<service>.yaml`" + `.
3. Propose a release:

       relreg new release payments 1.0.0 --type minor --risk low --change CHG-1
       relreg validate

4. Sign approvals with ` + "`relreg approve`" + `, and move the release through its
   phases (draft, planned, building, testing, accepted, deploying, deployed,
   closed) in pull requests. CI (` + "`.github/workflows/relreg.yml`" + `) runs
   ` + "`relreg validate`" + ` and ` + "`relreg check`" + ` on each of them.
`

// NewReleaseOptions describe a release to scaffold. Service is required;
// every other field has a default or is derived from the registry.
type NewReleaseOptions struct {
	Service string
	// Version of the release; empty means the next version after the
	// service's highest release, bumped by Type.
	Version string
	// Type is major, minor, patch or emergency. It may be left empty when
	// Version is given and is a single bump from the previous release.
	Type string
	// Risk is low, medium or high; default low.
	Risk  string
	Title string
	// Owner is the approver id of the requester; default: the only approver.
	Owner   string
	Changes []string
	// Schedule defaults to the only schedule, or to "production".
	Schedule string
	// WindowStart and WindowEnd are RFC 3339 times; default: the first
	// window of the schedule that starts at least a day after Now and
	// overlaps no freeze that holds the release.
	WindowStart string
	WindowEnd   string
	// Components are "name@version"; default: each component of the
	// service's allow-list (or one named after the service) at Version.
	Components []string
	// Backout is the backout plan; risk medium and high need one.
	Backout string
	// Now is the time defaults are computed from; zero means time.Now().
	Now time.Time
}

// Release types and risks.
var (
	ReleaseTypes = []string{"major", "minor", "patch", "emergency"}
	Risks        = []string{"low", "medium", "high"}
)

// NewRelease scaffolds a draft release of opts.Service in reg. It returns the
// path for it, relative to the registry root, and the file's content; it
// writes nothing (see CreateFile). It fails when the release exists or an
// option is not valid for the registry.
func NewRelease(reg *Registry, opts NewReleaseOptions) (string, []byte, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	svc, ok := reg.Services[opts.Service]
	if !ok {
		return "", nil, fmt.Errorf("unknown service %q: describe it in services/%s.yaml first (known: %s)",
			opts.Service, opts.Service, keyList(reg.Services))
	}
	if opts.Type != "" && !slices.Contains(ReleaseTypes, opts.Type) {
		return "", nil, fmt.Errorf("--type %q: want one of %s", opts.Type, strings.Join(ReleaseTypes, ", "))
	}
	if opts.Risk == "" {
		opts.Risk = "low"
	}
	if !slices.Contains(Risks, opts.Risk) {
		return "", nil, fmt.Errorf("--risk %q: want one of %s", opts.Risk, strings.Join(Risks, ", "))
	}
	version, typ, err := releaseVersion(reg, opts)
	if err != nil {
		return "", nil, err
	}
	id := opts.Service + "@" + version
	rel := path.Join(ReleasesDir, opts.Service, version+".yaml")
	if _, exists := reg.Releases[id]; exists {
		return "", nil, fmt.Errorf("release %s already exists in %s: %w", id, rel, fs.ErrExist)
	}
	if svc.Spec.Supported != "" {
		c, err := semver.NewConstraint(svc.Spec.Supported)
		// A pre-release is judged by its core version, as validate does.
		if err == nil && !c.Check(VersionCore(semver.MustParse(version))) {
			return "", nil, fmt.Errorf("version %s is outside the versions service %s supports (%s): choose another version or change spec.supported",
				version, opts.Service, svc.Spec.Supported)
		}
	}

	var todo []string
	spec := ReleaseSpec{Title: opts.Title, Type: typ, Risk: opts.Risk, Owner: opts.Owner, Changes: opts.Changes}
	if spec.Title == "" {
		spec.Title = fmt.Sprintf("%s %s", svc.Spec.Title, version)
		todo = append(todo, "spec.title: say what the release brings")
	}
	if spec.Owner == "" {
		if reg.Approvers == nil || len(reg.Approvers.Spec.Approvers) != 1 {
			return "", nil, fmt.Errorf("--owner is required: the approver id of the requester (one of: %s)", approverList(reg))
		}
		spec.Owner = reg.Approvers.Spec.Approvers[0].ID
	} else if !hasApprover(reg, spec.Owner) {
		return "", nil, fmt.Errorf("--owner %q is not an approver in approvers.yaml (known: %s)", spec.Owner, approverList(reg))
	}
	if err := checkChanges(reg, &spec, &todo); err != nil {
		return "", nil, err
	}
	if spec.Components, err = releaseComponents(svc, version, opts.Components, &todo); err != nil {
		return "", nil, err
	}
	if spec.Deployment, err = releaseDeployment(reg, typ, opts); err != nil {
		return "", nil, err
	}
	if opts.Backout != "" {
		spec.Backout = &Backout{Plan: opts.Backout}
	} else if opts.Risk != "low" {
		spec.Backout = &Backout{Plan: "TODO: how to undo this release"}
		todo = append(todo, "spec.backout.plan: how to undo the release (risk "+opts.Risk+" needs one)")
	}

	doc := Release{
		Header:   Header{APIVersion: APIVersion, Kind: KindRelease},
		Metadata: ReleaseMeta{Service: opts.Service, Version: version},
		Spec:     spec,
		Status:   ReleaseStatus{Phase: PhaseDraft},
	}
	header := fmt.Sprintf("# Release %s %s, a %s release, scaffolded by relreg new release.\n", opts.Service, version, typ)
	if len(todo) > 0 {
		header += "#\n# TODO before planning it, fill in:\n"
		for _, t := range todo {
			header += "#   - " + t + "\n"
		}
	}
	header += "#\n# To plan it, set status.phase to planned and collect the plan approvals\n# (relreg approve) in a merge request.\n"
	data, err := EncodeDocument(header, &doc)
	if err != nil {
		return "", nil, err
	}
	return rel, data, nil
}

// releaseVersion returns the version and type of the new release: the
// given version (with its type inferred when not given), or the next one.
func releaseVersion(reg *Registry, opts NewReleaseOptions) (string, string, error) {
	var prev []*semver.Version
	for _, r := range reg.ReleasesOf(opts.Service) {
		if v, err := ParseVersion(r.Metadata.Version); err == nil {
			prev = append(prev, v)
		}
	}
	slices.SortFunc(prev, func(a, b *semver.Version) int { return a.Compare(b) })
	if opts.Version == "" {
		if opts.Type == "" {
			return "", "", fmt.Errorf("--type is required without a VERSION: relreg bumps the service's highest release by it")
		}
		if len(prev) == 0 {
			return "", "", fmt.Errorf("service %s has no release yet: give the first VERSION, like 1.0.0", opts.Service)
		}
		return NextVersion(prev[len(prev)-1], opts.Type).String(), opts.Type, nil
	}
	v, err := ParseVersion(opts.Version)
	if err != nil {
		return "", "", err
	}
	if opts.Type != "" {
		return v.String(), opts.Type, nil
	}
	// The previous release is the highest lower version, compared on cores.
	var before *semver.Version
	for _, p := range prev {
		if VersionCore(p).LessThan(VersionCore(v)) {
			before = p
		}
	}
	if before == nil {
		return "", "", fmt.Errorf("--type is required: %s is the first release of %s, so no bump says its type", v, opts.Service)
	}
	for _, t := range []string{"major", "minor", "patch"} {
		if NextVersion(before, t).Equal(VersionCore(v)) {
			return v.String(), t, nil
		}
	}
	return "", "", fmt.Errorf("--type is required: %s is not one major, minor or patch bump from %s", v, before)
}

// NextVersion returns the version a release of type typ after prev has:
// major X+1.0.0, minor X.Y+1.0, patch and emergency X.Y.Z+1, computed on
// prev's core (the next minor after 3.0.0-rc.1 is 3.1.0).
func NextVersion(prev *semver.Version, typ string) *semver.Version {
	c := VersionCore(prev)
	switch typ {
	case "major":
		return semver.New(c.Major()+1, 0, 0, "", "")
	case "minor":
		return semver.New(c.Major(), c.Minor()+1, 0, "", "")
	default:
		return semver.New(c.Major(), c.Minor(), c.Patch()+1, "", "")
	}
}

// checkChanges checks the given change ids against the registry's pattern,
// or puts a placeholder that matches the default pattern.
func checkChanges(reg *Registry, spec *ReleaseSpec, todo *[]string) error {
	pattern := DefaultChangePattern
	if reg.Config != nil && reg.Config.Spec.ChangePattern != "" {
		pattern = reg.Config.Spec.ChangePattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("relreg.yaml: changePattern %q: %w", pattern, err)
	}
	for _, c := range spec.Changes {
		if !re.MatchString(c) {
			return fmt.Errorf("--change %q does not match the registry's changePattern %s", c, pattern)
		}
	}
	if len(spec.Changes) > 0 {
		return nil
	}
	if !re.MatchString("CHG-0") {
		return fmt.Errorf("--change is required: the change record of the release, matching %s", pattern)
	}
	spec.Changes = []string{"CHG-0"}
	*todo = append(*todo, "spec.changes: the change records of the release (CHG-0 is a placeholder)")
	return nil
}

func releaseComponents(svc *Service, version string, given []string, todo *[]string) ([]ComponentRef, error) {
	var out []ComponentRef
	for _, g := range given {
		name, ver, ok := strings.Cut(g, "@")
		if !ok || !ValidName(name) {
			return nil, fmt.Errorf("--component %q is not name@version, like payments-api@2.4.0", g)
		}
		if _, err := ParseVersion(ver); err != nil {
			return nil, fmt.Errorf("--component %q: %w", g, err)
		}
		if len(svc.Spec.Components) > 0 && !slices.Contains(svc.Spec.Components, name) {
			return nil, fmt.Errorf("--component %q: %s is not in the components of service %s (%s)",
				g, name, svc.Metadata.Name, strings.Join(svc.Spec.Components, ", "))
		}
		out = append(out, ComponentRef{Name: name, Version: ver})
	}
	if len(out) > 0 {
		return out, nil
	}
	names := svc.Spec.Components
	if len(names) == 0 {
		names = []string{svc.Metadata.Name}
	}
	for _, n := range names {
		out = append(out, ComponentRef{Name: n, Version: version})
	}
	*todo = append(*todo, "spec.components: the DML component versions the release ships")
	return out, nil
}

func releaseDeployment(reg *Registry, typ string, opts NewReleaseOptions) (Deployment, error) {
	name := opts.Schedule
	if name == "" {
		switch _, prod := reg.Schedules["production"]; {
		case len(reg.Schedules) == 1:
			for n := range reg.Schedules {
				name = n
			}
		case prod:
			name = "production"
		default:
			return Deployment{}, fmt.Errorf("--schedule is required (known: %s)", keyList(reg.Schedules))
		}
	}
	sched, ok := reg.Schedules[name]
	if !ok {
		return Deployment{}, fmt.Errorf("unknown schedule %q (known: %s)", name, keyList(reg.Schedules))
	}
	d := Deployment{Schedule: name, Rollout: "big-bang", Delivery: "push", Execution: "automated"}
	if sched.Spec.Environment != "" {
		d.Environments = []string{sched.Spec.Environment}
	}
	switch {
	case opts.WindowStart != "" && opts.WindowEnd != "":
		iv, err := ParseInterval(opts.WindowStart, opts.WindowEnd)
		if err != nil {
			return Deployment{}, fmt.Errorf("--window-start/--window-end: %w", err)
		}
		if iv.Empty() {
			return Deployment{}, fmt.Errorf("--window-start %s is not before --window-end %s", opts.WindowStart, opts.WindowEnd)
		}
		d.Window = Window{Start: iv.Start.UTC().Format(time.RFC3339), End: iv.End.UTC().Format(time.RFC3339)}
	case opts.WindowStart != "" || opts.WindowEnd != "":
		return Deployment{}, fmt.Errorf("give both --window-start and --window-end, or neither for the schedule's next window")
	default:
		// The schedule's next window that the release could keep when it
		// is planned: not overlapping another open release of the service,
		// nor a slot the schedule's other active releases already fill.
		from := opts.Now.Add(24 * time.Hour)
		var iv Interval
		for range 500 {
			next, err := NextWindow(sched, typ, from)
			if err != nil {
				return Deployment{}, err
			}
			iv = next
			if !occupied(reg, opts.Service, name, max(1, sched.Spec.MaxConcurrent), iv) {
				break
			}
			from = iv.End
		}
		d.Window = Window{Start: iv.Start.UTC().Format(time.RFC3339), End: iv.End.UTC().Format(time.RFC3339)}
	}
	return d, nil
}

// occupied reports whether a window is taken: another release of the
// service that is not yet deployed overlaps it, or as many active releases
// of the schedule as it allows at a time.
func occupied(reg *Registry, service, schedule string, limit int, iv Interval) bool {
	busy := 0
	for id, r := range reg.Releases {
		w, err := r.Interval()
		if err != nil || !w.Overlaps(iv) {
			continue
		}
		phase := r.Status.Phase
		if strings.HasPrefix(id, service+"@") && (phase == PhaseDraft || Active(phase)) {
			return true
		}
		if r.Spec.Deployment.Schedule == schedule && Active(phase) {
			busy++
		}
	}
	return busy >= limit
}

// NextWindow returns the first window of s that starts at or after from and
// overlaps no freeze that applies to a release of type typ.
func NextWindow(s *Schedule, typ string, from time.Time) (Interval, error) {
	loc, err := LoadTimezone(s.Spec.Timezone)
	if err != nil {
		return Interval{}, fmt.Errorf("schedule %s: %w", s.Metadata.Name, err)
	}
	var freezes []Interval
	for _, f := range s.Spec.Freezes {
		if slices.Contains(f.Allow, typ) {
			continue
		}
		if iv, err := ParseInterval(f.Start, f.End); err == nil {
			freezes = append(freezes, iv)
		}
	}
	frozen := func(iv Interval) bool {
		return slices.ContainsFunc(freezes, iv.Overlaps)
	}
	var best *Interval
	consider := func(iv Interval) {
		if iv.Start.Before(from) || iv.Empty() || frozen(iv) {
			return
		}
		if best == nil || iv.Start.Before(best.Start) {
			best = &iv
		}
	}
	horizon := from.AddDate(2, 0, 0)
	if len(s.Spec.Windows) == 0 {
		// A schedule without windows allows any time: the first hour from
		// from that no freeze blocks.
		iv := Interval{Start: from, End: from.Add(time.Hour)}
		for iv.Start.Before(horizon) && frozen(iv) {
			for _, f := range freezes {
				if iv.Overlaps(f) && f.End.After(iv.Start) {
					iv = Interval{Start: f.End, End: f.End.Add(time.Hour)}
				}
			}
		}
		consider(iv)
	}
	for _, w := range s.Spec.Windows {
		if w.Weekly == nil {
			if iv, err := ParseInterval(w.Start, w.End); err == nil {
				consider(iv)
			}
			continue
		}
		r, err := ParseRecurrence(*w.Weekly, loc)
		if err != nil {
			continue
		}
		for t := from; t.Before(horizon); {
			iv, ok := r.Next(t)
			if !ok {
				break
			}
			if !iv.Start.Before(from) && !frozen(iv) {
				consider(iv)
				break
			}
			t = iv.End
		}
	}
	if best == nil {
		return Interval{}, fmt.Errorf("schedule %s has no window after %s outside its freezes: give --window-start and --window-end",
			s.Metadata.Name, from.UTC().Format(time.RFC3339))
	}
	return *best, nil
}

func hasApprover(reg *Registry, id string) bool {
	if reg.Approvers == nil {
		return false
	}
	return slices.ContainsFunc(reg.Approvers.Spec.Approvers, func(a Approver) bool { return a.ID == id })
}

func approverList(reg *Registry) string {
	if reg.Approvers == nil || len(reg.Approvers.Spec.Approvers) == 0 {
		return "none"
	}
	var ids []string
	for _, a := range reg.Approvers.Spec.Approvers {
		ids = append(ids, a.ID)
	}
	return strings.Join(ids, ", ")
}

func keyList[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// marshalDoc writes v as YAML with header, a block of comment lines, in front.
// v goes through encoding/json, so the model's json tags name and omit the
// fields exactly as they do when reading; the JSON is then re-encoded as
// block-style YAML, which keeps the struct's field order (apiVersion, kind,
// metadata, spec, status) and never wraps long lines such as SSH keys.
func EncodeDocument(header string, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	plainStyle(&n)
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// plainStyle clears the JSON styles (flow collections, double-quoted
// strings) so the encoder writes block YAML and quotes a string only when
// it would otherwise read as something else ("2.10", "true", "null").
func plainStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}
