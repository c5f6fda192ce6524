package schemas

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	got, err := Compile()
	if err != nil {
		t.Fatalf("Compile() error: %v", err)
	}
	for _, k := range Names() {
		if got[k] == nil {
			t.Errorf("Compile()[%q] = nil, want a schema", k)
		}
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		kind   string
		wantID string
	}{
		{kind: "release", wantID: "https://relreg.dev/schemas/v1/release.json"},
		{kind: "Release", wantID: "https://relreg.dev/schemas/v1/release.json"},
		{kind: "RELEASE", wantID: "https://relreg.dev/schemas/v1/release.json"},
		{kind: "DMLEntry", wantID: "https://relreg.dev/schemas/v1/dmlentry.json"},
		{kind: "dmlentry", wantID: "https://relreg.dev/schemas/v1/dmlentry.json"},
		{kind: "registry", wantID: "https://relreg.dev/schemas/v1/registry.json"},
		{kind: "Approvers", wantID: "https://relreg.dev/schemas/v1/approvers.json"},
		{kind: "service", wantID: "https://relreg.dev/schemas/v1/service.json"},
		{kind: "schedule", wantID: "https://relreg.dev/schemas/v1/schedule.json"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			data, err := Get(tt.kind)
			if err != nil {
				t.Fatalf("Get(%q) error: %v", tt.kind, err)
			}
			var doc struct {
				ID string `json:"$id"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("Get(%q) is not JSON: %v", tt.kind, err)
			}
			if doc.ID != tt.wantID {
				t.Errorf("Get(%q) $id = %s, want %s", tt.kind, doc.ID, tt.wantID)
			}
			id, err := ID(tt.kind)
			if err != nil || id != tt.wantID {
				t.Errorf("ID(%q) = %s, %v, want %s", tt.kind, id, err, tt.wantID)
			}
		})
	}
}

func TestGetUnknownKind(t *testing.T) {
	_, err := Get("widget")
	if !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("Get(widget) error = %v, want ErrUnknownKind", err)
	}
	for _, k := range Names() {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("Get(widget) error %q does not list kind %s", err, k)
		}
	}
}

func TestNamesMatchFiles(t *testing.T) {
	entries, err := FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	var want []string
	for _, k := range Names() {
		want = append(want, strings.ToLower(k)+".json")
	}
	// ReadDir sorts by name; compare as sets.
	if len(files) != len(want) {
		t.Fatalf("embedded files = %v, want %v", files, want)
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(files, " "), w) {
			t.Errorf("embedded files = %v, missing %s", files, w)
		}
	}
}

// TestEveryPropertyHasDescription keeps editor hovers useful: every property
// of every schema, at any depth, says what it is.
func TestEveryPropertyHasDescription(t *testing.T) {
	for _, k := range Names() {
		t.Run(k, func(t *testing.T) {
			doc := load(t, k)
			for _, key := range []string{"$id", "title", "description"} {
				if s, _ := doc[key].(string); s == "" {
					t.Errorf("schema has no %s", key)
				}
			}
			walk(doc, "#", func(ptr string, props map[string]any) {
				for name, p := range props {
					sub, ok := p.(map[string]any)
					if !ok {
						continue // a boolean schema (false: the property is forbidden here)
					}
					if d, _ := sub["description"].(string); strings.TrimSpace(d) == "" {
						t.Errorf("%s/properties/%s has no description", ptr, name)
					}
				}
			})
		})
	}
}

// TestStrictObjects checks that every object schema with properties refuses
// unknown fields: unknown fields are schema errors (contract section 2).
func TestStrictObjects(t *testing.T) {
	for _, k := range Names() {
		t.Run(k, func(t *testing.T) {
			walkSchemas(load(t, k), "#", func(ptr string, s map[string]any) {
				if s["type"] != "object" {
					return
				}
				if ap, ok := s["additionalProperties"].(bool); !ok || ap {
					t.Errorf("%s: additionalProperties = %v, want false", ptr, s["additionalProperties"])
				}
			})
		})
	}
}

// TestSharedDefsAgree checks that a definition repeated in several files
// (name, version, time, approval...) is the same everywhere.
func TestSharedDefsAgree(t *testing.T) {
	first := map[string]any{}
	firstIn := map[string]string{}
	for _, k := range Names() {
		defs, _ := load(t, k)["$defs"].(map[string]any)
		for name, d := range defs {
			if prev, ok := first[name]; ok {
				if !reflect.DeepEqual(prev, d) {
					t.Errorf("$defs/%s differs between %s and %s", name, firstIn[name], k)
				}
				continue
			}
			first[name], firstIn[name] = d, k
		}
	}
	for _, shared := range []string{"name", "version", "time", "digest", "approval", "approvals"} {
		for _, k := range Names() {
			defs, _ := load(t, k)["$defs"].(map[string]any)
			if defs[shared] == nil {
				t.Errorf("%s has no $defs/%s", k, shared)
			}
		}
	}
}

func load(t *testing.T, kind string) map[string]any {
	t.Helper()
	data, err := Get(kind)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return doc
}

// walk calls f with every "properties" object found in the schema tree,
// except in the conditions of if/then/else, which only test values.
func walk(s map[string]any, ptr string, f func(ptr string, props map[string]any)) {
	walkSchemas(s, ptr, func(ptr string, s map[string]any) {
		if strings.Contains(ptr, "/if") {
			return
		}
		if props, ok := s["properties"].(map[string]any); ok {
			f(ptr, props)
		}
	})
}

// walkSchemas calls f with every subschema, depth first.
func walkSchemas(s map[string]any, ptr string, f func(ptr string, s map[string]any)) {
	f(ptr, s)
	for key, v := range s {
		switch key {
		case "properties", "$defs":
			m, _ := v.(map[string]any)
			for name, sub := range m {
				if sm, ok := sub.(map[string]any); ok {
					walkSchemas(sm, ptr+"/"+key+"/"+name, f)
				}
			}
		case "items", "if", "then", "else", "not":
			if sm, ok := v.(map[string]any); ok {
				walkSchemas(sm, ptr+"/"+key, f)
			}
		}
	}
}
