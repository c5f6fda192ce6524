package validate

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/relreg/relreg/registry"
)

// semverRule checks versions: every version is strict SemVer 2.0.0 without a
// "v" prefix and every Service's supported constraint parses
// (semver/invalid); a release's type matches its bump from the previous
// release of its service (semver/bump-mismatch); a release at draft or
// planned is inside its service's supported range (semver/unsupported).
//
// A version in a path is reported here, not as layout/path, so a file named
// v2.4.0.yaml is told to drop the "v". Versions written as numbers are
// schema errors and are skipped.
func semverRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	groups := releasesByService(reg, opts.reports)
	ds := invalidVersions(opts.perFileDocs(reg))
	ds = append(ds, bumpMismatches(groups)...)
	ds = append(ds, samePrecedence(groups)...)
	return append(ds, unsupportedReleases(reg, groups)...)
}

// samePrecedence reports semver/invalid on a release whose version equals
// another release's of the same service in SemVer precedence, build
// metadata left out, or differs from it only in the case of its
// pre-release (2.5.0-RC.1 beside 2.5.0-rc.1, 2.5.0+a beside 2.5.0+b): two
// such files name one version to every tool that orders releases, and to
// a person. The file whose path sorts later is reported.
func samePrecedence(groups map[string][]versionedRelease) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for _, group := range groups {
		byPath := slices.SortedFunc(slices.Values(group), func(a, b versionedRelease) int {
			return strings.Compare(a.rel.Doc.Path, b.rel.Doc.Path)
		})
		first := map[string]versionedRelease{}
		for _, r := range byPath {
			key := r.core.String()
			if pre := r.v.Prerelease(); pre != "" {
				key += "-" + strings.ToLower(pre)
			}
			other, seen := first[key]
			if !seen {
				first[key] = r
				continue
			}
			why := "build metadata does not count in SemVer precedence"
			if other.v.Prerelease() != r.v.Prerelease() {
				why = "pre-release identifiers that differ only in case name the same release to a person"
			}
			ds = append(ds, r.rel.Doc.Diag("semver/invalid",
				fmt.Sprintf("version %s is the same version as %s (%s): %s; give this release a version of its own",
					r.versionStr, other.versionStr, other.rel.Doc.Path, why),
				"metadata", "version"))
		}
	}
	return ds
}

// invalidVersions reports semver/invalid.
func invalidVersions(docs []*registry.Document) []registry.Diagnostic {
	var ds []registry.Diagnostic
	bad := func(d *registry.Document, what string, err error, path ...string) {
		ds = append(ds, d.Diag("semver/invalid", fmt.Sprintf("%s: %v", what, err), path...))
	}
	for _, d := range docs {
		switch d.Kind {
		case registry.KindRelease, registry.KindDMLEntry:
			dir, file := d.Path[:strings.LastIndexByte(d.Path, '/')], d.Path[strings.LastIndexByte(d.Path, '/')+1:]
			stem := strings.TrimSuffix(file, ".yaml")
			meta, metaOK := stringAt(d, "metadata", "version")
			if _, err := registry.ParseVersion(stem); err != nil {
				var ve *registry.VersionError
				errors.As(err, &ve)
				fix := "rename the file"
				if ve.Suggest != "" {
					fix = fmt.Sprintf("rename the file to %s/%s.yaml", dir, ve.Suggest)
					if metaOK && meta == stem {
						fix += fmt.Sprintf(" and set metadata.version: %q", ve.Suggest)
					}
				}
				ds = append(ds, d.Diag("semver/invalid",
					fmt.Sprintf("version %q in the file name is not a strict SemVer 2.0.0 version: %s: %s", stem, ve.Reason, fix),
					"metadata", "version"))
			}
			if metaOK && meta != stem {
				if _, err := registry.ParseVersion(meta); err != nil {
					bad(d, "metadata.version", err, "metadata", "version")
				}
			}
		case registry.KindService:
			if s, ok := stringAt(d, "spec", "supported"); ok {
				if _, err := semver.NewConstraint(s); err != nil {
					ds = append(ds, d.Diag("semver/invalid",
						fmt.Sprintf("spec.supported %q is not a version constraint (%v): write one like \">=2.0.0\" or \"^2.4\"", s, err),
						"spec", "supported"))
				}
			}
		}
		if d.Kind != registry.KindRelease {
			continue
		}
		for i := range listAt(d, "spec", "components") {
			if s, ok := stringAt(d, "spec", "components", strconv.Itoa(i), "version"); ok {
				if _, err := registry.ParseVersion(s); err != nil {
					bad(d, "component version", err, "spec", "components", strconv.Itoa(i), "version")
				}
			}
		}
		for i, v := range listAt(d, "spec", "dependsOn") {
			s, _ := v.(string)
			ref, err := registry.ParseReleaseRef(s)
			if err != nil {
				continue // not service@version: ref/unknown-dependency
			}
			if _, err := registry.ParseVersion(ref.Version); err != nil {
				bad(d, "dependsOn "+s, err, "spec", "dependsOn", strconv.Itoa(i))
			}
		}
	}
	return ds
}

