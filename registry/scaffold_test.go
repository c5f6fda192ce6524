package registry_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/registry/testtool"
	"github.com/relreg/relreg/validate"
)

// scaffoldNow is the clock of every scaffold test: a Tuesday.
var scaffoldNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// loadClean loads the registry at dir and fails the test on any diagnostic.
func loadClean(t *testing.T, dir string) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(os.DirFS(dir), registry.Options{})
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	for _, d := range validate.Static(reg, validate.Options{Now: scaffoldNow}) {
		t.Errorf("%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Rule, d.Message)
	}
	return reg
}

// sshKey generates an ed25519 key with ssh-keygen and returns its public line.
func sshKey(t *testing.T) string {
	t.Helper()
	testtool.Need(t, "ssh-keygen")
	key := filepath.Join(t.TempDir(), "id")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	b, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestInitValidates(t *testing.T) {
	tests := []struct {
		name      string
		opts      registry.InitOptions
		wantFiles []string
	}{
		{
			name:      "defaults",
			wantFiles: []string{"relreg.yaml", "approvers.yaml", "schedules/production.yaml", "README.md", ".github/workflows/relreg.yml"},
		},
		{
			name: "real key and services",
			opts: registry.InitOptions{Name: "acme", Approver: "alice", ApproverEmail: "alice@example.com",
				Key: sshKey(t), Services: []string{"payments", "ledger"}, Timezone: "Europe/Berlin"},
			wantFiles: []string{"relreg.yaml", "approvers.yaml", "schedules/production.yaml", "README.md",
				".github/workflows/relreg.yml", "services/payments.yaml", "services/ledger.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-registry")
			got, err := registry.Init(dir, tt.opts)
			if err != nil {
				t.Fatalf("Init() error = %v", err)
			}
			var want []string
			for _, f := range tt.wantFiles {
				want = append(want, filepath.Join(dir, filepath.FromSlash(f)))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Init() wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			reg := loadClean(t, dir)
			wantName := tt.opts.Name
			if wantName == "" {
				wantName = "my-registry"
			}
			if reg.Config.Metadata.Name != wantName {
				t.Errorf("registry name = %q, want %q", reg.Config.Metadata.Name, wantName)
			}
			if tt.opts.Key != "" && reg.Approvers.Spec.Approvers[0].Keys[0].Key != tt.opts.Key {
				t.Errorf("approver key = %q, want %q", reg.Approvers.Spec.Approvers[0].Keys[0].Key, tt.opts.Key)
			}
		})
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	tests := []struct {
		name     string
		existing string // a file that exists before Init
		wantErr  bool
	}{
		{name: "registry", existing: "relreg.yaml", wantErr: true},
		{name: "approvers", existing: "approvers.yaml", wantErr: true},
		{name: "readme is kept", existing: "README.md", wantErr: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			const mine = "mine, do not touch\n"
			if err := os.WriteFile(filepath.Join(dir, tt.existing), []byte(mine), 0o644); err != nil {
				t.Fatal(err)
			}
			written, err := registry.Init(dir, registry.InitOptions{})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Init() error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !errors.Is(err, fs.ErrExist) {
					t.Errorf("Init() error = %v, want one wrapping fs.ErrExist", err)
				}
				if len(written) != 0 {
					t.Errorf("Init() wrote %v after refusing", written)
				}
			}
			b, _ := os.ReadFile(filepath.Join(dir, tt.existing))
			if string(b) != mine {
				t.Errorf("%s = %q after Init, want it untouched", tt.existing, b)
			}
		})
	}
}

func TestInitWorkflowIsTheExample(t *testing.T) {
	b, err := os.ReadFile("../examples/ci/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != registry.InitWorkflow {
		t.Errorf("registry.InitWorkflow differs from examples/ci/github-actions.yml: keep them the same")
	}
}

