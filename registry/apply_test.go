package registry

import (
	"fmt"
	"testing"
	"testing/fstest"
)

// Apply must give the registry a full Load gives.
func TestApplyAgreesWithLoad(t *testing.T) {
	base := fstest.MapFS{
		"relreg.yaml":                  {Data: []byte("apiVersion: relreg/v1\nkind: Registry\nmetadata: {name: a}\nspec: {}\n")},
		"approvers.yaml":               {Data: []byte("apiVersion: relreg/v1\nkind: Approvers\nmetadata: {name: approvers}\nspec: {approvers: []}\n")},
		"services/payments.yaml":       {Data: []byte("apiVersion: relreg/v1\nkind: Service\nmetadata: {name: payments}\nspec: {title: P, owner: t}\n")},
		"releases/payments/1.0.0.yaml": {Data: []byte("kind: Release\nspec: {title: one}\n")},
		"releases/payments/1.1.0.yaml": {Data: []byte("kind: Release\nspec: {title: two}\n")},
		"dml/api/1.0.0.yaml":           {Data: []byte("kind: DMLEntry\n")},
		"README.md":                    {Data: []byte("hello\n")},
	}
	tests := []struct {
		name    string
		edit    map[string]string // path -> new content, "" deletes
		applied bool              // Apply reads only the change (no fallback)
	}{
		{"modify a release", map[string]string{"releases/payments/1.0.0.yaml": "kind: Release\nspec: {title: renamed}\n"}, true},
		{"add and delete", map[string]string{"releases/payments/1.2.0.yaml": "kind: Release\n", "releases/payments/1.1.0.yaml": ""}, true},
		{"break a file", map[string]string{"dml/api/1.0.0.yaml": "a: [\n"}, true},
		{"approvers change", map[string]string{"approvers.yaml": "apiVersion: relreg/v1\nkind: Approvers\nmetadata: {name: x}\nspec: {approvers: []}\n"}, true},
		{"delete approvers", map[string]string{"approvers.yaml": ""}, true},
		{"outside the layout", map[string]string{"README.md": "changed\n"}, true},
		{"stray file falls back", map[string]string{"releases/payments/notes.txt": "x\n"}, false},
		{"yml falls back", map[string]string{"services/web.yml": "x: 1\n"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, err := Load(base, Options{})
			if err != nil {
				t.Fatal(err)
			}
			head := fstest.MapFS{}
			for k, v := range base {
				head[k] = v
			}
			var changes []FileChange
			for p, content := range tt.edit {
				ch := FileChange{Path: p}
				if _, ok := base[p]; ok {
					ch.From = "old"
				}
				if content == "" {
					delete(head, p)
				} else {
					head[p] = &fstest.MapFile{Data: []byte(content)}
					ch.To = "new"
				}
				changes = append(changes, ch)
			}
			before := summary(prev)
			got, err := prev.Apply(head, changes, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Load(head, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := summary(got), summary(want); g != w {
				t.Errorf("Apply() = %s\nwant     %s", g, w)
			}
			if after := summary(prev); after != before {
				t.Errorf("Apply changed the registry it was called on: %s\nwas %s", after, before)
			}
			// The same change applied in place.
			u, err := ReadUpdate(head, changes, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if u.Reload == tt.applied {
				t.Fatalf("ReadUpdate().Reload = %v, want %v", u.Reload, !tt.applied)
			}
			if !u.Reload {
				prev.Update(u)
				if g, w := summary(prev), summary(want); g != w {
					t.Errorf("Update() = %s\nwant      %s", g, w)
				}
			}
			if tt.applied {
				for _, d := range got.Files {
					if _, edited := tt.edit[d.Path]; !edited && d != findDoc(prev, d.Path) {
						t.Errorf("%s was read again, want it shared with the previous registry", d.Path)
					}
				}
			}
		})
	}
}

func findDoc(r *Registry, path string) *Document {
	for _, d := range r.Files {
		if d.Path == path {
			return d
		}
	}
	return nil
}

func summary(r *Registry) string {
	var files []string
	for _, d := range r.Files {
		files = append(files, fmt.Sprintf("%s(%v)", d.Path, d.Node != nil))
	}
	var diags []string
	ds := append([]Diagnostic(nil), r.Diagnostics...)
	SortDiagnostics(ds)
	for _, d := range ds {
		diags = append(diags, d.File+":"+d.Rule)
	}
	keys := func(n int) int { return n }
	cfg, app := r.Config != nil, r.Approvers != nil
	return fmt.Sprintf("files=%v diags=%v services=%d releases=%d schedules=%d dml=%d config=%v approvers=%v",
		files, diags, keys(len(r.Services)), len(r.Releases), len(r.Schedules), len(r.DML), cfg, app)
}
