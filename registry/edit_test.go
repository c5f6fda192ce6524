package registry

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// testApproval is an approval whose signature is not checked by
// AppendApproval; it only needs the shape of an armor.
var testApproval = Approval{
	Step: "plan", By: "alice", Role: "release-manager", At: "2026-11-20T10:00:00Z",
	Digest:    "sha256:" + strings.Repeat("ab", 32),
	Signature: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\nAAAB\n-----END SSH SIGNATURE-----\n",
}

func TestAppendApproval(t *testing.T) {
	tests := []struct {
		file    string
		indent  int    // column of the new entry's dash
		removed string // text of the input the edit removes, besides inserting the entry
		key     bool   // the edit also adds "approvals:\n"
	}{
		{file: "block-list.yaml", indent: 4},
		{file: "middle.yaml", indent: 0},
		{file: "flow-empty.yaml", indent: 2, removed: " []"},
		{file: "null-value.yaml", indent: 2},
		{file: "no-approvals.yaml", indent: 2, key: true},
		{file: "keep-chomping.yaml", indent: 2, key: true}, // the |+ value keeps its trailing newlines
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "sig", "edit", tt.file)
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := AppendApproval(in, testApproval)
			if err != nil {
				t.Fatalf("AppendApproval() error = %v", err)
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(want) {
				t.Errorf("AppendApproval() =\n%s\nwant\n%s", out, want)
			}
			// Every byte but the new entry is kept.
			entry := entryText(testApproval, tt.indent)
			if tt.key {
				entry = "approvals:\n" + entry
			}
			if !strings.Contains(string(out), entry) {
				t.Fatalf("AppendApproval() output lacks the entry\n%s", entry)
			}
			rest := strings.Replace(string(out), entry, "", 1)
			wantRest := string(in)
			if tt.removed != "" {
				wantRest = strings.Replace(wantRest, tt.removed, "", 1)
			}
			if rest != wantRest {
				t.Errorf("AppendApproval() changed more than the entry:\n%s\nwant\n%s", rest, wantRest)
			}
			// The result reads back with the entry last.
			n, ds := ParseYAML(out, DefaultLimits)
			if len(ds) > 0 {
				t.Fatalf("ParseYAML(result): %v", ds)
			}
			list := (&Document{Node: n}).Approvals()
			if got := list[len(list)-1]; got != testApproval {
				t.Errorf("last approval = %+v, want %+v", got, testApproval)
			}
		})
	}
}

func TestAppendApprovalRefuses(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string
	}{
		{file: "flow-full.yaml", wantErr: "flow list"},
		{file: "not-a-list.yaml", wantErr: "not a list"},
		{file: "flow-multiline.yaml", wantErr: "one line"},
		{file: "doc-end.yaml", wantErr: "edit it by hand"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "sig", "edit", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = AppendApproval(in, testApproval)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("AppendApproval() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestYAMLScalar(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "release-manager", want: "release-manager"},
		{in: "2026-11-20T10:00:00Z", want: "2026-11-20T10:00:00Z"},
		{in: "sha256:abc", want: "sha256:abc"},
		{in: "true", want: `"true"`},
		{in: "null", want: `"null"`},
		{in: "1.5", want: `"1.5"`},
		{in: "", want: `""`},
		{in: "a: b", want: `"a: b"`},
		{in: "# x", want: `"# x"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := yamlScalar(tt.in); got != tt.want {
				t.Errorf("yamlScalar(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteFileAtomicKeepsMode(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(name, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(name, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(name)
	if string(data) != "new" {
		t.Errorf("content = %q, want %q", data, "new")
	}
	entries, _ := os.ReadDir(filepath.Dir(name))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files, want 1 (no temporary file left)", len(entries))
	}
}
