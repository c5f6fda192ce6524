package registry

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// linkedRegistry writes a registry whose layout holds symbolic links to
// files and folders outside it, and returns its folder. What the links
// point at holds "hunter2": it must never be read.
func linkedRegistry(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	reg := filepath.Join(root, "reg")
	files := map[string]string{
		"reg/relreg.yaml":                  "apiVersion: relreg/v1\nkind: Registry\nmetadata: {name: acme}\nspec: {}\n",
		"reg/services/payments.yaml":       "apiVersion: relreg/v1\nkind: Service\nmetadata: {name: payments}\nspec: {title: P, owner: team}\n",
		"reg/releases/payments/1.0.0.yaml": "apiVersion: relreg/v1\nkind: Release\n",
		"outside/secret.yaml":              "hunter2: [unclosed\n",
		"outside/dir/1.0.0.yaml":           "hunter2: [unclosed\n",
		"outside/dml/x/1.0.0.yaml":         "hunter2: [unclosed\n",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"reg/releases/payments/2.6.0.yaml": "../../../outside/secret.yaml",
		"reg/releases/linked":              "../../outside/dir",
		"reg/services/linked.yaml":         "payments.yaml", // inside the registry: still refused
		"reg/dml":                          "../outside/dml",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	return reg
}

func TestLoadRefusesLinks(t *testing.T) {
	reg := linkedRegistry(t)
	wantDiags := []string{"dml", "releases/linked", "releases/payments/2.6.0.yaml", "services/linked.yaml"}
	tests := []struct {
		name   string
		subset map[string]bool
		want   []string
	}{
		{"whole", nil, wantDiags},
		{"subset", map[string]bool{"releases/payments/2.6.0.yaml": true, "releases/linked/1.0.0.yaml": true, "dml/x/1.0.0.yaml": true, "services/linked.yaml": true}, wantDiags},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(os.DirFS(reg), Options{Subset: tt.subset})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range r.Diagnostics {
				if strings.Contains(d.Message, "hunter2") {
					t.Errorf("a diagnostic quotes what a link points at: %v", d)
				}
				if d.Rule == "layout/path" && strings.Contains(d.Message, "symbolic link") {
					got = append(got, d.File)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("layout/path on links = %q, want %q (all: %v)", got, tt.want, r.Diagnostics)
			}
			for _, d := range r.Files {
				if d.Path == "releases/payments/2.6.0.yaml" || strings.HasPrefix(d.Path, "dml/") || strings.HasPrefix(d.Path, "releases/linked/") || d.Path == "services/linked.yaml" {
					t.Errorf("%s is loaded as a document, through a link", d.Path)
				}
			}
		})
	}
}

func TestWorkTreeChangesDoNotFollowLinks(t *testing.T) {
	reg := linkedRegistry(t)
	changes, err := WorkTreeChanges(emptyFS{}, os.DirFS(reg))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ch := range changes {
		got[ch.Path] = ch.To
	}
	// A link is hashed as git hashes it: by its target.
	for p, target := range map[string]string{
		"releases/payments/2.6.0.yaml": "../../../outside/secret.yaml",
		"releases/linked":              "../../outside/dir",
		"dml":                          "../outside/dml",
	} {
		if want := plumbing.ComputeHash(plumbing.BlobObject, []byte(target)).String(); got[p] != want {
			t.Errorf("change of %s = %q, want the hash of its target %q (%s)", p, got[p], target, want)
		}
	}
	for p := range got {
		if strings.HasPrefix(p, "dml/") || strings.HasPrefix(p, "releases/linked/") {
			t.Errorf("WorkTreeChanges went through a link to %s", p)
		}
	}
	// Reading the change refuses to read the link: the registry is loaded
	// whole, where the layout rule reports it.
	u, err := FetchUpdate(os.DirFS(reg), []FileChange{{Path: "releases/payments/2.6.0.yaml", To: got["releases/payments/2.6.0.yaml"]}}, Options{})
	if err != nil || !u.Reload {
		t.Errorf("FetchUpdate(link) = %+v, %v; want a Reload", u, err)
	}
	facts, err := FactsOf(os.DirFS(reg), []string{"releases/payments/2.6.0.yaml"}, nil)
	if err != nil || len(facts) != 0 {
		t.Errorf("FactsOf(link) = %v, %v; want nothing read", facts, err)
	}
}