// versionedRelease is a release with its parsed path version.
type versionedRelease struct {
	rel        *registry.Release
	v, core    *semver.Version
	versionStr string // as written in the path
}

// releasesByService groups the releases whose path version is valid by
// service, each group sorted by version precedence (then path, for versions
// that differ only in build metadata). Only services with a release that
// wanted keeps are grouped: the others have nothing to report.
func releasesByService(reg *registry.Registry, wanted func(path string) bool) map[string][]versionedRelease {
	services := map[string]bool{}
	for _, rel := range reg.Releases {
		if wanted(rel.Doc.Path) {
			services[releaseService(rel.Doc)] = true
		}
	}
	groups := map[string][]versionedRelease{}
	for _, rel := range reg.Releases {
		svc := releaseService(rel.Doc)
		if !services[svc] {
			continue
		}
		stem := strings.TrimSuffix(rel.Doc.Path[strings.LastIndexByte(rel.Doc.Path, '/')+1:], ".yaml")
		v, err := registry.ParseVersion(stem)
		if err != nil {
			continue
		}
		groups[svc] = append(groups[svc], versionedRelease{rel: rel, v: v, core: registry.VersionCore(v), versionStr: stem})
	}
	for _, g := range groups {
		slices.SortFunc(g, func(a, b versionedRelease) int {
			return cmp.Or(a.v.Compare(b.v), strings.Compare(a.rel.Doc.Path, b.rel.Doc.Path))
		})
	}
	return groups
}

// bumpMismatches reports semver/bump-mismatch. The previous release of a
// release is the highest release of its service whose core version is lower,
// cancelled ones included. Releases that share a core (3.0.0-rc.1,
// 3.0.0-rc.2, 3.0.0) are all compared with that same previous release, so a
// release candidate and its final release carry the same type. The first
// release of a service may be any version. Sorting each service's releases
// once keeps this O(n log n) for large registries.
func bumpMismatches(groups map[string][]versionedRelease) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for _, group := range groups {
		var prev *versionedRelease
		for i := 0; i < len(group); {
			j := i
			for j < len(group) && group[j].core.Equal(group[i].core) {
				j++
			}
			for k := i; k < j && prev != nil; k++ {
				if d, ok := checkBump(group[k], *prev); !ok {
					ds = append(ds, d)
				}
			}
			prev = &group[j-1]
			i = j
		}
	}
	return ds
}

// bumpTypes are the release types whose bump the rule knows, in the order
// a fix is suggested.
var bumpTypes = []string{"major", "minor", "patch", "emergency"}

// nextVersion returns the core version a release of type typ must have after
// a release with core prev, or nil for an unknown type.
func nextVersion(prev *semver.Version, typ string) *semver.Version {
	var v semver.Version
	switch typ {
	case "major":
		v = prev.IncMajor()
	case "minor":
		v = prev.IncMinor()
	case "patch", "emergency":
		v = prev.IncPatch()
	default:
		return nil
	}
	return &v
}

func checkBump(cur, prev versionedRelease) (registry.Diagnostic, bool) {
	typ, ok := stringAt(cur.rel.Doc, "spec", "type")
	if !ok {
		return registry.Diagnostic{}, true
	}
	want := nextVersion(prev.core, typ)
	if want == nil || want.Equal(cur.core) {
		return registry.Diagnostic{}, true
	}
	fix := "renumber the release"
	for _, t := range bumpTypes {
		if t != typ && nextVersion(prev.core, t).Equal(cur.core) {
			fix += ", or set type: " + t
			break
		}
	}
	got := cur.versionStr
	if cur.v.Prerelease() != "" {
		got += fmt.Sprintf(" (core %s)", cur.core)
	}
	return cur.rel.Doc.Diag("semver/bump-mismatch",
		fmt.Sprintf("%s release after %s must be %s, not %s: %s", typ, prev.versionStr, want, got, fix),
		"spec", "type"), false
}

// unsupportedReleases reports semver/unsupported: a release at draft or
// planned whose version is outside its service's supported constraint.
// Masterminds/semver leaves pre-releases out of a plain constraint
// (">=2.0.0" does not hold 3.0.0-rc.1), so a pre-release is judged by its
// core version: 3.0.0-rc.1 is supported when 3.0.0 is.
func unsupportedReleases(reg *registry.Registry, groups map[string][]versionedRelease) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for svc, group := range groups {
		service := reg.Services[svc]
		if service == nil {
			continue
		}
		supported, ok := stringAt(service.Doc, "spec", "supported")
		if !ok {
			continue
		}
		c, err := semver.NewConstraint(supported)
		if err != nil {
			continue // semver/invalid
		}
		for _, r := range group {
			phase, _ := stringAt(r.rel.Doc, "status", "phase")
			if phase != registry.PhaseDraft && phase != registry.PhasePlanned {
				continue
			}
			if !c.Check(r.core) {
				ds = append(ds, r.rel.Doc.Diag("semver/unsupported",
					fmt.Sprintf("version %s is outside the supported range %q of service %s (%s): release a supported version, or change spec.supported there",
						r.versionStr, supported, svc, service.Doc.Path),
					"metadata", "version"))
			}
		}
	}
	return ds
}
