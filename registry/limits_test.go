package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMaxApprovals: a document with more approval entries than the limit
// is yaml/limits at its approvals key and is not read further; one at the
// limit parses.
func TestMaxApprovals(t *testing.T) {
	doc := func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: relreg/v1\nkind: Schedule\nmetadata:\n  name: production\nspec:\n  environment: production\napprovals:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {step: schedule, by: a%d, role: r, at: x, digest: d, signature: s}\n", i)
		}
		return []byte(b.String())
	}
	p := parseDoc(doc(MaxApprovals+1), DefaultLimits)
	if p.node != nil || len(p.diags) != 1 || p.diags[0].Rule != "yaml/limits" || p.diags[0].Line != 7 || p.diags[0].Column != 1 ||
		!strings.Contains(p.diags[0].Message, fmt.Sprintf("approvals holds %d entries, over the limit of %d", MaxApprovals+1, MaxApprovals)) {
		t.Errorf("parseDoc(%d approvals) = node %v, %+v; want one yaml/limits at 7:1", MaxApprovals+1, p.node != nil, p.diags)
	}
	if p := parseDoc(doc(MaxApprovals), DefaultLimits); p.node == nil || len(p.diags) != 0 {
		t.Errorf("parseDoc(%d approvals) = %+v, want it parsed", MaxApprovals, p.diags)
	}
}

// TestMaxFiles: a registry whose folders hold more files than the limit
// is not loaded.
func TestMaxFiles(t *testing.T) {
	defer func(n int) { maxFiles = n }(maxFiles)
	maxFiles = 4 // relreg.yaml and three services
	fsys := fstest.MapFS{"relreg.yaml": {Data: []byte("apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: r\nspec: {}\n")}}
	for i := range 3 {
		fsys[fmt.Sprintf("services/s%d.yaml", i)] = &fstest.MapFile{Data: []byte("x: 1\n")}
	}
	if _, err := Load(fsys, Options{}); err != nil {
		t.Fatalf("Load(3 files + relreg.yaml) = %v, want it loaded", err)
	}
	fsys["services/s3.yaml"] = &fstest.MapFile{Data: []byte("x: 1\n")}
	if _, err := Load(fsys, Options{}); !errors.Is(err, ErrTooManyFiles) {
		t.Errorf("Load(4 files) = %v, want ErrTooManyFiles", err)
	}
}
