// Package testtool is for relreg's tests: it finds the programs a test
// plays a user with (git, ssh-keygen). It imports nothing of relreg.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Need skips the test when one of the tools is not on PATH, except when
// CI=true: there a missing tool fails the test, so that CI never passes by
// skipping what it should have run.
func Need(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s is not installed, and CI=true: install it (the test needs it)", tool)
			}
			tb.Skipf("%s is not installed", tool)
		}
	}
}
