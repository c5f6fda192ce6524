package registry

import (
	"encoding/json"
	"sync"
)

// The typed model of the six kinds. Field names and json tags follow the
// contract; the same tags serve reading (from the JSON value of a parsed
// document) and writing (scaffolding encodes through them, then re-emits the
// JSON as block-style YAML with yaml.v3 in field order). Reading is
// lenient: a field of the wrong type is left zero and reported by the schema.

// APIVersion is the apiVersion of every relreg document.
const APIVersion = "relreg/v1"

// Kinds of documents.
const (
	KindRegistry  = "Registry"
	KindApprovers = "Approvers"
	KindService   = "Service"
	KindRelease   = "Release"
	KindSchedule  = "Schedule"
	KindDMLEntry  = "DMLEntry"
)

// Kinds lists every kind, in layout order.
var Kinds = []string{KindRegistry, KindApprovers, KindService, KindRelease, KindSchedule, KindDMLEntry}

// Header is what every document has besides metadata, spec and status.
type Header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// NameMeta is the metadata of Registry, Approvers, Service and Schedule.
type NameMeta struct {
	Name string `json:"name"`
}

// Approval is one signed approval entry (contract section 4).
type Approval struct {
	Step      string `json:"step"`
	By        string `json:"by"`
	Role      string `json:"role"`
	At        string `json:"at"`
	Digest    string `json:"digest"`
	Signature string `json:"signature"`
}

// Requirement asks for Count approvals by holders of Role.
type Requirement struct {
	Role  string `json:"role"`
	Count int    `json:"count"`
}

// RiskRequirements are the requirements of a release step, keyed by risk.
type RiskRequirements struct {
	Low    []Requirement `json:"low,omitempty"`
	Medium []Requirement `json:"medium,omitempty"`
	High   []Requirement `json:"high,omitempty"`
}

// For returns the requirements for a risk level.
func (r *RiskRequirements) For(risk string) []Requirement {
	if r == nil {
		return nil
	}
	switch risk {
	case "low":
		return r.Low
	case "medium":
		return r.Medium
	case "high":
		return r.High
	}
	return nil
}

// ApprovalPolicy maps each step to its requirements.
type ApprovalPolicy struct {
	Plan     *RiskRequirements `json:"plan,omitempty"`
	Build    *RiskRequirements `json:"build,omitempty"`
	Accept   *RiskRequirements `json:"accept,omitempty"`
	Deploy   *RiskRequirements `json:"deploy,omitempty"`
	Verify   []Requirement     `json:"verify,omitempty"`
	Schedule []Requirement     `json:"schedule,omitempty"`
	Govern   []Requirement     `json:"govern,omitempty"`
}

// RegistrySpec is the spec of relreg.yaml.
type RegistrySpec struct {
	ChangePattern   string         `json:"changePattern,omitempty"`
	IncidentPattern string         `json:"incidentPattern,omitempty"`
	Approvals       ApprovalPolicy `json:"approvals,omitempty"`
}

// Default id patterns.
const (
	DefaultChangePattern   = "^CHG-[0-9]+$"
	DefaultIncidentPattern = "^INC-[0-9]+$"
)

// RegistryConfig is the document relreg.yaml.
type RegistryConfig struct {
	Doc *Document `json:"-"`
	Header
	Metadata  NameMeta     `json:"metadata"`
	Spec      RegistrySpec `json:"spec"`
	Approvals []Approval   `json:"approvals,omitempty"`
}

// Key is one public key of an approver.
type Key struct {
	Key         string `json:"key"`
	ValidAfter  string `json:"validAfter,omitempty"`
	ValidBefore string `json:"validBefore,omitempty"`
	Revoked     bool   `json:"revoked,omitempty"`
}

// Approver is a person who may sign approvals.
type Approver struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Email string   `json:"email,omitempty"`
	Roles []string `json:"roles"`
	Keys  []Key    `json:"keys"`
}

