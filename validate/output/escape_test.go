package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/relreg/relreg/registry"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want, wantPath string
	}{
		{name: "plain", in: "releases/payments/2.4.0.yaml", want: "releases/payments/2.4.0.yaml"},
		{name: "unicode kept", in: "Zahlungsverkehr für Ärzte — ✓", want: "Zahlungsverkehr für Ärzte — ✓"},
		{name: "newline", in: "2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml",
			want: `2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml`},
		{name: "CR and tab", in: "a\rb\tc", want: `a\rb\tc`},
		{name: "ESC", in: "\x1b[31mred\x1b[0m", want: `\x1b[31mred\x1b[0m`},
		{name: "NUL and DEL", in: "a\x00b\x7fc", want: `a\x00b\x7fc`},
		{name: "C1 NEL and CSI", in: "a\u0085b\u009bc", want: `a\u0085b\u009bc`},
		{name: "line separators", in: "a\u2028b\u2029c", want: `a\u2028b\u2029c`},
		{name: "bidi override", in: "evil\u202egpj.yaml", want: `evil\u202egpj.yaml`},
		{name: "XML non-characters", in: "a\ufffeb\uffffc", want: `a\ufffeb\uffffc`},
		{name: "invalid UTF-8", in: "a\xffb\xc3(c\xed\xa0\x80", want: `a\xffb\xc3(c\xed\xa0\x80`},
		{name: "legacy GitHub command", in: "releases/payments/##[error]forged annotation.yaml", want: `releases/payments/##\x5berror]forged annotation.yaml`},
		{name: "Azure logging command", in: "x ##vso[task.setvariable variable=a]b", want: `x ##vso\x5btask.setvariable variable=a]b`},
		{name: "workflow command at the start", in: "::error title=x::y", want: `\x3a:error title=x::y`},
		{name: "a colon at the start kept", in: ":a::b", want: ":a::b"},
		{name: "a lone # or [ kept", in: "#[a] ## [b] #vso[c]", want: "#[a] ## [b] #vso[c]"},
		{name: "backslash", in: `a\nb\\c`, want: `a\nb\\c`, wantPath: `a\\nb\\\\c`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			wantPath := tt.wantPath
			if wantPath == "" {
				wantPath = tt.want
			}
			if got := EscapePath(tt.in); got != wantPath {
				t.Errorf("EscapePath(%q) = %q, want %q", tt.in, got, wantPath)
			}
		})
	}
}

// hostile are file names and messages that try to break out of their line
// or their format.
var hostile = []string{
	"releases/payments/2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml",
	"releases/payments/2.6.0\r::warning::carriage return.yaml",
	"releases/pay\x1b]0;title\x07ments/\x1b[2K1.0.0.yaml",
	"releases/nul\x00/1.0.0.yaml",
	"releases/del\x7f/1.0.0.yaml",
	"releases/ls\u2028::error::line separator/1.0.0.yaml",
	"releases/nel\u0085::error::next line/1.0.0.yaml",
	"releases/bad\xff\xfe utf8/1.0.0.yaml",
	"releases/payments/##[error]forged annotation.yaml",
	"releases/bidi\u202e/1.0.0.yaml",
	"releases/xml\ufffe/]]>&<\"'/1.0.0.yaml",
	"releases/back\\slash/1.0.0.yaml",
}

func hostileResult() Result {
	var ds []registry.Diagnostic
	for i, name := range hostile {
		sev := registry.SeverityError
		if i%3 == 2 {
			sev = registry.SeverityWarning
		}
		ds = append(ds, registry.Diagnostic{
			Rule: "layout/path", Severity: sev, File: name, Line: i, Column: 1,
			Subject: "release/" + name, Message: "unexpected file " + name + ": rename it\n::error::forged",
			Commit: "0123456789abcdef0123456789abcdef01234567",
		})
	}
	return Result{Files: len(ds), Diagnostics: ds, RepoPrefix: "reg\n::error::"}
}

