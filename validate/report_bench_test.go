package validate_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// reportHistory builds, with git fast-import, a history of 2,000 releases
// of 20 services, each moved through draft, planned, building, testing and
// deployed in 5 commits of its own, in batches of 100 releases so that the
// commits of different releases interleave: 10,001 commits.
func reportHistory(b *testing.B) string {
	b.Helper()
	testtool.Need(b, "git")
	const releases, batch = 2000, 100
	phases := []string{"draft", "planned", "building", "testing", "deployed"}
	var stream bytes.Buffer
	mark := 0
	commit := func(files map[string]string) {
		mark++
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\ncommitter Bench <bench@example.com> %d +0000\ndata 6\ncommit\n", mark, 1780000000+3600*mark)
		if mark > 1 {
			fmt.Fprintf(&stream, "from :%d\n", mark-1)
		}
		for p, content := range files {
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", p, len(content), content)
		}
	}
	commit(map[string]string{"relreg.yaml": "apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: bench\nspec: {}\n"})
	for start := 0; start < releases; start += batch {
		for _, phase := range phases {
			for i := start; i < start+batch; i++ {
				service := fmt.Sprintf("svc-%02d", i%20)
				version := fmt.Sprintf("1.%d.0", i/20)
				commit(map[string]string{
					fmt.Sprintf("releases/%s/%s.yaml", service, version): histRelease(service, version, "minor", phase, histW1, ""),
				})
			}
		}
	}
	return fastImport(b, &stream)
}

// BenchmarkReport reads the whole history and computes the KPIs, as
// 'relreg report' does.
func BenchmarkReport(b *testing.B) {
	dir := reportHistory(b)
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tl, err := validate.BuildTimeline(repo, validate.TimelineOptions{})
		if err != nil {
			b.Fatal(err)
		}
		r := validate.Report(tl, validate.ReportOptions{})
		if r.All.Releases != 2000 || r.Commits != 10001 || r.All.Completed != 2000 {
			b.Fatalf("report of %d commits: %d releases, %d completed; want 10001, 2000, 2000", r.Commits, r.All.Releases, r.All.Completed)
		}
	}
}
