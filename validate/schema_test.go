package validate

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relreg/relreg/registry"
)

// validSchemaDir is a registry with one valid document of each kind, every
// field of contract section 2 filled in.
const validSchemaDir = "testdata/schema/valid"

// fixtureFS returns the valid registry as a MapFS, to be edited by a test.
func fixtureFS(t testing.TB) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(validSchemaDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(os.DirFS(validSchemaDir), p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func loadFS(t testing.TB, fsys fs.FS) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(fsys, registry.Options{})
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if len(reg.Diagnostics) > 0 {
		t.Fatalf("Load() diagnostics: %v", reg.Diagnostics)
	}
	return reg
}

func TestSchemaValidDocuments(t *testing.T) {
	reg := loadFS(t, fixtureFS(t))
	kinds := map[string]bool{}
	for _, d := range reg.Files {
		kinds[d.Kind] = true
	}
	for _, k := range registry.Kinds {
		if !kinds[k] {
			t.Errorf("fixture %s has no %s document", validSchemaDir, k)
		}
	}
	for _, d := range reg.Files {
		t.Run(d.Path, func(t *testing.T) {
			if got := ValidateSchema(d); len(got) > 0 {
				t.Errorf("ValidateSchema(%s) = %v, want no diagnostics", d.Path, got)
			}
		})
	}
	if got := schemaRule(reg, Options{}); len(got) > 0 {
		t.Errorf("schemaRule() = %v, want no diagnostics", got)
	}
}

func TestSchemaDiagnostics(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		old     string // replaced by new in the valid fixture file
		new     string
		content string // replaces the whole file instead, when set
		line    int
		col     int
		msg     string // a fragment of the message
		count   int    // diagnostics expected in the file; 0 means 1
	}{
		{
			name: "unknown field", file: "releases/payments/2.4.0.yaml",
			old: "  title: SEPA", new: "  titel: SEPA",
			line: 7, col: 3, msg: `spec: unknown field "titel": did you mean "title"?`,
		},
		{
			name: "unknown top-level field", file: "services/payments.yaml",
			old: "  components: [payments-api, payments-db-migrations]\n", new: "  components: [payments-api, payments-db-migrations]\nlabels: {}\n",
			line: 10, col: 1, msg: `unknown field "labels": remove it`,
		},
		{
			name: "misspelt field beside the right one", file: "services/payments.yaml",
			old: "  owner: team-payments\n", new: "  owner: team-payments\n  ownr: team-payments\n",
			line: 8, col: 3, msg: `spec: unknown field "ownr": remove it (known fields: components, owner, supported, title)`,
		},
		{
			name: "scalar for a list", file: "releases/payments/2.4.0.yaml",
			old: "[CHG-1042, CHG-1043]", new: "CHG-1042",
			line: 12, col: 12, msg: `spec.changes: must be a list, not a string: write [CHG-1042]`,
		},
		{
			name: "missing required field", file: "services/payments.yaml",
			old: "  owner: team-payments\n", new: "",
			line: 6, col: 3, msg: `spec: missing required field "owner"`,
		},
		{
			name: "missing release phase", file: "releases/payments/2.4.0.yaml",
			old: "  phase: planned\n", new: "",
			line: 28, col: 3, msg: `status: missing required field "phase"`,
		},
		{
			name: "withdrawn DML entry without reason", file: "dml/payments-api/2.4.0.yaml",
			old: "  reason: built from the wrong branch\n", new: "",
			line: 14, col: 3, msg: `status: missing required field "reason": a withdrawn entry says why`,
		},
		{
			name: "bad enum", file: "releases/payments/2.4.0.yaml",
			old: "risk: medium", new: "risk: urgent",
			line: 10, col: 9, msg: `spec.risk: "urgent" is not one of low, medium, high`,
		},
		{
			name: "bad approval step", file: "releases/payments/2.4.0.yaml",
			old: "step: plan", new: "step: sign",
			line: 36, col: 11, msg: `approvals[0].step: "sign" is not one of plan, build, accept, deploy, verify, schedule, govern`,
		},
		{
			name: "bad name", file: "services/payments.yaml",
			old: "name: payments", new: "name: Payments",
			line: 4, col: 9, msg: `metadata.name: "Payments" is not a valid name`,
		},
		{
			name: "version as a number", file: "releases/payments/2.4.0.yaml",
			old: "  version: 2.4.0\nspec", new: "  version: 2.10\nspec",
			line: 5, col: 12, msg: `metadata.version: 2.10 is a number: quote it, version: "2.10"`,
		},
		{
			name: "component version as a number", file: "releases/payments/2.4.0.yaml",
			old: "version: 2.4.0}", new: "version: 3}",
			line: 14, col: 37, msg: `spec.components[0].version: 3 is a number: quote it, version: "3"`,
		},
		{
			name: "DML version as a number", file: "dml/payments-api/2.4.0.yaml",
			old: "  version: 2.4.0", new: "  version: 2.4e1",
			line: 5, col: 12, msg: `metadata.version: 2.4e1 is a number: quote it, version: "2.4e1"`,
		},
		{
			name: "boolean for a string", file: "services/payments.yaml",
			old: "title: Payments API", new: "title: true",
			line: 6, col: 10, msg: `spec.title: true is a boolean: quote it, title: "true"`,
		},
		{
			name: "bad digest", file: "dml/payments-api/2.4.0.yaml",
			old: "digest: sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", new: "digest: sha256:ABC",
			line: 10, col: 15, msg: `spec.artifacts[0].digest: "sha256:ABC" is not a digest`,
		},
		{
			name: "bad revision", file: "dml/payments-api/2.4.0.yaml",
			old: "revision: 95cb0bfd2977c761298d9624e4b4d4c72a39974a", new: "revision: 95cb0bf",
			line: 12, col: 72, msg: `spec.source.revision: "95cb0bf" is not a commit id`,
		},
		{
			name: "decimal size", file: "dml/payments-api/2.4.0.yaml",
			old: "size: 9007199254740991", new: "size: 1.5",
			line: 11, col: 13, msg: `spec.artifacts[0].size: must be an integer, not a number`,
		},
		{
			name: "bad dependency", file: "releases/payments/2.4.0.yaml",
			old: "[ledger@1.8.0]", new: "[ledger-1.8.0]",
			line: 15, col: 15, msg: `spec.dependsOn[0]: "ledger-1.8.0" is not a release as service@version`,
		},
		{
			name: "bad date-time", file: "releases/payments/2.4.0.yaml",
			old: "{start: 2026-12-03T22:00:00Z,", new: `{start: "2026-12-03 22:00",`,
			line: 18, col: 21, msg: `spec.deployment.window.start: "2026-12-03 22:00" is not an RFC 3339 time`,
		},
		{
			name: "date without time", file: "approvers.yaml",
			old: "validBefore: 2027-01-01T00:00:00Z", new: "validBefore: 2027-01-01",
			line: 14, col: 24, msg: `spec.approvers[0].keys[0].validBefore: "2027-01-01" is not an RFC 3339 time`,
		},
		{
			name: "wrong kind", file: "releases/payments/2.4.0.yaml",
			line: 2, col: 7, msg: `kind: "Service" must be "Release": releases/payments/2.4.0.yaml holds a Release`,
			// A Service document where a Release belongs.
			content: "apiVersion: relreg/v1\nkind: Service\nmetadata:\n  name: payments\nspec:\n  title: Payments\n  owner: team-payments\n",
		},
		{
			name: "wrong apiVersion", file: "releases/payments/2.4.0.yaml",
			old: "apiVersion: relreg/v1", new: "apiVersion: relreg/v2",
			line: 1, col: 13, msg: `apiVersion: "relreg/v2" must be "relreg/v1"`,
		},
		{
			name: "null spec", file: "services/payments.yaml",
			old: "spec:\n", new: "spec: null\nx:\n",
			line: 5, col: 7, msg: `spec: must be a mapping, not empty (null)`, count: 2,
		},
		{
			name: "weekly window with start", file: "schedules/production.yaml",
			old: "duration: 4h}\n", new: "duration: 4h}\n      start: 2026-12-10T20:00:00Z\n",
			line: 13, col: 7, msg: `spec.windows[0]: field "start" is not allowed here: a window is either weekly or has start and end`,
		},
		{
			name: "fixed window without end", file: "schedules/production.yaml",
			old: "      end: 2026-12-11T04:00:00Z\n", new: "",
			line: 13, col: 7, msg: `spec.windows[1]: missing required field "end": a window is either weekly or has start and end`,
		},
		{
			name: "bad clock", file: "schedules/production.yaml",
			old: `start: "22:00"`, new: `start: "25:00"`,
			line: 12, col: 36, msg: `spec.windows[0].weekly.start: "25:00" is not a time of day HH:MM`,
		},
		{
			name: "bad duration", file: "schedules/production.yaml",
			old: "duration: 4h}", new: "duration: 4 hours}",
			line: 12, col: 55, msg: `spec.windows[0].weekly.duration: "4 hours" is not a duration`,
		},
		{
			name: "bad weekday", file: "schedules/production.yaml",
			old: "days: [thu]", new: "days: [thursday]",
			line: 12, col: 23, msg: `spec.windows[0].weekly.days[0]: "thursday" is not one of mon, tue, wed, thu, fri, sat, sun`,
		},
		{
			name: "maxConcurrent zero", file: "schedules/production.yaml",
			old: "maxConcurrent: 2", new: "maxConcurrent: 0",
			line: 8, col: 18, msg: `spec.maxConcurrent: 0 is less than the minimum 1`,
		},
		{
			name: "count zero", file: "relreg.yaml",
			old: "verify: [{role: release-manager, count: 1}]", new: "verify: [{role: release-manager, count: 0}]",
			line: 17, col: 45, msg: `spec.approvals.verify[0].count: 0 is less than the minimum 1`,
		},
		{
			name: "satisfaction out of range", file: "releases/payments/2.4.0.yaml",
			old: "satisfaction: 4", new: "satisfaction: 6",
			line: 34, col: 26, msg: `status.review.satisfaction: 6 is out of range: use 1 to 5`,
		},
		{
			name: "bad change pattern", file: "relreg.yaml",
			old: `changePattern: "^CHG-[0-9]+$"`, new: `changePattern: "^CHG-[0-9+$"`,
			line: 7, col: 18, msg: `spec.changePattern: "^CHG-[0-9+$" is not a valid regular expression: missing closing ]`,
		},
		{
			name: "duplicate change", file: "releases/payments/2.4.0.yaml",
			old: "[CHG-1042, CHG-1043]", new: "[CHG-1042, CHG-1042]",
			line: 12, col: 23, msg: `spec.changes[1]: "CHG-1042" repeats spec.changes[0]: remove the duplicate`,
		},
		{
			name: "no changes", file: "releases/payments/2.4.0.yaml",
			old: "[CHG-1042, CHG-1043]", new: "[]",
			line: 12, col: 12, msg: `spec.changes: needs at least one entry`,
		},
		{
			name: "email", file: "approvers.yaml",
			old: "email: alice@example.com", new: "email: alice",
			line: 9, col: 14, msg: `spec.approvers[0].email: "alice" is not an email address`,
		},
		{
			name: "certificate key", file: "approvers.yaml",
			old: "key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFC5", new: "key: ssh-ed25519-cert-v01@openssh.com AAAAC3NzaC1lZDI1NTE5AAAAIFC5",
			line: 12, col: 16, msg: `is not an OpenSSH public key line`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixtureFS(t)
			data := tt.content
			if data == "" {
				orig := string(fsys[tt.file].Data)
				if n := strings.Count(orig, tt.old); n != 1 {
					t.Fatalf("fixture %s holds %q %d times, want once", tt.file, tt.old, n)
				}
				data = strings.Replace(orig, tt.old, tt.new, 1)
			}
			fsys[tt.file] = &fstest.MapFile{Data: []byte(data)}
			reg := loadFS(t, fsys)
			var got []registry.Diagnostic
			for _, d := range schemaRule(reg, Options{}) {
				if d.File != tt.file {
					t.Errorf("unexpected diagnostic in another file: %+v", d)
					continue
				}
				got = append(got, d)
			}
			want := max(tt.count, 1)
			if len(got) != want {
				t.Errorf("got %d diagnostics, want %d:\n%s", len(got), want, format(got))
			}
			for _, d := range got {
				if strings.Contains(d.Message, tt.msg) {
					if d.Rule != "schema" || d.Line != tt.line || d.Column != tt.col || d.Severity != registry.SeverityError {
						t.Errorf("got %s:%d:%d %s %s, want %s:%d:%d error schema", d.File, d.Line, d.Column, d.Severity, d.Rule, tt.file, tt.line, tt.col)
					}
					if wantSubject := reg.Files[indexOf(reg, tt.file)].Subject(); d.Subject != wantSubject {
						t.Errorf("subject = %q, want %q", d.Subject, wantSubject)
					}
					return
				}
			}
			t.Errorf("no diagnostic with message %q; got:\n%s", tt.msg, format(got))
		})
	}
}

