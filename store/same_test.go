package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPreviousSameSeesAlteredFiles: an earlier run's file is taken without reading it only
// while it is as the run left it; one rewritten with bytes of the same size and its times
// set back (cp -p, rsync -a, a restore do that) is read again and found changed.
func TestPreviousSameSeesAlteredFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "settlement.csv")
	if err := os.WriteFile(f, []byte("TY0001-01,LOCAL_BILL,ALIPAY,27,9155.75\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := hashFile(f)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the run is sealed after its files are in place
	p := &Previous{Dir: dir, Sealed: time.Now()}
	if !p.same(f, want) {
		t.Fatal("an unchanged earlier file is not taken")
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(f, []byte("TY0001-01,LOCAL_BILL,ALIPAY,27,8155.75\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if p.same(f, want) {
		t.Error("a file rewritten with its times set back is taken as the earlier run's")
	}
}

// TestPruneCacheOfDateWithoutRuns: a parse cache left by a first run that died before its
// run directory was begun goes with its date's age, like any other.
func TestPruneCacheOfDateWithoutRuns(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pc := filepath.Join(st.Dir(), "2026-10-01", ParsedName)
	if err := os.MkdirAll(pc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pc, "deposit-x.pc"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	rep, err := st.Prune(t.Context(), PruneOptions{KeepDays: 35, KeepRuns: 2, Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 1 || rep.Removed[0].Reason != ReasonCache || rep.Removed[0].Bytes != 1 {
		t.Errorf("removed %+v, want the date's parse cache", rep.Removed)
	}
	if _, err := os.Stat(pc); !os.IsNotExist(err) {
		t.Errorf("parse cache still there: %v", err)
	}
}

// TestKeptFileEmptiedIsWrittenAgain: a kept file a crash left with no bytes is not taken as
// there: the next Keep (and the next Keeper) writes it again, whole.
func TestKeptFileEmptiedIsWrittenAgain(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("a,b\n1,2\n")
	k, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	sum, _, err := k.Keep("order/TY0001-01", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), testDate, InputsName, sum+".zst")
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	k2, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	k2.heldMax = 0
	_, open, err := k2.Keep("order/TY0001-01", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := k2.Flush(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
		t.Fatalf("the emptied kept file was not written again: %v", err)
	}
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

// TestPreviousSameSealedOnTheFileSystemsClock: the seal is a time of the clock that stamps
// ctimes (sealTime), and a file whose ctime is not strictly before it — changed in the same
// tick as the seal — is read again, not taken on its size and times.
func TestPreviousSameSealedOnTheFileSystemsClock(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "settlement.csv")
	if err := os.WriteFile(f, []byte("TY0001-01,LOCAL_BILL,ALIPAY,27,9155.75\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := hashFile(f)
	if err != nil {
		t.Fatal(err)
	}
	sealed := sealTime(dir)
	if fi, err := os.Stat(f); err == nil {
		if ct, ok := changeTime(fi); ok && ct.After(sealed) {
			t.Fatalf("a file written before the seal has ctime %v after it (%v)", ct, sealed)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("sealTime left %d files in the folder", len(ents)-1)
	}
	// Rewritten with bytes of the same size, its ctime equal to the seal's (one tick).
	if err := os.WriteFile(f, []byte("TY0001-01,LOCAL_BILL,ALIPAY,27,8155.75\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := changeTime(fi)
	if !ok {
		t.Skip("no ctime on this system") // linux only: the reuse then reads every file
	}
	p := &Previous{Dir: dir, Sealed: ct}
	if p.same(f, before) {
		t.Error("a file whose ctime equals the seal is taken as the earlier run's without reading it")
	}
}
