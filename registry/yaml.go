package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxSafeInt is 2^53-1, the largest integer every JSON reader holds exactly.
const maxSafeInt = 1<<53 - 1

// Node is a parsed YAML document: the yaml.v3 node tree, which keeps
// positions, and its JSON value (map[string]any, []any, string, int64,
// float64, bool or nil).
type Node struct {
	Value any

	data []byte
	once sync.Once
	root *yaml.Node

	// The digest of Value's spec, computed once: Value never changes, and
	// one node serves every document parsed from the same bytes.
	digestOnce sync.Once
	digest     string
	digestErr  error
}

// Root returns the top-level YAML node of the document (not the
// DocumentNode), with positions. A loaded registry drops its node trees to
// save memory and re-parses a file's bytes here when a position is needed.
func (n *Node) Root() *yaml.Node {
	n.once.Do(func() {
		if n.root != nil {
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(n.data, &doc); err == nil && len(doc.Content) > 0 {
			n.root = doc.Content[0]
		} else {
			n.root = &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}
		}
	})
	return n.root
}

// compact drops the node tree; Root parses it again on demand.
func (n *Node) compact() {
	if n.root != nil && n.data != nil {
		n.root = nil
	}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseYAML parses one YAML document strictly: exactly one document, no
// anchors, aliases, merge keys or custom tags, no duplicate keys, YAML 1.2
// scalars, and the given limits. It returns the node, or the diagnostics that
// explain why the file cannot be read (their File is left empty).
func ParseYAML(data []byte, lim Limits) (*Node, []Diagnostic) {
	if lim.MaxFileSize == 0 {
		lim = DefaultLimits
	}
	if int64(len(data)) > lim.MaxFileSize {
		return nil, []Diagnostic{diag("yaml/limits", 1, 1,
			"file is %d bytes, over the limit of %d bytes: split it or remove unused content", len(data), lim.MaxFileSize)}
	}
	if enc := wideEncoding(data); enc != "" {
		return nil, []Diagnostic{diag("yaml/syntax", 1, 1,
			"file is %s: relreg reads UTF-8 only (signed data must mean one thing); convert it: iconv -f %s -t UTF-8", enc, enc)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Diagnostic{diag("yaml/syntax", 1, 1, "file is empty: a document needs apiVersion, kind, metadata and spec")}
		}
		if encodingError.MatchString(err.Error()) {
			if d, ok := badCharacter(data); ok {
				return nil, []Diagnostic{d}
			}
		}
		return nil, []Diagnostic{syntaxDiag(err, data)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := separatorLine(data, doc.Content)
		return nil, []Diagnostic{diag("yaml/multiple-documents", line, 1,
			"file holds more than one YAML document: keep one document per file")}
	} else if !errors.Is(err, io.EOF) {
		return nil, []Diagnostic{syntaxDiag(err, data)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, []Diagnostic{diag("yaml/syntax", 1, 1, "file holds no YAML document")}
	}
	c := converter{lim: lim}
	root := doc.Content[0]
	v := c.convert(root, 1)
	if len(c.diags) > 0 {
		return nil, c.diags
	}
	return &Node{root: root, Value: v, data: data}, nil
}

// wideEncoding names the encoding of data when it is UTF-16 or UTF-32,
// with or without a byte order mark, and returns "" otherwise. yaml.v3
// would read some of them; relreg does not, so that a file means the same
// to every tool that reads or diffs it.
func wideEncoding(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0, 0, 0xfe, 0xff}):
		return "UTF-32BE"
	case bytes.HasPrefix(data, []byte{0xff, 0xfe, 0, 0}):
		return "UTF-32LE"
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return "UTF-16BE"
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return "UTF-16LE"
	case len(data) >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] != 0:
		return "UTF-32BE"
	case len(data) >= 4 && data[0] != 0 && data[1] == 0 && data[2] == 0 && data[3] == 0:
		return "UTF-32LE"
	case len(data) >= 2 && data[0] == 0 && data[1] != 0:
		return "UTF-16BE"
	case len(data) >= 2 && data[0] != 0 && data[1] == 0:
		return "UTF-16LE"
	}
	return ""
}

