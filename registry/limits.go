package registry

// Resource limits: everything relreg bounds, in one place (README.md,
// "Limits", says the same for users). Each bounds the memory or time one
// hostile file, push or history can cost; none is near what a real
// registry holds.

// Limits bound what a single registry file may hold.
type Limits struct {
	MaxFileSize int64 // bytes; default 1 MiB
	MaxDepth    int   // nesting of mappings and sequences; default 64
}

// DefaultLimits are the limits of the contract: a file over 1 MiB or
// nested deeper than 64 is yaml/limits. An integer beyond ±(2^53−1) is
// yaml/limits too (maxSafeInt). A file over the size limit is never read
// past it (readLimited).
var DefaultLimits = Limits{MaxFileSize: 1 << 20, MaxDepth: 64}

// MaxApprovals is how many approval entries one document may carry; a
// document with more is yaml/limits, and none of its signatures is
// verified. A release collects a handful per step.
const MaxApprovals = 1000

// MaxFiles is how many documents (relreg.yaml, approvers.yaml and the
// files of the four layout folders) a registry may hold; a registry with
// more cannot be loaded (exit 2). 1,000,000 files is 500,000 releases with
// a DML entry each.
const MaxFiles = 1_000_000

// MaxDiagnosticsPerRule is how many diagnostics of one rule on one file
// are kept; the rest are counted in one more diagnostic (CapDiagnostics).
// A file of 250,000 bad change ids gets 101 lines, not 250,000.
const MaxDiagnosticsPerRule = 100

// AuditWarnCommits is the number of judged commits past which an audit
// without --since says on stderr that it reads the whole history; it never
// stops early.
const AuditWarnCommits = 100_000
