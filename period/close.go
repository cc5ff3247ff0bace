package period

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"settle/internal/atomicfile"
	"settle/internal/flock"
	"settle/store"
)

// ClosedName is the closure state's file in a period's directory; LogName the append-only
// log of closings and reopenings in <store>/periods/ (FileTrail). At merge the workflow
// log takes LogName's place; closed.json stays the quick answer to "is this date closed?".
const (
	ClosedName = "closed.json"
	LogName    = "periods.log"
)

// Closure is closed.json: whether the period is closed, by whom, and the report of record.
type Closure struct {
	Period  string    `json:"period"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Closed  bool      `json:"closed"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
	// RunID is the period report of record: the last one published before the close.
	RunID string `json:"run_id,omitempty"`
}

// ErrClosed is wrapped by the errors of what a closed period refuses.
var ErrClosed = errors.New("the period is closed")

// ClosedError names the closed period a date or a period run falls in.
type ClosedError struct {
	Date    string // the date asked about; empty for the period itself
	Closure Closure
}

func (e *ClosedError) Error() string {
	c := e.Closure
	what := "period " + c.Period
	if e.Date != "" {
		what = e.Date + " lies in period " + c.Period
	}
	return fmt.Sprintf("%s, closed by %s at %s (reopen it with settle period reopen): %v", what, c.By, c.At.UTC().Format(time.RFC3339), ErrClosed)
}

func (e *ClosedError) Unwrap() error { return ErrClosed }

func periodDir(storeDir string, p Period) string {
	return filepath.Join(storeDir, store.PeriodsDir, p.Name())
}

// ReadClosure reads the period's closed.json; ok is false when the period was never closed.
func ReadClosure(storeDir string, p Period) (c Closure, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(periodDir(storeDir, p), ClosedName))
	if errors.Is(err, fs.ErrNotExist) {
		return Closure{}, false, nil
	}
	if err != nil {
		return Closure{}, false, fmt.Errorf("period %s: %w", p.Name(), err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Closure{}, false, fmt.Errorf("period %s: %s: %w", p.Name(), ClosedName, err)
	}
	return c, true, nil
}

// ClosedFor reports whether date (YYYY-MM-DD) lies in a closed period of the store, and
// names it ("<from>_<to>"). settle run and the page ask it before anything of the date may
// change. A store without periods has none closed.
func ClosedFor(storeDir, date string) (name string, closed bool, err error) {
	c, closed, err := closureFor(storeDir, date)
	return c.Period, closed, err
}

// CheckOpen returns a *ClosedError (wrapping ErrClosed) when date lies in a closed period.
func CheckOpen(storeDir, date string) error {
	c, closed, err := closureFor(storeDir, date)
	if err != nil {
		return err
	}
	if closed {
		return &ClosedError{Date: date, Closure: c}
	}
	return nil
}

func closureFor(storeDir, date string) (Closure, bool, error) {
	ents, err := os.ReadDir(filepath.Join(storeDir, store.PeriodsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return Closure{}, false, nil
	}
	if err != nil {
		return Closure{}, false, fmt.Errorf("closed periods: %w", err)
	}
	for _, e := range ents {
		from, to, ok := strings.Cut(e.Name(), "_")
		if !e.IsDir() || !ok || store.CheckPeriodName(e.Name()) != nil || date < from || date > to {
			continue
		}
		c, ok, err := ReadClosure(storeDir, Period{from, to})
		if err != nil {
			return Closure{}, false, err
		}
		if ok && c.Closed {
			return c, true, nil
		}
	}
	return Closure{}, false, nil
}

// FileTrail is the Trail before the workflow log: one JSON line per event appended to
// <store>/periods/periods.log under flock(2), fsynced. It is append-only by use, not
// tamper-evident: the workflow log (chained and MACed) replaces it at merge.
type FileTrail struct{ StoreDir string }

// Append writes e as one line.
func (t FileTrail) Append(_ context.Context, e TrailEvent) error {
	dir := filepath.Join(t.StoreDir, store.PeriodsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("period trail: %w", err)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("period trail: %w", err)
	}
	path := filepath.Join(dir, LogName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("period trail: %w", err)
	}
	defer f.Close()
	if err := flock.Flock(f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("period trail %q: %w", path, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("period trail %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("period trail %q: %w", path, err)
	}
	return nil
}

// ReadTrail reads periods.log, oldest first.
func ReadTrail(storeDir string) ([]TrailEvent, error) {
	data, err := os.ReadFile(filepath.Join(storeDir, store.PeriodsDir, LogName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []TrailEvent
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var e TrailEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", LogName, i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ErrNoReport: a period cannot be closed before a period report was published.
var ErrNoReport = errors.New("no period report published: run settle period first")

// ErrNotClosed: only a closed period can be reopened.
var ErrNotClosed = errors.New("the period is not closed")

// CloseOptions are who closes or reopens a period, and why.
type CloseOptions struct {
	By, Comment string
	Now         time.Time
	Trail       Trail
	LockTimeout time.Duration
}

// Close closes p: under the period's lock it records the event in the trail, then writes
// closed.json (atomically) naming the current period report as the report of record. A
// period already closed gives a *ClosedError; one without a published report ErrNoReport.
func Close(ctx context.Context, storeDir string, p Period, o CloseOptions) (Closure, error) {
	return changeClosure(ctx, storeDir, p, o, true)
}

// Reopen reopens a closed p, recording who and why (both required) in the trail.
func Reopen(ctx context.Context, storeDir string, p Period, o CloseOptions) (Closure, error) {
	if strings.TrimSpace(o.By) == "" || strings.TrimSpace(o.Comment) == "" {
		return Closure{}, errors.New("reopen needs --by and --comment")
	}
	return changeClosure(ctx, storeDir, p, o, false)
}

func changeClosure(ctx context.Context, storeDir string, p Period, o CloseOptions, closing bool) (Closure, error) {
	ps, err := store.OpenPeriods(storeDir)
	if err != nil {
		return Closure{}, err
	}
	unlock, err := ps.Lock(ctx, p.Name(), o.LockTimeout, nil)
	if err != nil {
		return Closure{}, err
	}
	defer unlock()
	cur, curOK, err := ReadClosure(storeDir, p)
	if err != nil {
		return Closure{}, err
	}
	if closing && curOK && cur.Closed {
		return Closure{}, &ClosedError{Closure: cur}
	}
	if !closing && (!curOK || !cur.Closed) {
		return Closure{}, fmt.Errorf("reopen %s: %w", p.Name(), ErrNotClosed)
	}
	c := Closure{Period: p.Name(), From: p.From, To: p.To, Closed: closing, By: o.By, At: o.Now.UTC().Truncate(time.Second), Comment: o.Comment}
	action := ActionReopen
	if closing {
		action = ActionClose
		runDir, ok, err := ps.Current(p.Name())
		if err != nil {
			return Closure{}, err
		}
		if !ok {
			return Closure{}, fmt.Errorf("close %s: %w", p.Name(), ErrNoReport)
		}
		c.RunID = filepath.Base(runDir)
	} else {
		c.RunID = cur.RunID
	}
	if err := o.Trail.Append(ctx, TrailEvent{Time: c.At, Action: action, Period: p.Name(), By: o.By, Comment: o.Comment, RunID: c.RunID}); err != nil {
		return Closure{}, err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return Closure{}, err
	}
	data = append(data, '\n')
	if err := atomicfile.Write(filepath.Join(periodDir(storeDir, p), ClosedName), 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return Closure{}, fmt.Errorf("%s %s: %w", action, p.Name(), err)
	}
	return c, nil
}
