package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/relreg/relreg/cmd/cli"
)

// TestMain lets the test binary act as the relreg command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"relreg": func() { os.Exit(cli.Main()) },
	})
}

// TestScript runs the end-to-end scripts under testdata/script. Each .txtar
// file is a registry (and sometimes a git repository) plus the relreg
// commands to run on it and what they must print.
//
// RELREG_UPDATE_SCRIPTS=1 rewrites the expected files of failing cmp
// commands in place; review the diff before committing it.
//
// Scripts that need git or ssh-keygen skip where they are missing; with
// CI=true a missing tool fails the test instead, so CI never passes by
// skipping them.
func TestScript(t *testing.T) {
	// Scripts skip without git or ssh-keygen ([!exec:git] skip); in CI a
	// missing tool fails instead of hiding the scripts that need it.
	if os.Getenv("CI") == "true" {
		for _, tool := range []string{"git", "ssh-keygen"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("%s is not installed, and CI=true: the scripts that need it would be skipped", tool)
			}
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       os.Getenv("RELREG_UPDATE_SCRIPTS") == "1",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"xmlvalid": xmlValid},
		Setup: func(env *testscript.Env) error {
			// A fixed identity for scripts that commit, and no user or
			// system git configuration leaking in.
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			// A binary built with -race sleeps a second before it exits,
			// which every relreg a script runs would pay.
			env.Setenv("GORACE", "atexit_sleep_ms=0")
			env.Setenv("GIT_AUTHOR_NAME", "Test Author")
			env.Setenv("GIT_AUTHOR_EMAIL", "author@example.com")
			env.Setenv("GIT_COMMITTER_NAME", "Test Committer")
			env.Setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
			// Scripts that need git or ssh-keygen skip without them, except
			// in CI, where a missing tool must fail the run.
			env.Setenv("CI", os.Getenv("CI"))
			return nil
		},
	})
}

// xmlValid is the script command "xmlvalid FILE": FILE must be well-formed
// XML 1.0, read by encoding/xml in strict mode, holding no character XML
// forbids.
func xmlValid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: xmlvalid FILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	err = checkXML(data)
	switch {
	case neg && err == nil:
		ts.Fatalf("%s is valid XML", args[0])
	case !neg && err != nil:
		ts.Fatalf("%s: %v", args[0], err)
	}
}

func checkXML(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("not UTF-8")
	}
	for i, r := range string(data) {
		if !(r == 0x09 || r == 0x0a || r == 0x0d || 0x20 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r) {
			return fmt.Errorf("byte %d: %U is not allowed in XML 1.0", i, r)
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