// checkLines fails when output has a line a CI runner would read as its
// own (a workflow command, after leading blanks as GitHub trims them), or
// a control character other than the newlines between lines, a line or
// paragraph separator, a C1 control or bytes that are not UTF-8.
func checkLines(t *testing.T, format string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s output is not UTF-8:\n%q", format, out)
	}
	for n, line := range strings.Split(string(out), "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		// GitHub's runner reads its older ##[command] anywhere in a
		// line, and Azure Pipelines its ##vso[command].
		if strings.HasPrefix(trimmed, "::") || strings.Contains(line, "##[") || strings.Contains(line, "##vso[") {
			t.Errorf("%s output line %d reads as a CI command: %q", format, n+1, line)
		}
		for _, r := range line {
			if r < 0x20 && r != '\t' || r == 0x7f || 0x80 <= r && r <= 0x9f || r == 0x2028 || r == 0x2029 {
				t.Errorf("%s output line %d holds %U: %q", format, n+1, r, line)
			}
		}
	}
}

func TestHostileNamesText(t *testing.T) {
	res := hostileResult()
	var b bytes.Buffer
	if err := (textWriter{}).Write(&b, res); err != nil {
		t.Fatal(err)
	}
	checkLines(t, Text, b.Bytes())
	if lines := strings.Count(b.String(), "\n"); lines != len(hostile) {
		t.Errorf("text output has %d lines, want one per diagnostic (%d):\n%s", lines, len(hostile), b.String())
	}
	if tab := strings.Count(b.String(), "\t"); tab != 0 {
		t.Errorf("text output holds %d tabs", tab)
	}
	want := `0123456789abcdef0123456789abcdef01234567: releases/payments/2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml:0:1: error: layout/path: unexpected file releases/payments/2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml: rename it\n::error::forged`
	if first, _, _ := strings.Cut(b.String(), "\n"); first != want {
		t.Errorf("first line = %q, want %q", first, want)
	}
	if !strings.Contains(b.String(), `releases/back\\slash/1.0.0.yaml:11:1:`) {
		t.Errorf("a backslash in a path is not doubled:\n%s", b.String())
	}
}

func TestHostileNamesJSON(t *testing.T) {
	for _, format := range []string{JSON, SARIF} {
		t.Run(format, func(t *testing.T) {
			w, err := New(format)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := w.Write(&b, hostileResult()); err != nil {
				t.Fatal(err)
			}
			// encoding/json escapes controls and U+2028/U+2029, and
			// turns bytes that are not UTF-8 into U+FFFD.
			checkLines(t, format, b.Bytes())
			if !json.Valid(b.Bytes()) {
				t.Fatalf("%s output is not JSON", format)
			}
			if format != JSON {
				return
			}
			var doc struct {
				Diagnostics []struct{ File string }
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for i, d := range doc.Diagnostics {
				if utf8.ValidString(hostile[i]) && d.File != hostile[i] {
					t.Errorf("file %d = %q, want %q exactly: JSON is for machines", i, d.File, hostile[i])
				}
			}
		})
	}
}

// TestHostileNamesJUnit parses the JUnit report with encoding/xml, which
// is strict about the characters XML 1.0 allows, and scans it for them too.
func TestHostileNamesJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := (junitWriter{}).Write(&b, hostileResult()); err != nil {
		t.Fatal(err)
	}
	checkLines(t, JUnit, b.Bytes())
	for i, r := range b.String() {
		if !xmlChar(r) || r == utf8.RuneError {
			t.Errorf("JUnit output holds %U at byte %d, which XML 1.0 forbids", r, i)
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.Strict = true
	var names []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("JUnit output is not XML: %v\n%s", err, b.String())
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "testcase" {
			for _, a := range se.Attr {
				if a.Name.Local == "name" {
					names = append(names, a.Value)
				}
			}
		}
	}
	if len(names) != len(hostile) {
		t.Fatalf("JUnit testcases = %d, want %d", len(names), len(hostile))
	}
	if want := `releases/payments/2.6.0\n::error file=relreg.yaml,line=1::all approvals verified\n.yaml`; !strings.Contains(strings.Join(names, " "), want) {
		t.Errorf("JUnit testcase names %q lack %q", names, want)
	}
}

// xmlChar reports whether XML 1.0 allows a character.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0a || r == 0x0d ||
		0x20 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff
}

// FuzzEscape: whatever the input, the escaped text is one line of UTF-8
// holding no control character and nothing XML forbids.
func FuzzEscape(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, got := range []string{Escape(s), EscapePath(s)} {
			if !utf8.ValidString(got) {
				t.Fatalf("Escape(%q) = %q, not UTF-8", s, got)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f || unsafeRune(r) || !xmlChar(r) {
					t.Fatalf("Escape(%q) = %q holds %U", s, got, r)
				}
			}
		}
	})
}
