package registry_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/relreg/relreg/registry"
)

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256Of(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestFileDigest(t *testing.T) {
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 5<<20+12345) // several MiB, not a multiple of any buffer
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	tests := []struct {
		name    string
		data    []byte // nil: the file is not created
		path    string // instead of a created file
		wantErr string
	}{
		{name: "empty", data: []byte{}},
		{name: "small", data: []byte("hello\n")},
		{name: "multi-MiB", data: big},
		{name: "missing", path: filepath.Join(dir, "nope.tar.gz"), wantErr: "no such file"},
		{name: "folder", path: dir, wantErr: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path
			if tt.data != nil {
				p = writeFile(t, dir, tt.name+".bin", tt.data)
			}
			digest, size, err := registry.FileDigest(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FileDigest() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FileDigest() error = %v", err)
			}
			if want := sha256Of(tt.data); digest != want {
				t.Errorf("FileDigest() digest = %s, want %s", digest, want)
			}
			if size != int64(len(tt.data)) {
				t.Errorf("FileDigest() size = %d, want %d", size, len(tt.data))
			}
		})
	}
}

// TestFileDigestStreams digests a 64 MiB file and checks that it allocated
// far less than the file's size: artifacts can be gigabytes.
func TestFileDigestStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB file")
	}
	const size = 64 << 20
	p := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriter(f)
	chunk := []byte(strings.Repeat("relreg streams artifacts\n", 1000))
	for written := 0; written < size; {
		n := min(len(chunk), size-written)
		w.Write(chunk[:n])
		h.Write(chunk[:n])
		written += n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	digest, gotSize, err := registry.FileDigest(p)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256:" + hex.EncodeToString(h.Sum(nil)); digest != want || gotSize != size {
		t.Errorf("FileDigest() = %s, %d, want %s, %d", digest, gotSize, want, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("FileDigest() allocated %d bytes for a %d-byte file, want under 8 MiB: it must stream", alloc, size)
	}
}

