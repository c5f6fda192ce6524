package validate

import "github.com/relreg/relreg/registry"

// semverRule is a placeholder until the rule is written.
func semverRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
