package validate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/relreg/relreg/registry"
)

// layoutRule checks that a document's metadata agrees with its path, which is
// its identity (contract section 1), and that the names in its path are valid
// names.
//
// Which rule owns a bad path segment: a name segment (services/<name>.yaml,
// schedules/<name>.yaml, the <service> and <component> folders) that does not
// match registry.NamePattern is layout/path, reported here; a version segment
// (releases/<service>/<version>.yaml, dml/<component>/<version>.yaml) that is
// not strict SemVer is semver/invalid, reported by semverRule, so that
// "v2.4.0.yaml" gets the versioning message ("no v prefix"). Either way a
// metadata field is only compared with a path segment when both are valid,
// so one mistake gives one diagnostic. The loader already reports .yml files
// and stray files and folders; they never reach this rule.
//
// Diagnostics point at the metadata field that disagrees with the path.
func layoutRule(reg *registry.Registry, opts Options) []registry.Diagnostic {
	var ds []registry.Diagnostic
	for _, d := range opts.perFileDocs(reg) {
		segs := strings.Split(d.Path, "/")
		switch d.Kind {
		case registry.KindService, registry.KindSchedule:
			if len(segs) != 2 {
				continue
			}
			ds = append(ds, checkPathName(d, segs[0], strings.TrimSuffix(segs[1], ".yaml"), "name", kindNoun(d.Kind))...)
		case registry.KindRelease, registry.KindDMLEntry:
			if len(segs) != 3 {
				continue
			}
			field, noun := "service", "service"
			if d.Kind == registry.KindDMLEntry {
				field, noun = "component", "component"
			}
			ds = append(ds, checkPathFolder(d, segs[0], segs[1], field, noun)...)
			ds = append(ds, checkPathVersion(d, segs[0]+"/"+segs[1], strings.TrimSuffix(segs[2], ".yaml"))...)
		}
	}
	return ds
}

func kindNoun(kind string) string {
	if kind == registry.KindSchedule {
		return "schedule"
	}
	return "service"
}

const nameHint = "lower-case letters, digits and inner dashes, at most 63 characters"

// checkPathName checks <dir>/<name>.yaml against metadata.name.
func checkPathName(d *registry.Document, dir, name, field, noun string) []registry.Diagnostic {
	meta, ok := stringAt(d, "metadata", field)
	if !registry.ValidName(name) {
		fix := "rename the file"
		if ok && registry.ValidName(meta) {
			fix = fmt.Sprintf("rename it to %s/%s.yaml", dir, meta)
		}
		return []registry.Diagnostic{d.Diag("layout/path",
			fmt.Sprintf("file name %q is not a valid %s name (%s): %s", name, noun, nameHint, fix),
			"metadata", field)}
	}
	if ok && meta != name && registry.ValidName(meta) {
		return []registry.Diagnostic{d.Diag("layout/path",
			fmt.Sprintf("metadata.%s is %s but the file is %s: the path is the identity, rename the file to %s/%s.yaml or set metadata.%s: %s",
				field, meta, d.Path, dir, meta, field, name),
			"metadata", field)}
	}
	return nil
}

// checkPathFolder checks the <service> or <component> folder of
// <top>/<folder>/<version>.yaml against metadata.<field>.
func checkPathFolder(d *registry.Document, top, folder, field, noun string) []registry.Diagnostic {
	meta, ok := stringAt(d, "metadata", field)
	file := d.Path[strings.LastIndexByte(d.Path, '/')+1:]
	if !registry.ValidName(folder) {
		fix := "rename the folder"
		if ok && registry.ValidName(meta) {
			fix = fmt.Sprintf("move the file to %s/%s/%s", top, meta, file)
		}
		return []registry.Diagnostic{d.Diag("layout/path",
			fmt.Sprintf("folder %q is not a valid %s name (%s): %s", folder, noun, nameHint, fix),
			"metadata", field)}
	}
	if ok && meta != folder && registry.ValidName(meta) {
		return []registry.Diagnostic{d.Diag("layout/path",
			fmt.Sprintf("metadata.%s is %s but the file is %s: the path is the identity, move the file to %s/%s/%s or set metadata.%s: %s",
				field, meta, d.Path, top, meta, file, field, folder),
			"metadata", field)}
	}
	return nil
}

// checkPathVersion checks the <version>.yaml of a release or DML entry
// against metadata.version; invalid versions are semverRule's.
func checkPathVersion(d *registry.Document, dir, version string) []registry.Diagnostic {
	meta, ok := stringAt(d, "metadata", "version")
	if !ok || meta == version {
		return nil
	}
	if _, err := registry.ParseVersion(version); err != nil {
		return nil
	}
	if _, err := registry.ParseVersion(meta); err != nil {
		return nil
	}
	return []registry.Diagnostic{d.Diag("layout/path",
		fmt.Sprintf("metadata.version is %s but the file is %s: the path is the identity, rename the file to %s/%s.yaml or set metadata.version: %q",
			meta, d.Path, dir, meta, version),
		"metadata", "version")}
}

// valueAt returns the JSON value at path in d (mapping keys and sequence
// indexes), and whether it is there. Rules read values this way rather than
// from the typed model when a wrong type must be told apart from absence.
func valueAt(d *registry.Document, path ...string) (any, bool) {
	if d == nil || d.Node == nil {
		return nil, false
	}
	v := d.Node.Value
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// stringAt returns the string at path in d; ok is false when the value is
// absent or not a string (the schema rule reports wrong types).
func stringAt(d *registry.Document, path ...string) (string, bool) {
	v, _ := valueAt(d, path...)
	s, ok := v.(string)
	return s, ok
}

// listAt returns the sequence at path in d, or nil.
func listAt(d *registry.Document, path ...string) []any {
	v, _ := valueAt(d, path...)
	l, _ := v.([]any)
	return l
}
