package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/schemas"
)

// ruleSchema is the rule id of every schema diagnostic.
const ruleSchema = "schema"

// schemaSet is the compiled schemas and their JSON, which the messages read
// (enum values, required fields, the definition a pattern comes from).
type schemaSet struct {
	byKind map[string]*jsonschema.Schema
	docs   map[string]any // parsed schema files by $id
}

// loadSchemas compiles the embedded schemas once, on first use.
var loadSchemas = sync.OnceValues(func() (*schemaSet, error) {
	compiled, err := schemas.Compile()
	if err != nil {
		return nil, err
	}
	set := &schemaSet{byKind: compiled, docs: map[string]any{}}
	for _, k := range schemas.Names() {
		data, err := schemas.Get(k)
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("read schema %s: %w", k, err)
		}
		id, _ := schemas.ID(k)
		set.docs[id] = doc
	}
	return set, nil
})

// schemaRule validates every parsed document against the schema of the kind
// its path expects (contract section 2).
func schemaRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	set, err := loadSchemas()
	if err != nil {
		// The schemas are part of the binary and tested; this is a broken build.
		return []registry.Diagnostic{{Rule: ruleSchema, Severity: registry.SeverityError, File: registry.ConfigFile,
			Message: fmt.Sprintf("relreg's built-in schemas do not compile (%v): report this as a bug", err)}}
	}
	var docs []*registry.Document
	for _, d := range opts.perFileDocs(reg) {
		if d.Node != nil {
			docs = append(docs, d)
		}
	}
	per := make([][]registry.Diagnostic, len(docs))
	// Validation is CPU-bound and independent per file: spread it over the
	// cores, in chunks so that small registries do not pay for goroutines.
	const chunk = 64
	workers := min(runtime.GOMAXPROCS(0), (len(docs)+chunk-1)/chunk)
	if workers <= 1 {
		for i, d := range docs {
			per[i] = set.validate(d)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for start := range next {
					for i := start; i < min(start+chunk, len(docs)); i++ {
						per[i] = set.validate(docs[i])
					}
				}
			}()
		}
		for start := 0; start < len(docs); start += chunk {
			next <- start
		}
		close(next)
		wg.Wait()
	}
	var out []registry.Diagnostic
	for _, ds := range per {
		out = append(out, ds...)
	}
	return out
}

// ValidateSchema validates one parsed document against the schema of
// d.Kind and returns its schema diagnostics. A document that could not be
// parsed (d.Node == nil) has none: the YAML diagnostics explain it.
func ValidateSchema(d *registry.Document) []registry.Diagnostic {
	if d == nil || d.Node == nil {
		return nil
	}
	set, err := loadSchemas()
	if err != nil {
		return []registry.Diagnostic{d.Diag(ruleSchema, fmt.Sprintf("relreg's built-in schemas do not compile (%v): report this as a bug", err))}
	}
	return set.validate(d)
}

// validate returns the schema diagnostics of one document.
//
// The JSON value of a parsed document holds int64 for integers and float64
// for decimals; jsonschema compares numbers through their decimal text
// (big.Rat), so it takes both as they are and integers keep their precision.
func (s *schemaSet) validate(d *registry.Document) []registry.Diagnostic {
	sch := s.byKind[d.Kind]
	if sch == nil {
		return nil
	}
	err := sch.Validate(d.Node.Value)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []registry.Diagnostic{d.Diag(ruleSchema, fmt.Sprintf("cannot validate against the %s schema: %v", d.Kind, err))}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)

	// A document of the wrong kind fails everywhere: say only that.
	if slices.ContainsFunc(leaves, func(e *jsonschema.ValidationError) bool { return e.InstanceLocation == "/kind" }) {
		leaves = slices.DeleteFunc(leaves, func(e *jsonschema.ValidationError) bool {
			return e.InstanceLocation != "/kind" && e.InstanceLocation != "/apiVersion"
		})
	}
	// Unknown fields first, so that a misspelt required field ("titel" for
	// "title") is reported once, as the misspelling.
	slices.SortStableFunc(leaves, func(a, b *jsonschema.ValidationError) int {
		return boolRank(keyword(a) != "additionalProperties") - boolRank(keyword(b) != "additionalProperties")
	})
	m := &mapper{set: s, doc: d, suggested: map[string]bool{}}
	for _, e := range leaves {
		m.add(e)
	}
	return m.out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// collectLeaves flattens a validation error into the errors that have no
