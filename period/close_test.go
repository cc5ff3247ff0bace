package period

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCloseReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p := Period{"2026-11-01", "2026-11-30"}
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	o := CloseOptions{By: "财务", Comment: "十一月月结", Now: now, Trail: FileTrail{StoreDir: dir}}
	if _, err := Close(ctx, dir, p, o); !errors.Is(err, ErrNoReport) {
		t.Fatalf("close before any report: %v, want ErrNoReport", err)
	}
	// A period report over a store without runs: every date missing, but published.
	out, err := Run(ctx, Options{StoreDir: dir, Period: p, SignOffs: fakeSignOffs{}, Lang: "en", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if out.Complete || len(out.Manifest.MissingDates) != 30 || out.Manifest.Findings.ByCode[CodeDayMissing] != 30 {
		t.Errorf("empty store: complete %v, missing %d, findings %v", out.Complete, len(out.Manifest.MissingDates), out.Manifest.Findings.ByCode)
	}
	c, err := Close(ctx, dir, p, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.RunID != out.RunID || !c.Closed {
		t.Errorf("closure %+v, want the report of record %s", c, out.RunID)
	}
	for date, want := range map[string]bool{"2026-10-31": false, "2026-11-01": true, "2026-11-30": true, "2026-12-01": false} {
		name, closed, err := ClosedFor(dir, date)
		if err != nil || closed != want || (want && name != p.Name()) {
			t.Errorf("ClosedFor(%s) = %q %v %v, want %v", date, name, closed, err, want)
		}
	}
	if err := CheckOpen(dir, "2026-11-15"); !errors.Is(err, ErrClosed) {
		t.Errorf("CheckOpen: %v", err)
	}
	if _, err := Run(ctx, Options{StoreDir: dir, Period: p, SignOffs: fakeSignOffs{}, Now: func() time.Time { return now }}); !errors.Is(err, ErrClosed) {
		t.Errorf("period run of a closed period: %v", err)
	}
	if _, err := Reopen(ctx, dir, p, CloseOptions{By: "x", Now: now, Trail: FileTrail{StoreDir: dir}}); err == nil {
		t.Error("reopen without a comment")
	}
	if _, err := Reopen(ctx, dir, p, CloseOptions{By: "审计", Comment: "补录", Now: now.Add(time.Hour), Trail: FileTrail{StoreDir: dir}}); err != nil {
		t.Fatal(err)
	}
	if _, closed, _ := ClosedFor(dir, "2026-11-15"); closed {
		t.Error("still closed after reopen")
	}
	if _, err := Reopen(ctx, dir, p, CloseOptions{By: "审计", Comment: "again", Now: now, Trail: FileTrail{StoreDir: dir}}); !errors.Is(err, ErrNotClosed) {
		t.Errorf("reopen of an open period: %v", err)
	}
	tr, err := ReadTrail(dir)
	if err != nil || len(tr) != 2 || tr[0].Action != ActionClose || tr[1].Action != ActionReopen || tr[1].By != "审计" {
		t.Errorf("trail %+v %v", tr, err)
	}
}