func TestNewDML(t *testing.T) {
	const rev = "da4f80ca3a07efb2d059502b35a577ca5f0064bd"
	art := t.TempDir()
	tarball := writeFile(t, art, "payments_2.4.0_linux_amd64.tar.gz", []byte("a tarball\n"))
	sbom := writeFile(t, art, "payments_2.4.0.spdx.json", []byte(`{"spdxVersion": "SPDX-2.3"}`+"\n"))
	spaced := writeFile(t, art, "release notes.txt", []byte("notes\n"))
	sameName := writeFile(t, art, "other/payments_2.4.0.spdx.json", []byte("another\n"))

	tests := []struct {
		name         string
		opts         registry.NewDMLOptions
		wantURIs     []string
		wantSource   bool
		wantWarning  string // a substring of the only warning; "" for none
		wantErr      string
		wantExisting bool // the error wraps fs.ErrExist
	}{
		{
			name: "uri prefix and source",
			opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball, sbom},
				URIPrefix:        "https://artifacts.example.com/payments/2.4.0/",
				SourceRepository: "https://git.example.com/payments/api", SourceRevision: strings.ToUpper(rev)},
			wantURIs: []string{
				"https://artifacts.example.com/payments/2.4.0/payments_2.4.0_linux_amd64.tar.gz",
				"https://artifacts.example.com/payments/2.4.0/payments_2.4.0.spdx.json",
			},
			wantSource: true,
		},
		{
			name:     "no uri, no source",
			opts:     registry.NewDMLOptions{Component: "payments", Version: "3.0.0-rc.1", Files: []string{tarball}},
			wantURIs: []string{""},
		},
		{
			name: "name escaped in the uri",
			opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{spaced},
				URIPrefix: "https://artifacts.example.com/x"},
			wantURIs: []string{"https://artifacts.example.com/x/release%20notes.txt"},
		},
		{
			name:        "component no service lists",
			opts:        registry.NewDMLOptions{Component: "ledger-db", Version: "1.0.0", Files: []string{tarball}},
			wantURIs:    []string{""},
			wantWarning: "no service lists component ledger-db in spec.components (payments)",
		},
		{name: "bad component", opts: registry.NewDMLOptions{Component: "Payments", Version: "2.4.0", Files: []string{tarball}},
			wantErr: `component name "Payments" does not match`},
		{name: "v prefix", opts: registry.NewDMLOptions{Component: "payments", Version: "v2.4.0", Files: []string{tarball}},
			wantErr: `no "v" prefix, write 2.4.0`},
		{name: "existing entry", opts: registry.NewDMLOptions{Component: "payments", Version: "1.0.0", Files: []string{tarball}},
			wantErr: "DML entry payments@1.0.0 already exists in dml/payments/1.0.0.yaml", wantExisting: true},
		{name: "no files", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0"},
			wantErr: "name at least one artifact file"},
		{name: "same base name", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{sbom, sameName}},
			wantErr: `have the same name "payments_2.4.0.spdx.json"`},
		{name: "missing file", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball, filepath.Join(art, "nope.tgz")}},
			wantErr: "no such file"},
		{name: "relative uri prefix", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball}, URIPrefix: "artifacts/payments"},
			wantErr: "is not an absolute URL"},
		{name: "uri prefix with query", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball}, URIPrefix: "https://a.example/get?x=1"},
			wantErr: "has a query or fragment"},
		{name: "revision without repository", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball}, SourceRevision: rev},
			wantErr: "--source-revision needs --source-repository"},
		{name: "repository without revision", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball}, SourceRepository: "https://git.example.com/x"},
			wantErr: "--source-repository needs --source-revision"},
		{name: "short revision", opts: registry.NewDMLOptions{Component: "payments", Version: "2.4.0", Files: []string{tarball},
			SourceRepository: "https://git.example.com/x", SourceRevision: "da4f80c"},
			wantErr: "is not a full 40-hex git commit id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := registry.Init(dir, registry.InitOptions{Services: []string{"payments"}}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "dml/payments/1.0.0.yaml", []byte(dmlEntryYAML("payments", "1.0.0", "verified", "", sha256Of([]byte("old\n")))))
			reg := loadClean(t, dir)

			rel, data, warnings, err := registry.NewDML(reg, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewDML() error = %v, want one containing %q", err, tt.wantErr)
				}
				if got := errors.Is(err, fs.ErrExist); got != tt.wantExisting {
					t.Errorf("errors.Is(NewDML() error, fs.ErrExist) = %v, want %v", got, tt.wantExisting)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewDML() error = %v", err)
			}
			if want := "dml/" + tt.opts.Component + "/" + tt.opts.Version + ".yaml"; rel != want {
				t.Errorf("NewDML() path = %s, want %s", rel, want)
			}
			switch {
			case tt.wantWarning == "" && len(warnings) > 0:
				t.Errorf("NewDML() warnings = %q, want none", warnings)
			case tt.wantWarning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.wantWarning)):
				t.Errorf("NewDML() warnings = %q, want one containing %q", warnings, tt.wantWarning)
			}
			if err := registry.CreateFile(dir, rel, data); err != nil {
				t.Fatal(err)
			}
			reg = loadClean(t, dir) // the new entry validates
			e := reg.DML[tt.opts.Component+"@"+tt.opts.Version]
			if e == nil {
				t.Fatalf("the written entry %s did not load", rel)
			}
			if e.Status.State != registry.StateCandidate {
				t.Errorf("status.state = %q, want candidate", e.Status.State)
			}
			if (e.Spec.Source != nil) != tt.wantSource {
				t.Errorf("spec.source = %+v, want present %v", e.Spec.Source, tt.wantSource)
			} else if tt.wantSource && e.Spec.Source.Revision != rev {
				t.Errorf("spec.source.revision = %s, want %s (lowercased)", e.Spec.Source.Revision, rev)
			}
			if len(e.Spec.Artifacts) != len(tt.opts.Files) {
				t.Fatalf("%d artifacts, want %d", len(e.Spec.Artifacts), len(tt.opts.Files))
			}
			for i, a := range e.Spec.Artifacts {
				b, err := os.ReadFile(tt.opts.Files[i])
				if err != nil {
					t.Fatal(err)
				}
				want := registry.Artifact{Name: filepath.Base(tt.opts.Files[i]), URI: tt.wantURIs[i], Digest: sha256Of(b), Size: int64(len(b))}
				if a != want {
					t.Errorf("artifact %d = %+v, want %+v", i, a, want)
				}
			}
			if !strings.Contains(string(data), "relreg approve dml/"+tt.opts.Component+"@"+tt.opts.Version+" --step verify") {
				t.Errorf("the header does not say how to verify the entry:\n%s", data)
			}
		})
	}
}

func TestNewDMLWarnings(t *testing.T) {
	tests := []struct {
		name     string
		services map[string]string // name -> spec.components line, "" for none
		want     string
	}{
		{name: "listed", services: map[string]string{"payments": "[payments-api]"}, want: ""},
		{name: "a service without allow-list", services: map[string]string{"payments": "[other]", "ledger": ""}, want: ""},
		{name: "not listed", services: map[string]string{"payments": "[other]", "ledger": "[ledger]"}, want: "no service lists component payments-api in spec.components (ledger, payments)"},
		{name: "no services", want: "no service exists yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := registry.Init(dir, registry.InitOptions{}); err != nil {
				t.Fatal(err)
			}
			for name, comps := range tt.services {
				doc := "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  title: T\n  owner: admin\n"
				if comps != "" {
					doc += "  components: " + comps + "\n"
				}
				writeFile(t, dir, "services/"+name+".yaml", []byte(doc))
			}
			reg := loadClean(t, dir)
			art := writeFile(t, t.TempDir(), "a.tgz", []byte("a\n"))
			_, _, warnings, err := registry.NewDML(reg, registry.NewDMLOptions{Component: "payments-api", Version: "1.0.0", Files: []string{art}})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(warnings, "\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("NewDML() warnings = %q, want %q", got, tt.want)
			}
		})
	}
}

