package registry

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// hostileYAML are seeds that have broken YAML readers before: deep nesting,
// alias bombs, numbers at and beyond every limit, tabs, byte order marks,
// directives and odd keys.
var hostileYAML = []string{
	"",
	"---\n",
	"---\n---\n",
	"a: 1\n...\n",
	strings.Repeat("[", 100) + strings.Repeat("]", 100),
	strings.Repeat("[", 10001),
	strings.Repeat("- ", 200) + "x\n",
	strings.Repeat("a:\n ", 80) + "b: 1\n",
	"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
	"a: &a {b: *a}\n",
	"base: &base {x: 1}\nderived:\n  <<: *base\n  y: 2\n",
	"n: 9007199254740991\n",
	"n: 9007199254740992\n",
	"n: -9007199254740992\n",
	"n: 99999999999999999999999999999\n",
	"n: 0x7fffffffffffffff\n",
	"n: 0o777\n",
	"n: 1_000_000\n",
	"f: 1e400\n",
	"f: 9007199254740993.0\n",
	"f: .inf\n",
	"f: -.Inf\n",
	"f: .nan\n",
	"version: 2.10\n",
	"a: no\nb: on\nc: yes\nd: ~\ne: Null\nf: TRUE\n",
	"t: 2026-12-03T22:00:00Z\nd: 2026-12-03\n",
	"\ta: 1\n",
	"a:\n\t- 1\n",
	"\ufeffapiVersion: relreg/v1\n",
	"\xff\xfea\x00:\x00 \x001\x00\n\x00",
	"a: \x00\n",
	"%YAML 1.1\n---\na: 1\n",
	"%TAG !e! tag:example.com,2000:\n---\na: !e!foo 1\n",
	"a: !!binary aGVsbG8=\n",
	"a: !!set {x, y}\n",
	"a: !custom x\n",
	"? [a, b]\n: c\n",
	"? {a: b}\n: c\n",
	"a: 1\na: 2\n",
	"1: x\n\"1\": y\n",
	"a: |\n  text\n  more\nb: >-\n  folded\n",
	"[1, 2, 3]\n",
	"just a string\n",
	"null\n",
	"key: 'unterminated\n",
	"{a: [b, {c: d}]\n",
}

// yamlSeeds returns the example registry files and the hostile inputs.
func yamlSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	_ = filepath.WalkDir(filepath.Join("..", "examples"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, data)
		return nil
	})
	for _, s := range hostileYAML {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzParseYAML checks that ParseYAML never panics, returns either a node or
// diagnostics, and that a node's value always has a JSON form (digests and
// schemas rely on it).
func FuzzParseYAML(f *testing.F) {
	for _, s := range yamlSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, ds := ParseYAML(data, DefaultLimits)
		if (n == nil) == (len(ds) == 0) {
			t.Fatalf("ParseYAML() = node %v with %d diagnostics, want exactly one of them", n != nil, len(ds))
		}
		for _, d := range ds {
			if !strings.HasPrefix(d.Rule, "yaml/") || d.Line < 1 || d.Column < 1 || d.Message == "" {
				t.Errorf("ParseYAML() diagnostic %+v, want a yaml/* rule at a 1-based position with a message", d)
			}
		}
		if n == nil {
			return
		}
		if n.Root() == nil {
			t.Fatal("ParseYAML() node has no Root")
		}
		if _, err := json.Marshal(n.Value); err != nil {
			t.Fatalf("json.Marshal(node.Value) error: %v", err)
		}
	})
}

// FuzzLoad puts the fuzzed bytes at every place of the layout and checks that
// Load never panics or fails on file content, and that every diagnostic names
// a file.
func FuzzLoad(f *testing.F) {
	for _, s := range yamlSeeds(f) {
		f.Add(s)
	}
	config := []byte("apiVersion: relreg/v1\nkind: Registry\nmetadata:\n  name: fuzz\nspec: {}\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			ConfigFile:                        {Data: config},
			ApproversFile:                     {Data: data},
			"services/payments.yaml":          {Data: data},
			"releases/payments/1.0.0.yaml":    {Data: data},
			"schedules/production.yaml":       {Data: data},
			"dml/payments-api/1.0.0.yaml":     {Data: data},
			"releases/payments/notes.txt":     {Data: data},
			"schedules/staging.yml":           {Data: data},
			"dml/payments-api/1.0.1.yaml/odd": {Data: data},
		}
		reg, err := Load(fsys, Options{})
		if err != nil {
			t.Fatalf("Load() error: %v", err)
		}
		for _, d := range reg.Diagnostics {
			if d.File == "" || d.Rule == "" || d.Message == "" {
				t.Errorf("Load() diagnostic %+v, want a file, a rule and a message", d)
			}
		}
		if reg.Config == nil {
			t.Errorf("Load() lost relreg.yaml")
		}
	})
}
