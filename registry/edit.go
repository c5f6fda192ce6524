package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AppendApproval returns the YAML document data with approval a appended to
// its top-level approvals list. Every other byte is kept: comments, layout,
// quoting. A block list gets one more item, indented like its first one; an
// empty flow list (approvals: []) or an empty value becomes a block list; a
// document without approvals gets the key at its end. The signature is
// written as a | block scalar, and the new lines end like the file's first
// line does (LF or CRLF); a file that does not end with a line break still
// does not afterwards. The result is parsed again strictly and must hold the
// same document with exactly one more approval.
func AppendApproval(data []byte, a Approval) ([]byte, error) {
	before, diags := ParseYAML(data, DefaultLimits)
	if len(diags) > 0 {
		return nil, fmt.Errorf("the file is not valid YAML (line %d: %s): fix it first", diags[0].Line, diags[0].Message)
	}
	root := before.Root()
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("the document is not a mapping")
	}
	a.Signature = strings.TrimRight(a.Signature, "\n") + "\n"
	for _, l := range strings.Split(strings.TrimSuffix(a.Signature, "\n"), "\n") {
		if strings.TrimSpace(l) == "" || strings.TrimSpace(l) != l {
			return nil, errors.New("the signature has blank lines or surrounding spaces: use the armor exactly as ssh-keygen writes it")
		}
	}
	lines := splitLines(data)
	ins := inserter{eol: lineEnding(data), final: bytes.HasSuffix(data, []byte("\n"))}
	var out []byte
	key, val := mappingEntry(root, "approvals")
	switch {
	case key == nil:
		out = ins.insert(lines, len(lines), "approvals:\n"+entryText(a, 2))
	case val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0:
		first := val.Content[0]
		dash := strings.LastIndexByte(lineText(lines, first.Line)[:max(0, first.Column-1)], '-')
		if dash < 0 {
			return nil, errors.New("cannot find the list's dash: write approvals as a block list")
		}
		next := len(lines) // insert before the next top-level key, or at the end
		if k := nextKey(root, key); k != nil {
			next = k.Line - 1
		}
		at := key.Line // after the last line with content in the list
		for i := next; i > key.Line; i-- {
			t := strings.TrimSpace(lines[i-1])
			if t != "" && !strings.HasPrefix(t, "#") {
				at = i
				break
			}
		}
		out = ins.insert(lines, at, entryText(a, dash))
	case isEmptyValue(val):
		l := lineText(lines, key.Line)
		if val.Value != "" || val.Kind == yaml.SequenceNode {
			// Remove the [] (or ~, null) and the blanks before it; keep any comment.
			tok := "[]"
			if val.Kind == yaml.ScalarNode {
				tok = val.Value
			}
			start := val.Column - 1
			if val.Line != key.Line || start+len(tok) > len(l) || l[start:start+len(tok)] != tok {
				return nil, errors.New("approvals is an empty list spread over several lines: write approvals: [] on one line")
			}
			cut := start
			for cut > 0 && l[cut-1] == ' ' {
				cut--
			}
			if cut == 0 || l[cut-1] != ':' {
				return nil, errors.New("unexpected layout around approvals: write approvals: [] on one line")
			}
			lines[key.Line-1] = l[:cut] + l[start+len(tok):]
		}
		out = ins.insert(lines, key.Line, entryText(a, key.Column-1+2))
	case val.Kind == yaml.SequenceNode:
		return nil, errors.New("approvals is written as a flow list ([...]): rewrite it as a block list (- step: ...) and run again")
	default:
		return nil, errors.New("approvals is not a list: fix the file first")
	}
	if err := checkAppended(before, out, a); err != nil {
		return nil, fmt.Errorf("the edited file would not hold the same document plus the approval (%v): edit it by hand", err)
	}
	return out, nil
}

