package validate

import "github.com/relreg/relreg/registry"

// dmlRule is a placeholder until the rule is written.
func dmlRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
