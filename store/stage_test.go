package store

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// publishFiles publishes run id of testDate with the given files.
func publishFiles(t *testing.T, s *Store, id string, rels ...string) *Run {
	t.Helper()
	run, err := s.Begin(testDate, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range rels {
		w, err := run.Create(rel)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(rel))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteManifest(run, &Manifest{BizDate: testDate}); err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestStageTakenByBegin: the report folders of the current run, made ahead (Stage), become
// the next run's own: Begin takes them, a file goes into one without making it again, the
// folders no file went into are not published, and no staged directory is left behind.
func TestStageTakenByBegin(t *testing.T) {
	s := lockedStore(t)
	publishFiles(t, s, "r1", "settlement.csv", "reports/O1/C1.pdf", "reports/O2/C2.pdf", "reports/O3/C3.pdf")
	s.Stage(testDate, nil)
	run, err := s.Begin(testDate, "r2")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"reports", "reports/O1", "reports/O2", "reports/O3"} {
		if !run.made[d] {
			t.Errorf("folder %s was not taken from the stage", d)
		}
		if fi, err := os.Stat(filepath.Join(run.Dir(), d)); err != nil || !fi.IsDir() {
			t.Errorf("folder %s is not in the new run: %v", d, err)
		}
	}
	for _, rel := range []string{"settlement.csv", "reports/O1/C1.pdf", "reports/O4/C4.pdf"} {
		w, err := run.Create(rel)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(rel))
		w.Close()
	}
	if err := WriteManifest(run, &Manifest{BizDate: testDate}); err != nil {
		t.Fatal(err)
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	cur, _, _ := s.Current(testDate)
	if got, want := entries(t, filepath.Join(cur, "reports")), []string{"O1", "O4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("published report folders %q, want %q (the staged ones no file went into left out)", got, want)
	}
	for _, name := range entries(t, filepath.Join(s.Dir(), testDate, runsName)) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Errorf("left behind: %s", name)
		}
	}
}

// TestStageDropped: a stage no run took is removed by DropStage; one a killed run left on
// disk is removed by the next Begin; a date without a current run stages nothing.
func TestStageDropped(t *testing.T) {
	s := lockedStore(t)
	s.Stage(testDate, nil) // no current run
	if s.stages[testDate] != nil {
		t.Error("a stage for a date without a run")
	}
	publishFiles(t, s, "r1", "reports/O1/C1.pdf")
	runs := filepath.Join(s.Dir(), testDate, runsName)
	s.Stage(testDate, nil)
	st := s.stages[testDate]
	if st == nil {
		t.Fatal("no stage")
	}
	<-st.done
	if _, err := os.Stat(filepath.Join(st.dir, "reports", "O1")); err != nil {
		t.Fatalf("staged folder: %v", err)
	}
	s.DropStage(testDate)
	if _, err := os.Stat(st.dir); !os.IsNotExist(err) {
		t.Errorf("a dropped stage is still there: %v", err)
	}
	// A killed run's stage, on disk only.
	if err := os.MkdirAll(filepath.Join(runs, stagePrefix+"dead", "reports", "O1"), 0o755); err != nil {
		t.Fatal(err)
	}
	publishFiles(t, s, "r2", "a.csv")
	if got := entries(t, runs); !reflect.DeepEqual(got, []string{"r1", "r2"}) {
		t.Errorf("runs/ holds %q after a Begin, want only the runs", got)
	}
}

