package job

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/connectors/file"
	"settle/engine"
	"settle/fixtures"
	"settle/report"
	"settle/store"
)

// runWithReports runs the day in src into the store at dir with every report.
func runWithReports(t *testing.T, dir, src string, date time.Time) *Outcome {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := report.NewOptions()
	opts.Workers = 2
	cfg := Config{Date: date, Source: file.New(src), Store: st, Engine: engine.NewConfig(),
		Render: Reports(opts), LockTimeout: time.Minute, FailOn: "never"}
	out, err := Run(t.Context(), cfg)
	if err != nil && !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	return out
}

func manifestOf(t *testing.T, runDir string) *store.Manifest {
	t.Helper()
	m, err := store.ReadManifest(filepath.Join(runDir, store.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(runDir); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(fa, fb)
}

// TestRerunReusesUnchangedFiles: a rerun over the same inputs hard-links every file of the
// run before but its manifest and renders no report; after one counter's deposit changes at
// the source, only that counter's reports, its outlet's roll-up and the city roll-up are
// rendered again, the rest are the first run's files, and the tables equal a fresh run's.
func TestRerunReusesUnchangedFiles(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date = day1
	cfg.Outlets, cfg.Counters = 2, 2
	_, src := writeDay(t, cfg)
	dir := t.TempDir()
	first := runWithReports(t, dir, src, day1)
	second := runWithReports(t, dir, src, day1)
	if first.RunID == second.RunID {
		t.Fatalf("both runs are %s", first.RunID)
	}
	m1, m2 := manifestOf(t, first.RunDir), manifestOf(t, second.RunDir)
	if len(m2.Reports) != 2*4+2*2+2 {
		t.Fatalf("second run records %d reports, want 14: %v", len(m2.Reports), m2.Reports)
	}
	for rel, o := range m2.Outputs {
		if o != m1.Outputs[rel] {
			t.Errorf("%s: %v, first run %v", rel, o, m1.Outputs[rel])
		}
		if !sameFile(t, filepath.Join(first.RunDir, rel), filepath.Join(second.RunDir, rel)) {
			t.Errorf("%s of the rerun is not a hard link to the first run's", rel)
		}
	}
	for rel, rec := range m2.Reports {
		if rec.RenderedIn != first.RunID || rec != m1.Reports[rel] {
			t.Errorf("%s: %+v, want the first run's %+v", rel, rec, m1.Reports[rel])
		}
	}

	// One counter's deposit changes at the source.
	depPath := filepath.Join(src, "deposit.csv")
	data, err := os.ReadFile(depPath)
	if err != nil {
		t.Fatal(err)
	}
	changed := changeDeposit(t, string(data))
	data = []byte(changed.file)
	if err := os.WriteFile(depPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	outlet, counter := changed.outlet, changed.counter
	third := runWithReports(t, dir, src, day1)
	m3 := manifestOf(t, third.RunDir)
	wantNew := map[string]bool{
		"reports/" + outlet + "/" + counter + ".xlsx": true,
		"reports/" + outlet + "/" + counter + ".pdf":  true,
		"reports/" + outlet + "/outlet.xlsx":          true,
		"reports/" + outlet + "/outlet.pdf":           true,
		"reports/city.xlsx":                           true,
		"reports/city.pdf":                            true,
	}
	for rel, rec := range m3.Reports {
		switch {
		case wantNew[rel] && rec.RenderedIn != third.RunID:
			t.Errorf("%s was not rendered again: %+v", rel, rec)
		case !wantNew[rel] && rec.RenderedIn != first.RunID:
			t.Errorf("%s was rendered again (%+v), though it did not change", rel, rec)
		case !wantNew[rel] && !sameFile(t, filepath.Join(first.RunDir, rel), filepath.Join(third.RunDir, rel)):
			t.Errorf("%s is not the first run's file", rel)
		}
	}
	fresh := runWithReports(t, t.TempDir(), src, day1)
	for _, rel := range []string{"settlement.csv", "variance.csv", "exceptions.csv", "settlement.parquet", "variance.parquet", "exceptions.parquet"} {
		a, err := os.ReadFile(filepath.Join(third.RunDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(fresh.RunDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s of the rerun differs from a fresh run's", rel)
		}
	}
}

type depositChange struct{ file, outlet, counter string }

// changeDeposit sets the first deposit row of a canonical deposit.csv to 1.00 and its 合计
// footer to match, as a clerk's correction in BOSS would export it.
func changeDeposit(t *testing.T, data string) depositChange {
	t.Helper()
	lines := strings.Split(data, "\n")
	var ch depositChange
	var delta int64
	for i, ln := range lines {
		f := strings.Split(ln, ",")
		if len(f) < 6 || f[3] == "counter_id" {
			continue
		}
		if ch.counter == "" && !isFooter(ln) {
			ch.outlet, ch.counter = f[2], f[3]
			delta = 100 - fenOf(t, f[5])
			f[5] = "1.00"
			lines[i] = strings.Join(f, ",")
			continue
		}
		if isFooter(ln) {
			for j, v := range f {
				if strings.Contains(v, ".") {
					n := fenOf(t, v) + delta
					f[j] = fmt.Sprintf("%d.%02d", n/100, n%100)
				}
			}
			lines[i] = strings.Join(f, ",")
		}
	}
	if ch.counter == "" {
		t.Fatal("no deposit row")
	}
	ch.file = strings.Join(lines, "\n")
	return ch
}

func isFooter(ln string) bool {
	return strings.HasPrefix(ln, "TOTAL,") || strings.Contains(ln, "合计")
}

// TestReuseKeepsReproducibleRuns: under SOURCE_DATE_EPOCH, a run over inputs X after a run over
// other inputs (whose unchanged reports would name it) is byte for byte the run over X in an empty store: a report is not taken from
// a run of another id (it would name that run).
func TestReuseKeepsReproducibleRuns(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1780000000")
	pinned := func() time.Time { return time.Unix(1780000000, 0).UTC() }
	cfg := fixtures.NewConfig()
	cfg.Date = day1
	cfg.Outlets, cfg.Counters = 2, 2
	_, x := writeDay(t, cfg)
	dep := filepath.Join(x, "deposit.csv")
	data, err := os.ReadFile(dep)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		if err := os.WriteFile(dep, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(dir, src string) *Outcome {
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		opts := report.NewOptions()
		opts.Workers = 2
		out, err := Run(t.Context(), Config{Date: day1, Source: file.New(src), Store: st, Engine: engine.NewConfig(),
			Render: Reports(opts), LockTimeout: time.Minute, FailOn: "never", Now: pinned})
		if out == nil {
			t.Fatal(err)
		}
		return out
	}
	alone := run(t.TempDir(), x)
	dir := t.TempDir()
	write([]byte(changeDeposit(t, string(data)).file)) // the same source, other inputs
	run(dir, x)
	write(data)
	again := run(dir, x)
	if again.RunID != alone.RunID {
		t.Fatalf("run ids %s and %s", again.RunID, alone.RunID)
	}
	m := manifestOf(t, alone.RunDir)
	for rel := range m.Outputs {
		a, _ := os.ReadFile(filepath.Join(alone.RunDir, rel))
		b, _ := os.ReadFile(filepath.Join(again.RunDir, rel))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the run in an empty store", rel)
		}
	}
	a, _ := os.ReadFile(filepath.Join(alone.RunDir, store.ManifestName))
	b, _ := os.ReadFile(filepath.Join(again.RunDir, store.ManifestName))
	if !bytes.Equal(a, b) {
		t.Error("manifest.json differs from the run in an empty store")
	}
}