// encodingError matches yaml.v3's errors for characters it does not read,
// which it reports at 1:1 wherever they are.
var encodingError = regexp.MustCompile(`control characters are not allowed|UTF-8 octet|invalid Unicode character`)

// badCharacter finds the first byte sequence YAML does not allow in a
// file, invalid UTF-8 or a control character other than tab, line feed
// and carriage return, and reports it where it is: yaml.v3 reports these
// at 1:1.
func badCharacter(data []byte) (Diagnostic, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return diag("yaml/syntax", line, col, "byte 0x%02x is not valid UTF-8: save the file as UTF-8", data[i]), true
		case r == '\n':
			line, col = line+1, 0
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfffe || r == 0xffff:
			return diag("yaml/syntax", line, col, "control character U+%04X is not allowed in YAML: remove it, or write it as an escape (\"\\x%02X\") in a double-quoted string", r, r), true
		}
		i += size
		col++
	}
	return Diagnostic{}, false
}

var unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

func syntaxDiag(err error, data []byte) Diagnostic {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		// yaml.v3 gives no position for an alias to a missing anchor; it is
		// an alias all the same, which relreg refuses wherever it points.
		line, col := aliasPos(data, m[1])
		return diag("yaml/unsupported", line, col,
			"alias *%s is not supported: write the value out instead of referring to an anchor", m[1])
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return diag("yaml/syntax", line, 1, "%s", m[2])
	}
	return diag("yaml/syntax", 1, 1, "%s", strings.TrimPrefix(msg, "yaml: "))
}

// aliasPos returns the 1-based line and column (in characters, like yaml.v3)
// of the first alias token *name in data outside comments and quoted
// scalars, or 1, 1. It is a scan, not a parse: block scalars are not
// recognised, which is good enough to point at an alias.
func aliasPos(data []byte, name string) (line, col int) {
	tok := "*" + name
	quote := byte(0) // the quote of the quoted scalar we are in, across lines
	for i, l := range strings.Split(string(data), "\n") {
		for j := 0; j < len(l); j++ {
			b := l[j]
			if quote != 0 {
				switch {
				case quote == '"' && b == '\\':
					j++ // skip the escaped character
				case quote == '\'' && b == '\'' && j+1 < len(l) && l[j+1] == '\'':
					j++ // '' is a quote inside single quotes
				case b == quote:
					quote = 0
				}
				continue
			}
			boundary := j == 0 || strings.IndexByte(" \t[{,", l[j-1]) >= 0
			if !boundary {
				continue
			}
			switch b {
			case '#':
				j = len(l) // a comment runs to the end of the line
			case '"', '\'':
				quote = b
			case '*':
				rest := l[j:]
				if strings.HasPrefix(rest, tok) &&
					(len(rest) == len(tok) || strings.IndexByte(" \t\r,[]{}", rest[len(tok)]) >= 0) {
					return i + 1, utf8.RuneCountInString(l[:j]) + 1
				}
			}
		}
	}
	return 1, 1
}

