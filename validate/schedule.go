package validate

import "github.com/relreg/relreg/registry"

// scheduleRule is a placeholder until the rule is written.
func scheduleRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
