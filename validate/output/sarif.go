package output

import (
	"errors"
	"io"
)

type sarifWriter struct{}

func (sarifWriter) Write(w io.Writer, r Result) error { return errors.New("sarif: not yet written") }

type junitWriter struct{}

func (junitWriter) Write(w io.Writer, r Result) error { return errors.New("junit: not yet written") }
