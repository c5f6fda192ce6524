// Package gen generates large, valid registries for benchmarks and tests.
//
// A generated registry has Config.Releases releases spread evenly over
// Config.Services services, two schedules, a DML entry for every component
// version a release names, and releases in every phase: those whose window
// lies before Config.Now are deployed, rolled back, closed, retired or
// cancelled; the others are draft to deploying. Every release has its own
// one-hour window, so no windows overlap, and every file validates clean.
package gen

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/crypto/ssh"

	"github.com/relreg/relreg/registry"
)

// Config shapes a generated registry. Zero fields take the defaults.
type Config struct {
	Releases int       // default 10,000
	Services int       // default 100 (at most Releases)
	Now      time.Time // the present: half the releases lie before it; default 2026-11-24
}

// DefaultNow is the present of a generated registry unless Config.Now says otherwise.
var DefaultNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Approver ids of a generated registry; their keys come from fixed seeds,
// so a generated registry is the same every time.
var approvers = []struct{ id, role string }{
	{"rm-one", "release-manager"}, {"rm-two", "release-manager"},
	{"cab-one", "cab"}, {"owner-one", "service-owner"}, {"admin-one", "registry-admin"},
}

var (
	pastPhases   = []string{registry.PhaseClosed, registry.PhaseClosed, registry.PhaseRetired, registry.PhaseDeployed, registry.PhaseRolledBack, registry.PhaseCancelled, registry.PhaseClosed}
	futurePhases = []string{registry.PhaseDraft, registry.PhasePlanned, registry.PhaseBuilding, registry.PhaseTesting, registry.PhaseAccepted, registry.PhaseDeploying, registry.PhaseCancelled}
	// types cycle per service; the first release of a service is 1.0.0.
	types = []string{"minor", "patch", "patch", "minor", "emergency", "minor", "patch", "major"}
	risks = []string{"low", "medium", "high", "low"}
)

// Write generates a registry into dir, which must not hold one yet.
func Write(dir string, cfg Config) error {
	if cfg.Releases <= 0 {
		cfg.Releases = 10000
	}
	if cfg.Services <= 0 {
		cfg.Services = 100
	}
	cfg.Services = min(cfg.Services, cfg.Releases)
	if cfg.Now.IsZero() {
		cfg.Now = DefaultNow
	}
	w := &writer{dir: dir}
	w.header()
	w.approvers()
	for _, name := range []string{"production", "staging"} {
		w.schedule(name)
	}
	for s := range cfg.Services {
		w.service(s)
	}
	// Release i belongs to service i%Services and has the one-hour slot i,
	// so releases of a service follow each other in version and in time.
	base := cfg.Now.UTC().Truncate(time.Hour).Add(-time.Duration(cfg.Releases/2) * time.Hour)
	versions := make([]string, cfg.Services)
	for i := range cfg.Releases {
		s, j := i%cfg.Services, i/cfg.Services
		typ := types[j%len(types)]
		if j == 0 {
			versions[s] = "1.0.0"
		} else {
			versions[s] = registry.NextVersion(semver.MustParse(versions[s]), typ).String()
		}
		start := base.Add(time.Duration(i) * time.Hour)
		phase := futurePhases[j%len(futurePhases)]
		if !start.Add(time.Hour).After(cfg.Now) {
			phase = pastPhases[j%len(pastPhases)]
		}
		var dependsOn []string
		if s > 0 && j%5 == 4 {
			dependsOn = []string{fmt.Sprintf("%s@%s", serviceName(s-1), versions[s-1])}
		}
		w.release(s, j, i, versions[s], typ, phase, start, dependsOn)
	}
	return w.err
}

// writer writes documents and keeps the first error.
type writer struct {
	dir string
	err error
}

func (w *writer) write(rel string, doc any) {
	if w.err != nil {
		return
	}
	data, err := registry.EncodeDocument("", doc)
	if err != nil {
		w.err = err
		return
	}
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.err = err
		return
	}
	w.err = os.WriteFile(p, data, 0o644)
}

func hdr(kind string) registry.Header {
	return registry.Header{APIVersion: registry.APIVersion, Kind: kind}
}

func (w *writer) header() {
	one := func(role string) []registry.Requirement { return []registry.Requirement{{Role: role, Count: 1}} }
	rm := one("release-manager")
	risk := &registry.RiskRequirements{Low: rm, Medium: rm, High: []registry.Requirement{{Role: "release-manager", Count: 1}, {Role: "cab", Count: 1}}}
	w.write(registry.ConfigFile, registry.RegistryConfig{
		Header:   hdr(registry.KindRegistry),
		Metadata: registry.NameMeta{Name: "generated"},
		Spec: registry.RegistrySpec{
			ChangePattern: registry.DefaultChangePattern, IncidentPattern: registry.DefaultIncidentPattern,
			Approvals: registry.ApprovalPolicy{Plan: risk, Build: risk, Accept: risk, Deploy: risk,
				Verify: rm, Schedule: one("service-owner"), Govern: one("registry-admin")},
		},
	})
}

