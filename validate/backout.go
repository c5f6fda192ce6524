package validate

import "github.com/relreg/relreg/registry"

func backoutRule(reg *registry.Registry, opts Options) []registry.Diagnostic { return nil }
