package output

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape returns s fit to print on one line of text for people and CI
// logs: a character that could end the line, move the cursor, recolor the
// terminal or reorder what a reader sees is printed as an escape, so that a
// hostile file name or message cannot start a line of its own (a GitHub
// Actions "::error" workflow command, say) or forge what is around it.
//
//   - \n, \r and \t as themselves;
//   - other C0 controls (U+0000 to U+001F) and DEL as \xNN;
//   - C1 controls (U+0080 to U+009F), the line and paragraph separators
//     U+2028 and U+2029, the bidirectional formatting characters (U+061C,
//     U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) and the
//     non-characters U+FFFE and U+FFFF as \uNNNN;
//   - each byte that is not UTF-8 as \xNN;
//   - the first ":" of a "::" that starts s as \x3a, since s may start a line
//     (a table's first column), and a line that starts with "::" is a
//     GitHub Actions workflow command;
//   - the "[" of "##[" and "##vso[" as \x5b: GitHub's runner reads its
//     older workflow commands (##[error]...), and Azure Pipelines its
//     logging commands, anywhere in a line, not only at its start.
//
// The result holds only characters XML 1.0 allows. A backslash is kept as
// it is, since messages quote patterns and YAML that hold backslashes; see
// EscapePath for paths.
func Escape(s string) string { return escape(s, false) }

// EscapePath is Escape for a path: a backslash is doubled too, so the
// printed path reads back as exactly one name.
func EscapePath(p string) string { return escape(p, true) }

func escape(s string, path bool) string {
	if !needsEscape(s, path) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\\' && path:
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == ':' && i == 0 && strings.HasPrefix(s, "::"):
			b.WriteString(`\x3a`)
		case r == '[' && legacyCommand(s[:i]):
			b.WriteString(`\x5b`)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// legacyCommand reports whether a "[" after before would open a command
// that a CI runner reads anywhere in a line: "##[" or "##vso[".
func legacyCommand(before string) bool {
	return strings.HasSuffix(before, "##") || strings.HasSuffix(before, "##vso")
}

// needsEscape reports whether escape would change s.
func needsEscape(s string, path bool) bool {
	if strings.HasPrefix(s, "::") || strings.Contains(s, "##[") || strings.Contains(s, "##vso[") {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' && path {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafeRune reports whether a character beyond ASCII is a control, a line
// break, a bidirectional override or a character XML forbids.
func unsafeRune(r rune) bool {
	switch {
	case 0x80 <= r && r <= 0x9f, r == 0x2028, r == 0x2029,
		r == 0x061c, r == 0x200e, r == 0x200f,
		0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069,
		r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

// JSONWriter returns a writer for encoding/json output that also escapes,
// as \uNNNN, the characters Escape escapes and encoding/json leaves as they
// are (DEL, C1 controls, bidirectional formatting characters, U+FFFE and
// U+FFFF), and the "[" of "##[" and "##vso[" (see Escape). They only ever
// stand inside JSON strings, so the document means
// the same, byte for byte once decoded; encoding/json already escapes the
// C0 controls and U+2028 and U+2029, and replaces bytes that are not UTF-8.
// Each Write must hold whole characters, as json.Encoder's writes do.
func JSONWriter(w io.Writer) io.Writer { return jsonEscaper{w} }

type jsonEscaper struct{ w io.Writer }

func (j jsonEscaper) Write(p []byte) (int, error) {
	if !jsonNeedsEscape(p) {
		return j.w.Write(p)
	}
	var b bytes.Buffer
	b.Grow(len(p) + 16)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if r == 0x7f || unsafeRune(r) || r == '[' && (bytes.HasSuffix(p[:i], []byte("##")) || bytes.HasSuffix(p[:i], []byte("##vso"))) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(p[i : i+n])
		}
		i += n
	}
	if _, err := j.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func jsonNeedsEscape(p []byte) bool {
	if bytes.Contains(p, []byte("##[")) || bytes.Contains(p, []byte("##vso[")) {
		return true
	}
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			if p[i] == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}
