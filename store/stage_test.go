package store

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
	s.Stage(testDate)
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
	s.Stage(testDate) // no current run
	if s.stages[testDate] != nil {
		t.Error("a stage for a date without a run")
	}
	publishFiles(t, s, "r1", "reports/O1/C1.pdf")
	runs := filepath.Join(s.Dir(), testDate, runsName)
	s.Stage(testDate)
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