// dmlEntryYAML is a DML entry with one artifact named after the component.
func dmlEntryYAML(component, version, state, reason string, digests ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: relreg/v1\nkind: DMLEntry\nmetadata:\n  component: " + component + "\n  version: " + version + "\nspec:\n  artifacts:\n")
	for i, d := range digests {
		b.WriteString("    - name: " + component + "_" + version + "_" + string(rune('a'+i)) + ".tar.gz\n      digest: " + d + "\n")
	}
	b.WriteString("status:\n  state: " + state + "\n")
	if reason != "" {
		b.WriteString("  reason: " + reason + "\n")
	}
	return b.String()
}

func TestCheckArtifacts(t *testing.T) {
	dir := t.TempDir()
	if _, err := registry.Init(dir, registry.InitOptions{Services: []string{"payments"}}); err != nil {
		t.Fatal(err)
	}
	art := t.TempDir()
	content := map[string][]byte{
		"good":      []byte("verified bytes\n"),
		"cand":      []byte("candidate bytes\n"),
		"gone":      []byte("withdrawn bytes\n"),
		"both":      []byte("verified here, withdrawn there\n"),
		"twice":     []byte("verified in two entries\n"),
		"stranger":  []byte("in no entry\n"),
		"candidate": []byte("in two candidates\n"),
	}
	d := func(k string) string { return sha256Of(content[k]) }
	entries := map[string]string{
		"dml/payments/1.0.0.yaml": dmlEntryYAML("payments", "1.0.0", "verified", "", d("good"), d("both"), d("twice")),
		"dml/payments/1.1.0.yaml": dmlEntryYAML("payments", "1.1.0", "candidate", "", d("cand"), d("candidate")),
		"dml/payments/0.9.0.yaml": dmlEntryYAML("payments", "0.9.0", "withdrawn", "CVE-2026-1 in the parser", d("gone"), d("both")),
		"dml/ledger/2.0.0.yaml":   dmlEntryYAML("ledger", "2.0.0", "verified", "", d("twice")),
		"dml/ledger/2.1.0.yaml":   dmlEntryYAML("ledger", "2.1.0", "candidate", "", d("candidate")),
	}
	for p, doc := range entries {
		writeFile(t, dir, p, []byte(doc))
	}
	reg := loadClean(t, dir)

	tests := []struct {
		name        string
		file        string // a key of content, or a missing file
		fileName    string // the file's base name
		wantResult  string
		wantMatches []match
		wantNames   bool // every match's NameMatches
	}{
		{name: "verified", file: "good", fileName: "payments_1.0.0_a.tar.gz", wantResult: registry.ArtifactVerified,
			wantMatches: []match{{"dml/payments@1.0.0", "payments_1.0.0_a.tar.gz", "verified"}}, wantNames: true},
		{name: "verified under another name", file: "good", fileName: "renamed.tgz", wantResult: registry.ArtifactVerified,
			wantMatches: []match{{"dml/payments@1.0.0", "payments_1.0.0_a.tar.gz", "verified"}}},
		{name: "candidate", file: "cand", fileName: "c.tgz", wantResult: registry.ArtifactCandidate,
			wantMatches: []match{{"dml/payments@1.1.0", "payments_1.1.0_a.tar.gz", "candidate"}}},
		{name: "withdrawn", file: "gone", fileName: "g.tgz", wantResult: registry.ArtifactWithdrawn,
			wantMatches: []match{{"dml/payments@0.9.0", "payments_0.9.0_a.tar.gz", "withdrawn"}}},
		{name: "withdrawal wins over verification", file: "both", fileName: "b.tgz", wantResult: registry.ArtifactWithdrawn,
			wantMatches: []match{{"dml/payments@0.9.0", "payments_0.9.0_b.tar.gz", "withdrawn"}, {"dml/payments@1.0.0", "payments_1.0.0_b.tar.gz", "verified"}}},
		{name: "verified twice, sorted", file: "twice", fileName: "t.tgz", wantResult: registry.ArtifactVerified,
			wantMatches: []match{{"dml/ledger@2.0.0", "ledger_2.0.0_a.tar.gz", "verified"}, {"dml/payments@1.0.0", "payments_1.0.0_c.tar.gz", "verified"}}},
		{name: "two candidates", file: "candidate", fileName: "cc.tgz", wantResult: registry.ArtifactCandidate,
			wantMatches: []match{{"dml/ledger@2.1.0", "ledger_2.1.0_a.tar.gz", "candidate"}, {"dml/payments@1.1.0", "payments_1.1.0_b.tar.gz", "candidate"}}},
		{name: "unknown", file: "stranger", fileName: "s.tgz", wantResult: registry.ArtifactUnknown},
		{name: "unreadable", file: "missing", fileName: "missing.tgz", wantResult: registry.ArtifactUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(art, tt.name, tt.fileName)
			if data, ok := content[tt.file]; ok {
				writeFile(t, art, filepath.Join(tt.name, tt.fileName), data)
			}
			checks := registry.CheckArtifacts(reg, []string{p})
			if len(checks) != 1 {
				t.Fatalf("CheckArtifacts() returned %d results, want 1", len(checks))
			}
			c := checks[0]
			if c.File != p || c.Result != tt.wantResult {
				t.Errorf("CheckArtifacts() = %s: %s, want %s: %s", c.File, c.Result, p, tt.wantResult)
			}
			if got := c.OK(); got != (tt.wantResult == registry.ArtifactVerified) {
				t.Errorf("OK() = %v for result %s", got, c.Result)
			}
			if tt.wantResult == registry.ArtifactUnreadable {
				if c.Error == "" || c.Digest != "" {
					t.Errorf("unreadable file: Error = %q, Digest = %q; want an error and no digest", c.Error, c.Digest)
				}
			} else if want := d(tt.file); c.Digest != want {
				t.Errorf("Digest = %s, want %s", c.Digest, want)
			}
			var got []match
			for _, m := range c.Entries {
				got = append(got, match{m.Subject, m.Artifact, m.State})
				if m.NameMatches != tt.wantNames {
					t.Errorf("%s NameMatches = %v, want %v", m.Subject, m.NameMatches, tt.wantNames)
				}
				if m.State == registry.StateWithdrawn && m.Reason != "CVE-2026-1 in the parser" {
					t.Errorf("%s Reason = %q, want the entry's status.reason", m.Subject, m.Reason)
				}
				if want := "dml/" + strings.ReplaceAll(strings.TrimPrefix(m.Subject, "dml/"), "@", "/") + ".yaml"; m.Path != want {
					t.Errorf("%s Path = %s, want %s", m.Subject, m.Path, want)
				}
			}
			if !slices.Equal(got, tt.wantMatches) {
				t.Errorf("Entries = %v, want %v", got, tt.wantMatches)
			}
		})
	}
}

