package validate

import "github.com/relreg/relreg/registry"

// changeIDRule is a placeholder until the rule is written.
func changeIDRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }

// referenceRule is a placeholder until the rule is written.
func referenceRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