func diag(rule string, line, col int, format string, args ...any) Diagnostic {
	return Diagnostic{Rule: rule, Severity: SeverityError, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

type converter struct {
	lim   Limits
	diags []Diagnostic
}

func (c *converter) fail(n *yaml.Node, rule, format string, args ...any) {
	c.diags = append(c.diags, diag(rule, n.Line, n.Column, format, args...))
}

// standardTags are the tags of the YAML 1.2 core schema plus timestamps,
// which yaml.v3 resolves for unquoted dates and relreg reads as strings.
var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!map": true, "!!seq": true, "!!timestamp": true, "!!binary": false,
}

func (c *converter) convert(n *yaml.Node, depth int) any {
	if n.Anchor != "" {
		c.fail(n, "yaml/unsupported", "anchor &%s is not supported: signed data must mean one thing, write the value out", n.Anchor)
		return nil
	}
	if n.Kind == yaml.AliasNode {
		c.fail(n, "yaml/unsupported", "alias *%s is not supported: write the value out instead of referring to an anchor", n.Value)
		return nil
	}
	if n.Tag != "" && !standardTags[n.Tag] {
		c.fail(n, "yaml/unsupported", "tag %s is not supported: remove it and write a plain value", n.Tag)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		if depth > c.lim.MaxDepth {
			c.fail(n, "yaml/limits", "nesting deeper than %d levels", c.lim.MaxDepth)
			return nil
		}
		m := make(map[string]any, len(n.Content)/2)
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				c.fail(k, "yaml/unsupported", "merge key << is not supported: write the keys out")
				continue
			}
			if k.Kind != yaml.ScalarNode {
				c.fail(k, "yaml/unsupported", "a mapping key must be a plain scalar")
				continue
			}
			if k.Anchor != "" || k.Tag != "" && !standardTags[k.Tag] {
				c.convert(k, depth+1) // reports the anchor or tag
				continue
			}
			if first, dup := seen[k.Value]; dup {
				c.fail(k, "yaml/duplicate-key", "duplicate key %q (first at line %d): remove one of them", k.Value, first.Line)
				continue
			}
			seen[k.Value] = k
			m[k.Value] = c.convert(v, depth+1)
		}
		return m
	case yaml.SequenceNode:
		if depth > c.lim.MaxDepth {
			c.fail(n, "yaml/limits", "nesting deeper than %d levels", c.lim.MaxDepth)
			return nil
		}
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			s = append(s, c.convert(e, depth+1))
		}
		return s
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.fail(n, "yaml/syntax", "unexpected YAML node")
	return nil
}

func (c *converter) scalar(n *yaml.Node) any {
	if n.Style == 0 {
		// Plain and untagged: resolve it with the YAML 1.2 core schema, not
		// with yaml.v3's tags, which follow YAML 1.1 for numbers (017 octal,
		// 0b1111, 1_000) and leave an overflowing float a string.
		return c.plain(n)
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		return n.Value
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			if bi, ok := parseBig(s); ok && bi {
				c.fail(n, "yaml/limits", "integer %s is beyond ±(2^53-1): quote it if it is an identifier", n.Value)
				return nil
			}
			return n.Value
		}
		if i > maxSafeInt || i < -maxSafeInt {
			c.fail(n, "yaml/limits", "integer %s is beyond ±(2^53-1): quote it if it is an identifier", n.Value)
			return nil
		}
		return i
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			switch strings.ToLower(n.Value) {
			case ".inf", "+.inf", "-.inf", ".nan":
				c.fail(n, "yaml/unsupported", "%s has no JSON form: quote it if it is text", n.Value)
				return nil
			}
			return n.Value
		}
		return c.float(n, f)
	}
	return n.Value
}

// The YAML 1.2 core schema's integer and float forms (section 10.3.2),
// matched by hand: every plain scalar that starts like a number (dates and
// versions among them) goes through these, in every file.
//
//	int:   [-+]?[0-9]+        octal: 0o[0-7]+        hex: 0x[0-9a-fA-F]+
//	float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?

// digits returns the length of the run of bytes of s that ok accepts.
func digits(s string, ok func(byte) bool) int {
	n := 0
	for n < len(s) && ok(s[n]) {
		n++
	}
	return n
}

func isDec(b byte) bool { return b >= '0' && b <= '9' }
func isOct(b byte) bool { return b >= '0' && b <= '7' }
func isHex(b byte) bool { return isDec(b) || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func unsign(s string) string {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		return s[1:]
	}
	return s
}

func coreInt(s string) bool {
	u := unsign(s)
	return u != "" && digits(u, isDec) == len(u)
}

func coreOct(s string) bool {
	return len(s) > 2 && s[:2] == "0o" && digits(s[2:], isOct) == len(s)-2
}

func coreHex(s string) bool {
	return len(s) > 2 && s[:2] == "0x" && digits(s[2:], isHex) == len(s)-2
}

