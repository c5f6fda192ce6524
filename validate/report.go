package validate

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// Release management KPIs computed from a Timeline. Every definition is
// written down in AUDIT-LOG-REPORT.md; the short form is on each field.

// Durations summarizes a set of elapsed times, in seconds. Median is the
// middle value (the mean of the two middle values for an even count); P90 is
// the nearest-rank 90th percentile: the ceil(0.9·n)-th smallest value. Both
// are 0 when Count is 0.
type Durations struct {
	Count  int     `json:"count"`
	Median float64 `json:"medianSeconds"`
	P90    float64 `json:"p90Seconds"`
}

// PhaseDurations is the time releases spent in one phase.
type PhaseDurations struct {
	Phase string `json:"phase"`
	Durations
}

// TransitionDurations is the time from first entering one phase to first
// entering another.
type TransitionDurations struct {
	From string `json:"from"`
	To   string `json:"to"`
	Durations
}

// StepDurations is the approval latency of one step.
type StepDurations struct {
	Step string `json:"step"`
	Durations
}

// Satisfaction is the mean of review satisfaction scores (1..5).
type Satisfaction struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
}

// KPIs are the release management indicators of a set of releases.
type KPIs struct {
	Releases int `json:"releases"` // releases created in the period
	// Completed: entered deployed and never rolled back.
	Completed int `json:"completed"`
	// CompletedAsPlanned: completed, review completedAsPlanned is true, not
	// rescheduled and not delayed.
	CompletedAsPlanned int `json:"completedAsPlannedAndScheduled"`
	// Rescheduled: spec.deployment.window changed in a commit whose base had
	// the release at planned or later (not cancelled).
	Rescheduled int `json:"rescheduled"`
	// Delayed: deployed (entered deploying, or deployed directly) at a
	// committer time at or after the end of the first approved window, the
	// window the release had when it entered planned.
	Delayed int `json:"delayed"`
	// NeedingRevision: moved from testing back to building, or rolled back.
	NeedingRevision int `json:"needingRevision"`
	Cancelled       int `json:"cancelled"` // at cancelled now
	Emergency       int `json:"emergency"` // spec.type emergency
	// EmergencyShare is Emergency / Releases, rounded to 4 decimals.
	EmergencyShare float64 `json:"emergencyShare"`
	Reviewed       int     `json:"reviewed"`  // with status.review
	Incidents      int     `json:"incidents"` // status.review.incidents of reviewed releases
	// IncidentsPerRelease is Incidents / Reviewed, rounded to 4 decimals.
	IncidentsPerRelease float64               `json:"incidentsPerReviewedRelease"`
	Satisfaction        Satisfaction          `json:"satisfaction"`
	Phases              []PhaseDurations      `json:"phases"`
	Transitions         []TransitionDurations `json:"transitions"`
	ApprovalLatency     []StepDurations       `json:"approvalLatency"`
}

// ServiceKPIs are the KPIs of one service's releases.
type ServiceKPIs struct {
	Service string `json:"service"`
	KPIs
}

// KPIReport is the result of Report.
type KPIReport struct {
	Ref      string        `json:"ref"`
	Since    string        `json:"since,omitempty"` // RFC 3339, when the report is limited
	Commits  int           `json:"commits"`
	Services []ServiceKPIs `json:"services"` // sorted by service
	All      KPIs          `json:"all"`
}

// ReportOptions limit a report.
type ReportOptions struct {
	// Since, when set, keeps only releases (and DML entries, for verify
	// latency) created at or after it, by the committer time of the commit
	// that added the file.
	Since time.Time
}

// ReportPhases are the phases whose elapsed time a report gives, in order.
var ReportPhases = []string{registry.PhaseDraft, registry.PhasePlanned, registry.PhaseBuilding, registry.PhaseTesting,
	registry.PhaseAccepted, registry.PhaseDeploying, registry.PhaseDeployed, registry.PhaseRolledBack}

// ReportTransitions are the (from, to) pairs whose elapsed time a report
// gives: each step of the main path, and planned -> deployed, the lead time.
var ReportTransitions = [][2]string{
	{registry.PhaseDraft, registry.PhasePlanned},
	{registry.PhasePlanned, registry.PhaseBuilding},
	{registry.PhaseBuilding, registry.PhaseTesting},
	{registry.PhaseTesting, registry.PhaseAccepted},
	{registry.PhaseAccepted, registry.PhaseDeploying},
	{registry.PhaseDeploying, registry.PhaseDeployed},
	{registry.PhaseDeployed, registry.PhaseClosed},
	{registry.PhasePlanned, registry.PhaseDeployed},
}

