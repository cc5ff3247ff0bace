//go:build linux

package workflow

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"settle/engine"
)

// TestFullDisk fills the disk under a process that is acknowledging changes (a file size
// limit, RLIMIT_FSIZE, a little above the database's size, SIGXFSZ ignored so that writes
// fail with EFBIG as on a full disk), then opens the database as the server would: every
// change the child acknowledged is there, the log verifies, and it takes new changes.
func TestFullDisk(t *testing.T) {
	if dir := os.Getenv("WF_FULL_CHILD"); dir != "" {
		fullDiskChild(dir)
		return
	}
	dir := t.TempDir()
	d := open(t, dir)
	raise(t, d, "2026-11-21", "C1", "run1", exc(engine.CodeIMEIDuplicate, engine.SevError, "C1", "T1", 0))
	d.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullDisk$")
	cmd.Env = append(os.Environ(), "WF_FULL_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked, full := 0, ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR") {
			t.Fatal(line)
		}
		if n, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.Atoi(n)
		}
		if f, ok := strings.CutPrefix(line, "FULL "); ok {
			full = f
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if full == "" || acked == 0 {
		t.Fatalf("the child acknowledged %d changes and never saw the disk full", acked)
	}
	t.Logf("acknowledged %d changes, then: %s", acked, full)
	d = open(t, dir)
	evs, err := d.Events(ctx, EventFilter{User: "child", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	moves := 0 // the item's changes acknowledged
	for _, e := range evs {
		n, rest, _ := strings.Cut(e.Comment, " ")
		seen[n] = true
		if i, _ := strconv.Atoi(n); i <= acked && strings.HasPrefix(rest, "item ") {
			moves++
		}
	}
	for i := 1; i <= acked; i++ {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("acknowledged change %d is gone after the disk filled", i)
		}
	}
	if err := d.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Append(ctx, Event{User: "after", Action: ActLogin}); err != nil {
		t.Fatalf("append after the disk filled: %v", err)
	}
	if it := items(t, d, Filter{})["IMEI_DUPLICATE/T1"]; it == nil || moves == 0 || it.Version < int64(moves) {
		t.Fatalf("the item after %d acknowledged changes: %+v", moves, it)
	}
}

// fullDiskChild explains and re-explains an item and appends events, each acknowledged on
// stdout, until the file size limit refuses a write; then it tries a few more and exits.
func fullDiskChild(dir string) {
	d, err := Open(dir, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	signal.Ignore(syscall.SIGXFSZ)
	var size int64
	for _, n := range []string{FileName, FileName + "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
			size = max(size, fi.Size())
		}
	}
	lim := uint64(size + 256<<10)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
		fmt.Println("ERR setrlimit", err)
		os.Exit(1)
	}
	its, err := d.Items(ctx, Filter{})
	if err != nil || len(its) != 1 {
		fmt.Println("ERR items", len(its), err)
		os.Exit(1)
	}
	it := its[0]
	pad := strings.Repeat("x", 1500)
	fails := 0
	for i := 1; fails < 5 && i < 100000; i++ {
		var err error
		if i%2 == 0 {
			_, err = d.Append(ctx, Event{User: "child", Action: ActLogin, Comment: strconv.Itoa(i) + " " + pad})
		} else {
			// Explained, then rejected by another reviewer, then explained again: the item moves.
			cs := []Change{{ID: it.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "t " + strconv.Itoa(i)}}
			if it.State == StateExplained {
				cs = []Change{{ID: it.ID, Action: ActReject, Comment: "why " + strconv.Itoa(i)}}
			}
			a := Actor{User: "x", Role: "reviewer"}
			if it.State == StateExplained {
				a.User = "y" // another reviewer decides
			}
			var out []*Item
			out, err = d.Apply(ctx, a, cs, nil)
			if err == nil {
				it = out[0]
				_, err = d.Append(ctx, Event{User: "child", Action: ActLogin, Comment: strconv.Itoa(i) + " item " + it.State})
			}
		}
		if errors.Is(err, ErrState) || errors.Is(err, ErrStale) || errors.Is(err, ErrOwn) || errors.Is(err, ErrReason) {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		if err != nil {
			fmt.Println("FULL", strings.ReplaceAll(err.Error(), "\n", " "))
			fails++
			continue
		}
		if fails == 0 {
			fmt.Println("ACK", i)
		}
	}
	d.Close()
	os.Exit(0)
}
