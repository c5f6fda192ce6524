package validate

import "github.com/relreg/relreg/registry"

// approvalRule is a placeholder until the rule is written.
func approvalRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
