package hardening

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// smallDemo is a small day with anomalies, so that reports carry exceptions of every kind.
const smallDemo = "demo?outlets=6&counters=3&anomalies=0.3"

// bossDay writes a day in the BOSS dialect (GBK CSV, title lines, Chinese headers, 合计
// footers; the purchase feed as XLSX) into a new directory and returns it.
func bossDay(t *testing.T, extra ...string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	args := append([]string{"fixtures", "generate", "--date", date, "--out", src, "--dialect", "boss",
		"--outlets", "4", "--counters", "3", "--anomalies", "0.3"}, extra...)
	mustRun(t, 0, env(t.TempDir()), args...)
	return src
}

// hasReports fails the test unless the run holds both report formats and the roll-ups.
func hasReports(t *testing.T, files map[string]entry) {
	t.Helper()
	var xlsx, pdf, outlet, city bool
	for p := range files {
		switch {
		case p == "reports/city.xlsx":
			city = true
		case strings.HasSuffix(p, "/outlet.xlsx"):
			outlet = true
		case strings.HasSuffix(p, ".xlsx"):
			xlsx = true
		case strings.HasSuffix(p, ".pdf"):
			pdf = true
		}
	}
	if !xlsx || !pdf || !outlet || !city {
		t.Fatalf("run lacks reports: counter xlsx %v, pdf %v, outlet %v, city %v", xlsx, pdf, outlet, city)
	}
}

// TestReproducibleDemo: with SOURCE_DATE_EPOCH, two runs of the same demo day into two
// stores give byte-identical run directories, manifest, XLSX and PDF included.
func TestReproducibleDemo(t *testing.T) {
	t.Parallel()
	reproducible(t, smallDemo)
}

// TestReproducibleBOSSFiles: the same for a file source in the BOSS dialect with an XLSX feed.
func TestReproducibleBOSSFiles(t *testing.T) {
	t.Parallel()
	src := bossDay(t)
	if _, err := os.Stat(filepath.Join(src, "太原_购机日报.xlsx")); err != nil {
		t.Fatalf("the BOSS day has no XLSX feed: %v", err)
	}
	reproducible(t, src)
}

func reproducible(t *testing.T, src string) {
	var trees [2]map[string]entry
	var ids [2]string
	for i := range trees {
		st := filepath.Join(t.TempDir(), "store")
		tmp := t.TempDir()
		e := env(tmp, "SOURCE_DATE_EPOCH="+epoch)
		if i == 1 {
			e = append(e, "GOMAXPROCS=1") // another interleaving of the parallel work
		}
		mustRun(t, 0, e, "run", "--date", date, "--source", src, "--store", st, "--quiet")
		dir, m := currentRun(t, st)
		ids[i] = m.RunID
		trees[i] = tree(t, dir)
		want, _ := strconv.ParseInt(epoch, 10, 64)
		if !m.StartedAt.Equal(time.Unix(want, 0)) || !m.FinishedAt.Equal(m.StartedAt) {
			t.Errorf("manifest times %s, %s; want both pinned to SOURCE_DATE_EPOCH %s", m.StartedAt, m.FinishedAt, time.Unix(want, 0).UTC())
		}
		noFilesOutside(t, tmp)
		if i == 0 {
			time.Sleep(1100 * time.Millisecond) // a clock reading would now differ by a second
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("run ids %s and %s; want the same", ids[0], ids[1])
	}
	hasReports(t, trees[0])
	sameTree(t, "run directories of two runs with SOURCE_DATE_EPOCH", trees[0], trees[1])
}

// TestRerunSameStoreReplaces: a rerun with SOURCE_DATE_EPOCH into the same store gets the
// same run id and replaces the run with a byte-identical one; nothing else is left.
func TestRerunSameStoreReplaces(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	e := env(t.TempDir(), "SOURCE_DATE_EPOCH="+epoch)
	mustRun(t, 0, e, "run", "--date", date, "--source", smallDemo, "--store", st, "--quiet")
	dir1, m1 := currentRun(t, st)
	before := tree(t, dir1)
	// A marker proves the directory was replaced, not left alone.
	if err := os.WriteFile(filepath.Join(dir1, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, e, "run", "--date", date, "--source", smallDemo, "--store", st, "--quiet")
	dir2, m2 := currentRun(t, st)
	if m1.RunID != m2.RunID || dir1 != dir2 {
		t.Fatalf("rerun published %s (%s), first run %s (%s); want the same id", m2.RunID, dir2, m1.RunID, dir1)
	}
	sameTree(t, "run directory before and after the rerun", before, tree(t, dir2))
	current, leftovers := storeState(t, st)
	if current != m1.RunID || len(leftovers) > 0 {
		t.Errorf("current %q, leftovers %v", current, leftovers)
	}
	runs, _ := os.ReadDir(filepath.Join(st, date, "runs"))
	if len(runs) != 1 {
		t.Errorf("runs/ holds %d entries, want the one run", len(runs))
	}
}

// TestDataIdenticalWithoutEpoch: without SOURCE_DATE_EPOCH two runs get different ids and
// clock readings, but the CSV and Parquet outputs are byte-identical and the manifests agree
// on everything else. The day is large enough (750 counters, over 50,000 local payments)
// that several feed columns outgrow a default Parquet dictionary page.
func TestDataIdenticalWithoutEpoch(t *testing.T) {
	t.Parallel()
	st := filepath.Join(t.TempDir(), "store")
	e := env(t.TempDir())
	args := []string{"run", "--date", date, "--source", "demo?outlets=150&counters=5", "--store", st, "--quiet", "--formats", ""}
	mustRun(t, 0, e, args...)
	dir1, m1 := currentRun(t, st)
	mustRun(t, 0, e, args...)
	dir2, m2 := currentRun(t, st)
	if lp := m1.Feeds[4]; lp.Feed != "local_payment" || lp.Valid < 50_000 {
		t.Fatalf("the day has %d valid %s rows, want a local_payment feed of over 50,000", lp.Valid, lp.Feed)
	}
	if m1.RunID == m2.RunID {
		t.Fatalf("two runs without SOURCE_DATE_EPOCH share the id %s", m1.RunID)
	}
	a, b := tree(t, dir1), tree(t, dir2)
	data := func(files map[string]entry) map[string]entry {
		out := map[string]entry{}
		for p, e := range files {
			if strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".parquet") {
				out[p] = e
			}
		}
		return out
	}
	da := data(a)
	if len(da) < 7 {
		t.Fatalf("only %d CSV/Parquet files in %s", len(da), dir1)
	}
	sameTree(t, "CSV and Parquet outputs of two runs", da, data(b))
	if len(a) != len(b) {
		t.Errorf("%d files, then %d", len(a), len(b))
	}
	// The manifests differ only in the run id, the times and the reports' checksums.
	strip := func(dir string) string {
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "run_id")
		delete(m, "started_at")
		delete(m, "finished_at")
		delete(m, "sealed_at") // the wall clock when the run's files were in place (store.Manifest.SealedAt)
		outs := m["outputs"].(map[string]any)
		for p := range outs {
			if strings.HasPrefix(p, "reports/") {
				delete(outs, p)
			}
		}
		out, _ := json.MarshalIndent(m, "", " ")
		return string(out)
	}
	if ma, mb := strip(dir1), strip(dir2); ma != mb {
		t.Errorf("manifests differ beyond run id, times and reports:\n%s\n---\n%s", ma, mb)
	}
}
