package registry

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// PayloadType is the "type" of every signed approval payload.
const PayloadType = "relreg/approval/v1"

// Approval steps.
const (
	StepPlan     = "plan"
	StepBuild    = "build"
	StepAccept   = "accept"
	StepDeploy   = "deploy"
	StepVerify   = "verify"
	StepSchedule = "schedule"
	StepGovern   = "govern"
)

// ErrUnknownSubject is returned when a SUBJECT argument names no document.
var ErrUnknownSubject = errors.New("unknown subject")

// Payload returns the exact bytes an approval signs: the RFC 8785 canonical
// JSON of the approval's fields, the registry's name and the subject, with
// no trailing newline. A signature over it never verifies for another
// registry, subject, step, role, approver, time or digest.
func Payload(registryName, subject string, a Approval) []byte {
	key := payloadKey{registryName, subject, a.Step, a.Role, a.By, a.At, a.Digest}
	payloads.mu.Lock()
	b, ok := payloads.m[key]
	payloads.mu.Unlock()
	if !ok {
		b = payload(registryName, subject, a)
		payloads.mu.Lock()
		if payloads.m == nil || len(payloads.m) >= 1<<14 {
			payloads.m = map[payloadKey][]byte{}
		}
		payloads.m[key] = b
		payloads.mu.Unlock()
	}
	return bytes.Clone(b)
}

// payloads remembers payloads: an audit checks each approval at many
// commits, and canonical JSON is slow to make.
var payloads struct {
	mu sync.Mutex
	m  map[payloadKey][]byte
}

type payloadKey struct{ registry, subject, step, role, by, at, digest string }

func payload(registryName, subject string, a Approval) []byte {
	v := map[string]any{
		"type":     PayloadType,
		"registry": registryName,
		"subject":  subject,
		"step":     a.Step,
		"role":     a.Role,
		"by":       a.By,
		"at":       a.At,
		"digest":   a.Digest,
	}
	b, err := Canonical(v)
	if err != nil {
		// Strings always encode; this cannot happen.
		panic("relreg: canonical payload: " + err.Error())
	}
	return b
}

// ParseSubject splits a subject string (contract section 4) into the kind of
// document it names and its identity ("service@version", a name, or
// "registry"/"approvers"). ok is false when s is not a subject string.
func ParseSubject(s string) (kind, id string, ok bool) {
	switch s {
	case "registry":
		return KindRegistry, "registry", true
	case "approvers":
		return KindApprovers, "approvers", true
	}
	prefix, rest, found := strings.Cut(s, "/")
	if !found || rest == "" || strings.Contains(rest, "/") {
		return "", "", false
	}
	versioned := strings.Count(rest, "@") == 1 && !strings.HasPrefix(rest, "@") && !strings.HasSuffix(rest, "@")
	switch {
	case prefix == "release" && versioned:
		return KindRelease, rest, true
	case prefix == "dml" && versioned:
		return KindDMLEntry, rest, true
	case prefix == "schedule" && !strings.Contains(rest, "@"):
		return KindSchedule, rest, true
	case prefix == "service" && !strings.Contains(rest, "@"):
		return KindService, rest, true
	}
	return "", "", false
}

// SubjectPath returns the registry path a SUBJECT argument names, as the
// command line accepts it: a file path relative to the registry
// ("releases/payments/2.4.0.yaml"), "service@version" for a release, or a
// subject string ("release/payments@2.4.0", "dml/payments-api@2.4.0",
// "schedule/production", "service/payments", "registry", "approvers"). It
// reads no registry, so it also names documents that no longer exist.
func SubjectPath(arg string) (string, error) {
	if arg == "" {
		return "", fmt.Errorf("%w: the subject is empty: name a file, service@version or a subject string", ErrUnknownSubject)
	}
	if strings.HasSuffix(arg, ".yaml") {
		p := path.Clean(strings.TrimPrefix(strings.ReplaceAll(arg, "\\", "/"), "./"))
		if _, _, ok := PathKind(p); !ok {
			return "", fmt.Errorf("%w: %s is not a registry file path (paths are relative to the registry folder)", ErrUnknownSubject, arg)
		}
		return p, nil
	}
	kind, id, ok := ParseSubject(arg)
	if !ok && strings.Count(arg, "@") == 1 && !strings.Contains(arg, "/") {
		kind, id, ok = KindRelease, arg, true
	}
	if !ok {
		return "", fmt.Errorf("%w %q: name a file (releases/payments/2.4.0.yaml), a release (payments@2.4.0) or a subject (release/payments@2.4.0, dml/payments-api@2.4.0, schedule/production, registry, approvers)", ErrUnknownSubject, arg)
	}
	name, version, _ := strings.Cut(id, "@")
	switch kind {
	case KindRegistry:
		return ConfigFile, nil
	case KindApprovers:
		return ApproversFile, nil
	case KindService:
		return ServicesDir + "/" + id + ".yaml", nil
	case KindSchedule:
		return SchedulesDir + "/" + id + ".yaml", nil
	case KindRelease:
		return ReleasesDir + "/" + name + "/" + version + ".yaml", nil
	}
	return DMLDir + "/" + name + "/" + version + ".yaml", nil
}

