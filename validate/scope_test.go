package validate_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/gen"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// TestCheckScopeMatchesWholeLoad checks that a check which loads only the
// files a change reaches finds exactly what a check over the whole
// registry finds. Random edits — windows moved onto other releases, phases
// changed, dependencies and components added, releases added and deleted,
// schedules, services and DML entries edited — are committed on branches
// of a generated registry and checked both ways, as commits and as a
// working tree; the committed ones are audited both ways too.
func TestCheckScopeMatchesWholeLoad(t *testing.T) {
	testtool.Need(t, "git")
	dir := t.TempDir()
	if err := gen.Write(dir, gen.Config{Releases: 120, Services: 6}); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "registry")
	repo, err := registry.OpenRepo(dir, "")
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	files := func(sub string) []string {
		var out []string
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return nil
		})
		slices.Sort(out)
		return out
	}
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	read := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idOf := func(p string) string {
		rel, _ := filepath.Rel(filepath.Join(dir, "releases"), p)
		svc, file, _ := strings.Cut(filepath.ToSlash(rel), "/")
		return svc + "@" + strings.TrimSuffix(file, ".yaml")
	}
	window := regexp.MustCompile(`(?s)window:\n\s+start: "[^"]+"\n\s+end: "[^"]+"`)
	phases := []string{"draft", "planned", "building", "testing", "accepted", "deploying", "deployed", "closed", "cancelled"}
	edits := []func(){
		func() { // move a window onto another release's
			a, b := pick(files("releases")), pick(files("releases"))
			write(a, window.ReplaceAllString(read(a), window.FindString(read(b))))
		},
		func() { // change a phase
			p := pick(files("releases"))
			write(p, regexp.MustCompile(`phase: \S+`).ReplaceAllString(read(p), "phase: "+pick(phases)))
		},
		func() { // depend on another release
			a, b := pick(files("releases")), pick(files("releases"))
			write(a, strings.Replace(read(a), "  deployment:\n", "  dependsOn:\n    - "+idOf(b)+"\n  deployment:\n", 1))
		},
		func() { // name another component version
			p := pick(files("releases"))
			write(p, regexp.MustCompile(`(?m)^      version: \S+`).ReplaceAllString(read(p), fmt.Sprintf("      version: %d.0.0", 1+rng.IntN(4))))
		},
		func() { // delete a release
			os.Remove(pick(files("releases")))
		},
		func() { // add a release next to another
			p := pick(files("releases"))
			q := filepath.Join(filepath.Dir(p), fmt.Sprintf("%d.%d.0.yaml", 1+rng.IntN(30), rng.IntN(3)))
			write(q, regexp.MustCompile(`(?m)^  version: \S+`).ReplaceAllString(read(p), "  version: "+strings.TrimSuffix(filepath.Base(q), ".yaml")))
		},
		func() { // add a release of the same precedence as another: the older file is reported
			p := pick(files("releases"))
			v := strings.TrimSuffix(filepath.Base(p), ".yaml") + "+dup"
			write(filepath.Join(filepath.Dir(p), v+".yaml"), regexp.MustCompile(`(?m)^  version: \S+`).ReplaceAllString(read(p), "  version: "+v))
		},
		func() { // move a release to the other schedule
			p := pick(files("releases"))
			s := read(p)
			if strings.Contains(s, "schedule: production") {
				write(p, strings.Replace(s, "schedule: production", "schedule: staging", 1))
			} else {
				write(p, strings.Replace(s, "schedule: staging", "schedule: production", 1))
			}
		},
		func() { // change a release's type
			p := pick(files("releases"))
			write(p, regexp.MustCompile(`type: \S+`).ReplaceAllString(read(p), "type: "+pick([]string{"major", "minor", "patch", "emergency"})))
		},
		func() { // withdraw or verify a DML entry
			p := pick(files("dml"))
			write(p, regexp.MustCompile(`state: \S+`).ReplaceAllString(read(p), "state: "+pick([]string{"candidate", "verified", "withdrawn"})))
		},
		func() { // narrow a service's supported range
			p := pick(files("services"))
			write(p, strings.Replace(read(p), "'>=1.0.0'", "'>=3.0.0'", 1))
		},
		func() { // allow one release at a time
			p := pick(files("schedules"))
			write(p, regexp.MustCompile(`maxConcurrent: \d+`).ReplaceAllString(read(p), "maxConcurrent: 1"))
		},
		func() { // break a release's YAML
			p := pick(files("releases"))
			write(p, read(p)+"  - : [\n")
		},
	}

	facts := registry.NewFactsCache()
	withFindings := 0
	for i := range 60 {
		git("checkout", "-q", "-B", "change", "main")
		for range 1 + rng.IntN(3) {
			edits[rng.IntN(len(edits))]()
		}
		worktree := i%4 == 3
		head := ""
		if !worktree {
			git("add", "-A")
			git("commit", "-q", "--allow-empty", "-m", fmt.Sprint("change ", i))
			head = "change"
		}
		check := func(full bool) []registry.Diagnostic {
			t.Helper()
			res, err := validate.Check(repo, validate.CheckOptions{Base: "main", Head: head, WorkDir: dir, Now: gen.DefaultNow, Facts: facts, Full: full})
			if err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
			return res.Diagnostics
		}
		whole, scoped := check(true), check(false)
		if !reflect.DeepEqual(whole, scoped) {
			t.Errorf("change %d (worktree %v): a scoped check differs from a whole one\nwhole:\n%s\nscoped:\n%s", i, worktree, diagLines(whole), diagLines(scoped))
		}
		if !worktree {
			// The audit judges the same commit on the part of the
			// registry it reaches, from the registries it replays.
			audit := func(full bool) []registry.Diagnostic {
				res, err := validate.Audit(repo, validate.AuditOptions{Ref: "change", Full: full})
				if err != nil {
					t.Fatalf("change %d: audit: %v", i, err)
				}
				return res.Diagnostics
			}
			if whole, scoped := audit(true), audit(false); !reflect.DeepEqual(whole, scoped) {
				t.Errorf("change %d: a scoped audit differs from a whole one\nwhole:\n%s\nscoped:\n%s", i, diagLines(whole), diagLines(scoped))
			}
		}
		if len(whole) > 0 {
			withFindings++
		}
		git("reset", "-q", "--hard")
		git("clean", "-q", "-fd")
	}
	if withFindings < 20 {
		t.Errorf("only %d of 60 random changes had findings: the edits no longer exercise the rules", withFindings)
	}
}

func diagLines(ds []registry.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %s:%d:%d: %s: %s\n", d.File, d.Line, d.Column, d.Rule, d.Message)
	}
	return b.String()
}
