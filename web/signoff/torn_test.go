package signoff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// twoEvents writes a log of a certification and an approval and returns its path and bytes.
func twoEvents(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{ev(Certify, "r1", ""), ev(Approve, "r1", "")} {
		if _, err := l.Append(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func lineSum(line string) string {
	sum := sha256.Sum256([]byte(line))
	return hex.EncodeToString(sum[:])
}

// lines splits a log into its lines, which must all end with a newline.
func lines(t *testing.T, data []byte) []string {
	t.Helper()
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("the log does not end with a newline: %q", data)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// A write cut short (the disk filled up) is taken back out: the file is as it was, the
// chain head did not move, and the next append chains on the last whole line.
func TestShortWriteTakenBack(t *testing.T) {
	path, before := twoEvents(t)
	var logged bytes.Buffer
	l, err := Open(path, testKey, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	writeLine = func(f *os.File, line []byte) (int, error) {
		n, _ := f.Write(line[:len(line)/2])
		return n, syscall.ENOSPC
	}
	_, err = l.Append(ev(Reopen, "r1", "feeds corrected"), nil)
	writeLine = func(f *os.File, line []byte) (int, error) { return f.Write(line) }
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatalf("the failed append left the file changed:\n%s", after)
	}
	if !strings.Contains(logged.String(), "an append failed and was taken back out") {
		t.Errorf("log records: %q", logged.String())
	}
	e, err := l.Append(ev(Reopen, "r1", "feeds corrected"), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := lines(t, before)
	if e.Seq != 3 || e.Prev != lineSum(old[1]) {
		t.Errorf("the append after the failure: seq %d prev %s; want seq 3 chained on event 2 (%s)", e.Seq, e.Prev, lineSum(old[1]))
	}
	l2, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer l2.Close()
	if evs, _ := l2.Events(""); len(evs) != 3 || evs[2].Action != Reopen {
		t.Errorf("events read back: %+v", evs)
	}
}

// A torn last line found in the file (a crash, or a settle before this check) is cut off
// when the log is opened: the repair is logged and recorded, the chain goes on from the last
// whole line, and a second opening finds nothing to repair.
func TestTornTailRepaired(t *testing.T) {
	_, data := twoEvents(t)
	old := lines(t, data)
	// The third line as it would have been, to cut short.
	third := strings.Replace(old[1], `"seq":2`, `"seq":3`, 1)
	tests := []struct {
		name string
		torn string // what follows the two whole lines
	}{
		{"half a line, no newline", third[:len(third)/2]},
		{"the start of a line, with a newline", `{"seq":3,"time":"2026-11-22T` + "\n"},
		// An older settle appended the next event after the torn half, on the same line.
		{"half a line with an event appended to it", third[:40] + third + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(p, append(bytes.Clone(data), tt.torn...), 0o640); err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			l, err := Open(p, testKey, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
			if err != nil {
				t.Fatalf("open with a torn tail: %v", err)
			}
			sum := sha256.Sum256([]byte(tt.torn))
			wantComment := fmt.Sprintf("cut off a torn last line after event 2: %d bytes, sha256 %s", len(tt.torn), hex.EncodeToString(sum[:]))
			evs, err := l.Events("")
			if err != nil || len(evs) != 3 || evs[2].Action != Repair || evs[2].Seq != 3 || evs[2].User != SystemUser ||
				evs[2].Comment != wantComment || evs[2].Prev != lineSum(old[1]) {
				t.Fatalf("events after the repair: %+v, %v; want a repair, seq 3, %q", evs, err, wantComment)
			}
			if after, n, s, ok := evs[2].RepairFacts(); !ok || after != 2 || n != len(tt.torn) || s != hex.EncodeToString(sum[:]) {
				t.Errorf("RepairFacts: %d, %d, %q, %v; want 2, %d, the sha256", after, n, s, ok, len(tt.torn))
			}
			if _, _, _, ok := evs[1].RepairFacts(); ok {
				t.Errorf("RepairFacts of a %s event: ok", evs[1].Action)
			}
			if !strings.Contains(logged.String(), "cut off a torn last line") ||
				!strings.Contains(logged.String(), "bytes="+strconv.Itoa(len(tt.torn))) {
				t.Errorf("log records: %q", logged.String())
			}
			if dated, _ := l.Events(day.Date); len(dated) != 2 {
				t.Errorf("events of %s: %d, want the two sign-offs without the repair", day.Date, len(dated))
			}
			if _, err := l.Append(ev(Reopen, "r1", "after the repair"), nil); err != nil {
				t.Fatal(err)
			}
			l.Close()
			after, _ := os.ReadFile(p)
			got := lines(t, after)
			if len(got) != 4 || got[0] != old[0] || got[1] != old[1] {
				t.Fatalf("log after the repair:\n%s", after)
			}
			logged.Reset()
			l2, err := Open(p, testKey, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
			if err != nil {
				t.Fatalf("reopen after the repair: %v", err)
			}
			st, _ := l2.State(day)
			l2.Close()
			if st.Status != StatusOpen || st.Last().Seq != 4 || logged.Len() != 0 {
				t.Errorf("reopened: status %s, last %+v, log records %q", st.Status, st.Last(), logged.String())
			}
		})
	}
}

// What a failed append cannot leave is refused loudly: a line that does not parse with
// lines after it, and a last line that parses but is not the chain's.
func TestCorruptionNotRepaired(t *testing.T) {
	_, data := twoEvents(t)
	old := lines(t, data)
	third := strings.Replace(old[1], `"seq":2`, `"seq":3`, 1)
	tests := []struct{ name, log, want string }{
		{"a torn line in the middle", old[0] + "\n" + old[1][:30] + "\n" + old[1] + "\n",
			"event 2: not a JSON line, and lines follow it: the log was altered"},
		{"a torn line before a partial one", old[0] + "\n" + old[1][:30] + "\n" + old[1][:20],
			"event 2: not a JSON line, and lines follow it: the log was altered"},
		{"a whole last line off the chain", old[0] + "\n" + old[1] + "\n" + third + "\n",
			"event 3: prev"},
		{"an edited last line", old[0] + "\n" + strings.Replace(old[1], `"user":"u"`, `"user":"x"`, 1) + "\n",
			"event 2: its mac does not match"},
		{"a repair naming a counter", old[0] + "\n" + strings.Replace(old[1], `"action":"approve"`, `"action":"repair"`, 1) + "\n",
			"event 2: a repair names a counter-day or a user: the line was altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(p, []byte(tt.log), 0o640); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(p, testKey, Options{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("open: %v, want %q", err, tt.want)
			}
			if after, _ := os.ReadFile(p); string(after) != tt.log {
				t.Errorf("a refused log was changed:\n%s", after)
			}
		})
	}
}

// A log opened by another server sees a torn line another process left and repairs it under
// the file's lock when it next reads.
func TestTornTailSeenByAnOpenLog(t *testing.T) {
	path, data := twoEvents(t)
	l, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":3,"time":` + "\n")
	f.Close()
	st, err := l.State(day)
	if err != nil || st.Status != StatusApproved {
		t.Fatalf("state with a torn line appended: %+v, %v", st, err)
	}
	evs, _ := l.Events("")
	if len(evs) != 3 || evs[2].Action != Repair {
		t.Errorf("events: %+v", evs)
	}
	if after, _ := os.ReadFile(path); !bytes.HasPrefix(after, data) || len(lines(t, after)) != 3 {
		t.Errorf("log:\n%s", after)
	}
}

// The same with a real short write: a child process under RLIMIT_FSIZE (which binds root too;
// SIGXFSZ ignored, so the write fails with EFBIG as it would with ENOSPC) appends an event
// longer than the room left.
func TestFileSizeLimit(t *testing.T) {
	if p := os.Getenv("SIGNOFF_FSIZE_LOG"); p != "" {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		l, err := Open(p, testKey, Options{})
		if err != nil {
			t.Fatal(err)
		}
		signal.Ignore(syscall.SIGXFSZ)
		limit := uint64(fi.Size() + 100)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			t.Fatal(err)
		}
		_, err = l.Append(ev(Reopen, "r1", strings.Repeat("长", 200)), nil)
		fmt.Printf("append: %v\n", err)
		return
	}
	path, before := twoEvents(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileSizeLimit$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SIGNOFF_FSIZE_LOG="+path)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "append: append to sign-off log") || !strings.Contains(string(out), "file too large") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatalf("the short write was left in the file:\n%s", after)
	}
	l, err := Open(path, testKey, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if e, err := l.Append(ev(Reopen, "r1", "after the full disk"), nil); err != nil || e.Seq != 3 {
		t.Errorf("append after the full disk: %+v, %v", e, err)
	}
}
