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

// A CRLF file stays CRLF, and a file without a final line break gains none
// when the entry goes before its last line: the result is the LF result of
// the same file with its line breaks, or its last one, changed the same way.
// An entry at the end of such a file ends with a line break, which its
// signature's block scalar needs.
func TestAppendApprovalLineEndings(t *testing.T) {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	tests := []struct {
		file  string
		atEnd bool // the entry goes after the file's last line
	}{
		{file: "block-list.yaml"},
		{file: "middle.yaml"},
		{file: "flow-empty.yaml"},
		{file: "null-value.yaml", atEnd: true},
		{file: "no-approvals.yaml", atEnd: true},
		{file: "keep-chomping.yaml", atEnd: true},
	}
	for _, tt := range tests {
		in, err := os.ReadFile(filepath.Join("testdata", "sig", "edit", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		lf, err := AppendApproval(in, testApproval)
		if err != nil {
			t.Fatalf("%s: AppendApproval(LF) error = %v", tt.file, err)
		}
		type variant struct {
			name    string
			src     string // the input
			want    string // the output
			wantErr string // or the error
		}
		variants := []variant{{name: "crlf", src: crlf(string(in)), want: crlf(string(lf))}}
		for _, eol := range []string{"\n", "\r\n"} {
			name, src, want := "no final newline", string(in), string(lf)
			if eol == "\r\n" {
				name, src, want = "crlf and no final newline", crlf(src), crlf(want)
			}
			src = strings.TrimRight(src, "\r\n")
			switch {
			case tt.file == "keep-chomping.yaml":
				// The |+ value at the end would gain a newline: refused.
				variants = append(variants, variant{name: name, src: src, wantErr: "edit it by hand"})
			case tt.atEnd:
				// A line break, then the entry with its final one: the result
				// of the same file with its final line break.
				variants = append(variants, variant{name: name, src: src, want: want})
			default:
				variants = append(variants, variant{name: name, src: src, want: strings.TrimSuffix(want, eol)})
			}
		}
		for _, v := range variants {
			t.Run(tt.file+"/"+v.name, func(t *testing.T) {
				out, err := AppendApproval([]byte(v.src), testApproval)
				if v.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), v.wantErr) {
						t.Fatalf("AppendApproval() error = %v, want one containing %q", err, v.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("AppendApproval() error = %v", err)
				}
				if string(out) != v.want {
					t.Errorf("AppendApproval() = %q\nwant %q", out, v.want)
				}
				isCRLF := strings.Contains(v.src, "\r\n")
				for i, l := range strings.SplitAfter(string(out), "\n") {
					if strings.HasSuffix(l, "\n") && strings.HasSuffix(l, "\r\n") != isCRLF {
						t.Errorf("line %d = %q: want every line to end like the file's (CRLF %v)", i+1, l, isCRLF)
					}
				}
				if got, want := strings.HasSuffix(string(out), "\n"), strings.HasSuffix(v.src, "\n") || tt.atEnd; got != want {
					t.Errorf("output ends with a line break = %v, want %v", got, want)
				}
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
}

// Writing through a symbolic link replaces the file it points to and keeps
// the link.
func TestWriteFileAtomicFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	targetDir := filepath.Join(dir, "real")
	if err := os.Mkdir(targetDir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(targetDir, "f.yaml")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(filepath.Join("real", "f.yaml"), link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is a %v after the write, want it to stay a symbolic link", link, fi.Mode().Type())
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "new" {
		t.Errorf("target content = %q, want %q", data, "new")
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	for _, f := range []struct {
		dir  string
		want int
	}{{dir: dir, want: 2}, {dir: targetDir, want: 1}} {
		if entries, _ := os.ReadDir(f.dir); len(entries) != f.want {
			t.Errorf("%s holds %d entries, want %d: a temporary file was left behind", f.dir, len(entries), f.want)
		}
	}
}