// newRegistry inits a registry with service payments and the given
// releases of it, scaffolded by NewRelease in order, each a single bump
// from the one before, and returns its folder.
func newRegistry(t *testing.T, versions ...string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := registry.Init(dir, registry.InitOptions{Services: []string{"payments"}}); err != nil {
		t.Fatal(err)
	}
	for i, v := range versions {
		typ := "" // read from the bump
		if i == 0 {
			typ = "minor"
		}
		reg, err := registry.Load(os.DirFS(dir), registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rel, data, err := registry.NewRelease(reg, registry.NewReleaseOptions{Service: "payments", Version: v, Type: typ, Now: scaffoldNow})
		if err != nil {
			t.Fatalf("NewRelease(%s): %v", v, err)
		}
		if err := registry.CreateFile(dir, rel, data); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNewReleaseVersion(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		version  string
		typ      string
		risk     string
		wantPath string
		wantType string
		wantErr  string
	}{
		{name: "major", existing: []string{"2.3.0", "2.3.1"}, typ: "major", wantPath: "releases/payments/3.0.0.yaml", wantType: "major"},
		{name: "minor", existing: []string{"2.3.0", "2.3.1"}, typ: "minor", wantPath: "releases/payments/2.4.0.yaml", wantType: "minor"},
		{name: "patch", existing: []string{"2.3.1"}, typ: "patch", wantPath: "releases/payments/2.3.2.yaml", wantType: "patch"},
		{name: "emergency", existing: []string{"2.3.1"}, typ: "emergency", risk: "high", wantPath: "releases/payments/2.3.2.yaml", wantType: "emergency"},
		{name: "minor after a pre-release bumps its core", existing: []string{"2.0.0", "3.0.0-rc.1"}, typ: "minor", wantPath: "releases/payments/3.1.0.yaml", wantType: "minor"},
		{name: "type read from the bump", existing: []string{"2.3.1"}, version: "2.4.0", wantPath: "releases/payments/2.4.0.yaml", wantType: "minor"},
		{name: "first release needs a version", typ: "minor", wantErr: "no release yet"},
		{name: "no type without version", existing: []string{"2.3.1"}, wantErr: "--type is required"},
		{name: "two bumps need a type", existing: []string{"2.3.1"}, version: "2.6.0", wantErr: "--type is required"},
		{name: "bad version", version: "v2.4.0", typ: "minor", wantErr: "no \"v\" prefix"},
		{name: "release exists", existing: []string{"2.3.1"}, version: "2.3.1", typ: "patch", wantErr: "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRegistry(t, tt.existing...)
			reg := loadClean(t, dir)
			rel, data, err := registry.NewRelease(reg, registry.NewReleaseOptions{
				Service: "payments", Version: tt.version, Type: tt.typ, Risk: tt.risk, Now: scaffoldNow,
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewRelease() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRelease() error = %v", err)
			}
			if rel != tt.wantPath {
				t.Errorf("NewRelease() path = %s, want %s", rel, tt.wantPath)
			}
			if err := registry.CreateFile(dir, rel, data); err != nil {
				t.Fatal(err)
			}
			reg = loadClean(t, dir)
			id := strings.TrimSuffix(strings.TrimPrefix(rel, "releases/payments/"), ".yaml")
			got := reg.Releases["payments@"+id]
			if got == nil {
				t.Fatalf("release payments@%s not loaded", id)
			}
			if got.Spec.Type != tt.wantType || got.Status.Phase != registry.PhaseDraft {
				t.Errorf("type, phase = %s, %s, want %s, draft", got.Spec.Type, got.Status.Phase, tt.wantType)
			}
		})
	}
}

func TestNewReleaseFlags(t *testing.T) {
	dir := newRegistry(t, "1.0.0")
	reg := loadClean(t, dir)
	rel, data, err := registry.NewRelease(reg, registry.NewReleaseOptions{
		Service: "payments", Type: "minor", Risk: "medium", Title: "SEPA instant transfers",
		Owner: "admin", Changes: []string{"CHG-1042", "CHG-1043"}, Schedule: "production",
		WindowStart: "2026-12-03T09:00:00Z", WindowEnd: "2026-12-03T11:00:00Z",
		Components: []string{"payments@1.1.0"}, Backout: "Redeploy 1.0.0.", Now: scaffoldNow,
	})
	if err != nil {
		t.Fatalf("NewRelease() error = %v", err)
	}
	if strings.Contains(string(data), "TODO") {
		t.Errorf("release with every field given still has a TODO:\n%s", data)
	}
	if err := registry.CreateFile(dir, rel, data); err != nil {
		t.Fatal(err)
	}
	got := loadClean(t, dir).Releases["payments@1.1.0"]
	if got == nil {
		t.Fatalf("payments@1.1.0 not written, got %s", rel)
	}
	checks := []struct{ field, got, want string }{
		{"title", got.Spec.Title, "SEPA instant transfers"},
		{"changes", strings.Join(got.Spec.Changes, ","), "CHG-1042,CHG-1043"},
		{"window", got.Spec.Deployment.Window.Start + "/" + got.Spec.Deployment.Window.End, "2026-12-03T09:00:00Z/2026-12-03T11:00:00Z"},
		{"backout", got.Spec.Backout.Plan, "Redeploy 1.0.0."},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}

	bad := []struct {
		name    string
		opts    registry.NewReleaseOptions
		wantErr string
	}{
		{"unknown service", registry.NewReleaseOptions{Service: "nope", Version: "1.0.0", Type: "minor"}, "unknown service"},
		{"unknown owner", registry.NewReleaseOptions{Service: "payments", Type: "patch", Owner: "mallory"}, "not an approver"},
		{"change id", registry.NewReleaseOptions{Service: "payments", Type: "patch", Changes: []string{"JIRA-1"}}, "changePattern"},
		{"component not allowed", registry.NewReleaseOptions{Service: "payments", Type: "patch", Components: []string{"other@1.0.1"}}, "not in the components"},
		{"half a window", registry.NewReleaseOptions{Service: "payments", Type: "patch", WindowStart: "2026-12-03T09:00:00Z"}, "both --window-start"},
		{"bad risk", registry.NewReleaseOptions{Service: "payments", Type: "patch", Risk: "huge"}, "--risk"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = scaffoldNow
			if _, _, err := registry.NewRelease(reg, tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewRelease() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNextWindowSkipsFreezes(t *testing.T) {
	s := &registry.Schedule{Metadata: registry.NameMeta{Name: "production"}, Spec: registry.ScheduleSpec{
		Timezone: "Europe/Berlin",
		Windows:  []registry.ScheduleWindow{{Name: "thu", Weekly: &registry.Weekly{Days: []string{"thu"}, Start: "22:00", Duration: "4h"}}},
		Freezes:  []registry.Freeze{{Name: "year-end", Start: "2026-12-20T00:00:00Z", End: "2027-01-04T00:00:00Z", Allow: []string{"emergency"}}},
	}}
	tests := []struct {
		name string
		typ  string
		from time.Time
		want string
	}{
		{name: "next thursday, winter time", typ: "minor", from: scaffoldNow, want: "2026-11-26T21:00:00Z"},
		{name: "freeze skipped", typ: "minor", from: time.Date(2026, 12, 18, 0, 0, 0, 0, time.UTC), want: "2027-01-07T21:00:00Z"},
		{name: "emergency passes the freeze", typ: "emergency", from: time.Date(2026, 12, 18, 0, 0, 0, 0, time.UTC), want: "2026-12-24T21:00:00Z"},
		{name: "summer time", typ: "minor", from: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), want: "2026-07-02T20:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv, err := registry.NextWindow(s, tt.typ, tt.from)
			if err != nil {
				t.Fatalf("NextWindow() error = %v", err)
			}
			if got := iv.Start.UTC().Format(time.RFC3339); got != tt.want {
				t.Errorf("NextWindow() start = %s, want %s", got, tt.want)
			}
			if d := iv.End.Sub(iv.Start); d != 4*time.Hour {
				t.Errorf("NextWindow() lasts %s, want 4h", d)
			}
		})
	}
}

// A schedule without windows allows any time: the first hour no freeze
// blocks.
func TestNextWindowAnyTime(t *testing.T) {
	s := &registry.Schedule{Metadata: registry.NameMeta{Name: "lab"}, Spec: registry.ScheduleSpec{
		Freezes: []registry.Freeze{{Name: "audit", Start: "2026-12-01T00:00:00Z", End: "2026-12-02T00:00:00Z"}},
	}}
	tests := []struct {
		from time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "2026-11-25T10:00:00Z"},
		{time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), "2026-12-02T00:00:00Z"},
		{time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), "2026-12-02T00:00:00Z"},
	}
	for _, tt := range tests {
		iv, err := registry.NextWindow(s, "minor", tt.from)
		if err != nil {
			t.Fatalf("NextWindow(%s) error = %v", tt.from, err)
		}
		if got := iv.Start.UTC().Format(time.RFC3339); got != tt.want || iv.End.Sub(iv.Start) != time.Hour {
			t.Errorf("NextWindow(%s) = %s for %s, want %s for 1h", tt.from, got, iv.End.Sub(iv.Start), tt.want)
		}
	}
}

func TestCreateFileRefusesOverwrite(t *testing.T) {
	dir, rel := t.TempDir(), "releases/payments/1.0.0.yaml"
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := registry.CreateFile(dir, rel, []byte("first\n")); err != nil {
		t.Fatalf("CreateFile() error = %v", err)
	}
	err := registry.CreateFile(dir, rel, []byte("second\n"))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateFile() on an existing file error = %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first\n" {
		t.Errorf("file = %q after refused overwrite, want %q", b, "first\n")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1 (no temporary file left)", len(entries))
	}
}

