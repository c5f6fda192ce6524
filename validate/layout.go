package validate

import "github.com/relreg/relreg/registry"

// layoutRule is a placeholder until the rule is written.
func layoutRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
