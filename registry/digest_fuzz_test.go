package registry

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// rewriter writes a JSON value as the strict loader reads it back as YAML
// again, another way each time: keys in another order, other quoting and
// scalar forms (0x10 for 16, TRUE for true, ~ for null), flow or block
// collections, comments. The choices come from a seed.
type rewriter struct{ state uint64 }

// next returns a pseudo-random number (splitmix64).
func (r *rewriter) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rewriter) pick(n int) int { return int(r.next() % uint64(n)) }

func (r *rewriter) node(v any, inFlow bool) *yaml.Node {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if inFlow || r.pick(4) == 0 {
			n.Style, inFlow = yaml.FlowStyle, true
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i := len(keys) - 1; i > 0; i-- { // shuffle
			j := r.pick(i + 1)
			keys[i], keys[j] = keys[j], keys[i]
		}
		for _, k := range keys {
			key := r.str(k, true)
			if !inFlow && r.pick(4) == 0 {
				key.HeadComment = "# a comment"
			}
			n.Content = append(n.Content, key, r.node(v[k], inFlow))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if inFlow || r.pick(4) == 0 {
			n.Style, inFlow = yaml.FlowStyle, true
		}
		for _, e := range v {
			n.Content = append(n.Content, r.node(e, inFlow))
		}
		return n
	case string:
		return r.str(v, false)
	case bool:
		s := strconv.FormatBool(v)
		switch r.pick(3) {
		case 1:
			s = strings.ToUpper(s)
		case 2:
			s = strings.ToUpper(s[:1]) + s[1:]
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: []string{"null", "~", "Null", "NULL"}[r.pick(4)]}
	case int64:
		s := strconv.FormatInt(v, 10)
		switch {
		case v >= 0 && r.pick(3) == 1:
			s = "0x" + strconv.FormatInt(v, 16)
		case v >= 0 && r.pick(3) == 2:
			s = "0o" + strconv.FormatInt(v, 8)
		case v > 0 && r.pick(2) == 0:
			s = "+" + s
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s}
	case float64:
		s := strconv.FormatFloat(v, 'e', -1, 64)
		if r.pick(2) == 0 {
			s = strconv.FormatFloat(v, 'f', -1, 64)
			if !strings.ContainsAny(s, ".e") {
				s += ".0"
			}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}
	}
	panic(fmt.Sprintf("rewriter: unexpected %T", v))
}

// str writes a string double-quoted, single-quoted, plain or (values only)
// as a literal block scalar; yaml.v3 falls back to a quoted style where the
// chosen one cannot hold the string. Not folded: yaml.v3 writes a folded
// scalar with a more-indented line that reads back with one more line
// break ("0\n 0" as ">-\n  0\n\n   0"), and relreg never writes one.
func (r *rewriter) str(s string, key bool) *yaml.Node {
	styles := []yaml.Style{yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle, 0, yaml.LiteralStyle}
	if key {
		styles = styles[:3]
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: styles[r.pick(len(styles))]}
}

// FuzzDigest checks the digest of arbitrary YAML that the strict loader
// reads: it never panics or fails, and it does not change when the same
// value is written again another way (key order, quoting, number and
// boolean forms, flow or block, comments).
func FuzzDigest(f *testing.F) {
	for i, s := range yamlSeeds(f) {
		f.Add(s, uint64(i))
	}
	f.Add([]byte("spec: {b: 1, a: [x, 'y', \"z\"]}  # c\n"), uint64(7))
	f.Add([]byte("n: 0x10\nm: 0o17\nf: 1.5e3\ng: -0.0\nt: True\nz: ~\n"), uint64(8))
	f.Add([]byte("s: \"line\\nbreak\\ttab \\u00e9\"\nt: \"  lead and trail  \"\nk: 'it''s'\n"), uint64(9))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		n, ds := ParseYAML(data, DefaultLimits)
		if len(ds) > 0 {
			return
		}
		want, err := Digest(n.Value)
		if err != nil {
			t.Fatalf("Digest() of a value ParseYAML read: %v", err)
		}
		r := &rewriter{state: seed}
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		// Two spaces, as relreg writes YAML: at more, yaml.v3 writes a
		// block scalar that starts with an empty line in a sequence with
		// an indentation indicator it cannot read back ("- |4").
		enc.SetIndent(2)
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{r.node(n.Value, false)}, HeadComment: "# rewritten"}
		if err := enc.Encode(doc); err != nil {
			t.Fatalf("yaml.Encode(rewritten value): %v", err)
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if int64(b.Len()) > DefaultLimits.MaxFileSize {
			return
		}
		m, ds := ParseYAML(b.Bytes(), DefaultLimits)
		if len(ds) > 0 {
			t.Fatalf("ParseYAML(rewritten) = %v\ninput:\n%s\nrewritten:\n%s", ds, data, b.Bytes())
		}
		got, err := Digest(m.Value)
		if err != nil {
			t.Fatalf("Digest(rewritten) error: %v", err)
		}
		if got != want {
			c1, _ := Canonical(n.Value)
			c2, _ := Canonical(m.Value)
			t.Fatalf("Digest() = %s for the rewritten value, want %s\ninput:\n%s\nrewritten:\n%s\ncanonical: %s\nrewritten canonical: %s", got, want, data, b.Bytes(), c1, c2)
		}
	})
}
