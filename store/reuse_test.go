package store

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// publishWithReport writes a run of files plus one report rendered (or reused) under key.
func publishWithReport(t *testing.T, s *Store, id string, files map[string]string, report, key, body string) (*Run, bool) {
	t.Helper()
	run, err := s.Begin(testDate, id)
	if err != nil {
		t.Fatal(err)
	}
	run.ReuseFrom(s.ReuseSource(testDate, nil), false)
	for rel, data := range files {
		if err := writeFile(run, rel, func(w io.Writer) error { _, err := io.WriteString(w, data); return err }); err != nil {
			t.Fatal(err)
		}
	}
	_, reused, err := run.Reuse(report, key)
	if err != nil {
		t.Fatal(err)
	}
	if !reused {
		if err := writeFile(run, report, func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
			t.Fatal(err)
		}
		run.Rendered(report, key)
	}
	if err := WriteManifest(run, &Manifest{StartedAt: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	return run, reused
}

func inode(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestReuseLinksSameBytesAndKeys(t *testing.T) {
	s := lockedStore(t)
	files := map[string]string{"settlement.csv": "a,b\n", "variance.csv": "v1\n"}
	id1, id2, id3 := "20261122T000000.000Z-00000001", "20261122T000001.000Z-00000002", "20261122T000002.000Z-00000003"
	r1, reused := publishWithReport(t, s, id1, files, "reports/o/c.xlsx", "k1", "report of run 1")
	if reused {
		t.Fatal("the first run reused a report")
	}
	files["variance.csv"] = "v2\n"
	r2, reused := publishWithReport(t, s, id2, files, "reports/o/c.xlsx", "k1", "must not be written")
	if !reused {
		t.Fatal("the report under the same key was rendered again")
	}
	d1, d2 := r1.Dir(), r2.Dir()
	if !os.SameFile(inode(t, filepath.Join(d1, "settlement.csv")), inode(t, filepath.Join(d2, "settlement.csv"))) {
		t.Error("settlement.csv, unchanged, is not a hard link to the first run's")
	}
	if os.SameFile(inode(t, filepath.Join(d1, "variance.csv")), inode(t, filepath.Join(d2, "variance.csv"))) {
		t.Error("variance.csv changed but is linked")
	}
	if got := readFile(t, filepath.Join(d2, "variance.csv")); got != "v2\n" {
		t.Errorf("variance.csv = %q", got)
	}
	if !os.SameFile(inode(t, filepath.Join(d1, "reports/o/c.xlsx")), inode(t, filepath.Join(d2, "reports/o/c.xlsx"))) {
		t.Error("the reused report is not a hard link")
	}
	m2, err := ReadManifest(filepath.Join(d2, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Verify(d2); err != nil {
		t.Fatal(err)
	}
	if rec := m2.Reports["reports/o/c.xlsx"]; rec != (ReportRecord{Key: "k1", RenderedIn: id1}) {
		t.Errorf("manifest records %+v, want key k1 rendered in %s", rec, id1)
	}

	// A changed key renders again; so does an earlier file whose bytes are not the manifest's.
	r3, reused := publishWithReport(t, s, id3, files, "reports/o/c.xlsx", "k2", "report of run 3")
	if reused {
		t.Fatal("a report under a new key was reused")
	}
	m3, _ := ReadManifest(filepath.Join(r3.Dir(), ManifestName))
	if rec := m3.Reports["reports/o/c.xlsx"]; rec.RenderedIn != id3 || rec.Key != "k2" {
		t.Errorf("manifest records %+v", rec)
	}
	p := filepath.Join(r3.Dir(), "reports/o/c.xlsx")
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, reused = publishWithReport(t, s, "20261122T000003.000Z-00000004", files, "reports/o/c.xlsx", "k2", "report of run 4")
	if reused {
		t.Fatal("a report whose earlier file was changed was reused")
	}
}

func TestReuseCopiesAcrossFileSystems(t *testing.T) {
	s := lockedStore(t)
	files := map[string]string{"settlement.csv": "a,b\n"}
	r1, _ := publishWithReport(t, s, "20261122T000000.000Z-00000001", files, "reports/o/c.pdf", "k", "pdf 1")
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
	t.Cleanup(func() { linkFile = os.Link })
	r2, reused := publishWithReport(t, s, "20261122T000001.000Z-00000002", files, "reports/o/c.pdf", "k", "pdf 2")
	if !reused {
		t.Fatal("not reused")
	}
	a, b := filepath.Join(r1.Dir(), "reports/o/c.pdf"), filepath.Join(r2.Dir(), "reports/o/c.pdf")
	if os.SameFile(inode(t, a), inode(t, b)) {
		t.Fatal("linked though links fail")
	}
	if readFile(t, b) != "pdf 1" {
		t.Fatalf("copy holds %q", readFile(t, b))
	}
	if linked, copied := r2.ReuseCounts(); linked != 0 || copied != 1 {
		t.Errorf("counts linked %d copied %d, want 0 and 1", linked, copied)
	}
}
