package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"settle/period"
	"settle/web/signoff"
)

// The sign-off log adapter: approved and certified counter-days come with their pinned run,
// a returned one is open again, and a store without a log has none.
func TestLogSignOffs(t *testing.T) {
	dir := t.TempDir()
	so, done, err := openSignOffs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := so.Day(context.Background(), "2026-11-03"); err != nil || len(m) != 0 {
		t.Errorf("no log: %v %v", m, err)
	}
	done()
	l, err := signoff.Open(filepath.Join(dir, signoff.FileName), nil, signoff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 4, 1, 0, 0, 0, time.UTC)
	ev := func(a signoff.Action, counter, run, comment string) {
		t.Helper()
		e := signoff.Event{Time: at, User: "u", Role: "clerk", Action: a, Date: "2026-11-03", Outlet: "TY0001", Counter: counter,
			RunID: run, PDFSHA256: "ab", Comment: comment}
		if _, err := l.Append(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	ev(signoff.Certify, "TY0001-01", "r1", "")
	ev(signoff.Approve, "TY0001-01", "r1", "")
	ev(signoff.Certify, "TY0001-02", "r2", "")
	ev(signoff.Certify, "TY0001-03", "r1", "")
	ev(signoff.Return, "TY0001-03", "r1", "wrong")
	l.Close()
	so, done, err = openSignOffs(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	m, err := so.Day(context.Background(), "2026-11-03")
	if err != nil {
		t.Fatal(err)
	}
	want := map[period.DayKey]period.SignOff{
		{Outlet: "TY0001", Counter: "TY0001-01"}: {Status: period.SignApproved, RunID: "r1"},
		{Outlet: "TY0001", Counter: "TY0001-02"}: {Status: period.SignCertified, RunID: "r2"},
		{Outlet: "TY0001", Counter: "TY0001-03"}: {Status: period.SignOpen},
	}
	if len(m) != len(want) {
		t.Fatalf("Day = %v", m)
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%v: %+v, want %+v", k, m[k], w)
		}
	}
	if m, _ := so.Day(context.Background(), "2026-11-04"); len(m) != 0 {
		t.Errorf("another date: %v", m)
	}
}