// match is a DMLMatch reduced to what TestCheckArtifacts compares.
type match struct{ subject, artifact, state string }

// TestCheckArtifactsExample recreates artifacts of examples/basic the way
// its README explains (the name repeated, one a line, cut to the size) and
// checks them against the example's DML.
func TestCheckArtifactsExample(t *testing.T) {
	reg, err := registry.Load(os.DirFS("../examples/basic"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		size       int64
		wantResult string
		wantEntry  string
	}{
		{name: "payments-api_2.4.0_linux_amd64.tar.gz", size: 18231040, wantResult: registry.ArtifactVerified, wantEntry: "dml/payments-api@2.4.0"},
		{name: "ledger-service_1.7.0.spdx.json", size: 226673, wantResult: registry.ArtifactWithdrawn, wantEntry: "dml/ledger-service@1.7.0"},
		{name: "web-portal-bff_3.2.0.spdx.json", size: 155394, wantResult: registry.ArtifactCandidate, wantEntry: "dml/web-portal-bff@3.2.0"},
		{name: "payments-api_2.4.0.spdx.json", size: 187947, wantResult: registry.ArtifactUnknown}, // one byte short
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			writeYes(t, p, tt.name, tt.size)
			c := registry.CheckArtifacts(reg, []string{p})[0]
			if c.Result != tt.wantResult {
				t.Errorf("result = %s, want %s (%+v)", c.Result, tt.wantResult, c)
			}
			if tt.wantEntry == "" {
				return
			}
			if len(c.Entries) != 1 || c.Entries[0].Subject != tt.wantEntry || !c.Entries[0].NameMatches {
				t.Errorf("Entries = %+v, want %s with the same artifact name", c.Entries, tt.wantEntry)
			}
		})
	}
}

// writeYes writes what `yes line | head -c size` prints to p.
func writeYes(t *testing.T, p, line string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	unit := []byte(line + "\n")
	for left := size; left > 0; {
		n := min(int64(len(unit)), left)
		w.Write(unit[:n])
		left -= n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