// causes. Of the branches of a failed anyOf or oneOf only the one that got
// furthest into the document is kept: the others are noise.
func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(e.Causes) == 0 {
		*out = append(*out, e)
		return
	}
	switch keyword(e) {
	case "anyOf", "oneOf":
		best := e.Causes[0]
		for _, c := range e.Causes[1:] {
			if depth(c) > depth(best) {
				best = c
			}
		}
		collectLeaves(best, out)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

// depth is the deepest instance location an error or its causes reach.
func depth(e *jsonschema.ValidationError) int {
	d := strings.Count(e.InstanceLocation, "/")
	for _, c := range e.Causes {
		d = max(d, depth(c))
	}
	return d
}

// keyword returns the last token of an error's keyword location.
func keyword(e *jsonschema.ValidationError) string {
	k := e.KeywordLocation
	return k[strings.LastIndexByte(k, '/')+1:]
}

// mapper turns leaf validation errors of one document into diagnostics.
type mapper struct {
	set *schemaSet
	doc *registry.Document
	out []registry.Diagnostic
	// suggested holds "<instance location>\x00<field>" for every field an
	// unknown-field diagnostic suggested, whose missing-field diagnostic
	// would repeat it.
	suggested map[string]bool
}

func (m *mapper) emit(n *yaml.Node, msg string) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	for _, o := range m.out {
		if o.Line == line && o.Column == col && o.Message == msg {
			return
		}
	}
	m.out = append(m.out, registry.Diagnostic{Rule: ruleSchema, Severity: registry.SeverityError,
		File: m.doc.Path, Line: line, Column: col, Subject: m.doc.Subject(), Message: msg})
}

func (m *mapper) node(inst []string, key bool) *yaml.Node {
	return registry.Lookup(m.doc.Node.Root(), inst, key)
}

