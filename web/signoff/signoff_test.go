package signoff

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

var day = Key{Date: "2026-11-21", Outlet: "TY0001", Counter: "TY0001-02"}

func ev(a Action, run, comment string) Event {
	return Event{Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), User: "u", Role: "r", Action: a,
		Date: day.Date, Outlet: day.Outlet, Counter: day.Counter, RunID: run, PDFSHA256: "p-" + run, XLSXSHA256: "x-" + run, Comment: comment}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		err    string // of the last event; "" when all are accepted
		status Status
		run    string
	}{
		{"certify", []Event{ev(Certify, "r1", "")}, "", StatusCertified, "r1"},
		{"approve", []Event{ev(Certify, "r1", ""), ev(Approve, "r1", "")}, "", StatusApproved, "r1"},
		{"approve another run", []Event{ev(Certify, "r1", ""), ev(Approve, "r2", "")},
			"approve a certified counter-day: run r2 is not the certified run r1", StatusCertified, "r1"},
		{"approve uncertified", []Event{ev(Approve, "r1", "")},
			"approve a open counter-day: only a certified counter-day can be approved", StatusOpen, ""},
		{"certify twice", []Event{ev(Certify, "r1", ""), ev(Certify, "r2", "")},
			"certify a certified counter-day: already certified", StatusCertified, "r1"},
		{"return without comment", []Event{ev(Certify, "r1", ""), ev(Return, "r1", " ")},
			"return a certified counter-day: a return needs a comment", StatusCertified, "r1"},
		{"return", []Event{ev(Certify, "r1", ""), ev(Return, "r1", "why")}, "", StatusOpen, ""},
		{"return an approval", []Event{ev(Certify, "r1", ""), ev(Approve, "r1", ""), ev(Return, "r1", "why")},
			"return a approved counter-day: only a certified counter-day can be returned", StatusApproved, "r1"},
		{"reopen without comment", []Event{ev(Certify, "r1", ""), ev(Approve, "r1", ""), ev(Reopen, "r1", "")},
			"reopen a approved counter-day: a reopening needs a comment", StatusApproved, "r1"},
		{"reopen", []Event{ev(Certify, "r1", ""), ev(Approve, "r1", ""), ev(Reopen, "r1", "rerun adopted")}, "", StatusOpen, ""},
		{"certify after reopening", []Event{ev(Certify, "r1", ""), ev(Approve, "r1", ""), ev(Reopen, "r1", "x"), ev(Certify, "r2", "")},
			"", StatusCertified, "r2"},
		{"reopen an open day", []Event{ev(Reopen, "r1", "x")}, "reopen a open counter-day: only an approved counter-day can be reopened", StatusOpen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Open(filepath.Join(t.TempDir(), FileName), testKey, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var last error
			for i, e := range tt.events {
				_, last = l.Append(e, nil)
				if last != nil && i < len(tt.events)-1 {
					t.Fatalf("event %d: %v", i+1, last)
				}
			}
			switch {
			case tt.err == "" && last != nil:
				t.Fatalf("last event: %v", last)
			case tt.err != "" && (last == nil || last.Error() != tt.err || !errors.Is(last, ErrTransition)):
				t.Fatalf("last event: %v, want %q", last, tt.err)
			}
			st, err := l.State(day)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != tt.status || st.RunID != tt.run {
				t.Errorf("state %s %q, want %s %q", st.Status, st.RunID, tt.status, tt.run)
			}
			if st.Pinned() && st.PDFSHA256 != "p-"+st.RunID {
				t.Errorf("pinned pdf sum %q", st.PDFSHA256)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), FileName), testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stale := errors.New("stale")
	if _, err := l.Append(ev(Certify, "r1", ""), func(State) error { return stale }); err != stale {
		t.Fatalf("refused by check: %v", err)
	}
	if evs, _ := l.Events(""); len(evs) != 0 {
		t.Fatalf("a refused event was written: %+v", evs)
	}
}

func TestReopenAndTamper(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{ev(Certify, "r1", "note"), ev(Approve, "r1", ""), ev(Reopen, "r1", "feeds corrected")} {
		if _, err := l.Append(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o, want 0640", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"action":"reopen"`) || !strings.Contains(lines[2], `"comment":"feeds corrected"`) {
		t.Fatalf("log:\n%s", data)
	}
	// Read back, the state is the same.
	l2, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := l2.State(day)
	l2.Close()
	if st.Status != StatusOpen || len(st.Events) != 3 || st.Last().Action != Reopen {
		t.Fatalf("read back: %+v", st)
	}
	tampered := map[string][]byte{
		"edited comment": bytes.Replace(data, []byte("feeds corrected"), []byte("feeds corrupted"), 1),
		"removed line":   []byte(lines[0] + "\n" + lines[2] + "\n"),
		"swapped lines":  []byte(lines[1] + "\n" + lines[0] + "\n" + lines[2] + "\n"),
		"unknown field":  bytes.Replace(data, []byte(`"seq":1,`), []byte(`"seq":1,"x":1,`), 1),
	}
	for name, b := range tampered {
		p := filepath.Join(t.TempDir(), FileName)
		os.WriteFile(p, b, 0o640)
		if _, err := Open(p, testKey, Options{}); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	// An edit names what caught it: the line's own mac, or the next line's prev.
	for _, c := range []struct{ old, new, want string }{
		{`"comment":"feeds corrected"`, `"comment":"feeds corrupted"`, "event 3: its mac does not match"},
		{`"comment":"note"`, `"comment":"n0te"`, "event 1: its mac does not match"},
	} {
		p := filepath.Join(t.TempDir(), FileName)
		os.WriteFile(p, bytes.Replace(data, []byte(c.old), []byte(c.new), 1), 0o640)
		if _, err := Open(p, testKey, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: %v, want %q", c.old, c.new, err, c.want)
		}
	}
	// Without the key only the chain is checked: an edit of the last line passes, one before
	// it does not.
	p := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(p, bytes.Replace(data, []byte(`"comment":"note"`), []byte(`"comment":"n0te"`), 1), 0o640)
	if _, err := Open(p, nil, Options{}); err == nil || !strings.Contains(err.Error(), "the log was altered") {
		t.Errorf("edited first line, no key: %v", err)
	}
}

// Two logs over one file, as two servers over one store: each sees the other's events
// before it appends.
func TestTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	a, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Append(ev(Certify, "r1", ""), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ev(Certify, "r2", ""), nil); !errors.Is(err, ErrTransition) {
		t.Fatalf("b certifies what a certified: %v", err)
	}
	e, err := b.Append(ev(Approve, "r1", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 2 || e.Prev == "" {
		t.Errorf("b's event: seq %d prev %q", e.Seq, e.Prev)
	}
	st, _ := a.State(day)
	if st.Status != StatusApproved {
		t.Errorf("a sees %s, want approved", st.Status)
	}
}
