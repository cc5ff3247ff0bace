package workflow

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"settle/engine"
	"settle/web/signoff"
)

var (
	ctx     = context.Background()
	testNow = time.Date(2026, 11, 25, 9, 0, 0, 0, engine.Shanghai)
	clerk   = Actor{User: "zhang", Display: "张三", Role: "clerk"}
	rev     = Actor{User: "wang", Display: "王复核", Role: "reviewer"}
)

func open(t *testing.T, dir string) *DB {
	t.Helper()
	d, err := Open(dir, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func exc(code engine.Code, sev engine.Severity, counter, txn string, amount int64) engine.Exception {
	return engine.Exception{Code: code, Severity: sev, City: "TY", Outlet: "TY0001", Counter: counter, Feed: "deposits",
		TxnID: txn, Amount: amount, HasAmount: true, Detail: "d " + txn}
}

// raise reconciles one place with the findings of run id, as Sync does with a run.
func raise(t *testing.T, d *DB, date, counter, runID string, ex ...engine.Exception) {
	t.Helper()
	err := d.tx(ctx, func(tx *sql.Tx) error {
		return d.syncPlace(ctx, tx, date, place{"TY0001", counter}, runID, ex)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func items(t *testing.T, d *DB, f Filter) map[string]*Item {
	t.Helper()
	its, err := d.Items(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*Item{}
	for _, it := range its {
		m[it.Code+"/"+it.TxnID] = it
	}
	return m
}

func TestItemLifecycle(t *testing.T) {
	d := open(t, t.TempDir())
	const date = "2026-11-21"
	short := exc(engine.CodeDepositShort, engine.SevError, "C1", "", -18352)
	short.Key = "CASH"
	imei := exc(engine.CodeIMEIDuplicate, engine.SevError, "C1", "T9", 0)
	warn := exc(engine.CodeRemotePending, engine.SevWarning, "C1", "T5", 100)
	raise(t, d, date, "C1", "run1", short, imei, warn)
	m := items(t, d, Filter{})
	if len(m) != 3 || m["DEPOSIT_SHORT/"].State != StateOpen || m["DEPOSIT_SHORT/"].Age != 4 || !m["DEPOSIT_SHORT/"].Overdue {
		t.Fatalf("items after the first run: %+v", m["DEPOSIT_SHORT/"])
	}
	s, i, w := m["DEPOSIT_SHORT/"], m["IMEI_DUPLICATE/T9"], m["REMOTE_PENDING/T5"]

	// Certify is refused while ERRORs are open.
	snap, _ := d.Snapshot(ctx, date, "TY0001", "C1")
	_, err := d.Sign(ctx, clerk, Signoff{Action: ActCertify, Date: date, Outlet: "TY0001", Counter: "C1", RunID: "run1", PDFSHA256: "x", Snapshot: snap})
	var ge *GateError
	if !errors.As(err, &ge) || len(ge.Items) != 2 {
		t.Fatalf("certify with open errors: %v", err)
	}
	// Reasons: the family's, with their numbers.
	for _, c := range []struct{ reason, text string }{{"TURNED_IN", "S1"}, {"MADE_UP", ""}, {"MADE_UP", "no number"}, {"OTHER", " "}} {
		if _, err := d.Apply(ctx, clerk, []Change{{ID: s.ID, Version: s.Version, Action: ActExplain, Reason: c.reason, Text: c.text}}, nil); !errors.Is(err, ErrReason) {
			t.Errorf("explain %s %q: %v, want ErrReason", c.reason, c.text, err)
		}
	}
	if _, err := d.Apply(ctx, clerk, []Change{{ID: s.ID, Version: s.Version, Action: ActAccept}}, nil); !errors.Is(err, ErrState) {
		t.Errorf("a clerk accepts: %v", err)
	}
	out, err := d.Apply(ctx, clerk, []Change{{ID: s.ID, Version: s.Version, Action: ActExplain, Reason: "MADE_UP", Text: "slip 2026-0042"}}, nil)
	if err != nil || out[0].State != StateExplained || out[0].By != "zhang" {
		t.Fatalf("explain: %v %+v", err, out)
	}
	// The second writer with the old version is told to reload.
	if _, err := d.Apply(ctx, clerk, []Change{{ID: s.ID, Version: s.Version, Action: ActExplain, Reason: "OTHER", Text: "x"}}, nil); !errors.Is(err, ErrStale) {
		t.Errorf("stale explain: %v", err)
	}
	// All or nothing: a good change with a bad one applies neither.
	i2, _ := d.Item(ctx, i.ID)
	if _, err := d.Apply(ctx, clerk, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "sold twice"}, {ID: w.ID, Action: ActExplain, Reason: "NOPE"}}, nil); err == nil {
		t.Fatal("a batch with a bad change applied")
	}
	if i3, _ := d.Item(ctx, i.ID); i3.State != StateOpen || i3.Version != i2.Version {
		t.Errorf("half a batch applied: %+v", i3)
	}
	if _, err := d.Apply(ctx, clerk, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "sold twice"}, {ID: w.ID, Action: ActAcknowledge}}, nil); err != nil {
		t.Fatal(err)
	}
	snap, _ = d.Snapshot(ctx, date, "TY0001", "C1")
	ev, err := d.Sign(ctx, clerk, Signoff{Action: ActCertify, Date: date, Outlet: "TY0001", Counter: "C1", RunID: "run1", PDFSHA256: "p", CertSHA256: "c", Snapshot: snap})
	if err != nil || len(ev.Snapshot) != 3 {
		t.Fatalf("certify: %v", err)
	}
	if id, st, _ := d.Pinned(ctx, date, "TY0001", "C1"); id != "run1" || st != StatusCertified {
		t.Errorf("pinned: %s %s", id, st)
	}
	if pr, _ := d.PinnedRuns(ctx); len(pr[date]) != 1 || pr[date][0] != "run1" {
		t.Errorf("pinned runs: %v", pr)
	}
	// Approve needs every ERROR accepted or resolved.
	snap, _ = d.Snapshot(ctx, date, "TY0001", "C1")
	if _, err := d.Sign(ctx, rev, Signoff{Action: ActApprove, Date: date, Outlet: "TY0001", Counter: "C1", RunID: "run1", Snapshot: snap}); !errors.Is(err, ErrGate) {
		t.Errorf("approve with explained errors: %v", err)
	}
	if _, err := d.Apply(ctx, rev, []Change{{ID: i.ID, Action: ActReject}}, nil); !errors.Is(err, ErrState) {
		t.Errorf("reject without a comment: %v", err)
	}
	if _, err := d.Apply(ctx, rev, []Change{{ID: s.ID, Action: ActAccept}, {ID: i.ID, Action: ActReject, Comment: "which sale?"}}, nil); err != nil {
		t.Fatal(err)
	}
	// The rejected item keeps the day from approval; the reviewer returns it.
	if _, err := d.Sign(ctx, rev, Signoff{Action: ActReturn, Date: date, Outlet: "TY0001", Counter: "C1", Comment: "see IMEI"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(ctx, clerk, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "test sale voided"}}, nil); err != nil {
		t.Fatal(err)
	}
	// A later run no longer raises the IMEI item: resolved, with the run; the warning stays acknowledged.
	raise(t, d, date, "C1", "run2", short, warn)
	m = items(t, d, Filter{})
	if it := m["IMEI_DUPLICATE/T9"]; it.State != StateResolved || it.RunID != "run2" || it.Present {
		t.Errorf("after run2: %+v", it)
	}
	if m["DEPOSIT_SHORT/"].State != StateAccepted || m["REMOTE_PENDING/T5"].State != StateAcknowledged {
		t.Errorf("after run2: %s %s", m["DEPOSIT_SHORT/"].State, m["REMOTE_PENDING/T5"].State)
	}
	// run3 raises it again: open again.
	raise(t, d, date, "C1", "run3", short, imei, warn)
	if it := items(t, d, Filter{})["IMEI_DUPLICATE/T9"]; it.State != StateOpen || !it.Present {
		t.Errorf("after run3: %+v", it)
	}
	// The trail holds each step, chained.
	evs, _ := d.Events(ctx, EventFilter{})
	var acts []string
	for i := len(evs) - 1; i >= 0; i-- {
		acts = append(acts, evs[i].Action)
	}
	want := "explain explain acknowledge certify accept reject return explain resolve reraise"
	if got := strings.Join(acts, " "); got != want {
		t.Errorf("trail:\n got %s\nwant %s", got, want)
	}
	if err := d.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDayNotEnded(t *testing.T) {
	d := open(t, t.TempDir())
	today := d.Today()
	_, err := d.Sign(ctx, clerk, Signoff{Action: ActCertify, Date: today, Outlet: "TY0001", Counter: "C1", RunID: "r", PDFSHA256: "p"})
	if !errors.Is(err, ErrDayOpen) {
		t.Errorf("certify today: %v", err)
	}
}

func TestReasons(t *testing.T) {
	for _, c := range []struct {
		code string
		want string
	}{
		{"DEPOSIT_SHORT", "MADE_UP BANKED_NEXT_DAY BOSS_ERROR OTHER"},
		{"DEPOSIT_OVER", "TURNED_IN BOSS_ERROR OTHER"},
		{"FEED_MISSING", "BOSS_ERROR RE_EXPORTED OTHER"},
		{"WRONG_DATE", "BOSS_ERROR RE_EXPORTED OTHER"},
		{"REVERSAL_ORPHAN", "APPROVAL_ON_PAPER CUSTOMER_CLAIM BOSS_ERROR OTHER"},
		{"VOID_PARTIAL", "APPROVAL_ON_PAPER CUSTOMER_CLAIM BOSS_ERROR OTHER"},
		{"REFUND_NOT_APPROVED", "APPROVAL_ON_PAPER CUSTOMER_CLAIM BOSS_ERROR OTHER"},
		{"IMEI_DUPLICATE", "BOSS_ERROR OPERATOR_ERROR OTHER"},
	} {
		var got []string
		for _, r := range ReasonsFor(c.code) {
			got = append(got, r.Code)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %s", c.code, got, c.want)
		}
	}
	if err := CheckReason("DEPOSIT_SHORT", "BOSS_ERROR", "ticket INC-77"); err != nil {
		t.Error(err)
	}
	if err := CheckReason("SUMMARY_MISMATCH", "RE_EXPORTED", ""); err != nil {
		t.Error(err)
	}
}

func TestTamperDetected(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir)
	for i := 0; i < 3; i++ {
		if _, err := d.Append(ctx, Event{User: "x", Action: ActLogin}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.db.Exec(`UPDATE events SET line = replace(line, '"user":"x"', '"user":"y"') WHERE seq=2`); err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(ctx); !errors.Is(err, ErrAltered) || !strings.Contains(err.Error(), "event 2") {
		t.Errorf("edited event: %v", err)
	}
	d.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrAltered) {
		t.Errorf("open an altered log: %v", err)
	}
}

func TestMigrateSignoffLog(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadKey(filepath.Join(dir, KeyName))
	if err != nil {
		t.Fatal(err)
	}
	l, err := signoff.Open(filepath.Join(dir, signoff.FileName), key, signoff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := signoff.Event{Time: testNow, User: "zhang", Role: "clerk", Date: "2026-11-21", Outlet: "TY0001", Counter: "C1", RunID: "r1", PDFSHA256: "p", XLSXSHA256: "x"}
	for _, a := range []signoff.Action{signoff.Certify, signoff.Approve} {
		e := base
		e.Action = a
		if _, err := l.Append(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	before, _ := os.ReadFile(filepath.Join(dir, signoff.FileName))
	d := open(t, dir)
	y, _ := d.Day(ctx, "2026-11-21", "TY0001", "C1")
	if y.Status != StatusApproved || y.RunID != "r1" {
		t.Errorf("migrated day: %+v", y)
	}
	evs, _ := d.Events(ctx, EventFilter{})
	if len(evs) != 3 || evs[0].Action != ActMigrate || evs[2].Action != ActCertify {
		t.Errorf("migrated events: %+v", evs)
	}
	d.Close()
	after, _ := os.ReadFile(filepath.Join(dir, signoff.FileName))
	if string(before) != string(after) {
		t.Error("the old log changed")
	}
	d2 := open(t, dir) // a second open imports nothing again
	if evs, _ := d2.Events(ctx, EventFilter{}); len(evs) != 3 {
		t.Errorf("second open: %d events", len(evs))
	}
	// A tampered log refuses to migrate.
	dir2 := t.TempDir()
	os.WriteFile(filepath.Join(dir2, KeyName), key, 0o600)
	os.WriteFile(filepath.Join(dir2, signoff.FileName), []byte(strings.Replace(string(before), "zhang", "zhanx", 1)), 0o640)
	if _, err := Open(dir2, Options{}); err == nil {
		t.Error("a tampered sign-off log migrated")
	}
}

// TestKillNine kills a process that is acknowledging changes, then opens the database:
// every change the child acknowledged is there and the log verifies. A torn WAL tail (the
// write the kill interrupted, garbage appended) does not keep it from opening.
func TestKillNine(t *testing.T) {
	if os.Getenv("WF_CHILD") != "" {
		d, err := Open(os.Getenv("WF_CHILD"), Options{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		for i := 1; ; i++ {
			if _, err := d.Append(ctx, Event{User: "child", Action: ActLogin, Comment: strconv.Itoa(i)}); err != nil {
				fmt.Println("ERR", err)
				os.Exit(1)
			}
			fmt.Println("ACK", i)
		}
	}
	dir := t.TempDir()
	open(t, dir).Close() // make it, with its key
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNine$")
	cmd.Env = append(os.Environ(), "WF_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR") {
			t.Fatal(line)
		}
		if n, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.Atoi(n)
			if acked == 40 {
				cmd.Process.Kill()
				break
			}
		}
	}
	cmd.Wait()
	// A torn write at the end of the WAL.
	if f, err := os.OpenFile(filepath.Join(dir, FileName+"-wal"), os.O_WRONLY|os.O_APPEND, 0); err == nil {
		f.Write([]byte("torn frame: not a page of the database"))
		f.Close()
	}
	d := open(t, dir)
	evs, err := d.Events(ctx, EventFilter{User: "child", Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < acked {
		t.Fatalf("acknowledged %d events, %d after the kill", acked, len(evs))
	}
	if err := d.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Append(ctx, Event{User: "after", Action: ActLogin}); err != nil {
		t.Fatalf("append after the kill: %v", err)
	}
}

// TestTwoProcesses: a second handle (as settle items is beside the server) reads and writes
// the same file at once.
func TestTwoHandles(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
	done := make(chan error, 2)
	for _, d := range []*DB{a, b} {
		go func() {
			for i := 0; i < 30; i++ {
				if _, err := d.Append(ctx, Event{User: "u", Action: ActLogin}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, _ := b.Events(ctx, EventFilter{}); len(evs) != 60 {
		t.Errorf("%d events", len(evs))
	}
}