// ReportSteps are the approval steps whose latency a report gives, and
// the phase (DML: state) in which each is awaited.
var ReportSteps = []struct{ Step, Awaited string }{
	{registry.StepPlan, registry.PhaseDraft},
	{registry.StepBuild, registry.PhasePlanned},
	{registry.StepAccept, registry.PhaseTesting},
	{registry.StepDeploy, registry.PhaseAccepted},
	{registry.StepVerify, registry.StateCandidate},
}

// samples are the raw values behind one scope's KPIs.
type samples struct {
	k           KPIs
	satSum      int
	phases      map[string][]float64
	transitions map[[2]string][]float64
	latency     map[string][]float64
}

func newSamples() *samples {
	return &samples{phases: map[string][]float64{}, transitions: map[[2]string][]float64{}, latency: map[string][]float64{}}
}

// phaseEntry is a phase entered at a commit, in history order (committer
// times may go backwards; negative spans count as 0).
type phaseEntry struct {
	phase string
	at    time.Time
}

// subjectFacts are what a report needs from one subject's history.
type subjectFacts struct {
	created     time.Time
	hasCreated  bool
	entries     []phaseEntry
	rescheduled bool
	revision    bool
	firstWindow *registry.Window
	deployAt    time.Time
	latency     map[string][]float64
}

// facts reads a release's or DML entry's events.
func facts(h *SubjectHistory) *subjectFacts {
	f := &subjectFacts{latency: map[string][]float64{}}
	enter := func(p string, e Event) {
		if n := len(f.entries); n > 0 && f.entries[n-1].phase == registry.PhaseTesting && p == registry.PhaseBuilding {
			f.revision = true
		}
		switch p {
		case registry.PhaseRolledBack:
			f.revision = true
		case registry.PhasePlanned:
			if f.firstWindow == nil {
				f.firstWindow = e.WindowTo
			}
		case registry.PhaseDeploying, registry.PhaseDeployed:
			if f.deployAt.IsZero() {
				f.deployAt = e.Commit.Time
			}
		}
		f.entries = append(f.entries, phaseEntry{phase: p, at: e.Commit.Time})
	}
	for _, e := range h.Events {
		switch e.Kind {
		case EventCreated:
			if !f.hasCreated {
				f.created, f.hasCreated = e.Commit.Time, true
			}
			if e.To != "" {
				enter(e.To, e)
			}
		case EventPhase:
			path := []string{e.To}
			if h.Kind == registry.KindRelease {
				if p := phasePath(e.From, e.To); len(p) > 0 {
					path = p
				}
			}
			for _, p := range path {
				enter(p, e)
			}
		case EventReschedule:
			if registry.PhaseRank(e.From) >= 1 && e.From != registry.PhaseCancelled {
				f.rescheduled = true
			}
		case EventApproval:
			f.approval(e)
		}
	}
	return f
}

// approval records the latency of an approval: from the latest entry into
// the phase that awaits its step (or, when the subject was never there, the
// latest phase entry before it, or its creation) to the commit that added it.
func (f *subjectFacts) approval(e Event) {
	awaited := ""
	for _, s := range ReportSteps {
		if s.Step == e.Approval.Step {
			awaited = s.Awaited
		}
	}
	if awaited == "" {
		return
	}
	start, found := f.created, false
	for i := len(f.entries) - 1; i >= 0 && !found; i-- {
		if f.entries[i].phase == awaited {
			start, found = f.entries[i].at, true
		}
	}
	if !found && len(f.entries) > 0 {
		start = f.entries[len(f.entries)-1].at
	}
	f.latency[e.Approval.Step] = append(f.latency[e.Approval.Step], math.Max(0, e.Commit.Time.Sub(start).Seconds()))
}

// Report computes release management KPIs per service and overall from a
// timeline. Releases deleted from the registry still count, with their last
// readable content.
func Report(tl *Timeline, opts ReportOptions) *KPIReport {
	all := newSamples()
	byService := map[string]*samples{}
	for _, h := range tl.Subjects {
		if h.Kind != registry.KindRelease && h.Kind != registry.KindDMLEntry {
			continue
		}
		f := facts(h)
		if !f.hasCreated || (!opts.Since.IsZero() && f.created.Before(opts.Since)) {
			continue
		}
		if h.Kind == registry.KindDMLEntry {
			// DML entries belong to components, not services: their verify
			// latency counts only overall.
			all.latency[registry.StepVerify] = append(all.latency[registry.StepVerify], f.latency[registry.StepVerify]...)
			continue
		}
		service := strings.TrimPrefix(h.Subject, "release/")
		service = service[:strings.IndexByte(service, '@')]
		s := byService[service]
		if s == nil {
			s = newSamples()
			byService[service] = s
		}
		for _, sc := range []*samples{s, all} {
			sc.add(h, f)
		}
	}
	r := &KPIReport{Ref: tl.Ref, Commits: tl.Commits, Services: []ServiceKPIs{}, All: all.kpis()}
	if !opts.Since.IsZero() {
		r.Since = opts.Since.UTC().Format(time.RFC3339)
	}
	names := make([]string, 0, len(byService))
	for n := range byService {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Services = append(r.Services, ServiceKPIs{Service: n, KPIs: byService[n].kpis()})
	}
	return r
}