// TestSchemaExactMessage pins the contract's wording for a version written
// as a number.
func TestSchemaExactMessage(t *testing.T) {
	fsys := fixtureFS(t)
	p := "releases/payments/2.4.0.yaml"
	fsys[p].Data = []byte(strings.Replace(string(fsys[p].Data), "  version: 2.4.0\nspec", "  version: 2.10\nspec", 1))
	got := schemaRule(loadFS(t, fsys), Options{})
	want := registry.Diagnostic{Rule: "schema", Severity: registry.SeverityError, File: p, Line: 5, Column: 12,
		Subject: "release/payments@2.4.0", Message: `metadata.version: 2.10 is a number: quote it, version: "2.10"`}
	if len(got) != 1 || got[0] != want {
		t.Errorf("schemaRule() = %+v, want [%+v]", got, want)
	}
}

// TestSchemaRuleSkipsUnparsed checks that a file YAML could not read gets
// no schema diagnostics on top of its yaml/* ones.
func TestSchemaRuleSkipsUnparsed(t *testing.T) {
	fsys := fixtureFS(t)
	fsys["services/broken.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: [\n")}
	reg, err := registry.Load(fsys, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaRule(reg, Options{}); len(got) > 0 {
		t.Errorf("schemaRule() = %v, want none", got)
	}
}

