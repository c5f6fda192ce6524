package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/spf13/cobra"

	"github.com/relreg/relreg/registry"
	"github.com/relreg/relreg/validate"
	"github.com/relreg/relreg/validate/output"
)

const newLong = `Scaffold a new registry file from flags and the registry's contents.`

func newNewCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "new",
		Short: "Scaffold a new registry file",
		Long:  newLong,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return fmt.Errorf("name what to create: %[1]s release SERVICE [VERSION], or %[1]s dml COMPONENT VERSION FILE", c.CommandPath())
		},
	}
	c.AddCommand(newNewReleaseCmd(g))
	c.AddCommand(newNewDMLCmd(g))
	return c
}

const newReleaseLong = `Write releases/SERVICE/VERSION.yaml: a new release at phase draft.

Without VERSION, the version is the service's highest release (cancelled ones
included) bumped by --type: major X+1.0.0, minor X.Y+1.0, patch and emergency
X.Y.Z+1. With VERSION and no --type, the type is read from the bump.

Every other field has a default taken from the registry: the owner is the
only approver, the schedule the only one (or production), the window the
schedule's first window at least a day from now that no freeze blocks, the
components the service's allow-list at VERSION. Fields you must still fill
in get a valid placeholder and are listed as TODO in the file's header, so
the new file validates at once.

relreg new release never overwrites an existing release.`

const newReleaseExample = `  relreg new release payments 2.4.0 --type minor --risk medium \
      --title "SEPA instant transfers" --owner bob --change CHG-1042 \
      --component payments-api@2.4.0 --backout "Redeploy 2.3.1 from the DML."
  relreg new release payments --type patch --owner bob --change CHG-1077
  relreg new release ledger 1.9.0 --owner erin --change CHG-1090 \
      --window-start 2026-12-10T21:00:00Z --window-end 2026-12-10T23:00:00Z`

func newNewReleaseCmd(g *globals) *cobra.Command {
	o := &registry.NewReleaseOptions{}
	c := &cobra.Command{
		Use:     "release SERVICE [VERSION]",
		Short:   "Scaffold a draft release",
		Long:    newReleaseLong,
		Example: newReleaseExample,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			o.Service = args[0]
			if len(args) == 2 {
				o.Version = args[1]
			}
			return runNewRelease(g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Type, "type", "", "release type: "+strings.Join(registry.ReleaseTypes, ", ")+" (required without VERSION)")
	f.StringVar(&o.Risk, "risk", "low", "risk: "+strings.Join(registry.Risks, ", "))
	f.StringVar(&o.Title, "title", "", "what the release brings")
	f.StringVar(&o.Owner, "owner", "", "the approver id of the requester (default: the only approver)")
	f.StringArrayVar(&o.Changes, "change", nil, "a change record id such as CHG-1042 (repeatable)")
	f.StringVar(&o.Schedule, "schedule", "", "the deployment schedule (default: the only one, or production)")
	f.StringVar(&o.WindowStart, "window-start", "", "start of the deployment window, RFC 3339 (default: the schedule's next window)")
	f.StringVar(&o.WindowEnd, "window-end", "", "end of the deployment window, RFC 3339")
	f.StringArrayVar(&o.Components, "component", nil, "a component as name@version (repeatable; default: the service's components at VERSION)")
	f.StringVar(&o.Backout, "backout", "", "the backout plan (risk medium and high need one)")
	return c
}

func runNewRelease(g *globals, o *registry.NewReleaseOptions) error {
	dir, reg, err := g.loadRegistryDir()
	if err != nil {
		return err
	}
	rel, data, err := registry.NewRelease(reg, *o)
	if err != nil {
		return err
	}
	// The file must validate where it lands: the bump its type asks for, a
	// window its schedule allows, no conflict with other releases.
	next, err := reg.Apply(withFile{os.DirFS(dir), rel, data}, []registry.FileChange{{Path: rel, To: "new"}}, registry.Options{})
	if err != nil {
		return err
	}
	if ds := validate.Static(next, validate.Options{Only: map[string]bool{rel: true}}); len(ds) > 0 {
		w, _ := output.New(output.Text)
		if err := w.Write(g.stdout, output.Result{Diagnostics: ds}); err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "relreg: %s was not written: it would not validate; change the flags as the diagnostics say\n", output.EscapePath(rel))
		return exitCode(exitInvalid)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := registry.CreateFile(dir, rel, data); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "wrote %s\n", output.EscapePath(p))
	return nil
}

const newDMLLong = `Write dml/COMPONENT/VERSION.yaml: a new DML entry at state candidate, with
one artifact per FILE. Each artifact is named after the file's base name and
records the file's SHA-256 digest and size, computed by reading the file as a
stream (artifacts may be gigabytes). With --uri-prefix, each artifact's uri is
the prefix, a slash and the name.

COMPONENT is a name, VERSION strict SemVer. A warning is printed when no
service may name the component in its releases (every service has a
components allow-list and none lists it).

relreg new dml never overwrites an existing entry: an entry's spec never
changes once merged. Check the files with 'relreg dml verify', sign the
verify approvals, and set status.state: verified to release it.`

const newDMLExample = `  relreg new dml payments-api 2.4.0 dist/payments-api_2.4.0_linux_amd64.tar.gz \
      dist/payments-api_2.4.0.spdx.json \
      --uri-prefix https://artifacts.example.com/payments-api/2.4.0 \
      --source-repository https://git.example.com/payments/api \
      --source-revision "$(git rev-parse HEAD)"`

func newNewDMLCmd(g *globals) *cobra.Command {
	o := &registry.NewDMLOptions{}
	c := &cobra.Command{
		Use:     "dml COMPONENT VERSION FILE...",
		Short:   "Scaffold a candidate DML entry from artifact files",
		Long:    newDMLLong,
		Example: newDMLExample,
		Args:    cobra.MinimumNArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			o.Component, o.Version, o.Files = args[0], args[1], args[2:]
			return runNewDML(g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.URIPrefix, "uri-prefix", "", "the URL of the folder the artifacts are published in; each uri is URL/NAME")
	f.StringVar(&o.SourceRepository, "source-repository", "", "the URL of the repository the artifacts were built from")
	f.StringVar(&o.SourceRevision, "source-revision", "", "the 40-hex commit the artifacts were built from")
	return c
}

func runNewDML(g *globals, o *registry.NewDMLOptions) error {
	dir, reg, err := g.loadRegistryDir()
	if err != nil {
		return err
	}
	rel, data, warnings, err := registry.NewDML(reg, *o)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(g.stderr, "relreg: warning: %s\n", output.Escape(w))
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := registry.CreateFile(dir, rel, data); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "wrote %s\n", output.EscapePath(p))
	return nil
}

// withFile is a file system with one more file: a document about to be
// written, read by Registry.Apply before it exists on disk.
type withFile struct {
	fs.FS
	name string
	data []byte
}

func (w withFile) Open(name string) (fs.File, error) {
	if name == w.name {
		return fstest.MapFS{name: &fstest.MapFile{Data: w.data}}.Open(name)
	}
	return w.FS.Open(name)
}