// Scaffolding releases one after another gives each its own window: a
// window another open release of the service holds is skipped.
func TestNewReleaseWindowsDoNotCollide(t *testing.T) {
	dir := newRegistry(t, "1.0.0")
	seen := map[string]bool{}
	for i := range 3 {
		reg := loadClean(t, dir)
		rel, data, err := registry.NewRelease(reg, registry.NewReleaseOptions{Service: "payments", Type: "minor", Risk: "low", Now: scaffoldNow})
		if err != nil {
			t.Fatalf("NewRelease() %d error = %v", i, err)
		}
		if err := registry.CreateFile(dir, rel, data); err != nil {
			t.Fatal(err)
		}
		reg = loadClean(t, dir)
		w := reg.Releases["payments@"+strings.TrimSuffix(filepath.Base(rel), ".yaml")].Spec.Deployment.Window
		if seen[w.Start] {
			t.Errorf("release %s got window %s, which an earlier one holds", rel, w.Start)
		}
		seen[w.Start] = true
	}
}

// TestInitInRepositorySubfolder checks that a registry made in a subfolder
// of a git work tree gets its workflow where GitHub reads it, at the root,
// running relreg on that subfolder.
func TestInitInRepositorySubfolder(t *testing.T) {
	tests := []struct {
		name, sub string
		flag      string // what the workflow passes as --registry; "" for none
	}{
		{name: "root", sub: "."},
		{name: "subfolder", sub: "registry", flag: "registry"},
		{name: "deeper, not there yet", sub: "ops/release/registry", flag: "ops/release/registry"},
		{name: "a space", sub: "release registry", flag: "'release registry'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if _, err := git.PlainInit(root, false); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, filepath.FromSlash(tt.sub))
			written, err := registry.Init(dir, registry.InitOptions{})
			if err != nil {
				t.Fatalf("Init() error = %v", err)
			}
			workflow := filepath.Join(root, ".github", "workflows", "relreg.yml")
			if !slices.Contains(written, workflow) {
				t.Errorf("Init() wrote %v, want %s among them", written, workflow)
			}
			b, err := os.ReadFile(workflow)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			if tt.flag == "" {
				if got != registry.InitWorkflow {
					t.Errorf("workflow at the root differs from InitWorkflow:\n%s", got)
				}
			} else {
				for _, want := range []string{"run: relreg validate --registry " + tt.flag + "\n", "run: relreg check --registry " + tt.flag + " --base \"refs/remotes/origin/$BASE_REF\""} {
					if !strings.Contains(got, want) {
						t.Errorf("workflow lacks %q:\n%s", want, got)
					}
				}
				if strings.Contains(got, "Add --registry DIR") {
					t.Errorf("workflow still tells to add --registry:\n%s", got)
				}
				if _, err := os.Stat(filepath.Join(dir, ".github")); err == nil {
					t.Errorf("Init() wrote a .github folder into the registry's subfolder, where GitHub does not read it")
				}
			}
			loadClean(t, dir)
		})
	}
}