func TestPatternHintsCoverEveryPattern(t *testing.T) {
	set, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for id, doc := range set.docs {
		defs, _ := doc.(map[string]any)["$defs"].(map[string]any)
		for name, d := range defs {
			if _, ok := d.(map[string]any)["pattern"]; ok && patternHints[name] == "" {
				t.Errorf("%s: $defs/%s has a pattern but no entry in patternHints", id, name)
			}
		}
	}
}

func indexOf(reg *registry.Registry, p string) int {
	for i, d := range reg.Files {
		if d.Path == p {
			return i
		}
	}
	return -1
}

func format(ds []registry.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %s:%d:%d: %s: %s\n", d.File, d.Line, d.Column, d.Rule, d.Message)
	}
	return b.String()
}

// BenchmarkSchemaRule validates a registry of 10,000 releases.
func BenchmarkSchemaRule(b *testing.B) {
	base := fixtureFS(b)
	rel := string(base["releases/payments/2.4.0.yaml"].Data)
	fsys := fstest.MapFS{"relreg.yaml": base["relreg.yaml"]}
	for i := range 10000 {
		v := fmt.Sprintf("2.%d.%d", i/100, i%100)
		data := strings.Replace(rel, "  version: 2.4.0\nspec", "  version: "+v+"\nspec", 1)
		fsys[fmt.Sprintf("releases/svc%d/%s.yaml", i%50, v)] = &fstest.MapFile{Data: []byte(data)}
	}
	reg := loadFS(b, fsys)
	b.ResetTimer()
	for b.Loop() {
		if ds := schemaRule(reg, Options{}); len(ds) > 0 {
			b.Fatalf("schemaRule() = %v", ds[0])
		}
	}
}

