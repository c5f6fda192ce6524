// Command relreg-stress replays hostile inputs against a relreg binary and
// prints, for each, the exit code, the wall time and the peak RSS, and
// whether relreg answered within the budget (10 s and 128 MiB; a case of
// load rather than attack, such as a push of 10,000 releases, holds a
// whole registry in memory and has a budget of its own). It is what
// `make stress` runs; it is not part of `make test`, since building some
// of the cases (a 1 GiB blob, 10,000 releases) takes a while.
//
//	relreg-stress -relreg bin/relreg [-keep]
//
// It needs git on PATH. Exit status 1 when a case missed its budget or
// answered with an exit code other than the one it must.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/relreg/relreg/registry/gen"
)

// Budget every hostile case must be answered within.
const (
	maxWall = 10 * time.Second
	maxRSS  = 128 << 20
)

// A hostileCase builds its input in dir and returns the relreg arguments
// to run there, and the exit codes that are a right answer.
type hostileCase struct {
	name  string
	build func(dir string) (args []string, exits []int, err error)
	// rss, when set, replaces maxRSS: a case that is load, not an
	// attack, and must hold a whole registry in memory.
	rss int64
}

func main() {
	relreg := flag.String("relreg", "bin/relreg", "the relreg binary to stress")
	keep := flag.Bool("keep", false, "keep the cases' folders")
	only := flag.String("run", "", "run only the cases whose name matches this regexp")
	flag.Parse()
	bin, err := filepath.Abs(*relreg)
	if err != nil {
		fatal(err)
	}
	root, err := os.MkdirTemp("", "relreg-stress-")
	if err != nil {
		fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(root)
	}
	match := regexp.MustCompile(*only)
	failed := false
	fmt.Printf("%-50s %5s %9s %10s  %s\n", "case", "exit", "time", "peak RSS", "verdict")
	for i, c := range cases {
		if !match.MatchString(c.name) {
			continue
		}
		dir := filepath.Join(root, fmt.Sprintf("%02d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fatal(err)
		}
		args, exits, err := c.build(dir)
		if err != nil {
			fatal(fmt.Errorf("%s: build: %w", c.name, err))
		}
		r := run(bin, dir, args)
		verdict := "ok"
		switch {
		case r.killed:
			verdict = "HUNG (killed)"
		case !contains(exits, r.exit):
			verdict = fmt.Sprintf("WRONG EXIT (want %v): %s", exits, firstLine(r.stderr, r.stdout))
		case r.wall > maxWall:
			verdict = "TOO SLOW"
		case r.rss > cmp.Or(c.rss, maxRSS):
			verdict = "TOO MUCH MEMORY"
		}
		if verdict != "ok" {
			failed = true
		}
		fmt.Printf("%-50s %5d %8.2fs %7.1f MiB  %s\n", c.name, r.exit, r.wall.Seconds(), float64(r.rss)/(1<<20), verdict)
	}
	if failed {
		os.Exit(1)
	}
}

type result struct {
	exit           int
	wall           time.Duration
	rss            int64 // bytes
	killed         bool
	stdout, stderr []byte
}

// run runs relreg in dir and measures it; it kills it after twice the
// wall budget, so that a hang is reported, not waited for.
func run(bin, dir string, args []string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*maxWall)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), stdout: stdout.Bytes(), stderr: stderr.Bytes(), killed: ctx.Err() != nil}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.exit = exit.ExitCode()
	default:
		fatal(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return r
}