// add maps one leaf error to zero or more diagnostics.
func (m *mapper) add(e *jsonschema.ValidationError) {
	inst := pointerTokens(e.InstanceLocation)
	value, _ := lookupValue(m.doc.Node.Value, inst)
	path := fieldPath(m.doc.Node.Value, inst)
	prefix := ""
	if path != "" {
		prefix = path + ": "
	}
	sub, subPtr := m.set.subschema(e.AbsoluteKeywordLocation)
	n := m.node(inst, false)

	if _, frag, _ := strings.Cut(e.AbsoluteKeywordLocation, "#"); e.Message == "not allowed" && len(inst) > 0 &&
		strings.HasSuffix(frag, "/properties/"+escapeToken(inst[len(inst)-1])) {
		// A false schema: the field is forbidden in this context.
		ppath := fieldPath(m.doc.Node.Value, inst[:len(inst)-1])
		msg := fmt.Sprintf("field %q is not allowed here", inst[len(inst)-1])
		if ppath != "" {
			msg = ppath + ": " + msg
		}
		owner, ownerPtr := m.set.at(e.AbsoluteKeywordLocation, 2)
		m.emit(m.node(inst, true), withReason(msg, owner, ownerPtr))
		return
	}

	switch keyword(e) {
	case "type":
		m.emit(n, prefix+typeMessage(sub, value, n, inst))
	case "required":
		obj, _ := value.(map[string]any)
		for _, f := range stringList(sub["required"]) {
			if _, ok := obj[f]; ok || m.suggested[e.InstanceLocation+"\x00"+f] {
				continue
			}
			m.emit(n, withReason(prefix+fmt.Sprintf("missing required field %q", f), sub, subPtr))
		}
	case "additionalProperties":
		obj, _ := value.(map[string]any)
		props, _ := sub["properties"].(map[string]any)
		var unknown []string
		for f := range obj {
			if _, ok := props[f]; !ok {
				unknown = append(unknown, f)
			}
		}
		slices.Sort(unknown)
		known := slices.Sorted(maps.Keys(props))
		for _, f := range unknown {
			msg := prefix + fmt.Sprintf("unknown field %q", f)
			if s := suggest(f, known); s != "" && !hasKey(obj, s) {
				msg += fmt.Sprintf(": did you mean %q?", s)
				m.suggested[e.InstanceLocation+"\x00"+s] = true
			} else {
				msg += ": remove it (known fields: " + strings.Join(known, ", ") + ")"
			}
			m.emit(m.node(append(slices.Clone(inst), f), true), msg)
		}
	case "enum":
		var vals []string
		for _, v := range anyList(sub["enum"]) {
			vals = append(vals, fmt.Sprint(v))
		}
		m.emit(n, prefix+fmt.Sprintf("%s is not one of %s", show(value, n), strings.Join(vals, ", ")))
	case "const":
		msg := prefix + fmt.Sprintf("%s must be %q", show(value, n), fmt.Sprint(sub["const"]))
		if len(inst) == 1 && inst[0] == "kind" {
			msg += fmt.Sprintf(": %s holds a %s", m.doc.Path, fmt.Sprint(sub["const"]))
		}
		m.emit(n, msg)
	case "pattern":
		if len(subPtr) == 2 && subPtr[0] == "$defs" && subPtr[1] == "version" {
			return // a version that is not SemVer is semver/invalid, reported by the semver rule
		}
		m.emit(n, prefix+patternMessage(subPtr, sub, value, n))
	case "format":
		m.emit(n, prefix+formatMessage(sub, value, n))
	case "minimum", "maximum":
		lo, hasLo := sub["minimum"]
		hi, hasHi := sub["maximum"]
		var msg string
		switch {
		case hasLo && hasHi:
			msg = fmt.Sprintf("%s is out of range: use %v to %v", show(value, n), lo, hi)
		case hasLo:
			msg = fmt.Sprintf("%s is less than the minimum %v", show(value, n), lo)
		default:
			msg = fmt.Sprintf("%s is more than the maximum %v", show(value, n), hi)
		}
		m.emit(n, prefix+msg)
	case "minItems":
		if min, _ := sub["minItems"].(float64); min == 1 {
			m.emit(n, prefix+"needs at least one entry")
		} else {
			m.emit(n, prefix+fmt.Sprintf("needs at least %v entries", sub["minItems"]))
		}
	case "minLength":
		m.emit(n, prefix+"must not be empty")
	case "uniqueItems":
		var i, j int
		if _, err := fmt.Sscanf(e.Message, "items at index %d and %d are equal", &i, &j); err != nil {
			m.emit(n, prefix+"holds duplicates: remove them")
			return
		}
		item := append(slices.Clone(inst), strconv.Itoa(j))
		v, _ := lookupValue(m.doc.Node.Value, item)
		in := m.node(item, false)
		m.emit(in, fmt.Sprintf("%s: %s repeats %s[%d]: remove the duplicate", fieldPath(m.doc.Node.Value, item), show(v, in), path, i))
	default:
		m.emit(n, prefix+e.Message)
	}
}

// withReason appends the description of a conditional subschema (then,
// else), which says why a field is required or forbidden there.
func withReason(msg string, sub map[string]any, ptr []string) string {
	if len(ptr) == 0 || ptr[len(ptr)-1] != "then" && ptr[len(ptr)-1] != "else" {
		return msg
	}
	if d, _ := sub["description"].(string); d != "" {
		return msg + ": " + d
	}
	return msg
}

// typeMessage explains a value of the wrong type. A number or boolean where
// text is expected is almost always YAML reading a value unquoted
// (version: 2.10 is the number 2.1): the fix is to quote it as written.
func typeMessage(sub map[string]any, value any, n *yaml.Node, inst []string) string {
	want := stringList(sub["type"])
	if s, ok := sub["type"].(string); ok {
		want = []string{s}
	}
	if slices.Contains(want, "string") && n != nil && n.Kind == yaml.ScalarNode {
		what := ""
		switch n.Tag {
		case "!!int", "!!float":
			what = "a number"
		case "!!bool":
			what = "a boolean"
		}
		if what != "" {
			field := ""
			if len(inst) > 0 {
				if last := inst[len(inst)-1]; !isIndex(last) {
					field = last + ": "
				}
			}
			return fmt.Sprintf("%s is %s: quote it, %s%q", n.Value, what, field, n.Value)
		}
	}
	var names []string
	for _, w := range want {
		names = append(names, typeName(w))
	}
	msg := fmt.Sprintf("must be %s, not %s", strings.Join(names, " or "), valueType(value))
	if len(want) == 1 && want[0] == "array" && n != nil && n.Kind == yaml.ScalarNode && value != nil {
		msg += fmt.Sprintf(": write [%s]", n.Value)
	}
	return msg
}

