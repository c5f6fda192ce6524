package registry

import (
	"regexp"
	"testing"
)

// The hand-written matchers of the YAML 1.2 core number forms agree with
// the schema's regular expressions on every string of a small alphabet.
func TestCoreNumberForms(t *testing.T) {
	intRE := regexp.MustCompile(`^[-+]?[0-9]+$`)
	octRE := regexp.MustCompile(`^0o[0-7]+$`)
	hexRE := regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	floatRE := regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	alphabet := []string{"0", "7", "9", "a", "F", "x", "o", ".", "e", "E", "-", "+", ":", "T"}
	var walk func(s string, depth int)
	walk = func(s string, depth int) {
		if got, want := coreInt(s), intRE.MatchString(s); got != want {
			t.Errorf("coreInt(%q) = %v, want %v", s, got, want)
		}
		if got, want := coreOct(s), octRE.MatchString(s); got != want {
			t.Errorf("coreOct(%q) = %v, want %v", s, got, want)
		}
		if got, want := coreHex(s), hexRE.MatchString(s); got != want {
			t.Errorf("coreHex(%q) = %v, want %v", s, got, want)
		}
		if got, want := coreFloat(s), floatRE.MatchString(s); got != want {
			t.Errorf("coreFloat(%q) = %v, want %v", s, got, want)
		}
		if depth == 0 {
			return
		}
		for _, c := range alphabet {
			walk(s+c, depth-1)
		}
	}
	walk("", 4)
	for _, s := range []string{"2026-11-20T10:00:00Z", "2.4.0", "1e10", "-.5", "0o17", "0x1F", "017", "1_5"} {
		walk(s, 0)
	}
}