func coreFloat(s string) bool {
	u := unsign(s)
	n := digits(u, isDec)
	rest := u[n:]
	if rest != "" && rest[0] == '.' {
		frac := digits(rest[1:], isDec)
		if n == 0 && frac == 0 {
			return false
		}
		rest = rest[1+frac:]
	} else if n == 0 {
		return false
	}
	if rest != "" && (rest[0] == 'e' || rest[0] == 'E') {
		exp := unsign(rest[1:])
		return exp != "" && digits(exp, isDec) == len(exp)
	}
	return rest == ""
}

// plain resolves a plain, untagged scalar as the YAML 1.2 core schema does:
// null, a boolean, a decimal, octal (0o) or hexadecimal (0x) integer, a
// float, or else the string as written.
func (c *converter) plain(n *yaml.Node) any {
	s := n.Value
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
		c.fail(n, "yaml/unsupported", "%s has no JSON form: quote it if it is text", s)
		return nil
	}
	// Every number starts with a digit, a sign or a dot; most scalars do not.
	if b := s[0]; !(b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.') {
		return s
	}
	switch {
	case coreInt(s):
		return c.integer(n, s, 10)
	case coreOct(s):
		return c.integer(n, s[2:], 8)
	case coreHex(s):
		return c.integer(n, s[2:], 16)
	case coreFloat(s):
		f, err := strconv.ParseFloat(s, 64)
		if err != nil { // ErrRange: the syntax is checked above
			c.fail(n, "yaml/limits", "number %s is out of range: quote it if it is text", s)
			return nil
		}
		return c.float(n, f)
	}
	return s
}

// integer parses the digits of a core schema integer in base and checks it
// against ±(2^53-1).
func (c *converter) integer(n *yaml.Node, digits string, base int) any {
	i, err := strconv.ParseInt(digits, base, 64)
	if err != nil || i > maxSafeInt || i < -maxSafeInt {
		c.fail(n, "yaml/limits", "integer %s is beyond ±(2^53-1): quote it if it is an identifier", n.Value)
		return nil
	}
	return i
}

// float checks a parsed float: it must be finite and, when it is a whole
// number, within ±(2^53-1).
func (c *converter) float(n *yaml.Node, f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		c.fail(n, "yaml/limits", "number %s is out of range: quote it if it is text", n.Value)
		return nil
	}
	if f == math.Trunc(f) && math.Abs(f) > maxSafeInt {
		c.fail(n, "yaml/limits", "number %s is beyond ±(2^53-1): quote it if it is an identifier", n.Value)
		return nil
	}
	return f
}

// parseBig reports whether s is an integer literal too large for int64.
func parseBig(s string) (tooLarge, ok bool) {
	_, err := strconv.ParseInt(s, 0, 64)
	var ne *strconv.NumError
	if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
		return true, true
	}
	return false, false
}

// Lookup returns the YAML node at a JSON pointer path below root, or the
// deepest existing node on the way, so a diagnostic always has a position.
// With key set, a mapping entry's key node is returned instead of its value.
func Lookup(root *yaml.Node, path []string, key bool) *yaml.Node {
	n := root
	for i, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == p {
					if key && i == len(path)-1 {
						return n.Content[j]
					}
					n = n.Content[j+1]
					found = true
					break
				}
			}
			if !found {
				return n
			}
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(p)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return n
			}
			n = n.Content[idx]
		default:
			return n
		}
	}
	return n
}

// KeyNode returns the key node of field name in mapping node m, or nil.
func KeyNode(m *yaml.Node, name string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == name {
			return m.Content[j]
		}
	}
	return nil
}

// separatorLine returns the line of the "---" that starts the second
// document: the first one after the first document's content.
func separatorLine(data []byte, first []*yaml.Node) int {
	after := 0
	if len(first) > 0 {
		after = first[0].Line
	}
	for i, l := range bytes.Split(data, []byte("\n")) {
		if i+1 > after && bytes.HasPrefix(l, []byte("---")) {
			return i + 1
		}
	}
	return 1
}
