package hardening

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"settle/web/signoff"
	"settle/web/users"
	"settle/workflow"
)

// signoffStore makes a store with a users file, a sign-off key and a log of two events, as a
// server that ran for a while leaves it; it returns the store and the log's bytes.
func signoffStore(t *testing.T) (string, []byte) {
	t.Helper()
	st := filepath.Join(t.TempDir(), "store")
	if err := os.MkdirAll(st, 0o755); err != nil {
		t.Fatal(err)
	}
	var f users.File
	if err := f.Add(users.User{Name: "zhao", Role: users.Auditor}, []byte("auditor-password"), bcrypt.MinCost, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(filepath.Join(st, "users.json")); err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	if err := os.WriteFile(filepath.Join(st, "signoff.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st, signoff.FileName)
	l, err := signoff.Open(path, key, signoff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, a := range []signoff.Action{signoff.Certify, signoff.Approve} {
		e := signoff.Event{Time: at, User: "u", Role: "r", Action: a, Date: date, Outlet: "TY0001", Counter: "TY0001-01",
			RunID: "r1", PDFSHA256: "p", XLSXSHA256: "x"}
		if _, err := l.Append(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return st, data
}

// TestServeStartsOverATornSignoffLog: a sign-off cut short by a full disk left half a line
// at the end of the log, and the next sign-off of a settle before the repair was glued to it
// (after which that settle refused every sign-off and would not start); `settle serve` starts
// all the same, says what it cut off, and the log ends with a whole line recording the repair. Corruption in the middle of the log still
// stops it, naming the event.
func TestServeStartsOverATornSignoffLog(t *testing.T) {
	t.Parallel()
	st, data := signoffStore(t)
	path := filepath.Join(st, signoff.FileName)
	torn := `{"seq":3,"time":"2026-11-22T09:10:00Z","user":"wang","ro`
	_, second, _ := strings.Cut(strings.TrimSuffix(string(data), "\n"), "\n")
	glued := torn + strings.Replace(second, `"seq":2`, `"seq":3`, 1) + "\n"
	if err := os.WriteFile(path, append(bytes.Clone(data), glued...), 0o640); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	p := start(t, env(tmp), "serve", "--addr", "127.0.0.1:0", "--store", st, "--source", "demo?outlets=1&counters=1", "--log-format", "json")
	addr := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)`)
	var base string
	if !waitFor(30*time.Second, func() bool {
		m := addr.FindStringSubmatch(p.stdout.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}) {
		p.kill(t)
		t.Fatalf("settle serve did not start over a torn log:\nstdout %s\nstderr %s", p.stdout.String(), p.stderr.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("serve after SIGTERM: exit %d\n%s", code, p.stderr.String())
	}
	if logs := p.stderr.String(); !strings.Contains(logs, `"msg":"sign-off log: cut off a torn last line, left by an append that failed"`) ||
		!strings.Contains(logs, fmt.Sprintf(`"bytes":%d`, len(glued))) {
		t.Errorf("no record of the repair in the log:\n%s", logs)
	}
	// The log is imported into the workflow database (the repair recorded there, after the
	// two events) and the old file kept as it was.
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, append(bytes.Clone(data), glued...)) {
		t.Errorf("the old log was changed:\n%s", after)
	}
	wf, err := workflow.Open(st, workflow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := wf.Events(context.Background(), workflow.EventFilter{})
	wf.Close()
	var acts []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Action != workflow.ActUserChange { // the users of the file, recorded at the first start
			acts = append(acts, evs[i].Action)
		}
	}
	if strings.Join(acts, " ") != "certify approve repair migrate" {
		t.Errorf("workflow events after the import: %v", acts)
	}

	// A line torn in the middle (lines after it) is not what a failed append leaves.
	first, rest, _ := strings.Cut(string(data), "\n")
	bad := first + "\n" + torn + "\n" + rest
	st2, _ := signoffStore(t)
	if err := os.WriteFile(filepath.Join(st2, signoff.FileName), []byte(bad), 0o640); err != nil {
		t.Fatal(err)
	}
	r := settle(t, env(tmp), "serve", "--addr", "127.0.0.1:0", "--store", st2, "--source", "demo?outlets=1&counters=1")
	if r.code == 0 || !strings.Contains(r.stderr, "event 2: not a JSON line, and lines follow it: the log was altered") {
		t.Errorf("serve over a log altered in the middle:\n%s", r)
	}
	if b, _ := os.ReadFile(filepath.Join(st2, signoff.FileName)); string(b) != bad {
		t.Errorf("an altered log was changed")
	}
}
