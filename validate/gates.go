package validate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// The conditions of the lifecycle gates, evaluated on the release at head.

var pass = registry.Diagnostic{}

func testsPassed(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	if len(rel.Status.Tests) == 0 {
		return rel.Doc.Diag("lifecycle/gate", "to enter accepted, status.tests needs at least one test result, all passed", "status"), false
	}
	for i, t := range rel.Status.Tests {
		if t.Result != "passed" {
			return rel.Doc.Diag("lifecycle/gate", fmt.Sprintf("to enter accepted, every test must have passed; %s is %s", t.Name, t.Result), "status", "tests", fmt.Sprint(i), "result"), false
		}
	}
	return pass, true
}

func componentsVerified(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	for i, comp := range rel.Spec.Components {
		id := comp.Name + "@" + comp.Version
		e := c.head.DML[id]
		switch {
		case e == nil:
			return rel.Doc.Diag("lifecycle/gate", fmt.Sprintf("to enter accepted, component %s must be a verified DML entry, and there is none: check it in at dml/%s/%s.yaml", id, comp.Name, comp.Version), "spec", "components", fmt.Sprint(i)), false
		case e.Status.State != registry.StateVerified:
			return rel.Doc.Diag("lifecycle/gate", fmt.Sprintf("to enter accepted, component %s must be a verified DML entry, and it is %s", id, e.Status.State), "spec", "components", fmt.Sprint(i)), false
		}
	}
	return pass, true
}

func windowNotPassed(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	end, err := time.Parse(time.RFC3339, rel.Spec.Deployment.Window.End)
	if err != nil || !c.now.After(end) {
		return pass, true
	}
	return rel.Doc.Diag("schedule/window-passed", fmt.Sprintf("to enter deploying, the check time %s must not be after the window's end %s: reschedule (change spec.deployment.window at accepted) first", c.now.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)), "spec", "deployment", "window", "end"), false
}

func dependenciesDeployed(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	for i, dep := range rel.Spec.DependsOn {
		d := c.head.Releases[dep]
		if d == nil {
			continue // ref/unknown-dependency reports it
		}
		if p := d.Status.Phase; p != registry.PhaseDeployed && p != registry.PhaseClosed {
			return rel.Doc.Diag("lifecycle/gate", fmt.Sprintf("to enter deploying, dependency %s must be deployed or closed, and it is %s", dep, p), "spec", "dependsOn", fmt.Sprint(i)), false
		}
	}
	return pass, true
}

func noOtherDeploying(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	var others []string
	for id, r := range c.head.Releases {
		if r != rel && serviceOf(id) == serviceOf(rel.Doc.ID) && r.Status.Phase == registry.PhaseDeploying {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return pass, true
	}
	slices.Sort(others)
	verb := "is"
	if len(others) > 1 {
		verb = "are"
	}
	return rel.Doc.Diag("lifecycle/gate", fmt.Sprintf("to enter deploying, no other release of the service may be deploying, and %s %s: finish it first", strings.Join(others, ", "), verb), "status", "phase"), false
}

func verificationPassed(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	if v := rel.Status.Verification; v == nil || v.Result != "passed" {
		return rel.Doc.Diag("lifecycle/gate", "to enter deployed, status.verification.result must be passed; if verification failed, roll back (rolled-back) instead", "status"), false
	}
	return pass, true
}

func backoutExecuted(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	if b := rel.Status.Backout; b == nil || b.ExecutedAt == "" {
		return rel.Doc.Diag("lifecycle/gate", "to enter rolled-back, record when the backout ran in status.backout.executedAt", "status"), false
	}
	return pass, true
}

func reviewed(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	if rel.Status.Review == nil {
		return rel.Doc.Diag("lifecycle/gate", "to enter closed, record the post-implementation review in status.review", "status"), false
	}
	return pass, true
}

func cancellationReason(c *changeCtx, rel *registry.Release) (registry.Diagnostic, bool) {
	if cn := rel.Status.Cancellation; cn == nil || strings.TrimSpace(cn.Reason) == "" {
		return rel.Doc.Diag("lifecycle/gate", "to enter cancelled, give the reason in status.cancellation.reason", "status"), false
	}
	return pass, true
}
