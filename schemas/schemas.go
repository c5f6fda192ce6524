// Package schemas holds the JSON Schemas (draft 2020-12) of relreg's six
// document kinds, embedded in the binary so that validation never needs the
// network. Each file is self-contained: the definitions it shares with the
// others (name, version, time, digest, approval) are repeated in its own
// $defs, so a schema saved with `relreg schema KIND > file.json` works on its
// own in an editor.
package schemas

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// FS holds one schema per kind, named after the kind in lower case:
// registry.json, approvers.json, service.json, release.json, schedule.json
// and dmlentry.json.
//
//go:embed *.json
var FS embed.FS

// BaseURL is the prefix of every schema's $id.
const BaseURL = "https://relreg.dev/schemas/v1/"

// names are the kinds in layout order (contract section 1).
var names = []string{"Registry", "Approvers", "Service", "Release", "Schedule", "DMLEntry"}

// ErrUnknownKind is returned for a kind that has no schema.
var ErrUnknownKind = errors.New("unknown kind")

// Names returns the kind names, in layout order.
func Names() []string { return append([]string(nil), names...) }

// Kind returns the canonical spelling of a kind given in any case
// ("dmlentry" -> "DMLEntry"), or ErrUnknownKind.
func Kind(kind string) (string, error) {
	for _, n := range names {
		if strings.EqualFold(n, kind) {
			return n, nil
		}
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrUnknownKind, kind, strings.Join(names, ", "))
}

// ID returns the $id of a kind's schema, such as
// https://relreg.dev/schemas/v1/release.json. The kind may be in any case.
func ID(kind string) (string, error) {
	k, err := Kind(kind)
	if err != nil {
		return "", err
	}
	return BaseURL + fileName(k), nil
}

// Get returns the schema of a kind given in any case ("release", "Release",
// "DMLEntry", "dmlentry").
func Get(kind string) ([]byte, error) {
	k, err := Kind(kind)
	if err != nil {
		return nil, err
	}
	return FS.ReadFile(fileName(k))
}

func fileName(kind string) string { return strings.ToLower(kind) + ".json" }

// Compile compiles every schema, asserting formats (date-time, regex, email,
// uri), and returns them by kind name. It reads only the embedded files.
func Compile() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// Every schema is added below; anything else would be a network fetch.
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %s is not embedded", u)
	}
	for _, k := range names {
		data, err := FS.ReadFile(fileName(k))
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", k, err)
		}
		if err := c.AddResource(BaseURL+fileName(k), bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("load schema %s: %w", k, err)
		}
	}
	out := make(map[string]*jsonschema.Schema, len(names))
	for _, k := range names {
		s, err := c.Compile(BaseURL + fileName(k))
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}
