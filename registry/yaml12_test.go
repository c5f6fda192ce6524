package registry

import (
	"encoding/json"
	"testing"
)

// Plain scalars mean what the YAML 1.2 core schema says, whatever yaml.v3's
// YAML 1.1 tags say: 017 is seventeen, 0b1111 and 1_5 are strings.
func TestYAML12Scalars(t *testing.T) {
	tests := []struct {
		name string
		in   string // the value of key v
		want string // its JSON
	}{
		// Integers.
		{name: "decimal", in: "17", want: `17`},
		{name: "leading zero is decimal", in: "017", want: `17`},
		{name: "zeros", in: "000", want: `0`},
		{name: "plus sign", in: "+12", want: `12`},
		{name: "minus sign", in: "-017", want: `-17`},
		{name: "octal 0o", in: "0o17", want: `15`},
		{name: "hex 0x", in: "0xF", want: `15`},
		{name: "hex lower case", in: "0xff", want: `255`},
		{name: "largest safe integer", in: "9007199254740991", want: `9007199254740991`},
		{name: "binary is a string", in: "0b1111", want: `"0b1111"`},
		{name: "underscores are a string", in: "1_5", want: `"1_5"`},
		{name: "underscores in hex are a string", in: "0x_F", want: `"0x_F"`},
		{name: "signed hex is a string", in: "-0x1", want: `"-0x1"`},
		{name: "signed octal is a string", in: "-0o7", want: `"-0o7"`},
		{name: "upper case 0X is a string", in: "0XF", want: `"0XF"`},
		{name: "bad octal digit is a string", in: "0o8", want: `"0o8"`},
		{name: "sexagesimal is a string", in: "1:30", want: `"1:30"`},
		// Floats.
		{name: "float", in: "0.5", want: `0.5`},
		{name: "leading dot", in: ".5", want: `0.5`},
		{name: "trailing dot", in: "1.", want: `1`},
		{name: "exponent", in: "5e-1", want: `0.5`},
		{name: "signed exponent", in: "-1.5E+2", want: `-150`},
		{name: "float underflow is zero", in: "1e-400", want: `0`},
		{name: "underscores in a float are a string", in: "1_000.5", want: `"1_000.5"`},
		{name: "hex float is a string", in: "0x1p-2", want: `"0x1p-2"`},
		{name: "two dots is a string", in: "1.2.3", want: `"1.2.3"`},
		// Booleans: only the core forms.
		{name: "true", in: "true", want: `true`},
		{name: "True", in: "True", want: `true`},
		{name: "FALSE", in: "FALSE", want: `false`},
		{name: "yes is a string", in: "yes", want: `"yes"`},
		{name: "no is a string", in: "no", want: `"no"`},
		{name: "on is a string", in: "on", want: `"on"`},
		{name: "off is a string", in: "off", want: `"off"`},
		{name: "y is a string", in: "y", want: `"y"`},
		{name: "tRUE is a string", in: "tRUE", want: `"tRUE"`},
		// Nulls.
		{name: "tilde", in: "~", want: `null`},
		{name: "null", in: "null", want: `null`},
		{name: "Null", in: "Null", want: `null`},
		{name: "NULL", in: "NULL", want: `null`},
		{name: "empty", in: "", want: `null`},
		{name: "nULL is a string", in: "nULL", want: `"nULL"`},
		// Other plain scalars.
		{name: "date", in: "2026-12-03", want: `"2026-12-03"`},
		{name: "version", in: "2.4.0", want: `"2.4.0"`},
		// Quoted and explicitly tagged scalars are not re-resolved.
		{name: "quoted number", in: `"017"`, want: `"017"`},
		{name: "single-quoted true", in: `'true'`, want: `"true"`},
		{name: "tagged int keeps its reading", in: `!!int "12"`, want: `12`},
		{name: "tagged str", in: `!!str 17`, want: `"17"`},
		{name: "block scalar", in: "|-\n  17", want: `"17"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ds := ParseYAML([]byte("v: "+tt.in+"\n"), DefaultLimits)
			if len(ds) > 0 {
				t.Fatalf("ParseYAML(v: %s) diagnostics = %v, want none", tt.in, ds)
			}
			got, err := json.Marshal(n.Value.(map[string]any)["v"])
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ParseYAML(v: %s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Plain scalars with a number's form that JSON cannot hold are refused.
func TestYAML12ScalarsRefused(t *testing.T) {
	tests := []struct {
		name string
		in   string
		rule string
	}{
		{name: "integer over 2^53-1", in: "9007199254740992", rule: "yaml/limits"},
		{name: "integer under -(2^53-1)", in: "-9007199254740992", rule: "yaml/limits"},
		{name: "integer over int64", in: "99999999999999999999999999999", rule: "yaml/limits"},
		{name: "hex over int64", in: "0xFFFFFFFFFFFFFFFFFF", rule: "yaml/limits"},
		{name: "octal over 2^53-1", in: "0o777777777777777777", rule: "yaml/limits"},
		{name: "whole float over 2^53-1", in: "9007199254740993.0", rule: "yaml/limits"},
		{name: "float overflow", in: "0.1e400", rule: "yaml/limits"},
		{name: "negative float overflow", in: "-1e309", rule: "yaml/limits"},
		{name: "infinity", in: ".inf", rule: "yaml/unsupported"},
		{name: "negative infinity", in: "-.Inf", rule: "yaml/unsupported"},
		{name: "not a number", in: ".NaN", rule: "yaml/unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseYAML([]byte("a: 1\nv: "+tt.in+"\n"), DefaultLimits)
			if len(ds) != 1 {
				t.Fatalf("ParseYAML(v: %s) diagnostics = %v, want one %s", tt.in, ds, tt.rule)
			}
			if d := ds[0]; d.Rule != tt.rule || d.Line != 2 || d.Column != 4 {
				t.Errorf("diagnostic = %s at %d:%d, want %s at 2:4", d.Rule, d.Line, d.Column, tt.rule)
			}
		})
	}
}

// The digest reads 017 as seventeen, the way any YAML 1.2 reader does.
func TestYAML12DigestOfLeadingZero(t *testing.T) {
	digest := func(doc string) string {
		t.Helper()
		n, ds := ParseYAML([]byte(doc), DefaultLimits)
		if len(ds) > 0 {
			t.Fatalf("ParseYAML(%q): %v", doc, ds)
		}
		d, err := Digest(n.Value.(map[string]any)["spec"])
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if got, want := digest("spec:\n  size: 017\n"), digest("spec:\n  size: 17\n"); got != want {
		t.Errorf("Digest(size: 017) = %s, want %s, the digest of size: 17", got, want)
	}
	if got, other := digest("spec:\n  size: 017\n"), digest("spec:\n  size: 15\n"); got == other {
		t.Errorf("Digest(size: 017) = Digest(size: 15) = %s: 017 was read as octal", got)
	}
}

// An alias to an anchor that does not exist is an alias all the same:
// refused as unsupported, at the alias.
func TestYAMLUnknownAlias(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		alias    string
		line     int
		col      int
		wantRule string
	}{
		{name: "block value", doc: "a: 1\nc: *x\n", alias: "*x", line: 2, col: 4, wantRule: "yaml/unsupported"},
		{name: "in a flow list", doc: "a: 1\nb:\n  list: [1, *ref]\n", alias: "*ref", line: 3, col: 13, wantRule: "yaml/unsupported"},
		{name: "after a comment and a quote naming it", doc: "# see *x\na: \"*x\"\nb: '*x'\nc:\n  - *x\n", alias: "*x", line: 5, col: 5, wantRule: "yaml/unsupported"},
		{name: "longer name first", doc: "a: *xy\n", alias: "*xy", line: 1, col: 4, wantRule: "yaml/unsupported"},
		{name: "after non-ASCII text", doc: "é: [ü, *x]\n", alias: "*x", line: 1, col: 8, wantRule: "yaml/unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ParseYAML([]byte(tt.doc), DefaultLimits)
			if len(ds) != 1 {
				t.Fatalf("ParseYAML() diagnostics = %v, want one", ds)
			}
			d := ds[0]
			if d.Rule != tt.wantRule || d.Line != tt.line || d.Column != tt.col {
				t.Errorf("diagnostic = %s at %d:%d, want %s at %d:%d", d.Rule, d.Line, d.Column, tt.wantRule, tt.line, tt.col)
			}
			if want := "alias " + tt.alias + " is not supported"; len(d.Message) < len(want) || d.Message[:len(want)] != want {
				t.Errorf("message = %q, want it to start with %q", d.Message, want)
			}
		})
	}
	// A known anchor is still refused at the anchor, as before.
	_, ds := ParseYAML([]byte("a: &x 1\nc: *x\n"), DefaultLimits)
	if len(ds) == 0 || ds[0].Rule != "yaml/unsupported" || ds[0].Line != 1 {
		t.Errorf("ParseYAML(anchor and alias) = %v, want yaml/unsupported at line 1", ds)
	}
}
