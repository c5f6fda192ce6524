// Package validate holds relreg's rules: the static rules that judge a
// registry as it is, the change rules that judge a move from a base to a head,
// and the audit that replays the change rules over history.
package validate

import (
	"time"

	"github.com/relreg/relreg/registry"
)

// Options tune validation.
type Options struct {
	// Now is the check time; zero means time.Now().
	Now time.Time
}

// A staticRule inspects a whole registry and returns what it finds.
type staticRule func(reg *registry.Registry, opts Options) []registry.Diagnostic

// staticRules run in this order; each is independent of the others.
var staticRules = []staticRule{
	schemaRule,    // schema
	layoutRule,    // layout/path (metadata agrees with the path)
	changeIDRule,  // ref/change-id
	referenceRule, // ref/*
	semverRule,    // semver/*
	scheduleRule,  // schedule/*
	dmlRule,       // dml/missing, dml/not-verified, dml/withdrawn
	backoutRule,   // backout/missing
	approvalRule,  // approval/* (static part)
}

// Static runs every static rule of the contract over reg, adds the
// diagnostics found while loading, and returns them sorted.
func Static(reg *registry.Registry, opts Options) []registry.Diagnostic {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	ds := append([]registry.Diagnostic(nil), reg.Diagnostics...)
	for _, rule := range staticRules {
		ds = append(ds, rule(reg, opts)...)
	}
	registry.SortDiagnostics(ds)
	return ds
}