func (w *writer) approvers() {
	doc := registry.ApproversDoc{Header: hdr(registry.KindApprovers), Metadata: registry.NameMeta{Name: "approvers"}}
	for _, a := range approvers {
		seed := sha256.Sum256([]byte(a.id))
		pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
		if err != nil {
			w.err = err
			return
		}
		line := string(ssh.MarshalAuthorizedKey(pub))
		doc.Spec.Approvers = append(doc.Spec.Approvers, registry.Approver{
			ID: a.id, Name: a.id, Email: a.id + "@example.com", Roles: []string{a.role},
			Keys: []registry.Key{{Key: line[:len(line)-1] + " " + a.id + "@gen"}},
		})
	}
	w.write(registry.ApproversFile, doc)
}

func (w *writer) schedule(name string) {
	w.write(registry.SchedulesDir+"/"+name+".yaml", registry.Schedule{
		Header:   hdr(registry.KindSchedule),
		Metadata: registry.NameMeta{Name: name},
		Spec: registry.ScheduleSpec{
			Environment: name, Timezone: "UTC", MaxConcurrent: 2,
			Windows: []registry.ScheduleWindow{{Name: "every-day", Weekly: &registry.Weekly{
				Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "00:00", Duration: "24h"}}},
		},
	})
}

func serviceName(s int) string   { return fmt.Sprintf("svc-%03d", s) }
func componentName(s int) string { return serviceName(s) + "-app" }

func (w *writer) service(s int) {
	w.write(registry.ServicesDir+"/"+serviceName(s)+".yaml", registry.Service{
		Header:   hdr(registry.KindService),
		Metadata: registry.NameMeta{Name: serviceName(s)},
		Spec: registry.ServiceSpec{Title: fmt.Sprintf("Service %d", s), Owner: "team-" + serviceName(s),
			Supported: ">=1.0.0", Components: []string{componentName(s)}},
	})
}

func (w *writer) release(s, j, i int, version, typ, phase string, start time.Time, dependsOn []string) {
	at := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
	schedule := "production"
	if j%4 == 3 {
		schedule = "staging"
	}
	rel := registry.Release{
		Header:   hdr(registry.KindRelease),
		Metadata: registry.ReleaseMeta{Service: serviceName(s), Version: version},
		Spec: registry.ReleaseSpec{
			Title: fmt.Sprintf("%s %s", serviceName(s), version), Type: typ, Risk: risks[j%len(risks)],
			Owner: approvers[3].id, Changes: []string{fmt.Sprintf("CHG-%d", 10000+i)},
			Components: []registry.ComponentRef{{Name: componentName(s), Version: version}},
			DependsOn:  dependsOn,
			Deployment: registry.Deployment{Schedule: schedule, Window: registry.Window{Start: at(0), End: at(time.Hour)},
				Rollout: "big-bang", Delivery: "push", Execution: "automated", Environments: []string{schedule}},
			Backout: &registry.Backout{Plan: "Redeploy the previous version from the DML."},
		},
		Status: registry.ReleaseStatus{Phase: phase},
	}
	st := &rel.Status
	tested := registry.PhaseRank(phase) >= registry.PhaseRank(registry.PhaseTesting)
	if tested {
		st.Tests = []registry.TestResult{{Name: "e2e", Result: "passed", At: at(-24 * time.Hour)}}
	}
	yes := true
	switch phase {
	case registry.PhaseDeployed, registry.PhaseClosed, registry.PhaseRetired:
		st.Verification = &registry.Verification{Result: "passed", At: at(30 * time.Minute)}
	case registry.PhaseRolledBack:
		st.Verification = &registry.Verification{Result: "failed", At: at(30 * time.Minute)}
		st.Backout = &registry.BackoutStatus{ExecutedAt: at(45 * time.Minute)}
	case registry.PhaseCancelled:
		st.Cancellation = &registry.Cancellation{Reason: "superseded by a later release"}
	}
	if phase == registry.PhaseClosed || phase == registry.PhaseRetired {
		st.Review = &registry.Review{Outcome: "successful", CompletedAsPlanned: &yes, Satisfaction: 4,
			Incidents: []string{fmt.Sprintf("INC-%d", 5000+i)}, At: at(72 * time.Hour)}
	}
	w.write(fmt.Sprintf("%s/%s/%s.yaml", registry.ReleasesDir, serviceName(s), version), &rel)

	// The DML entry: candidate until the release is accepted, verified
	// after; some closed releases' entries were withdrawn later (history).
	state, reason := registry.StateCandidate, ""
	if registry.PhaseRank(phase) >= registry.PhaseRank(registry.PhaseAccepted) {
		state = registry.StateVerified
	}
	if phase == registry.PhaseClosed && j%3 == 0 {
		state, reason = registry.StateWithdrawn, "superseded after a vulnerability report"
	}
	name := fmt.Sprintf("%s_%s_linux_amd64.tar.gz", componentName(s), version)
	sum := sha256.Sum256([]byte(name))
	rev := sha256.Sum256([]byte(componentName(s) + "@" + version))
	w.write(fmt.Sprintf("%s/%s/%s.yaml", registry.DMLDir, componentName(s), version), registry.DMLEntry{
		Header:   hdr(registry.KindDMLEntry),
		Metadata: registry.DMLMeta{Component: componentName(s), Version: version},
		Spec: registry.DMLSpec{
			Artifacts: []registry.Artifact{{Name: name, URI: "https://artifacts.example.com/" + name,
				Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(name))}},
			Source: &registry.Source{Repository: "https://git.example.com/" + serviceName(s), Revision: hex.EncodeToString(rev[:20])},
		},
		Status: registry.DMLStatus{State: state, Reason: reason},
	})
}
