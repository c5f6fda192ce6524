package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// NamePattern is the pattern of every name in a registry: services,
// schedules, components, approver ids and roles (contract section 1).
const NamePattern = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`

var nameRE = regexp.MustCompile(NamePattern)

// ValidName reports whether s matches NamePattern.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// VersionError explains why a string is not a strict SemVer 2.0.0 version.
type VersionError struct {
	Version string // the string as written
	Reason  string // what is wrong, for a person
	// Suggest is the version the author probably meant ("2.4.0" for
	// "v2.4.0"), or "" when there is no obvious one.
	Suggest string
}

func (e *VersionError) Error() string {
	msg := fmt.Sprintf("%q is not a strict SemVer 2.0.0 version: %s", e.Version, e.Reason)
	if e.Suggest != "" {
		msg += fmt.Sprintf(", write %s", e.Suggest)
	}
	return msg
}

// ParseVersion parses a strict SemVer 2.0.0 version without a "v" prefix:
// "2.4.0", "3.0.0-rc.1". The error is a *VersionError.
func ParseVersion(s string) (*semver.Version, error) {
	v, err := semver.StrictNewVersion(s)
	if err == nil {
		return v, nil
	}
	e := &VersionError{Version: s, Reason: "write MAJOR.MINOR.PATCH with an optional -pre-release, like 2.4.0 or 3.0.0-rc.1"}
	switch {
	case s == "":
		e.Reason = "it is empty"
	case s[0] == 'v' || s[0] == 'V':
		e.Reason = `no "v" prefix`
		if _, err := semver.StrictNewVersion(s[1:]); err == nil {
			e.Suggest = s[1:]
		}
	case strings.Count(strings.SplitN(strings.SplitN(s, "-", 2)[0], "+", 2)[0], ".") < 2:
		e.Reason = "it needs all three numbers, MAJOR.MINOR.PATCH"
		if lv, err := semver.NewVersion(s); err == nil {
			e.Suggest = lv.String()
		}
	case errors.Is(err, semver.ErrSegmentStartsZero):
		e.Reason = "numbers have no leading zeros"
		if lv, err := semver.NewVersion(s); err == nil {
			e.Suggest = lv.String()
		}
	}
	return nil, e
}

// VersionCore returns v without its pre-release and build metadata:
// the core of 3.0.0-rc.1 is 3.0.0.
func VersionCore(v *semver.Version) *semver.Version {
	return semver.New(v.Major(), v.Minor(), v.Patch(), "", "")
}

// ReleaseRef names a release as "service@version".
type ReleaseRef struct {
	Service string
	Version string
}

// String returns "service@version", the key of Registry.Releases.
func (r ReleaseRef) String() string { return r.Service + "@" + r.Version }

// ParseReleaseRef splits "service@version". It checks the shape and the
// service name but not the version, which callers parse with ParseVersion
// to report a bad one as a versioning problem.
func ParseReleaseRef(s string) (ReleaseRef, error) {
	svc, ver, ok := strings.Cut(s, "@")
	if !ok || ver == "" {
		return ReleaseRef{}, fmt.Errorf("%q is not service@version, like ledger@1.8.0", s)
	}
	if !ValidName(svc) {
		return ReleaseRef{}, fmt.Errorf("%q does not name a service: %q does not match %s", s, svc, NamePattern)
	}
	return ReleaseRef{Service: svc, Version: ver}, nil
}
