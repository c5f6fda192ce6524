package validate

import "github.com/relreg/relreg/registry"

// schemaRule is a placeholder until the rule is written.
func schemaRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
