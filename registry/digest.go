package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/gowebpki/jcs"
)

// DigestPrefix starts every digest: the hash algorithm.
const DigestPrefix = "sha256:"

// Canonical returns the RFC 8785 (JCS) canonical JSON of a JSON value as the
// strict YAML loader produces it (map[string]any, []any, string, int64,
// float64, bool or nil).
func Canonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	// json.Marshal escapes <, > and & and formats numbers its own way;
	// Transform rewrites strings and numbers in their canonical form.
	c, err := jcs.Transform(b)
	if err != nil {
		return nil, fmt.Errorf("canonicalize JSON: %w", err)
	}
	return c, nil
}

// Digest returns the digest of a spec value: "sha256:" and the lowercase hex
// SHA-256 of its canonical JSON. Comments, key order, quoting and layout of
// the YAML it was read from do not change it; any value does.
func Digest(spec any) (string, error) {
	c, err := Canonical(spec)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return DigestPrefix + hex.EncodeToString(sum[:]), nil
}

// Digest returns the digest of the document's spec (contract section 4).
func (d *Document) Digest() (string, error) {
	if d == nil || d.Node == nil {
		return "", fmt.Errorf("%s: the file could not be parsed, so it has no digest", d.pathOrSubject())
	}
	n := d.Node
	n.digestOnce.Do(func() { n.digest, n.digestErr = Digest(d.Spec()) })
	return n.digest, n.digestErr
}

func (d *Document) pathOrSubject() string {
	if d == nil {
		return "document"
	}
	return d.Path
}
