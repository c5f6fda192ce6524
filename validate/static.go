// Package validate holds relreg's rules: the static rules that judge a
// registry as it is, the change rules that judge a move from a base to a head,
// and the audit that replays the change rules over history.
package validate

import (
	"slices"
	"strings"
	"time"

	"github.com/relreg/relreg/registry"
)

// Options tune validation.
type Options struct {
	// Now is the check time; zero means time.Now().
	Now time.Time
	// Only, when set, limits the diagnostics to these files. Rules that
	// judge one file at a time (schema, approval signatures) skip the
	// others; rules across files still read the whole registry.
	Only map[string]bool
	// PerFile, when set, narrows the rules that judge one file at a time
	// further, to files whose content changed: an unchanged file gets the
	// verdict it had before.
	PerFile map[string]bool
}

// reports reports whether diagnostics on path are wanted: rules across
// files judge only these files, reading others as they need.
func (o Options) reports(path string) bool { return o.Only == nil || o.Only[path] }

// perFileScope returns the files the rules that judge one file at a time
// look at, or nil for all.
func (o Options) perFileScope() map[string]bool {
	if o.PerFile != nil {
		return o.PerFile
	}
	return o.Only
}

// perFileDocs returns the documents the rules that judge one file at a
// time look at, sorted by path: the scope's, or every one.
func (o Options) perFileDocs(reg *registry.Registry) []*registry.Document {
	scope := o.perFileScope()
	if scope == nil {
		return reg.Files
	}
	docs := make([]*registry.Document, 0, len(scope))
	for p := range scope {
		if d := reg.Doc(p); d != nil {
			docs = append(docs, d)
		}
	}
	slices.SortFunc(docs, func(a, b *registry.Document) int { return strings.Compare(a.Path, b.Path) })
	return docs
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
	if opts.Only != nil {
		ds = slices.DeleteFunc(ds, func(d registry.Diagnostic) bool { return !opts.Only[d.File] })
	}
	registry.SortDiagnostics(ds)
	return registry.CapDiagnostics(ds)
}
