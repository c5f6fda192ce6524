package registry

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// emptyApprovals is what AppendApproval may remove from the line of the
// approvals key besides inserting the entry: the empty value it replaces.
var emptyApprovals = regexp.MustCompile(`^ *(\[\]|~|null)$`)

// appendedBlock finds the entry AppendApproval inserted into in to make
// out: a block, at the start of a line of out, that is the entry written
// at some indentation (after "approvals:" when the key was missing), such
// that taking it out of out gives in back, except for the empty value the
// entry replaces on the key's line and the line break a file without a
// final one gets before an entry at its end. It returns the block's offset
// in out, or -1.
func appendedBlock(in, out []byte, a Approval) int {
	eol := "\n"
	if i := bytes.IndexByte(in, '\n'); i > 0 && in[i-1] == '\r' {
		eol = "\r\n"
	}
	for i := 0; i < len(out); i++ {
		if i > 0 && out[i-1] != '\n' {
			continue
		}
		rest := out[i:]
		head := ""
		if bytes.HasPrefix(rest, []byte("approvals:"+eol)) {
			head = "approvals:" + eol
		}
		indent := len(rest[len(head):]) - len(bytes.TrimLeft(rest[len(head):], " "))
		block := head + strings.ReplaceAll(entryText(a, indent), "\n", eol)
		if !bytes.HasPrefix(rest, []byte(block)) {
			continue
		}
		without := append(bytes.Clone(out[:i]), out[i+len(block):]...)
		targets := [][]byte{in}
		if i+len(block) == len(out) && !bytes.HasSuffix(in, []byte("\n")) {
			// A file without a final line break gets one before an entry
			// that goes at its end.
			targets = append(targets, append(bytes.Clone(in), eol...))
		}
		for _, target := range targets {
			if bytes.Equal(without, target) || head == "" && removedEmpty(target, without, i) {
				return i
			}
		}
	}
	return -1
}

// removedEmpty reports whether without is in with the empty value of the
// approvals key (approvals: [], ~ or null, with the blanks before it) taken
// from the line that ends at offset at of without.
func removedEmpty(in, without []byte, at int) bool {
	n := len(in) - len(without)
	if n <= 0 || at == 0 {
		return false
	}
	lineStart := bytes.LastIndexByte(without[:at-1], '\n') + 1
	for j := lineStart; j+n <= len(in) && j < at; j++ {
		if bytes.Equal(in[:j], without[:j]) && bytes.Equal(in[j+n:], without[j:]) && emptyApprovals.Match(in[j:j+n]) {
			return true
		}
	}
	return false
}

// FuzzAppendApproval gives approve's file edit arbitrary YAML and approval
// fields. It never panics; it refuses, or it keeps the input byte for byte
// outside one inserted block, the entry as entryText writes it, and the
// result reads back as the input's document with exactly one more approval,
// last, equal to the one appended.
func FuzzAppendApproval(f *testing.F) {
	var files [][]byte
	for _, dir := range []string{filepath.Join("testdata", "sig", "edit"), filepath.Join("..", "examples", "basic", "releases", "payments")} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			files = append(files, data)
		}
	}
	real := exampleApprovals(f)
	for i, data := range files {
		for _, a := range []Approval{testApproval, real[i%len(real)]} {
			f.Add(data, a.Step, a.By, a.Role, a.At, a.Digest, a.Signature)
		}
		crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		f.Add(crlf, testApproval.Step, testApproval.By, testApproval.Role, testApproval.At, testApproval.Digest, testApproval.Signature)
		f.Add(bytes.TrimSuffix(data, []byte("\n")), testApproval.Step, "yes", "1.0", "2026-11-20", "a: b # c", testApproval.Signature)
	}
	// The honest edits of the examples must succeed, or the property
	// would hold vacuously.
	for _, name := range []string{"block-list.yaml", "no-approvals.yaml", "flow-empty.yaml", "null-value.yaml", "middle.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "sig", "edit", name))
		if err != nil {
			f.Fatal(err)
		}
		if _, err := AppendApproval(data, real[0]); err != nil {
			f.Fatalf("AppendApproval(%s) error = %v", name, err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, step, by, role, at, digest, signature string) {
		a := Approval{Step: step, By: by, Role: role, At: at, Digest: digest, Signature: signature}
		out, err := AppendApproval(data, a)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("AppendApproval() error has no message")
			}
			return
		}
		a.Signature = strings.TrimRight(a.Signature, "\n") + "\n"
		if appendedBlock(data, out, a) < 0 {
			t.Fatalf("AppendApproval() changed more than one inserted entry\ninput:\n%q\noutput:\n%q", data, out)
		}
		before, _ := ParseYAML(data, DefaultLimits)
		after, ds := ParseYAML(out, DefaultLimits)
		if len(ds) > 0 {
			t.Fatalf("ParseYAML(AppendApproval()) = %v\n%s", ds, out)
		}
		bm, _ := before.Value.(map[string]any)
		am, _ := after.Value.(map[string]any)
		bl, _ := bm["approvals"].([]any)
		al, ok := am["approvals"].([]any)
		if !ok || len(al) != len(bl)+1 {
			t.Fatalf("AppendApproval() approvals = %v, want the %d entries before and one more", am["approvals"], len(bl))
		}
		want := map[string]any{"step": a.Step, "by": a.By, "role": a.Role, "at": a.At, "digest": a.Digest, "signature": a.Signature}
		if !sameJSON(al[len(bl)], want) {
			t.Fatalf("AppendApproval() appended %v, want %v", al[len(bl)], want)
		}
		for i := range bl {
			if !sameJSON(al[i], bl[i]) {
				t.Fatalf("AppendApproval() changed approval %d from %v to %v", i, bl[i], al[i])
			}
		}
		delete(bm, "approvals")
		delete(am, "approvals")
		if !sameJSON(bm, am) {
			t.Fatal("AppendApproval() changed the document besides its approvals")
		}
	})
}