// TestSchemaRuleConcurrent checks that validating in parallel finds exactly
// what validating file by file finds, in file order (run it with -race).
func TestSchemaRuleConcurrent(t *testing.T) {
	base := fixtureFS(t)
	rel := string(base["releases/payments/2.4.0.yaml"].Data)
	fsys := fstest.MapFS{"relreg.yaml": base["relreg.yaml"]}
	for i := range 300 {
		v := fmt.Sprintf("1.%d.0", i)
		data := strings.Replace(rel, "  version: 2.4.0\nspec", "  version: "+v+"\nspec", 1)
		if i%7 == 0 {
			data = strings.Replace(data, "risk: medium", "risk: urgent", 1)
		}
		fsys["releases/payments/"+v+".yaml"] = &fstest.MapFile{Data: []byte(data)}
	}
	reg := loadFS(t, fsys)
	var want []registry.Diagnostic
	for _, d := range reg.Files {
		want = append(want, ValidateSchema(d)...)
	}
	got := schemaRule(reg, Options{})
	if len(want) != 43 {
		t.Fatalf("file by file: %d diagnostics, want 43", len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("schemaRule() = %d diagnostics, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("schemaRule()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// FuzzValidateSchema checks that no document, however malformed, makes the
// schema rule panic, and that every diagnostic it returns has a position.
func FuzzValidateSchema(f *testing.F) {
	base := fixtureFS(f)
	for p, file := range base {
		f.Add(uint8(indexOfKind(p)), file.Data)
	}
	f.Add(uint8(3), []byte("apiVersion: relreg/v1\nkind: Release\nmetadata: {version: 2.10}\nspec: {changes: [1, {}], x~/y: 1}\n"))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		node, ds := registry.ParseYAML(data, registry.DefaultLimits)
		if node == nil || len(ds) > 0 {
			return
		}
		d := &registry.Document{Path: "x.yaml", Kind: registry.Kinds[int(kind)%len(registry.Kinds)], ID: "x@1.0.0", Node: node}
		for _, diag := range ValidateSchema(d) {
			if diag.Rule != "schema" || diag.Message == "" || diag.Line < 1 || diag.Column < 1 {
				t.Errorf("bad diagnostic %+v", diag)
			}
		}
	})
}

func indexOfKind(p string) int {
	for i, prefix := range []string{"relreg.yaml", "approvers.yaml", "services/", "releases/", "schedules/", "dml/"} {
		if strings.HasPrefix(p, prefix) {
			return i
		}
	}
	return 0
}

// A version that is not SemVer is the semver rule's to report: the schema's
// version pattern must not say it a second time.
func TestSchemaLeavesVersionsToSemver(t *testing.T) {
	reg := loadFixture(t, map[string]string{
		"releases/payments/2.4.0.yaml": strings.Replace(newRelease("payments", "2.4.0", "minor").YAML(), "version: 2.4.0", "version: v2.4.0", 1),
	})
	for _, d := range schemaRule(reg, Options{Only: map[string]bool{"releases/payments/2.4.0.yaml": true}}) {
		t.Errorf("schemaRule() = %s:%d:%d: %s, want nothing", d.File, d.Line, d.Column, d.Message)
	}
	var semver []registry.Diagnostic
	for _, d := range semverRule(reg, Options{}) {
		if d.Rule == "semver/invalid" {
			semver = append(semver, d)
		}
	}
	if len(semver) != 1 || semver[0].Line != 5 || semver[0].Column != 12 {
		t.Errorf("semverRule() = %+v, want one semver/invalid at 5:12", semver)
	}
}
