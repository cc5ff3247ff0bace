// Package signoff is the sign-off log of the run store: the clerk's certification (营业员确认),
// the reviewer's approval (复核) or return, and the reviewer's reopening of an approved
// counter-day, one JSON line per event in <store>/signoff.log.
//
// The log is append-only and fsynced after every event. Each line carries the sha256 of the
// line before it ("prev"), so a line removed or reordered breaks the chain, and an HMAC of
// itself under the log's own key ("mac"; the web server keeps it in <store>/signoff.key, apart
// from its session key), so a line edited by someone without the key is refused too: Open
// fails and names the event. Certification and approval pin the run they were given (its id
// and the sha256 of the counter's PDF and XLSX): while a counter-day is certified or
// approved, the run to show and serve is the pinned one, whatever later runs of the date
// publish, until a reviewer returns it or reopens it with a comment that the log records.
//
// Several processes may share a log: appends hold an flock(2) on the file and first read
// what others appended.
//
// A torn tail is repaired, tampering is refused. An append cut short (a full disk, a kill
// between write and fsync) leaves part of a line at the end of the file: a last line without
// its newline, or one that is not JSON at all. Under the file's lock that can only be what a
// failed append left, so Open and the next append cut it off (back to the last whole line),
// log it (slog, with the bytes' size and sha256) and record a Repair event in the chain. A
// line that does not parse anywhere else, a broken chain or a MAC that does not match is
// refused: Open fails and names the event. An append whose write or fsync fails takes its
// partial line back out at once and leaves the chain head where it was.
package signoff

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"settle/internal/flock"
)

// FileName is the log's name in the store.
const FileName = "signoff.log"

// Action is what an event does.
type Action string

// Actions.
const (
	Certify Action = "certify" // the clerk certifies the figures of a run
	Approve Action = "approve" // the reviewer approves what the clerk certified: the day is locked
	Return  Action = "return"  // the reviewer sends a certification back, with a comment
	Reopen  Action = "reopen"  // the reviewer reopens an approved day, with a comment
	// Repair is written by the log itself: it cut off a torn last line (Comment says how
	// many bytes and their sha256). It names no counter-day and changes no state.
	Repair Action = "repair"
)

// repairComment is the Comment of a Repair event: the seq of the last whole event, the bytes
// cut off and their sha256. RepairFacts reads it back.
const repairComment = "cut off a torn last line after event %d: %d bytes, sha256 %s"

// RepairFacts reads what a Repair event's Comment records, for a page to say it in its own
// language; ok is false for any other event.
func (e Event) RepairFacts() (after int64, bytes int, sha256 string, ok bool) {
	if e.Action != Repair {
		return 0, 0, "", false
	}
	if n, err := fmt.Sscanf(e.Comment, repairComment, &after, &bytes, &sha256); err != nil || n != 3 {
		return 0, 0, "", false
	}
	return after, bytes, sha256, true
}

// Who a Repair event is by.
const (
	SystemUser = "settle"
	SystemRole = "system"
)

// Status of a counter-day.
type Status string

// Statuses. A returned or reopened counter-day is open again.
const (
	StatusOpen      Status = "open"
	StatusCertified Status = "certified"
	StatusApproved  Status = "approved"
)

// Key names a counter-day.
type Key struct{ Date, Outlet, Counter string }