var cases = []hostileCase{
	{"validate: symlink to /dev/zero", func(dir string) ([]string, []int, error) {
		if err := example(dir); err != nil {
			return nil, nil, err
		}
		return []string{"validate"}, []int{1}, os.Symlink("/dev/zero", filepath.Join(dir, "releases/payments/9.0.0.yaml"))
	}, 0},
	{"validate: a 200 MiB file", func(dir string) ([]string, []int, error) {
		if err := example(dir); err != nil {
			return nil, nil, err
		}
		return []string{"validate"}, []int{1}, bigFile(filepath.Join(dir, "releases/payments/9.0.0.yaml"), 200<<20)
	}, 0},
	{"validate: a FIFO", func(dir string) ([]string, []int, error) {
		if err := example(dir); err != nil {
			return nil, nil, err
		}
		return []string{"validate"}, []int{1}, syscall.Mkfifo(filepath.Join(dir, "releases/payments/9.0.0.yaml"), 0o644)
	}, 0},
	{"check --base HEAD: a FIFO (pre-commit hook)", func(dir string) ([]string, []int, error) {
		if err := exampleRepo(dir); err != nil {
			return nil, nil, err
		}
		return []string{"check", "--base", "HEAD"}, []int{1}, syscall.Mkfifo(filepath.Join(dir, "releases/payments/9.0.0.yaml"), 0o644)
	}, 0},
	{"check --head HEAD: a 1 GiB blob committed", func(dir string) ([]string, []int, error) {
		if err := exampleRepo(dir); err != nil {
			return nil, nil, err
		}
		if err := commitBlob(dir, "releases/payments/9.0.0.yaml", 1<<30); err != nil {
			return nil, nil, err
		}
		return []string{"check", "--base", "HEAD~1", "--head", "HEAD"}, []int{1}, nil
	}, 0},
	{"validate: 8 files of 250,000 bad change ids", func(dir string) ([]string, []int, error) {
		if err := example(dir); err != nil {
			return nil, nil, err
		}
		src, err := os.ReadFile(filepath.Join(dir, "releases/payments/2.5.0.yaml"))
		if err != nil {
			return nil, nil, err
		}
		ids := "changes: [" + strings.Repeat("x, ", 249999) + "x]"
		data := regexp.MustCompile(`changes: \[[^\]]*\]`).ReplaceAll(src, []byte(ids))
		for i := range 8 {
			name := fmt.Sprintf("releases/payments/9.%d.0.yaml", i)
			if i == 0 {
				name = "releases/payments/2.5.0.yaml"
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return nil, nil, err
			}
		}
		return []string{"validate"}, []int{1}, nil
	}, 0},
	{"check --head HEAD: 10,000 releases in one commit", func(dir string) ([]string, []int, error) {
		if err := migration(dir, 10000); err != nil {
			return nil, nil, err
		}
		return []string{"check", "--base", "HEAD~1", "--head", "HEAD", "--now", gen.DefaultNow.Format(time.RFC3339)}, []int{0}, nil
	}, 512 << 20},
}

// example copies examples/basic into dir.
func example(dir string) error {
	return os.CopyFS(dir, os.DirFS("examples/basic"))
}

// exampleRepo makes dir a git repository holding examples/basic in one commit.
func exampleRepo(dir string) error {
	if err := example(dir); err != nil {
		return err
	}
	return git(dir, nil, [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "registry"}}...)
}

// bigFile writes a file of n bytes that starts like a release.
func bigFile(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("apiVersion: relreg/v1\nkind: Release\n# "); err != nil {
		return err
	}
	if err := f.Truncate(n); err != nil {
		return err
	}
	return f.Close()
}

// commitBlob commits a blob of n zero bytes at path, streamed into git.
func commitBlob(dir, path string, n int64) error {
	cmd := exec.Command("git", "hash-object", "-w", "--stdin")
	cmd.Dir = dir
	cmd.Stdin = &zeros{n}
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git hash-object: %w", err)
	}
	blob := strings.TrimSpace(string(out))
	return git(dir, nil, [][]string{
		{"update-index", "--add", "--cacheinfo", "100644," + blob + "," + path},
		{"commit", "-q", "-m", "a 1 GiB release"},
	}...)
}

// zeros reads n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// migration makes dir a repository whose last commit adds n draft
// releases to a registry that had none, every window after the check time.
func migration(dir string, n int) error {
	later := gen.DefaultNow.Add(time.Duration(n/2+1) * time.Hour)
	if err := gen.Write(dir, gen.Config{Releases: n, Now: later}); err != nil {
		return err
	}
	releases := filepath.Join(dir, "releases")
	aside := filepath.Join(dir, "..", filepath.Base(dir)+"-releases")
	if err := os.Rename(releases, aside); err != nil {
		return err
	}
	if err := git(dir, nil, [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "registry"}}...); err != nil {
		return err
	}
	if err := os.Rename(aside, releases); err != nil {
		return err
	}
	phase := regexp.MustCompile(`(?ms)^status:\n.*`)
	err := filepath.WalkDir(releases, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(p, phase.ReplaceAll(data, []byte("status:\n  phase: draft\n")), 0o644)
	})
	if err != nil {
		return err
	}
	// Packed, as a push arrives on a server.
	return git(dir, nil, [][]string{{"add", "-A"}, {"commit", "-q", "-m", "migrate the releases"}, {"repack", "-adq"}}...)
}

func git(dir string, env []string, runs ...[]string) error {
	for _, args := range runs {
		cmd := exec.Command("git", append([]string{"-c", "user.name=Stress", "-c", "user.email=stress@example.com", "-c", "gc.auto=0"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func firstLine(bufs ...[]byte) string {
	for _, b := range bufs {
		if s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); s != "" {
			return s
		}
	}
	return ""
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "relreg-stress:", err)
	os.Exit(2)
}
