package registry

import (
	"testing"
)

func specDigest(t *testing.T, doc string) string {
	t.Helper()
	n, ds := ParseYAML([]byte(doc), DefaultLimits)
	if len(ds) > 0 {
		t.Fatalf("ParseYAML: %v", ds)
	}
	d := &Document{Node: n}
	got, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

const digestBase = `spec:
  title: SEPA instant transfers
  risk: medium
  size: 18231040
  ratio: 0.5
  changes: [CHG-1042, CHG-1043]
  optional: null
  automated: true
  version: "2.10"
`

// digestGolden is the digest of digestBase's spec, computed with sha256sum over
// {"automated":true,"changes":["CHG-1042","CHG-1043"],"optional":null,"ratio":0.5,"risk":"medium","size":18231040,"title":"SEPA instant transfers","version":"2.10"}
const digestGolden = "sha256:c235e53b76d3aa7bacc20b9703a43bc4ccc1ea00d77c19f6bc240f2bf6cb1b6d"

func TestDigestGolden(t *testing.T) {
	n, _ := ParseYAML([]byte(digestBase), DefaultLimits)
	c, err := Canonical(n.Value.(map[string]any)["spec"])
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"automated":true,"changes":["CHG-1042","CHG-1043"],"optional":null,"ratio":0.5,"risk":"medium","size":18231040,"title":"SEPA instant transfers","version":"2.10"}`
	if string(c) != wantJSON {
		t.Errorf("Canonical() = %s, want %s", c, wantJSON)
	}
	if got := specDigest(t, digestBase); got != digestGolden {
		t.Errorf("Digest() = %s, want %s", got, digestGolden)
	}
}

func TestDigestInvariance(t *testing.T) {
	want := specDigest(t, digestBase)
	tests := []struct {
		name string
		doc  string
	}{
		{name: "comments", doc: "# head\nspec: # the plan\n  title: SEPA instant transfers # why\n  risk: medium\n  # between\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: \"2.10\"\n# tail\n"},
		{name: "key order", doc: "spec:\n  version: \"2.10\"\n  automated: true\n  optional: null\n  changes: [CHG-1042, CHG-1043]\n  ratio: 0.5\n  size: 18231040\n  risk: medium\n  title: SEPA instant transfers\n"},
		{name: "quoting", doc: "spec:\n  'title': \"SEPA instant transfers\"\n  risk: 'medium'\n  size: 18231040\n  ratio: 0.5\n  changes: [\"CHG-1042\", 'CHG-1043']\n  optional: ~\n  automated: true\n  version: '2.10'\n"},
		{name: "indentation and block style", doc: "spec:\n    title: >-\n        SEPA instant\n        transfers\n    risk: medium\n    size: 0x1162f00\n    ratio: 5e-1\n    changes:\n    - CHG-1042\n    - CHG-1043\n    optional:\n    automated: true\n    version: \"2.10\"\n"},
		{name: "flow mapping", doc: "spec: {title: SEPA instant transfers, risk: medium, size: 18231040, ratio: 0.50, changes: [CHG-1042, CHG-1043], optional: null, automated: true, version: \"2.10\"}\n"},
		{name: "other top-level keys", doc: digestBase + "status:\n  phase: planned\napprovals: []\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := specDigest(t, tt.doc); got != want {
				t.Errorf("Digest() = %s, want %s", got, want)
			}
		})
	}
}

func TestDigestChangesWithValues(t *testing.T) {
	base := specDigest(t, digestBase)
	tests := []struct {
		name string
		doc  string
	}{
		{name: "string", doc: "spec:\n  title: SEPA instant transfer\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: \"2.10\"\n"},
		{name: "number", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: 18231041\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: \"2.10\"\n"},
		{name: "number as string", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: \"18231040\"\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: \"2.10\"\n"},
		{name: "list order", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1043, CHG-1042]\n  optional: null\n  automated: true\n  version: \"2.10\"\n"},
		{name: "null to empty string", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: \"\"\n  automated: true\n  version: \"2.10\"\n"},
		{name: "bool", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: false\n  version: \"2.10\"\n"},
		{name: "version as a number", doc: "spec:\n  title: SEPA instant transfers\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: 2.10\n"},
		{name: "trailing space in a string", doc: "spec:\n  title: \"SEPA instant transfers \"\n  risk: medium\n  size: 18231040\n  ratio: 0.5\n  changes: [CHG-1042, CHG-1043]\n  optional: null\n  automated: true\n  version: \"2.10\"\n"},
		{name: "key added", doc: digestBase + "  description: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := specDigest(t, tt.doc); got == base {
				t.Errorf("Digest() = %s, the same as before the change", got)
			}
		})
	}
}