// Event is one line of the log.
type Event struct {
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"`
	User       string    `json:"user"`
	Display    string    `json:"display,omitempty"` // the user's name to show, as it was then
	Role       string    `json:"role"`
	Action     Action    `json:"action"`
	Date       string    `json:"date"`
	Outlet     string    `json:"outlet"`
	Counter    string    `json:"counter"`
	RunID      string    `json:"run_id"`
	PDFSHA256  string    `json:"pdf_sha256,omitempty"`
	XLSXSHA256 string    `json:"xlsx_sha256,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	// Prev is the sha256 of the previous line (without its newline); empty on the first.
	Prev string `json:"prev"`
	// MAC is the HMAC-SHA256 of the line as written without it, under the log's key.
	MAC string `json:"mac,omitempty"`
}

// Key is the event's counter-day.
func (e *Event) Key() Key { return Key{e.Date, e.Outlet, e.Counter} }

// State is where a counter-day stands.
type State struct {
	Status Status
	// The pinned run while certified or approved: the run certified, with its reports' sums.
	RunID, PDFSHA256, XLSXSHA256 string
	Events                       []Event // oldest first
}

// Pinned reports whether the counter-day is bound to a run: certified or approved.
func (s *State) Pinned() bool { return s.Status == StatusCertified || s.Status == StatusApproved }

// Last returns the latest event, or nil.
func (s *State) Last() *Event {
	if len(s.Events) == 0 {
		return nil
	}
	return &s.Events[len(s.Events)-1]
}

// TransitionError is an action the counter-day's state does not allow.
type TransitionError struct {
	Action Action
	Status Status
	Reason string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s a %s counter-day: %s", e.Action, e.Status, e.Reason)
}

// ErrTransition is wrapped by every TransitionError.
var ErrTransition = errors.New("action not allowed in this state")

func (e *TransitionError) Unwrap() error { return ErrTransition }

// next applies e to s, or says why it may not be applied.
func (s *State) next(e *Event) error {
	bad := func(reason string) error { return &TransitionError{Action: e.Action, Status: s.Status, Reason: reason} }
	switch e.Action {
	case Certify:
		if s.Status != StatusOpen {
			return bad("already certified")
		}
		if e.RunID == "" || e.PDFSHA256 == "" {
			return bad("a certification names the run and its report checksum")
		}
		s.Status, s.RunID, s.PDFSHA256, s.XLSXSHA256 = StatusCertified, e.RunID, e.PDFSHA256, e.XLSXSHA256
	case Approve:
		if s.Status != StatusCertified {
			return bad("only a certified counter-day can be approved")
		}
		if e.RunID != s.RunID {
			return bad(fmt.Sprintf("run %s is not the certified run %s", e.RunID, s.RunID))
		}
		s.Status = StatusApproved
	case Return:
		if s.Status != StatusCertified {
			return bad("only a certified counter-day can be returned")
		}
		if strings.TrimSpace(e.Comment) == "" {
			return bad("a return needs a comment")
		}
		s.Status, s.RunID, s.PDFSHA256, s.XLSXSHA256 = StatusOpen, "", "", ""
	case Reopen:
		if s.Status != StatusApproved {
			return bad("only an approved counter-day can be reopened")
		}
		if strings.TrimSpace(e.Comment) == "" {
			return bad("a reopening needs a comment")
		}
		s.Status, s.RunID, s.PDFSHA256, s.XLSXSHA256 = StatusOpen, "", "", ""
	default:
		return bad(fmt.Sprintf("unknown action %q", e.Action))
	}
	s.Events = append(s.Events, *e)
	return nil
}

// Log is an open sign-off log. Its methods are safe for concurrent use.
type Log struct {
	path string
	key  []byte
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	f      *os.File
	offset int64  // bytes of the file read so far (whole lines only)
	last   string // sha256 of the last line read
	seq    int64
	states map[Key]*State
	system []Event // Repair events
}

// errTorn is returned by catchUp without the file's lock when the last line is not JSON:
// the caller takes the lock and reads again, which repairs it.
var errTorn = errors.New("torn last line")

// writeLine writes one line; tests replace it to cut the write short.
var writeLine = func(f *os.File, line []byte) (int, error) { return f.Write(line) }

// Options of Open.
type Options struct {
	Log *slog.Logger     // receives a record of each repair; nil: none
	Now func() time.Time // the time of a Repair event; nil: time.Now
}

// Open opens the log at path, creating it (mode 0640) when missing, and reads it whole,
// checking every line, the chain of checksums and, with a key, every line's HMAC. A torn
// last line is cut off and the repair recorded (see the package comment).
func Open(path string, key []byte, opts Options) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open sign-off log %q: %w", path, err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{path: path, key: key, log: opts.Log, now: opts.Now, f: f, states: map[Key]*State{}}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.locked(func() error { return l.catchUp(true) }); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// locked calls fn holding the file's lock.
func (l *Log) locked(fn func() error) error {
	if err := flock.Flock(l.f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock sign-off log %q: %w", l.path, err)
	}
	defer flock.Flock(l.f, syscall.LOCK_UN)
	return fn()
}

// read catches up with the file, taking its lock to repair a torn last line. l.mu is held.
func (l *Log) read() error {
	err := l.catchUp(false)
	if errors.Is(err, errTorn) {
		err = l.locked(func() error { return l.catchUp(true) })
	}
	return err
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// catchUp reads the whole lines appended since the last read. l.mu must be held; locked
// says whether the file's lock is held too. Only then is a torn tail (bytes after the last
// newline, or a last line that is not JSON) repaired: without the lock, bytes after the last
// newline may be a line another process is writing, and a last line that is not JSON gives
// errTorn.
func (l *Log) catchUp(locked bool) error {
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("read sign-off log %q: %w", l.path, err)
	}
	if fi.Size() == l.offset {
		return nil
	}
	if fi.Size() < l.offset {
		return fmt.Errorf("read sign-off log %q: the file shrank from %d to %d bytes", l.path, l.offset, fi.Size())
	}
	buf := make([]byte, fi.Size()-l.offset)
	if _, err := l.f.ReadAt(buf, l.offset); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read sign-off log %q: %w", l.path, err)
	}
	whole := buf[:bytes.LastIndexByte(buf, '\n')+1]
	partial := len(buf) > len(whole)
	for len(whole) > 0 {
		n := bytes.IndexByte(whole, '\n')
		line := whole[:n]
		if !json.Valid(line) {
			if n+1 < len(whole) || partial {
				return fmt.Errorf("read sign-off log %q: event %d: not a JSON line, and lines follow it: the log was altered", l.path, l.seq+1)
			}
			if !locked {
				return errTorn
			}
			return l.repair()
		}
		if err := l.apply(line); err != nil {
			return fmt.Errorf("read sign-off log %q: event %d: %w", l.path, l.seq+1, err)
		}
		l.offset += int64(n + 1)
		whole = whole[n+1:]
	}
	if partial && locked {
		return l.repair()
	}
	return nil
}

// repair cuts the file back to l.offset, the end of the last whole line read, logs what it
// cut and records a Repair event. l.mu and the file's lock are held.
func (l *Log) repair() error {
	fi, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("repair sign-off log %q: %w", l.path, err)
	}
	torn := make([]byte, fi.Size()-l.offset)
	if _, err := l.f.ReadAt(torn, l.offset); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("repair sign-off log %q: %w", l.path, err)
	}
	if err := l.truncate(); err != nil {
		return fmt.Errorf("repair sign-off log %q: %w", l.path, err)
	}
	sum := sha256.Sum256(torn)
	l.log.Warn("sign-off log: cut off a torn last line, left by an append that failed",
		"path", l.path, "offset", l.offset, "bytes", len(torn), "sha256", hex.EncodeToString(sum[:]), "after_event", l.seq)
	comment := fmt.Sprintf(repairComment, l.seq, len(torn), hex.EncodeToString(sum[:]))
	if _, err := l.write(Event{Time: l.now(), User: SystemUser, Role: SystemRole, Action: Repair, Comment: comment}); err != nil {
		// The log is whole again; only the record of the repair is missing (the full disk
		// that tore the line may still be full). The next append goes on from a whole line.
		l.log.Error("sign-off log: could not record the repair", "path", l.path, "err", err)
	}
	return nil
}

// truncate cuts the file back to l.offset and fsyncs it.
func (l *Log) truncate() error {
	if err := l.f.Truncate(l.offset); err != nil {
		return err
	}
	return l.f.Sync()
}

// apply checks one line against the chain and applies it.
func (l *Log) apply(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return err
	}
	if e.Prev != l.last {
		return fmt.Errorf("prev %q is not the checksum of the line before (%q): the log was altered", e.Prev, l.last)
	}
	if e.Seq != l.seq+1 {
		return fmt.Errorf("seq %d, want %d", e.Seq, l.seq+1)
	}
	if e.Action == Repair && (e.Key() != Key{} || e.User != SystemUser) {
		return errors.New("a repair names a counter-day or a user: the line was altered")
	}
	if l.key != nil {
		want, err := l.mac(e)
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(e.MAC), []byte(want)) {
			return errors.New("its mac does not match: the line was altered")
		}
	}
	if e.Action == Repair {
		l.system = append(l.system, e)
	} else if err := l.state(e.Key()).next(&e); err != nil {
		return err
	}
	l.seq = e.Seq
	sum := sha256.Sum256(line)
	l.last = hex.EncodeToString(sum[:])
	return nil
}

// mac is the HMAC of e written without its MAC.
func (l *Log) mac(e Event) (string, error) {
	e.MAC = ""
	body, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, l.key)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (l *Log) state(k Key) *State {
	st, ok := l.states[k]
	if !ok {
		st = &State{Status: StatusOpen}
		l.states[k] = st
	}
	return st
}

// State returns the counter-day's state (a copy), reading first what other processes
// appended.
func (l *Log) State(k Key) (State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.read(); err != nil {
		return State{}, err
	}
	st, ok := l.states[k]
	if !ok {
		return State{Status: StatusOpen}, nil
	}
	cp := *st
	cp.Events = append([]Event(nil), st.Events...)
	return cp, nil
}

// Events returns the events of date (all dates, and the log's own Repair events, when
// empty), oldest first.
func (l *Log) Events(date string) ([]Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.read(); err != nil {
		return nil, err
	}
	var out []Event
	if date == "" {
		out = append(out, l.system...)
	}
	for _, st := range l.states {
		for _, e := range st.Events {
			if date == "" || e.Date == date {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// Append records e: under the file's lock it reads what others appended (repairing a torn
// tail), checks that the counter-day's state allows e (a *TransitionError when not), fills
// Seq and Prev, writes the line and fsyncs it. check, when not nil, is called with the
// current state before that and may refuse with an error (to compare the run the user saw
// with the pinned one). When the write or the fsync fails the line is taken back out.
func (l *Log) Append(e Event, check func(State) error) (Event, error) {
	if e.Action == Repair {
		return Event{}, &TransitionError{Action: e.Action, Status: StatusOpen, Reason: "only the log records its repairs"}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out Event
	err := l.locked(func() error {
		if err := l.catchUp(true); err != nil {
			return err
		}
		st := l.state(e.Key())
		if check != nil {
			if err := check(*st); err != nil {
				return err
			}
		}
		trial := *st
		trial.Events = nil
		if err := trial.next(&e); err != nil {
			return err
		}
		var err error
		out, err = l.write(e)
		return err
	})
	return out, err
}

// write appends e after the last whole line as the next event of the chain, fsyncs it and
// reads it back. On a failed write or fsync it cuts the file back to where it was, so that
// neither the file nor the chain head (advanced only by reading a whole line) moves. l.mu and
// the file's lock are held; the file ends at l.offset.
func (l *Log) write(e Event) (Event, error) {
	e.Seq, e.Prev, e.MAC = l.seq+1, l.last, ""
	e.Time = e.Time.UTC().Round(time.Millisecond)
	if l.key != nil {
		m, err := l.mac(e)
		if err != nil {
			return Event{}, fmt.Errorf("append to sign-off log %q: %w", l.path, err)
		}
		e.MAC = m
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Event{}, fmt.Errorf("append to sign-off log %q: %w", l.path, err)
	}
	_, err = writeLine(l.f, append(line, '\n'))
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		if terr := l.truncate(); terr != nil {
			// The next append or Open cuts the torn line off.
			l.log.Error("sign-off log: could not take a failed append back out", "path", l.path, "err", terr)
		} else {
			l.log.Warn("sign-off log: an append failed and was taken back out", "path", l.path, "seq", e.Seq, "err", err)
		}
		return Event{}, fmt.Errorf("append to sign-off log %q: %w", l.path, err)
	}
	// Read our own line back through the same path as everyone else's.
	if err := l.catchUp(true); err != nil {
		return Event{}, err
	}
	return e, nil
}
