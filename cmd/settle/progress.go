package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// termProgress draws one self-overwriting status line on a terminal. It is quiet when the
// writer is not a terminal (a pipe, a file, the scheduler's log) or under --quiet.
type termProgress struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	start time.Time
	shown bool
}

// newProgress returns a progress line on w, or nil when w is not a terminal or quiet is set.
func newProgress(w io.Writer, quiet bool) *termProgress {
	if quiet || !isTerminal(w) {
		return nil
	}
	return &termProgress{w: w, start: time.Now()}
}

// isTerminal reports whether w is a terminal (not merely a character device: /dev/null is
// one too, and `settle diff --format xlsx >/dev/null` is a redirection).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Step reports done of total in a stage; calls are throttled to ten a second.
func (p *termProgress) Step(what string, done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el
	}
	fmt.Fprintf(p.w, "\r\x1b[K%-10s %6d/%-6d %6.0f/s  %5.1fs", what, done, total, rate, el)
	p.shown = true
}

// Done ends the line.
func (p *termProgress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// logWriter returns a writer for log lines that first clears the progress line, so a log
// line never runs into it; w itself when there is no progress line.
func (p *termProgress) logWriter(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return progressLog{p}
}

type progressLog struct{ p *termProgress }

func (l progressLog) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.shown {
		fmt.Fprint(l.p.w, "\r\x1b[K")
		l.p.shown = false
	}
	return l.p.w.Write(b)
}
