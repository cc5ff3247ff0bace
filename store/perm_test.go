package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestPublishTakesOffGroupAndOtherWrite: files a renderer made itself with os.Create under
// umask 0 (0666, in a 0777 folder) are published 0644 and 0755; modes without group or
// other write are left as they are.
func TestPublishTakesOffGroupAndOtherWrite(t *testing.T) {
	s := lockedStore(t)
	run, err := s.Begin(testDate, "r1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.Create("a.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A folder the run made (Create's), holding a file the run made and one a renderer made
	// itself: the run's own are not looked at (syncTree), the other is.
	w, err = run.Create("reports/O2/C2.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	ext := filepath.Join(run.Dir(), "reports", "O2", "C3.xlsx")
	if err := os.WriteFile(ext, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ext, 0o666); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(run.Dir(), "reports", "O1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]fs.FileMode{
		filepath.Join(dir, "C1.xlsx"):     0o666,
		filepath.Join(dir, "C1.pdf"):      0o640,
		filepath.Join(dir, "outlet.xlsx"): 0o600,
	} {
		if err := os.WriteFile(p, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the test's umask
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	pub := run.Dir()
	for rel, want := range map[string]fs.FileMode{
		"reports/O1":             0o755,
		"reports/O1/C1.xlsx":     0o644,
		"reports/O1/C1.pdf":      0o640,
		"reports/O1/outlet.xlsx": 0o600,
		"reports/O2/C3.xlsx":     0o644,
	} {
		fi, err := os.Stat(filepath.Join(pub, rel))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", rel, got, want)
		}
	}
}
