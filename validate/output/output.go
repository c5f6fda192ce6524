// Package output turns diagnostics into text for people and JSON, SARIF or
// JUnit for machines. Every format is stable and documented in the README.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/relreg/relreg/registry"
)

// Format names.
const (
	Text  = "text"
	JSON  = "json"
	SARIF = "sarif"
	JUnit = "junit"
)

// Formats lists the formats of diagnostics, for flag help.
var Formats = []string{Text, JSON, SARIF, JUnit}

// Result is what a validation found.
type Result struct {
	Files       int                   // registry files checked
	Diagnostics []registry.Diagnostic // sorted with registry.SortDiagnostics
	// Version is relreg's version, reported as SARIF's tool.driver.version;
	// empty leaves it out.
	Version string
	// RepoPrefix is the registry folder relative to its git repository's
	// root ("" at the root). SARIF locations are relative to the
	// repository, so that code scanning annotates the right files.
	RepoPrefix string
}

// Errors counts the diagnostics of severity error.
func (r Result) Errors() int { return r.count(registry.SeverityError) }

// Warnings counts the diagnostics of severity warning.
func (r Result) Warnings() int { return r.count(registry.SeverityWarning) }

func (r Result) count(s registry.Severity) int {
	n := 0
	for _, d := range r.Diagnostics {
		if d.Severity == s {
			n += d.Count() // a capped diagnostic counts what it stands for
		}
	}
	return n
}

// A Writer prints a result in one format.
type Writer interface {
	Write(w io.Writer, r Result) error
}

// UnknownFormatError is returned for a format name that is not in Formats.
type UnknownFormatError struct{ Name string }

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown format %q: use one of %s", e.Name, strings.Join(Formats, ", "))
}

// New returns the writer of a format.
func New(format string) (Writer, error) {
	switch format {
	case Text:
		return textWriter{}, nil
	case JSON:
		return jsonWriter{}, nil
	case SARIF:
		return sarifWriter{}, nil
	case JUnit:
		return junitWriter{}, nil
	}
	return nil, &UnknownFormatError{Name: format}
}

// CheckFormat reports an error for a format name that is not one of allowed.
func CheckFormat(format string, allowed ...string) error {
	if !slices.Contains(allowed, format) {
		return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(allowed, ", "))
	}
	return nil
}

type textWriter struct{}

func (textWriter) Write(w io.Writer, r Result) error {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		b.WriteString(Line(d))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Line formats one diagnostic as compilers do:
// file:line:column: severity: rule: message. The file and the message are
// escaped (see Escape and EscapePath): the line is always one line.
func Line(d registry.Diagnostic) string {
	prefix := ""
	if d.Commit != "" {
		prefix = Escape(d.Commit) + ": "
	}
	return fmt.Sprintf("%s%s:%d:%d: %s: %s: %s", prefix, EscapePath(d.File), d.Line, d.Column, Escape(string(d.Severity)), Escape(d.Rule), Escape(d.Message))
}

type jsonWriter struct{}

type jsonSummary struct {
	Files    int `json:"files"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

type jsonResult struct {
	OK          bool             `json:"ok"`
	Summary     jsonSummary      `json:"summary"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
}

// jsonDiagnostic is the contract's shape of a diagnostic: every field is
// always present, except commit, which only audit sets.
type jsonDiagnostic struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
	Commit   string `json:"commit,omitempty"`
	Omitted  int    `json:"omitted,omitempty"`
}

func (jsonWriter) Write(w io.Writer, r Result) error {
	ds := make([]jsonDiagnostic, 0, len(r.Diagnostics))
	for _, d := range r.Diagnostics {
		ds = append(ds, jsonDiagnostic{
			Rule: d.Rule, Severity: string(d.Severity), File: d.File, Line: d.Line, Column: d.Column,
			Subject: d.Subject, Message: d.Message, Commit: d.Commit, Omitted: d.Omitted,
		})
	}
	enc := json.NewEncoder(JSONWriter(w))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote <placeholders>; keep them readable
	return enc.Encode(jsonResult{
		OK:          r.Errors() == 0,
		Summary:     jsonSummary{Files: r.Files, Errors: r.Errors(), Warnings: r.Warnings()},
		Diagnostics: ds,
	})
}
