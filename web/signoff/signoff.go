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
package signoff

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
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

	mu     sync.Mutex
	f      *os.File
	offset int64  // bytes of the file read so far (whole lines only)
	last   string // sha256 of the last line read
	seq    int64
	states map[Key]*State
}

// Open opens the log at path, creating it (mode 0640) when missing, and reads it whole,
// checking every line, the chain of checksums and, with a key, every line's HMAC.
func Open(path string, key []byte) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open sign-off log %q: %w", path, err)
	}
	l := &Log{path: path, key: key, f: f, states: map[Key]*State{}}
	if err := l.catchUp(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// Path is the log's file.
func (l *Log) Path() string { return l.path }

// catchUp reads the whole lines appended since the last read. l.mu must be held.
func (l *Log) catchUp() error {
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
	// Only whole lines: another process may be writing the last one.
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		return nil
	}
	buf = buf[:end+1]
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if err := l.apply(line); err != nil {
			return fmt.Errorf("read sign-off log %q: event %d: %w", l.path, l.seq+1, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read sign-off log %q: %w", l.path, err)
	}
	l.offset += int64(len(buf))
	return nil
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
	if l.key != nil {
		want, err := l.mac(e)
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(e.MAC), []byte(want)) {
			return errors.New("its mac does not match: the line was altered")
		}
	}
	st := l.state(e.Key())
	if err := st.next(&e); err != nil {
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
	if err := l.catchUp(); err != nil {
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

// Events returns the events of date (all dates when empty), oldest first.
func (l *Log) Events(date string) ([]Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.catchUp(); err != nil {
		return nil, err
	}
	var out []Event
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

// Append records e: under the file's lock it reads what others appended, checks that the
// counter-day's state allows e (a *TransitionError when not), fills Seq and Prev, writes the
// line and fsyncs it. check, when not nil, is called with the current state before that and
// may refuse with an error (to compare the run the user saw with the pinned one).
func (l *Log) Append(e Event, check func(State) error) (Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fd := int(l.f.Fd())
	if err := flock(fd, syscall.LOCK_EX); err != nil {
		return Event{}, fmt.Errorf("lock sign-off log %q: %w", l.path, err)
	}
	defer flock(fd, syscall.LOCK_UN)
	if err := l.catchUp(); err != nil {
		return Event{}, err
	}
	st := l.state(e.Key())
	if check != nil {
		if err := check(*st); err != nil {
			return Event{}, err
		}
	}
	e.Seq, e.Prev, e.MAC = l.seq+1, l.last, ""
	e.Time = e.Time.UTC().Round(time.Millisecond)
	trial := *st
	trial.Events = nil
	if err := trial.next(&e); err != nil {
		return Event{}, err
	}
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
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return Event{}, fmt.Errorf("append to sign-off log %q: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return Event{}, fmt.Errorf("append to sign-off log %q: %w", l.path, err)
	}
	// Read our own line back through the same path as everyone else's.
	if err := l.catchUp(); err != nil {
		return Event{}, err
	}
	return e, nil
}

func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