// add counts one release.
func (s *samples) add(h *SubjectHistory, f *subjectFacts) {
	k := &s.k
	k.Releases++
	entered := map[string]bool{}
	first := map[string]time.Time{}
	inPhase := map[string]float64{}
	for i, e := range f.entries {
		entered[e.phase] = true
		if _, ok := first[e.phase]; !ok {
			first[e.phase] = e.at
		}
		if i+1 < len(f.entries) {
			inPhase[e.phase] += math.Max(0, f.entries[i+1].at.Sub(e.at).Seconds())
		}
	}
	completed := entered[registry.PhaseDeployed] && !entered[registry.PhaseRolledBack]
	delayed := false
	if !f.deployAt.IsZero() && f.firstWindow != nil {
		if end, err := time.Parse(time.RFC3339, f.firstWindow.End); err == nil && !f.deployAt.Before(end) {
			delayed = true
		}
	}
	spec, _ := h.Value["spec"].(map[string]any)
	status, _ := h.Value["status"].(map[string]any)
	review, hasReview := status["review"].(map[string]any)
	if completed {
		k.Completed++
		if asPlanned, _ := review["completedAsPlanned"].(bool); asPlanned && !f.rescheduled && !delayed {
			k.CompletedAsPlanned++
		}
	}
	if f.rescheduled {
		k.Rescheduled++
	}
	if delayed {
		k.Delayed++
	}
	if f.revision {
		k.NeedingRevision++
	}
	if status["phase"] == registry.PhaseCancelled {
		k.Cancelled++
	}
	if spec["type"] == "emergency" {
		k.Emergency++
	}
	if hasReview {
		k.Reviewed++
		incidents, _ := review["incidents"].([]any)
		k.Incidents += len(incidents)
		if sat, ok := review["satisfaction"].(int64); ok && sat >= 1 && sat <= 5 {
			k.Satisfaction.Count++
			s.satSum += int(sat)
		}
	}
	for p, d := range inPhase {
		s.phases[p] = append(s.phases[p], d)
	}
	for _, tr := range ReportTransitions {
		a, aok := first[tr[0]]
		b, bok := first[tr[1]]
		if aok && bok {
			s.transitions[tr] = append(s.transitions[tr], math.Max(0, b.Sub(a).Seconds()))
		}
	}
	for step, ls := range f.latency {
		s.latency[step] = append(s.latency[step], ls...)
	}
}

// kpis finishes a scope: ratios and distributions.
func (s *samples) kpis() KPIs {
	k := s.k
	if k.Releases > 0 {
		k.EmergencyShare = round4(float64(k.Emergency) / float64(k.Releases))
	}
	if k.Reviewed > 0 {
		k.IncidentsPerRelease = round4(float64(k.Incidents) / float64(k.Reviewed))
	}
	if k.Satisfaction.Count > 0 {
		k.Satisfaction.Mean = round4(float64(s.satSum) / float64(k.Satisfaction.Count))
	}
	k.Phases = make([]PhaseDurations, 0, len(ReportPhases))
	for _, p := range ReportPhases {
		k.Phases = append(k.Phases, PhaseDurations{Phase: p, Durations: summarize(s.phases[p])})
	}
	k.Transitions = make([]TransitionDurations, 0, len(ReportTransitions))
	for _, tr := range ReportTransitions {
		k.Transitions = append(k.Transitions, TransitionDurations{From: tr[0], To: tr[1], Durations: summarize(s.transitions[tr])})
	}
	k.ApprovalLatency = make([]StepDurations, 0, len(ReportSteps))
	for _, st := range ReportSteps {
		k.ApprovalLatency = append(k.ApprovalLatency, StepDurations{Step: st.Step, Durations: summarize(s.latency[st.Step])})
	}
	return k
}

// summarize returns the count, median and nearest-rank 90th percentile.
func summarize(xs []float64) Durations {
	n := len(xs)
	if n == 0 {
		return Durations{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	d := Durations{Count: n}
	if n%2 == 1 {
		d.Median = s[n/2]
	} else {
		d.Median = (s[n/2-1] + s[n/2]) / 2
	}
	d.P90 = s[int(math.Ceil(0.9*float64(n)))-1]
	return d
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
