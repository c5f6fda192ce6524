package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// progressThreshold is the length of history from which commands that walk
// it show progress: shorter walks finish before a person would wonder.
const progressThreshold = 200

// progress is a single updating line on stderr, such as
// "relreg: reading history 1234/10000 commits". It prints nothing unless
// stderr is a terminal, so scripts, CI logs and tests never see it.
//
// Use it as:
//
//	p := newProgress(g.stderr, "reading history", len(commits))
//	... p.Set(i+1) for each commit ...
//	p.Done()
//
// A nil *progress is valid and silent.
type progress struct {
	w     io.Writer
	what  string
	total int
	last  time.Time
	shown bool
}

// progressInterval bounds how often the line is redrawn.
const progressInterval = 100 * time.Millisecond

// newProgress returns a progress line for a walk of total items, or nil
// (silent) when w is not a terminal or total is at most progressThreshold.
func newProgress(w io.Writer, what string, total int) *progress {
	if total <= progressThreshold || !isTerminal(w) {
		return nil
	}
	return &progress{w: w, what: what, total: total}
}

// isTerminal reports whether w is a character device such as a terminal.
// Only *os.File can be one; x/term is not needed for this much.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&fs.ModeCharDevice != 0
}

// Set reports that done items are finished. It redraws the line at most
// every progressInterval, and always for the last item.
func (p *progress) Set(done int) {
	if p == nil {
		return
	}
	now := time.Now()
	if done < p.total && now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	p.shown = true
	fmt.Fprintf(p.w, "\rrelreg: %s %d/%d commits", p.what, done, p.total)
}

// Done clears the line, so that what the command prints next starts at
// the beginning of an empty line.
func (p *progress) Done() {
	if p == nil || !p.shown {
		return
	}
	// Carriage return, erase the line (ANSI EL), carriage return.
	fmt.Fprint(p.w, "\r\x1b[2K\r")
}