// mappingEntry returns the key and value nodes of name in mapping m.
func mappingEntry(m *yaml.Node, name string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// nextKey returns the key after key in mapping m, or nil.
func nextKey(m, key *yaml.Node) *yaml.Node {
	for i := 0; i+2 < len(m.Content); i += 2 {
		if m.Content[i] == key {
			return m.Content[i+2]
		}
	}
	return nil
}

func isEmptyValue(v *yaml.Node) bool {
	switch v.Kind {
	case yaml.SequenceNode:
		return len(v.Content) == 0 && v.Style&yaml.FlowStyle != 0
	case yaml.ScalarNode:
		return v.Tag == "!!null" && (v.Value == "" || v.Value == "~" || v.Value == "null")
	}
	return false
}

// splitLines splits data into lines without their newlines; a final line
// without a newline is kept.
func splitLines(data []byte) []string {
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func lineText(lines []string, line int) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	return lines[line-1]
}

// lineEnding returns the file's line break, the one ending its first line:
// "\r\n" or "\n" (also for a file of one line).
func lineEnding(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// inserter puts new lines into a file and keeps its conventions.
type inserter struct {
	eol   string // the file's line break, for the new lines
	final bool   // the file ends with a line break
}

// insert joins lines (as splitLines cut them, so a CRLF file's lines keep
// their \r) with text inserted after the first n of them. text ends with a
// line break; its breaks become the file's. When the file has no final line
// break, text inserted before its last line leaves it without one; text
// going at the end gets a break before it and keeps its own last one, so the
// file then gains a final break: the entry ends with the signature's block
// scalar, whose value would lose its final newline at the end of a file
// without one.
func (ins inserter) insert(lines []string, n int, text string) []byte {
	text = strings.ReplaceAll(text, "\n", ins.eol)
	var b bytes.Buffer
	for i, l := range lines {
		if i == n {
			b.WriteString(text)
		}
		b.WriteString(l)
		if i < len(lines)-1 || ins.final {
			b.WriteByte('\n')
		}
	}
	if n >= len(lines) {
		if !ins.final && len(lines) > 0 {
			b.WriteString(ins.eol)
		}
		b.WriteString(text)
	}
	return b.Bytes()
}

// entryText writes an approval as a block list item whose dash is at
// column indent (0-based).
func entryText(a Approval, indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString(pad + "- step: " + yamlScalar(a.Step) + "\n")
	for _, f := range [][2]string{{"by", a.By}, {"role", a.Role}, {"at", a.At}, {"digest", a.Digest}} {
		b.WriteString(pad + "  " + f[0] + ": " + yamlScalar(f[1]) + "\n")
	}
	b.WriteString(pad + "  signature: |\n")
	for _, l := range strings.Split(strings.TrimSuffix(a.Signature, "\n"), "\n") {
		b.WriteString(pad + "    " + l + "\n")
	}
	return b.String()
}

var plainRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+@/-]*$`)

// yamlScalar writes s plain when relreg reads it back as the same string,
// and double-quoted (JSON quoting is valid YAML) otherwise.
func yamlScalar(s string) string {
	if plainRE.MatchString(s) && !strings.Contains(s, ": ") {
		if n, ds := ParseYAML([]byte("v: "+s+"\n"), DefaultLimits); len(ds) == 0 {
			if m, ok := n.Value.(map[string]any); ok && m["v"] == s {
				return s
			}
		}
	}
	q, _ := json.Marshal(s)
	return string(q)
}

// checkAppended checks that out is the document of before with a appended to
// its approvals and nothing else changed.
func checkAppended(before *Node, out []byte, a Approval) error {
	after, diags := ParseYAML(out, DefaultLimits)
	if len(diags) > 0 {
		return fmt.Errorf("line %d: %s", diags[0].Line, diags[0].Message)
	}
	bm, _ := before.Value.(map[string]any)
	am, ok := after.Value.(map[string]any)
	if !ok {
		return errors.New("not a mapping")
	}
	bl, _ := bm["approvals"].([]any)
	al, _ := am["approvals"].([]any)
	if len(al) != len(bl)+1 {
		return errors.New("the approvals list did not grow by one")
	}
	want := map[string]any{"step": a.Step, "by": a.By, "role": a.Role, "at": a.At, "digest": a.Digest, "signature": a.Signature}
	if !sameJSON(al[len(bl)], want) {
		return errors.New("the new entry does not read back as written")
	}
	for i := range bl {
		if !sameJSON(bl[i], al[i]) {
			return errors.New("an existing approval changed")
		}
	}
	others := func(m map[string]any) map[string]any {
		c := make(map[string]any, len(m))
		for k, v := range m {
			if k != "approvals" {
				c[k] = v
			}
		}
		return c
	}
	if !sameJSON(others(bm), others(am)) {
		return errors.New("other content changed")
	}
	return nil
}

func sameJSON(x, y any) bool {
	cx, err1 := Canonical(x)
	cy, err2 := Canonical(y)
	return err1 == nil && err2 == nil && bytes.Equal(cx, cy)
}
