package validate

import (
	"runtime"
	"strconv"
	"sync"

	"github.com/relreg/relreg/registry"
)

// approvalRule checks every approval entry of every document as it is
// (contract section 3, approvals): approval/unknown-approver, approval/role,
// approval/bad-signature, approval/key-revoked and approval/key-expired. It
// also reports approvers.yaml key lines that cannot be used (certificates,
// cert-authority and other options, unknown key types) as schema errors.
// Whether an approval is stale is a change rule and is not checked here.
func approvalRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	for _, p := range []string{registry.ConfigFile, registry.ApproversFile} {
		if d := reg.Doc(p); d != nil && d.Node == nil {
			// Without the registry's name or its approvers every signature
			// would fail; the YAML error already says what to fix.
			return nil
		}
	}
	if reg.Config == nil {
		return nil
	}
	kr := reg.Approvers.Keyring()
	ds := append([]registry.Diagnostic(nil), kr.Diagnostics...)

	type job struct {
		doc *registry.Document
		i   int
		a   registry.Approval
	}
	var jobs []job
	for _, d := range opts.perFileDocs(reg) {
		if d.Node == nil {
			continue
		}
		for i, a := range d.Approvals() {
			jobs = append(jobs, job{d, i, a})
		}
	}
	// Signature checks dominate; spread them over the cores.
	results := make([][]registry.Diagnostic, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(len(jobs), max(1, runtime.GOMAXPROCS(0))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				j := jobs[n]
				for _, p := range kr.Check(reg.Config.Metadata.Name, j.doc.Subject(), j.a) {
					results[n] = append(results[n], j.doc.Diag(p.Rule, p.Message, "approvals", strconv.Itoa(j.i), p.Field))
				}
			}
		}()
	}
	for n := range jobs {
		next <- n
	}
	close(next)
	wg.Wait()
	for _, r := range results {
		ds = append(ds, r...)
	}
	return ds
}
