package registry

import (
	"errors"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		reason  string
		suggest string
	}{
		{name: "release", in: "2.4.0"},
		{name: "pre-release with build", in: "3.0.0-rc.1+build.7"},
		{name: "v prefix", in: "v2.4.0", wantErr: true, reason: `no "v" prefix`, suggest: "2.4.0"},
		{name: "two numbers", in: "2.10", wantErr: true, reason: "it needs all three numbers, MAJOR.MINOR.PATCH", suggest: "2.10.0"},
		{name: "leading zero", in: "2.04.0", wantErr: true, reason: "numbers have no leading zeros", suggest: "2.4.0"},
		{name: "four numbers", in: "2.4.0.1", wantErr: true, reason: "write MAJOR.MINOR.PATCH with an optional -pre-release, like 2.4.0 or 3.0.0-rc.1"},
		{name: "empty", in: "", wantErr: true, reason: "it is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVersion(tt.in)
			if !tt.wantErr {
				if err != nil || v.Original() != tt.in {
					t.Fatalf("ParseVersion(%q) = %v, %v, want the version", tt.in, v, err)
				}
				return
			}
			var ve *VersionError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseVersion(%q) error = %v, want a *VersionError", tt.in, err)
			}
			if ve.Reason != tt.reason || ve.Suggest != tt.suggest {
				t.Errorf("ParseVersion(%q) = reason %q, suggest %q; want %q, %q", tt.in, ve.Reason, ve.Suggest, tt.reason, tt.suggest)
			}
		})
	}
}

func TestVersionCore(t *testing.T) {
	v, err := ParseVersion("3.0.0-rc.1+build.7")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := VersionCore(v).String(), "3.0.0"; got != want {
		t.Errorf("VersionCore(3.0.0-rc.1+build.7) = %s, want %s", got, want)
	}
}

func TestParseReleaseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    ReleaseRef
		wantErr bool
	}{
		{in: "ledger@1.8.0", want: ReleaseRef{Service: "ledger", Version: "1.8.0"}},
		{in: "ledger@v1.8.0", want: ReleaseRef{Service: "ledger", Version: "v1.8.0"}}, // the version is checked by ParseVersion
		{in: "ledger", wantErr: true},
		{in: "ledger@", wantErr: true},
		{in: "Ledger@1.8.0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseReleaseRef(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseReleaseRef(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for in, want := range map[string]bool{
		"payments": true, "a": true, "payments-api2": true,
		"Payments": false, "-payments": false, "payments-": false, "": false, "pay_ments": false,
	} {
		if got := ValidName(in); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", in, got, want)
		}
	}
}