func typeName(t string) string {
	switch t {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	}
	return t
}

func valueType(v any) string {
	switch v.(type) {
	case nil:
		return "empty (null)"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int, json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// patternHints say in words what each pattern of the schemas accepts, by the
// name of the $defs entry that holds it.
var patternHints = map[string]string{
	"name":       "a valid name: use lowercase letters, digits and inner dashes, at most 63 characters",
	"version":    "a SemVer 2.0.0 version such as 2.4.0 or 3.0.0-rc.1 (no v prefix)",
	"digest":     "a digest: write sha256: and 64 lowercase hex digits",
	"dependency": "a release as service@version, such as ledger@1.8.0",
	"revision":   "a commit id: write the full 40 lowercase hex digits",
	"clock":      "a time of day HH:MM, such as 22:00",
	"duration":   "a duration such as 4h, 90m or 4h30m",
	"sshKey":     "an OpenSSH public key line such as ssh-ed25519 AAAA... comment (certificates and options are not accepted)",
}

func patternMessage(subPtr []string, sub map[string]any, value any, n *yaml.Node) string {
	if len(subPtr) == 2 && subPtr[0] == "$defs" {
		if h, ok := patternHints[subPtr[1]]; ok {
			return fmt.Sprintf("%s is not %s", show(value, n), h)
		}
	}
	return fmt.Sprintf("%s does not match the pattern %v", show(value, n), sub["pattern"])
}

func formatMessage(sub map[string]any, value any, n *yaml.Node) string {
	v := show(value, n)
	switch f, _ := sub["format"].(string); f {
	case "date-time":
		return v + " is not an RFC 3339 time such as 2026-12-03T22:00:00Z"
	case "regex":
		s, _ := value.(string)
		_, err := regexp.Compile(s)
		if err != nil {
			return fmt.Sprintf("%s is not a valid regular expression: %s", v, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		return v + " is not a valid regular expression"
	case "email":
		return v + " is not an email address"
	case "uri":
		return v + " is not an absolute URL such as https://example.com/path"
	default:
		return fmt.Sprintf("%s is not a valid %s", v, f)
	}
}

// show renders a value for a message: strings quoted, other scalars as
// written in the file.
func show(v any, n *yaml.Node) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case map[string]any, []any, nil:
		return valueType(v)
	}
	if n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return fmt.Sprint(v)
}

// suggest returns the known field closest to an unknown one, if it is close
// enough to be a typo.
func suggest(f string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if strings.EqualFold(k, f) {
			return k
		}
		if d := editDistance(strings.ToLower(f), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD >= len(f) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// subschema returns the schema object holding the keyword at an absolute
// keyword location, and its pointer tokens within its file.
func (s *schemaSet) subschema(abs string) (map[string]any, []string) {
	return s.at(abs, 1)
}

// at returns the schema object up levels above an absolute keyword location.
func (s *schemaSet) at(abs string, up int) (map[string]any, []string) {
	id, frag, _ := strings.Cut(abs, "#")
	toks := pointerTokens(frag)
	if len(toks) < up {
		return nil, nil
	}
	toks = toks[:len(toks)-up]
	v, _ := lookupValue(s.docs[id], toks)
	m, _ := v.(map[string]any)
	return m, toks
}

// pointerTokens splits a JSON pointer as jsonschema writes it (tokens
// escaped with ~0, ~1 and then URL path escaping).
func pointerTokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}

// escapeToken escapes a JSON pointer token as jsonschema does.
func escapeToken(t string) string {
	return url.PathEscape(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
}

// lookupValue follows pointer tokens through a JSON value.
func lookupValue(v any, toks []string) (any, bool) {
	for _, t := range toks {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// fieldPath renders pointer tokens as a field path a person reads:
// spec.components[0].version.
func fieldPath(v any, toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		if c, ok := v.([]any); ok && isIndex(t) {
			b.WriteString("[" + t + "]")
			i, _ := strconv.Atoi(t)
			if i < len(c) {
				v = c[i]
			} else {
				v = nil
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
		if c, ok := v.(map[string]any); ok {
			v = c[t]
		} else {
			v = nil
		}
	}
	return b.String()
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func isIndex(t string) bool {
	_, err := strconv.Atoi(t)
	return err == nil
}

func stringList(v any) []string {
	var out []string
	for _, e := range anyList(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}