// HasRole reports whether a holds role.
func (a *Approver) HasRole(role string) bool {
	for _, r := range a.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// ApproversSpec is the spec of approvers.yaml.
type ApproversSpec struct {
	Approvers []Approver `json:"approvers"`
}

// ApproversDoc is the document approvers.yaml.
type ApproversDoc struct {
	Doc *Document `json:"-"`
	Header
	Metadata  NameMeta      `json:"metadata"`
	Spec      ApproversSpec `json:"spec"`
	Approvals []Approval    `json:"approvals,omitempty"`

	keyring *keyringMemo // set for loaded documents, which never change
}

type keyringMemo struct {
	once sync.Once
	kr   *Keyring
}

// Keyring returns the keyring of the approvers: NewKeyring(d), built once
// for a loaded document. It is shared: do not change it.
func (d *ApproversDoc) Keyring() *Keyring {
	if d == nil || d.keyring == nil {
		return NewKeyring(d)
	}
	d.keyring.once.Do(func() { d.keyring.kr = NewKeyring(d) })
	return d.keyring.kr
}

// ApproversOf returns approvers.yaml as parsed into n, decoded strictly:
// nil when n is nil or a field has the wrong type, so that a damaged
// approvers.yaml read out of history trusts nobody. A registry that is
// loaded decodes leniently and reports such fields as schema errors.
func ApproversOf(n *Node) *ApproversDoc {
	if n == nil {
		return nil
	}
	data, err := json.Marshal(n.Value)
	if err != nil {
		return nil
	}
	doc := &ApproversDoc{keyring: &keyringMemo{}}
	if json.Unmarshal(data, doc) != nil {
		return nil
	}
	doc.Doc = &Document{Path: ApproversFile, Kind: KindApprovers, ID: "approvers", Node: n}
	return doc
}

// ServiceSpec is the spec of a Service.
type ServiceSpec struct {
	Title      string   `json:"title"`
	Owner      string   `json:"owner"`
	Supported  string   `json:"supported,omitempty"`
	Components []string `json:"components,omitempty"`
}

// Service is a services/<service>.yaml document.
type Service struct {
	Doc *Document `json:"-"`
	Header
	Metadata  NameMeta    `json:"metadata"`
	Spec      ServiceSpec `json:"spec"`
	Approvals []Approval  `json:"approvals,omitempty"`
}

// ReleaseMeta identifies a release.
type ReleaseMeta struct {
	Service string `json:"service"`
	Version string `json:"version"`
}

// ComponentRef names a DML entry.
type ComponentRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Window is a half-open time interval [Start, End).
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Deployment says where, when and how a release is deployed.
type Deployment struct {
	Schedule     string   `json:"schedule"`
	Window       Window   `json:"window"`
	Rollout      string   `json:"rollout,omitempty"`
	Delivery     string   `json:"delivery,omitempty"`
	Execution    string   `json:"execution,omitempty"`
	Environments []string `json:"environments,omitempty"`
}

// Link is a titled URL.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Backout is the plan to undo a release.
type Backout struct {
	Plan string `json:"plan,omitempty"`
}

// ReleaseSpec is the plan of a release; approvals sign its digest.
type ReleaseSpec struct {
	Title         string         `json:"title"`
	Description   string         `json:"description,omitempty"`
	Type          string         `json:"type"`
	Risk          string         `json:"risk"`
	Owner         string         `json:"owner"`
	Changes       []string       `json:"changes"`
	Components    []ComponentRef `json:"components,omitempty"`
	DependsOn     []string       `json:"dependsOn,omitempty"`
	Deployment    Deployment     `json:"deployment"`
	Backout       *Backout       `json:"backout,omitempty"`
	Documentation []Link         `json:"documentation,omitempty"`
	Training      []Link         `json:"training,omitempty"`
}

// TestResult is one test run recorded on a release.
type TestResult struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	URL    string `json:"url,omitempty"`
	At     string `json:"at,omitempty"`
}

// Verification records the post-deployment check.
type Verification struct {
	Result string `json:"result"`
	At     string `json:"at,omitempty"`
	Notes  string `json:"notes,omitempty"`
}

// BackoutStatus records an executed backout.
type BackoutStatus struct {
	ExecutedAt string `json:"executedAt"`
	Notes      string `json:"notes,omitempty"`
}

// Cancellation records why a release was cancelled.
type Cancellation struct {
	Reason string `json:"reason"`
}

// Review is the post-implementation review.
type Review struct {
	Outcome            string   `json:"outcome"`
	CompletedAsPlanned *bool    `json:"completedAsPlanned,omitempty"`
	Incidents          []string `json:"incidents,omitempty"`
	Satisfaction       int      `json:"satisfaction,omitempty"`
	At                 string   `json:"at,omitempty"`
	Notes              string   `json:"notes,omitempty"`
}

// ReleaseStatus is where a release is; it is not signed.
type ReleaseStatus struct {
	Phase        string         `json:"phase"`
	Tests        []TestResult   `json:"tests,omitempty"`
	Verification *Verification  `json:"verification,omitempty"`
	Backout      *BackoutStatus `json:"backout,omitempty"`
	Cancellation *Cancellation  `json:"cancellation,omitempty"`
	Review       *Review        `json:"review,omitempty"`
}

// Release is a releases/<service>/<version>.yaml document.
type Release struct {
	Doc *Document `json:"-"`
	// window caches the parsed deployment window: a release is shared by
	// every registry an audit advances through, and asked for it often.
	window struct {
		once sync.Once
		iv   Interval
		err  error
	}
	Header
	Metadata  ReleaseMeta   `json:"metadata"`
	Spec      ReleaseSpec   `json:"spec"`
	Status    ReleaseStatus `json:"status"`
	Approvals []Approval    `json:"approvals,omitempty"`
}

