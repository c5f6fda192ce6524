package validate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/relreg/relreg/validate"
)

const hour = 3600.0

// dur is a Durations in hours, for readable expectations.
func dur(count int, median, p90 float64) validate.Durations {
	return validate.Durations{Count: count, Median: median * hour, P90: p90 * hour}
}

// The expectations below are computed by hand from buildStory:
//
// payments@1.0.0: draft 1-4, planned 4-10, building 10-20 and 30-32,
// testing 20-30 and 32-40, accepted 40-50, deploying 50-52, deployed
// 52-100, closed 100. Approvals: plan @3 (awaited since draft @1: 2h),
// build @10 (planned @4: 6h), accept @40 twice (testing @32: 8h each),
// deploy @50 (accepted @40: 10h). Revised (testing -> building), completed
// as planned, one incident, satisfaction 4.
//
// payments@1.1.0: created planned @60 with the plan approval (never in
// draft: 0h), rescheduled @70 while planned, planned -> accepted @80
// (building and testing entered and left at once: 0h each) with a build
// approval (planned @60: 20h), deploying @288, after the first window
// ended (2026-11-06T02:00 = @122): delayed; rolled back @289.
//
// web@2.0.0: emergency, draft 300-301, cancelled; plan approval @300 (0h).
// web@2.1.0: draft @302 with a plan approval (0h), deleted @303.
// dml/payments-api@1.0.0: candidate @1, verify approval @20 (19h).
func TestReport(t *testing.T) {
	h := buildStory(t)
	tl, err := validate.BuildTimeline(openHist(t, h), validate.TimelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := validate.Report(tl, validate.ReportOptions{})

	payments := validate.KPIs{
		Releases: 2, Completed: 1, CompletedAsPlanned: 1, Rescheduled: 1, Delayed: 1, NeedingRevision: 2,
		Reviewed: 1, Incidents: 1, IncidentsPerRelease: 1, Satisfaction: validate.Satisfaction{Count: 1, Mean: 4},
	}
	paymentsPhases := []validate.Durations{
		dur(1, 3, 3),     // draft
		dur(2, 13, 20),   // planned: 6, 20
		dur(2, 6, 12),    // building: 12, 0
		dur(2, 9, 18),    // testing: 18, 0
		dur(2, 109, 208), // accepted: 10, 208
		dur(2, 1.5, 2),   // deploying: 2, 1
		dur(1, 48, 48),   // deployed
		dur(0, 0, 0),     // rolled-back: never left
	}
	paymentsTransitions := []validate.Durations{
		dur(1, 3, 3),     // draft -> planned
		dur(2, 13, 20),   // planned -> building: 6, 20
		dur(2, 5, 10),    // building -> testing: 10, 0
		dur(2, 10, 20),   // testing -> accepted: 20, 0
		dur(2, 109, 208), // accepted -> deploying: 10, 208
		dur(1, 2, 2),     // deploying -> deployed
		dur(1, 48, 48),   // deployed -> closed
		dur(1, 48, 48),   // planned -> deployed: 4 -> 52
	}
	paymentsLatency := []validate.Durations{
		dur(2, 1, 2),   // plan: 2, 0
		dur(2, 13, 20), // build: 6, 20
		dur(2, 8, 8),   // accept: 8, 8
		dur(1, 10, 10), // deploy
		dur(0, 0, 0),   // verify: DML entries count only overall
	}
	web := validate.KPIs{Releases: 2, Cancelled: 1, Emergency: 1, EmergencyShare: 0.5}
	webPhases := []validate.Durations{dur(1, 1, 1), {}, {}, {}, {}, {}, {}, {}}
	webLatency := []validate.Durations{dur(2, 0, 0), {}, {}, {}, {}}
	all := validate.KPIs{
		Releases: 4, Completed: 1, CompletedAsPlanned: 1, Rescheduled: 1, Delayed: 1, NeedingRevision: 2,
		Cancelled: 1, Emergency: 1, EmergencyShare: 0.25,
		Reviewed: 1, Incidents: 1, IncidentsPerRelease: 1, Satisfaction: validate.Satisfaction{Count: 1, Mean: 4},
	}
	allPhases := append([]validate.Durations{dur(2, 2, 3)}, paymentsPhases[1:]...) // draft: 3, 1
	allLatency := []validate.Durations{
		dur(4, 0, 2), // plan: 2, 0, 0, 0
		paymentsLatency[1], paymentsLatency[2], paymentsLatency[3],
		dur(1, 19, 19), // verify
	}

	tests := []struct {
		name        string
		got         validate.KPIs
		want        validate.KPIs
		phases      []validate.Durations
		transitions []validate.Durations
		latency     []validate.Durations
	}{
		{name: "payments", got: r.Services[0].KPIs, want: payments, phases: paymentsPhases, transitions: paymentsTransitions, latency: paymentsLatency},
		{name: "web", got: r.Services[1].KPIs, want: web, phases: webPhases, transitions: make([]validate.Durations, 8), latency: webLatency},
		{name: "all", got: r.All, want: all, phases: allPhases, transitions: paymentsTransitions, latency: allLatency},
	}
	if len(r.Services) != 2 || r.Services[0].Service != "payments" || r.Services[1].Service != "web" {
		t.Fatalf("services = %+v, want payments and web", r.Services)
	}
	if r.Ref != h.commits[len(h.commits)-1] || r.Commits != len(h.commits) || r.Since != "" {
		t.Errorf("report ref %s commits %d since %q", r.Ref, r.Commits, r.Since)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.got
			for i, p := range got.Phases {
				if p.Phase != validate.ReportPhases[i] || p.Durations != tt.phases[i] {
					t.Errorf("phase %s = %+v, want %s %+v", p.Phase, p.Durations, validate.ReportPhases[i], tt.phases[i])
				}
			}
			for i, tr := range got.Transitions {
				if tr.Durations != tt.transitions[i] {
					t.Errorf("transition %s -> %s = %+v, want %+v", tr.From, tr.To, tr.Durations, tt.transitions[i])
				}
			}
			for i, l := range got.ApprovalLatency {
				if l.Durations != tt.latency[i] {
					t.Errorf("approval latency %s = %+v, want %+v", l.Step, l.Durations, tt.latency[i])
				}
			}
			if len(got.Phases) != len(tt.phases) || len(got.Transitions) != len(tt.transitions) || len(got.ApprovalLatency) != len(tt.latency) {
				t.Errorf("%d phases, %d transitions, %d steps; want %d, %d, %d", len(got.Phases), len(got.Transitions), len(got.ApprovalLatency),
					len(tt.phases), len(tt.transitions), len(tt.latency))
			}
			got.Phases, got.Transitions, got.ApprovalLatency = nil, nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("KPIs =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}

	t.Run("since", func(t *testing.T) {
		since := histAt(250)
		r := validate.Report(tl, validate.ReportOptions{Since: since})
		if len(r.Services) != 1 || r.Services[0].Service != "web" || r.All.Releases != 2 || r.Since != since.Format(time.RFC3339) {
			t.Errorf("since %s: services %+v, all releases %d, since %q; want only web's 2 releases", since, r.Services, r.All.Releases, r.Since)
		}
		if l := r.All.ApprovalLatency[4]; l.Count != 0 {
			t.Errorf("since %s: verify latency %+v, want none (the DML entry is older)", since, l)
		}
	})
}
