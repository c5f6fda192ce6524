package registry

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// TestParseYAMLBadCharactersWhereTheyAre: a character YAML refuses is
// reported at its own line and column, and a UTF-16 or UTF-32 file is
// told to be UTF-8, with or without a byte order mark.
func TestParseYAMLBadCharactersWhereTheyAre(t *testing.T) {
	var head strings.Builder
	head.WriteString("apiVersion: relreg/v1\n")
	for i := range 18 {
		head.WriteString("# line " + string(rune('a'+i)) + "\n")
	}
	utf16le := func(s string, bom bool) []byte {
		var out []byte
		if bom {
			out = []byte{0xff, 0xfe}
		}
		for _, u := range utf16.Encode([]rune(s)) {
			out = append(out, byte(u), byte(u>>8))
		}
		return out
	}
	tests := []struct {
		name       string
		data       []byte
		line, col  int
		wantInText string
	}{
		{"BEL on line 20", []byte(head.String() + "title: bad \a here\n"), 20, 12, "control character U+0007"},
		{"NUL on line 20", []byte(head.String() + "title: a\x00b\n"), 20, 9, "control character U+0000"},
		{"DEL on line 20", []byte(head.String() + "title: a\x7fb\n"), 20, 9, "control character U+007F"},
		{"invalid UTF-8 on line 20", []byte(head.String() + "title: \xff\xfe\n"), 20, 8, "byte 0xff is not valid UTF-8"},
		{"after multi-byte characters", []byte(head.String() + "title: äöü\x01\n"), 20, 11, "control character U+0001"},
		{"UTF-16LE with a byte order mark", utf16le("apiVersion: relreg/v1\nkind: Release\n", true), 1, 1, "file is UTF-16LE: relreg reads UTF-8 only"},
		{"UTF-16LE without one", utf16le("apiVersion: relreg/v1\nkind: Release\n", false), 1, 1, "file is UTF-16LE"},
		{"UTF-16BE with a byte order mark", append([]byte{0xfe, 0xff}, 0, 'a', 0, ':', 0, ' ', 0, 'b'), 1, 1, "file is UTF-16BE"},
		{"UTF-32LE", []byte{'a', 0, 0, 0, ':', 0, 0, 0}, 1, 1, "file is UTF-32LE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseYAML(tt.data, Limits{})
			if len(ds) != 1 {
				t.Fatalf("ParseYAML() = %d diagnostics %+v, want 1", len(ds), ds)
			}
			d := ds[0]
			if d.Rule != "yaml/syntax" || d.Line != tt.line || d.Column != tt.col || !strings.Contains(d.Message, tt.wantInText) {
				t.Errorf("ParseYAML() = %d:%d %s: %s, want %d:%d yaml/syntax: ...%s...", d.Line, d.Column, d.Rule, d.Message, tt.line, tt.col, tt.wantInText)
			}
		})
	}
	// A UTF-8 byte order mark, a tab and a carriage return are fine.
	if _, ds := ParseYAML([]byte("\ufeffa: b\t# tab\r\nc: \"d\"\r\n"), Limits{}); len(ds) != 0 {
		t.Errorf("ParseYAML(BOM, tab, CRLF) = %+v, want no diagnostics", ds)
	}
}