// ResolveSubject finds the document a SUBJECT argument (see SubjectPath)
// names in a registry.
func ResolveSubject(reg *Registry, arg string) (*Document, error) {
	p, err := SubjectPath(arg)
	if err != nil {
		return nil, err
	}
	d := reg.Doc(p)
	if d == nil {
		// A path the layout refused (a symbolic link, a submodule, or
		// one in a folder that is) says why it is not a document.
		for _, diag := range reg.Diagnostics {
			if diag.Rule == "layout/path" && (diag.File == p || strings.HasPrefix(p, diag.File+"/")) {
				return nil, fmt.Errorf("%w %q: %s", ErrUnknownSubject, arg, diag.Message)
			}
		}
		return nil, fmt.Errorf("%w %q: the registry has no %s", ErrUnknownSubject, arg, p)
	}
	return parsedDoc(d)
}

func parsedDoc(d *Document) (*Document, error) {
	if d.Node == nil {
		return nil, fmt.Errorf("%s could not be parsed: run 'relreg validate' and fix it first", d.Path)
	}
	return d, nil
}

// Approvals returns the approval entries of a document as written, read
// from its JSON value so that every kind is handled alike. A field of the
// wrong type is left empty (the schema reports it).
func (d *Document) Approvals() []Approval {
	if d == nil || d.Node == nil {
		return nil
	}
	m, _ := d.Node.Value.(map[string]any)
	list, _ := m["approvals"].([]any)
	out := make([]Approval, len(list))
	for i, e := range list {
		em, _ := e.(map[string]any)
		str := func(k string) string { s, _ := em[k].(string); return s }
		out[i] = Approval{Step: str("step"), By: str("by"), Role: str("role"), At: str("at"), Digest: str("digest"), Signature: str("signature")}
	}
	return out
}

// StepsFor returns the approval steps that apply to documents of kind.
func StepsFor(kind string) []string {
	switch kind {
	case KindRelease:
		return []string{StepPlan, StepBuild, StepAccept, StepDeploy}
	case KindDMLEntry:
		return []string{StepVerify}
	case KindSchedule:
		return []string{StepSchedule}
	case KindRegistry, KindApprovers:
		return []string{StepGovern}
	}
	return nil
}

// NewApproval returns the unsigned approval of doc's current digest for
// step by approver `by` in role at time at, and the payload to sign. It
// refuses a step that does not apply to the document's kind.
func NewApproval(reg *Registry, doc *Document, step, by, role, at string) (Approval, []byte, error) {
	if reg.Config == nil {
		return Approval{}, nil, errors.New("relreg.yaml could not be read, so the registry has no name to sign: run 'relreg validate'")
	}
	steps := StepsFor(doc.Kind)
	if !slices.Contains(steps, step) {
		return Approval{}, nil, fmt.Errorf("step %q does not apply to %s: use one of %s", step, doc.Subject(), strings.Join(steps, ", "))
	}
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		return Approval{}, nil, fmt.Errorf("at %q is not an RFC 3339 time such as 2026-11-20T10:00:00Z", at)
	}
	digest, err := doc.Digest()
	if err != nil {
		return Approval{}, nil, err
	}
	a := Approval{Step: step, By: by, Role: role, At: at, Digest: digest}
	return a, Payload(reg.Config.Metadata.Name, doc.Subject(), a), nil
}

// RefusedError is returned by AddApproval for an approval that does not
// hold; Problems say why.
type RefusedError struct {
	Problems []Problem
}

func (e *RefusedError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return "approval refused: " + strings.Join(msgs, "; ")
}

// AddApproval checks the signed approval a of doc as the static rules do
// and, when it holds, appends it to the file under the registry folder dir,
// in place and atomically, keeping every other byte of the file. The file
// is read again under the write lock of its folder (UpdateFile) and the
// entry appended to what it holds then, so approvals that others added
// since the registry was loaded are kept; when the document's spec changed
// since (its digest is not the one signed), nothing is written
// (StaleError). A symbolic link on the way is refused (SymlinkError).
func AddApproval(reg *Registry, dir string, doc *Document, a Approval) error {
	if reg.Config == nil {
		return errors.New("relreg.yaml could not be read: run 'relreg validate'")
	}
	// The file holds the armor as a | block scalar, which ends in one newline.
	a.Signature = strings.TrimRight(a.Signature, "\n") + "\n"
	kr := reg.Approvers.Keyring()
	if ps := kr.Check(reg.Config.Metadata.Name, doc.Subject(), a); len(ps) > 0 {
		return &RefusedError{Problems: ps}
	}
	return UpdateFile(dir, doc.Path, func(data []byte) ([]byte, error) {
		now := &Document{Path: doc.Path, Kind: doc.Kind, ID: doc.ID}
		n, diags := ParseYAML(data, DefaultLimits)
		if len(diags) > 0 {
			return nil, fmt.Errorf("%s: the file is not valid YAML (line %d: %s): fix it first", doc.Path, diags[0].Line, diags[0].Message)
		}
		now.Node = n
		digest, err := now.Digest()
		if err != nil {
			return nil, err
		}
		if digest != a.Digest {
			return nil, &StaleError{Path: doc.Path, Signed: a.Digest, Now: digest}
		}
		out, err := AppendApproval(data, a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doc.Path, err)
		}
		return out, nil
	})
}

// StaleError is returned by AddApproval when the document's spec changed
// between reading it to sign and writing the approval.
type StaleError struct {
	Path        string
	Signed, Now string // the digest signed and the digest of the file now
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s changed while the approval was made: its digest is now %s, not the %s that was signed; nothing was written: review the change and run relreg approve again",
		e.Path, e.Now, e.Signed)
}