// Weekly is a window repeating every week, in the schedule's timezone.
type Weekly struct {
	Days     []string `json:"days"`
	Start    string   `json:"start"`
	Duration string   `json:"duration"`
}

// ScheduleWindow is a deployment window: weekly, or fixed with Start and End.
type ScheduleWindow struct {
	Name   string  `json:"name"`
	Weekly *Weekly `json:"weekly,omitempty"`
	Start  string  `json:"start,omitempty"`
	End    string  `json:"end,omitempty"`
}

// Freeze is a period in which releases may not be deployed.
type Freeze struct {
	Name  string   `json:"name"`
	Start string   `json:"start"`
	End   string   `json:"end"`
	Allow []string `json:"allow,omitempty"`
}

// ScheduleSpec is the spec of a Schedule.
type ScheduleSpec struct {
	Environment   string           `json:"environment"`
	Timezone      string           `json:"timezone,omitempty"`
	MaxConcurrent int              `json:"maxConcurrent,omitempty"`
	AgreedWith    []string         `json:"agreedWith,omitempty"`
	Windows       []ScheduleWindow `json:"windows,omitempty"`
	Freezes       []Freeze         `json:"freezes,omitempty"`
}

// Schedule is a schedules/<schedule>.yaml document.
type Schedule struct {
	Doc *Document `json:"-"`
	Header
	Metadata  NameMeta     `json:"metadata"`
	Spec      ScheduleSpec `json:"spec"`
	Approvals []Approval   `json:"approvals,omitempty"`
}

// DMLMeta identifies a DML entry.
type DMLMeta struct {
	Component string `json:"component"`
	Version   string `json:"version"`
}

// Artifact is one file of a DML entry.
type Artifact struct {
	Name   string `json:"name"`
	URI    string `json:"uri,omitempty"`
	Digest string `json:"digest"`
	Size   int64  `json:"size,omitempty"`
}

// Source is where a DML entry was built from.
type Source struct {
	Repository string `json:"repository"`
	Revision   string `json:"revision"`
}

// DMLSpec is the spec of a DML entry.
type DMLSpec struct {
	Artifacts []Artifact `json:"artifacts"`
	Source    *Source    `json:"source,omitempty"`
}

// DMLStatus is the state of a DML entry.
type DMLStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// DMLEntry is a dml/<component>/<version>.yaml document.
type DMLEntry struct {
	Doc *Document `json:"-"`
	Header
	Metadata  DMLMeta    `json:"metadata"`
	Spec      DMLSpec    `json:"spec"`
	Status    DMLStatus  `json:"status"`
	Approvals []Approval `json:"approvals,omitempty"`
}

// Release phases.
const (
	PhaseDraft      = "draft"
	PhasePlanned    = "planned"
	PhaseBuilding   = "building"
	PhaseTesting    = "testing"
	PhaseAccepted   = "accepted"
	PhaseDeploying  = "deploying"
	PhaseDeployed   = "deployed"
	PhaseRolledBack = "rolled-back"
	PhaseClosed     = "closed"
	PhaseCancelled  = "cancelled"
	PhaseRetired    = "retired"
)

// Phases lists the release phases in lifecycle order.
var Phases = []string{PhaseDraft, PhasePlanned, PhaseBuilding, PhaseTesting, PhaseAccepted,
	PhaseDeploying, PhaseDeployed, PhaseRolledBack, PhaseClosed, PhaseCancelled, PhaseRetired}

// PhaseRank orders phases along the lifecycle; cancelled ranks with draft
// because a cancelled release never reached the later phases.
func PhaseRank(phase string) int {
	switch phase {
	case PhaseDraft, PhaseCancelled:
		return 0
	case PhasePlanned:
		return 1
	case PhaseBuilding:
		return 2
	case PhaseTesting:
		return 3
	case PhaseAccepted:
		return 4
	case PhaseDeploying:
		return 5
	case PhaseDeployed, PhaseRolledBack:
		return 6
	case PhaseClosed:
		return 7
	case PhaseRetired:
		return 8
	}
	return -1
}

// Active reports whether a release in phase occupies its deployment window
// (planned … deploying).
func Active(phase string) bool {
	switch phase {
	case PhasePlanned, PhaseBuilding, PhaseTesting, PhaseAccepted, PhaseDeploying:
		return true
	}
	return false
}

// DML entry states.
const (
	StateCandidate = "candidate"
	StateVerified  = "verified"
	StateWithdrawn = "withdrawn"
)

// Interval returns the release's deployment window, parsed once.
func (r *Release) Interval() (Interval, error) {
	r.window.once.Do(func() {
		w := r.Spec.Deployment.Window
		r.window.iv, r.window.err = ParseInterval(w.Start, w.End)
	})
	return r.window.iv, r.window.err
}