// TestStagePrelinksReports: with the current run's manifest, a stage links that run's
// reports in: one the next run takes (same key) is the very file, taken without a link of
// its own; one it renders anew (another key, or without asking) is written as a new file,
// the earlier run's left as it was; one it never asks for, and one changed since the earlier run was sealed,
// are not published by the link; the manifest names the run that rendered each.
func TestStagePrelinksReports(t *testing.T) {
	s := lockedStore(t)
	r1, err := s.Begin(testDate, "20261122T000000.000Z-00000001")
	if err != nil {
		t.Fatal(err)
	}
	r1.ReuseFrom(nil, false)
	reports := map[string]string{"reports/O1/same.pdf": "same", "reports/O1/other.pdf": "other 1",
		"reports/O2/gone.pdf": "gone", "reports/O2/touched.pdf": "touched", "reports/O2/direct.pdf": "direct 1"}
	for rel, body := range reports {
		if err := writeFile(r1, rel, func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
			t.Fatal(err)
		}
		r1.Rendered(rel, "k-"+body)
	}
	time.Sleep(10 * time.Millisecond) // the seal's change time after the files' (a coarse clock)
	if err := WriteManifest(r1, &Manifest{BizDate: testDate}); err != nil {
		t.Fatal(err)
	}
	if err := r1.Publish(); err != nil {
		t.Fatal(err)
	}
	d1 := r1.Dir()
	// A file changed after the run was sealed: its change time moves on.
	time.Sleep(10 * time.Millisecond)
	if err := os.Chmod(filepath.Join(d1, "reports/O2/touched.pdf"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A file no manifest names, put in the earlier run's folder after.
	if err := os.WriteFile(filepath.Join(d1, "reports/O1/junk.pdf"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	prev := s.ReuseSource(testDate, nil)
	s.Stage(testDate, func() *Previous { return prev })
	st := s.stages[testDate]
	<-st.done
	if _, ok := st.prelinked["reports/O1/same.pdf"]; !ok || len(st.prelinked) != 4 {
		t.Fatalf("prelinked %v; want the four reports not changed since", st.prelinked)
	}
	r2, err := s.Begin(testDate, "20261122T000001.000Z-00000002")
	if err != nil {
		t.Fatal(err)
	}
	r2.ReuseFrom(prev, false)
	if in, ok, err := r2.Reuse("reports/O1/same.pdf", "k-same"); err != nil || !ok || in != r1.ID() {
		t.Fatalf("Reuse of the unchanged report = %q, %v, %v", in, ok, err)
	}
	if _, ok, err := r2.Reuse("reports/O1/other.pdf", "k-other 2"); err != nil || ok {
		t.Fatalf("Reuse under another key = %v, %v; want it rendered", ok, err)
	}
	if err := writeFile(r2, "reports/O1/other.pdf", func(w io.Writer) error { _, err := io.WriteString(w, "other 2"); return err }); err != nil {
		t.Fatal(err)
	}
	r2.Rendered("reports/O1/other.pdf", "k-other 2")
	// Written without asking Reuse first.
	if err := writeFile(r2, "reports/O2/direct.pdf", func(w io.Writer) error { _, err := io.WriteString(w, "direct 2"); return err }); err != nil {
		t.Fatal(err)
	}
	if in, ok, err := r2.Reuse("reports/O2/touched.pdf", "k-touched"); err != nil || !ok || in != r1.ID() {
		t.Fatalf("Reuse of the touched report = %q, %v, %v; want it taken (read and checked)", in, ok, err)
	}
	if linked, _ := r2.ReuseCounts(); linked != 2 {
		t.Errorf("linked %d; want 2", linked)
	}
	if err := WriteManifest(r2, &Manifest{BizDate: testDate}); err != nil {
		t.Fatal(err)
	}
	if err := r2.Publish(); err != nil {
		t.Fatal(err)
	}
	d2 := r2.Dir()
	if got := readFile(t, filepath.Join(d1, "reports/O1/other.pdf")); got != "other 1" {
		t.Errorf("the earlier run's report became %q: written through the link", got)
	}
	if got := readFile(t, filepath.Join(d1, "reports/O2/direct.pdf")); got != "direct 1" {
		t.Errorf("the earlier run's report became %q: written through the link", got)
	}
	if got := readFile(t, filepath.Join(d2, "reports/O1/other.pdf")); got != "other 2" {
		t.Errorf("the new run's report is %q", got)
	}
	if !os.SameFile(inode(t, filepath.Join(d1, "reports/O1/same.pdf")), inode(t, filepath.Join(d2, "reports/O1/same.pdf"))) {
		t.Error("the report taken is not the earlier run's file")
	}
	for _, rel := range []string{"reports/O2/gone.pdf", "reports/O1/junk.pdf"} {
		if _, err := os.Stat(filepath.Join(d2, rel)); !os.IsNotExist(err) {
			t.Errorf("%s, which the run never asked for, was published: %v", rel, err)
		}
	}
	m2, err := ReadManifest(filepath.Join(d2, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Verify(d2); err != nil {
		t.Error(err)
	}
	if got := m2.Reports["reports/O1/same.pdf"].RenderedIn; got != r1.ID() {
		t.Errorf("same.pdf rendered in %q; want %q", got, r1.ID())
	}
	if got := m2.Reports["reports/O1/other.pdf"].RenderedIn; got != r2.ID() {
		t.Errorf("other.pdf rendered in %q; want %q", got, r2.ID())
	}
}

// TestStageWithoutManifestKeepsNothing: when the current run's manifest cannot be had, no
// report linked ahead is kept in the stage.
func TestStageWithoutManifestKeepsNothing(t *testing.T) {
	s := lockedStore(t)
	publishFiles(t, s, "r1", "reports/O1/C1.pdf", "reports/O2/C2.pdf")
	s.Stage(testDate, func() *Previous { return nil })
	st := s.stages[testDate]
	<-st.done
	if len(st.prelinked) != 0 {
		t.Errorf("kept %d reports linked ahead without a manifest to vouch for them", len(st.prelinked))
	}
	if files, _ := filepath.Glob(filepath.Join(st.dir, "reports/*/*")); len(files) != 0 {
		t.Errorf("files left in a stage without a manifest: %q", files)
	}
	s.DropStage(testDate)
}
