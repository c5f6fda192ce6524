package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/relreg/relreg/schemas"
)

func TestSchemaCmd(t *testing.T) {
	release, err := schemas.Get("Release")
	if err != nil {
		t.Fatal(err)
	}
	dml, err := schemas.Get("DMLEntry")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // exact, unless empty
		wantStderr string // fragment
	}{
		{name: "release lower case", args: []string{"schema", "release"}, wantStdout: string(release)},
		{name: "release canonical", args: []string{"schema", "Release"}, wantStdout: string(release)},
		{name: "dmlentry lower case", args: []string{"schema", "dmlentry"}, wantStdout: string(dml)},
		{
			name: "list", args: []string{"schema"},
			wantStdout: "Registry   https://relreg.dev/schemas/v1/registry.json\n" +
				"Approvers  https://relreg.dev/schemas/v1/approvers.json\n" +
				"Service    https://relreg.dev/schemas/v1/service.json\n" +
				"Release    https://relreg.dev/schemas/v1/release.json\n" +
				"Schedule   https://relreg.dev/schemas/v1/schedule.json\n" +
				"DMLEntry   https://relreg.dev/schemas/v1/dmlentry.json\n",
		},
		{
			name: "unknown kind", args: []string{"schema", "widget"}, wantCode: exitError,
			wantStderr: `unknown kind "widget": use one of Registry, Approvers, Service, Release, Schedule, DMLEntry`,
		},
		{name: "two kinds", args: []string{"schema", "release", "service"}, wantCode: exitError, wantStderr: "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if tt.wantStdout != "" && stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if tt.wantCode != 0 && stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing on failure", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
