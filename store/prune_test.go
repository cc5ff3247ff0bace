package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pruneFixture builds a store by hand: each run directory gets files of known sizes.
type pruneFixture struct {
	t   *testing.T
	dir string
}

func (f pruneFixture) file(rel string, size int) string {
	f.t.Helper()
	p := filepath.Join(f.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f pruneFixture) link(from, to string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(f.dir, to)), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Link(filepath.Join(f.dir, from), filepath.Join(f.dir, to)); err != nil {
		f.t.Fatal(err)
	}
}

func (f pruneFixture) current(date, id string) {
	f.t.Helper()
	if err := os.Symlink(runsName+"/"+id, filepath.Join(f.dir, date, currentName)); err != nil {
		f.t.Fatal(err)
	}
}

// existing lists every run directory (and leftover) under <date>/runs of the store.
func existing(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*", runsName, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range m {
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
	}
	slices.Sort(out)
	return out
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	f := pruneFixture{t, dir}
	const old, recent, openPeriod, busy = "2026-10-01", "2026-11-20", "2026-09-15", "2026-08-01"
	id := func(n string) string { return "20261001T00000" + n + ".000Z-aaaaaaaa" }
	// old: r0..r5 published in id order, r5 current.
	for _, n := range []string{"0", "1", "2", "3", "4", "5"} {
		f.file(old+"/runs/"+id(n)+"/manifest.json", 100)
	}
	f.current(old, id("5"))
	// r0 and r3 share a file (both go: its 1000 bytes are freed once); r3 shares another
	// with current r5 (which stays: nothing freed).
	f.file(old+"/runs/"+id("0")+"/feeds/a.parquet", 1000)
	f.link(old+"/runs/"+id("0")+"/feeds/a.parquet", old+"/runs/"+id("3")+"/feeds/a.parquet")
	f.file(old+"/runs/"+id("5")+"/feeds/b.parquet", 5000)
	f.link(old+"/runs/"+id("5")+"/feeds/b.parquet", old+"/runs/"+id("3")+"/feeds/b.parquet")
	f.file(old+"/runs/.tmp-"+id("6")+"/settlement.csv", 7)
	// r1 is pinned by a sign-off; r2 was used by a closed period.
	f.file("periods/2026-10-01_2026-10-31/closed.json", 2)
	if err := os.WriteFile(filepath.Join(dir, "periods/2026-10-01_2026-10-31/closed.json"), []byte(`{"closed":true,"run_id":"p1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "periods/2026-10-01_2026-10-31/runs/p1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "periods/2026-10-01_2026-10-31/runs/p1/manifest.json"),
		[]byte(`{"run_id":"p1","runs_used":{"2026-10-01":["`+id("2")+`"],"2026-10-02":["x"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A period closed and then reopened keeps nothing (closed.json says closed: false); nor
	// does a draft report of a closed period that is not its report of record (p0).
	if err := os.MkdirAll(filepath.Join(dir, "periods/2026-09-01_2026-09-30/runs/p2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "periods/2026-09-01_2026-09-30/closed.json"), []byte(`{"closed":false,"run_id":"p2"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "periods/2026-10-01_2026-10-31/runs/p0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "periods/2026-10-01_2026-10-31/runs/p0/manifest.json"),
		[]byte(`{"run_id":"p0","runs_used":{"2026-09-15":["c1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "periods/2026-09-01_2026-09-30/runs/p2/manifest.json"),
		[]byte(`{"runs_used":{"2026-09-15":["c1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f.file(openPeriod+"/runs/c1/manifest.json", 30)
	f.file(openPeriod+"/runs/c2/manifest.json", 40)
	f.file(openPeriod+"/runs/c3/manifest.json", 40)
	f.current(openPeriod, "c3")
	// recent: inside keep-days: only the leftover goes.
	f.file(recent+"/runs/b1/manifest.json", 10)
	f.file(recent+"/runs/b2/manifest.json", 10)
	f.current(recent, "b2")
	f.file(recent+"/runs/.tmp-b3/x", 3)
	// busy: another run holds its lock: untouched.
	f.file(busy+"/runs/d1/manifest.json", 10)
	f.file(busy+"/runs/d2/manifest.json", 10)
	f.current(busy, "d2")
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := other.Lock(context.Background(), busy, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := PruneOptions{
		KeepDays: 30, KeepRuns: 2, Today: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), DryRun: true,
		Pinned: func() (map[RunRef]bool, error) { return map[RunRef]bool{{old, id("1")}: true}, nil },
	}
	want := []string{
		openPeriod + "/runs/c1 policy 30",
		old + "/runs/.tmp-" + id("6") + " leftover 7",
		old + "/runs/" + id("0") + " policy 100",       // the shared file is not yet all gone
		old + "/runs/" + id("3") + " policy " + "1100", // its last link: 1000 + manifest 100
		recent + "/runs/.tmp-b3 leftover 3",
	}
	before := existing(t, dir)
	for _, dry := range []bool{true, false} {
		opts.DryRun = dry
		rep, err := st.Prune(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rep.Removed {
			rel, _ := filepath.Rel(dir, r.Path)
			got = append(got, filepath.ToSlash(rel)+" "+r.Reason+" "+itoa(r.Bytes))
		}
		if !slices.Equal(got, want) {
			t.Errorf("dry=%v: removed\n%s\nwant\n%s", dry, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Bytes != 30+7+100+1100+3 {
			t.Errorf("dry=%v: %d bytes freed, want %d", dry, rep.Bytes, 30+7+100+1100+3)
		}
		if !slices.Equal(rep.Busy, []string{busy}) {
			t.Errorf("dry=%v: busy %v, want [%s]", dry, rep.Busy, busy)
		}
		if dry {
			if after := existing(t, dir); !slices.Equal(after, before) {
				t.Errorf("dry run changed the store:\n%v\nwas\n%v", after, before)
			}
		}
	}
	var left []string
	for _, p := range before {
		gone := false
		for _, w := range want {
			if strings.HasPrefix(w, p+" ") {
				gone = true
			}
		}
		if !gone {
			left = append(left, p)
		}
	}
	if after := existing(t, dir); !slices.Equal(after, left) {
		t.Errorf("after prune:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(left, "\n"))
	}
	// What stays is whole: current's shared file still reads.
	if b, err := os.ReadFile(filepath.Join(dir, old, "runs", id("5"), "feeds/b.parquet")); err != nil || len(b) != 5000 {
		t.Errorf("current run's file: %d bytes, %v", len(b), err)
	}
}

func TestPruneRefusesUnreadablePins(t *testing.T) {
	dir := t.TempDir()
	f := pruneFixture{t, dir}
	f.file("2026-01-01/runs/a/manifest.json", 1)
	f.file("2026-01-01/runs/b/manifest.json", 1)
	f.current("2026-01-01", "b")
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A closed period whose report cannot be read.
	if p := f.file("periods/2026-01-01_2026-01-31/closed.json", 0); os.WriteFile(p, []byte(`{"closed":true}`), 0o644) != nil {
		t.Fatal("write closed.json")
	}
	f.file("periods/2026-01-01_2026-01-31/runs/p/manifest.json", 0) // empty: not JSON
	if _, err := st.Prune(context.Background(), PruneOptions{Today: time.Now()}); err == nil || !strings.Contains(err.Error(), "closed period 2026-01-01_2026-01-31") {
		t.Errorf("unreadable closed period: err %v", err)
	}
	if got := existing(t, dir); len(got) != 2 {
		t.Errorf("removed with unreadable pins: %v", got)
	}
	// A closed period with no run naming its runs keeps all its dates' runs.
	if err := os.RemoveAll(filepath.Join(dir, "periods/2026-01-01_2026-01-31/runs")); err != nil {
		t.Fatal(err)
	}
	rep, err := st.Prune(context.Background(), PruneOptions{Today: time.Now()})
	if err != nil || len(rep.Removed) != 0 {
		t.Errorf("closed period without runs_used: removed %v, err %v", rep, err)
	}
	os.RemoveAll(filepath.Join(dir, "periods"))
	rep, err = st.Prune(context.Background(), PruneOptions{Today: time.Now()})
	if err != nil || len(rep.Removed) != 1 || rep.Removed[0].RunID != "a" {
		t.Errorf("no periods: removed %+v, err %v", rep, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestHolders(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := a.Lock(context.Background(), "2026-11-02", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	free, err := a.Lock(context.Background(), "2026-11-01", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	free()
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := b.Holders()
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Date != "2026-11-02" || !strings.HasPrefix(hs[0].Holder, "pid="+strconv.Itoa(os.Getpid())+" ") {
		t.Errorf("holders %+v, want 2026-11-02 held by pid %d", hs, os.Getpid())
	}
	// Asking did not take the lock away: another Lock still cannot have it.
	if _, err := b.Lock(context.Background(), "2026-11-02", 0, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("lock after Holders: %v, want ErrLocked", err)
	}
	unlock()
	if hs, err := b.Holders(); err != nil || len(hs) != 0 {
		t.Errorf("after unlock: holders %+v, %v", hs, err)
	}
}
