package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/relreg/relreg/registry"
)

// JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one
// <testsuite name="relreg">, one <testcase> per file that has diagnostics
// (named after the file), and a single passing testcase named "registry" when
// there are none. A file with errors has one <failure>: its message is the
// first error, its type the first error's rule, its text every diagnostic of
// the file as a text line. A file with only warnings passes and carries them
// in <system-out>. Names, messages and text are escaped as in the text
// format (see Escape), so the report holds no character XML 1.0 forbids.

type junitWriter struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut *junitCDATA   `xml:"system-out,omitempty"`
}

type junitCDATA struct {
	Text string `xml:",cdata"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// Write prints one JUnit XML report. Testcases follow the diagnostics' order,
// which is sorted by file.
func (junitWriter) Write(w io.Writer, r Result) error {
	var cases []junitCase
	failures := 0
	for i := 0; i < len(r.Diagnostics); {
		file := r.Diagnostics[i].File
		j := i
		for j < len(r.Diagnostics) && r.Diagnostics[j].File == file {
			j++
		}
		c := fileCase(file, r.Diagnostics[i:j])
		if c.Failure != nil {
			failures++
		}
		cases = append(cases, c)
		i = j
	}
	if len(cases) == 0 {
		cases = []junitCase{{Name: "registry", Classname: "relreg"}}
	}
	suites := junitSuites{
		Name: "relreg", Tests: len(cases), Failures: failures,
		Suites: []junitSuite{{Name: "relreg", Tests: len(cases), Failures: failures, Cases: cases}},
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, out)
	return err
}

// fileCase builds the testcase of one file from its diagnostics.
func fileCase(file string, ds []registry.Diagnostic) junitCase {
	name := EscapePath(file)
	if name == "" {
		name = "registry"
	}
	c := junitCase{Name: name, Classname: "relreg", File: EscapePath(file)}
	var text strings.Builder
	var first *registry.Diagnostic
	errs := 0
	for i, d := range ds {
		text.WriteString(Line(d))
		text.WriteByte('\n')
		if d.Severity == registry.SeverityError {
			if first == nil {
				first = &ds[i]
			}
			errs++
		}
	}
	if first == nil {
		c.SystemOut = &junitCDATA{Text: text.String()}
		return c
	}
	msg := Escape(first.Rule + ": " + first.Message)
	if errs > 1 {
		msg += fmt.Sprintf(" (and %d more)", errs-1)
	}
	c.Failure = &junitFailure{Message: msg, Type: Escape(first.Rule), Text: text.String()}
	return c
}
