package job

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/connectors/file"
	"settle/connectors/kept"
	"settle/engine"
	"settle/fixtures"
	"settle/store"
)

// TestRerunFromKeptInputs: a run keeps every input it read; after the export folder is gone,
// a rerun from the kept inputs gives the same tables, and an altered kept input fails the run.
func TestRerunFromKeptInputs(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date = day1
	cfg.Outlets, cfg.Counters, cfg.Anomalies = 2, 3, 0.5
	cfg.Layout = fixtures.LayoutCounter
	_, src := writeDay(t, cfg)
	dir := t.TempDir()
	first, err := runOnce(t, dir, file.New(src), day1)
	if first == nil {
		t.Fatal(err)
	}
	m1 := manifestOf(t, first.RunDir)
	if m1.Kept == nil || len(m1.Kept.Inputs) == 0 {
		t.Fatal("the manifest names no kept inputs")
	}
	date := day1.Format("2006-01-02")
	for _, ki := range m1.Kept.Inputs {
		raw, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(ki.Name)))
		if err != nil {
			t.Fatalf("kept input %s is not a file of the source: %v", ki.Name, err)
		}
		if int64(len(raw)) != ki.Size {
			t.Errorf("%s: kept %d bytes, the file has %d", ki.Name, ki.Size, len(raw))
		}
		if strings.Contains(ki.Name, "/") && ki.Counter == "" {
			t.Errorf("%s: a per-counter file kept without its counter", ki.Name)
		}
		if _, err := os.Stat(filepath.Join(dir, date, store.InputsName, ki.SHA256+".zst")); err != nil {
			t.Error(err)
		}
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := func() (*Outcome, error) {
		return Run(t.Context(), Config{Date: day1, Source: kept.New(st, date, ""), Store: st, Engine: engine.NewConfig(), LockTimeout: time.Minute, FailOn: "never"})
	}
	second, err := run()
	if second == nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"settlement.csv", "variance.csv", "exceptions.csv", "rejects.csv", "settlement.parquet", "variance.parquet", "exceptions.parquet"} {
		a, _ := os.ReadFile(filepath.Join(first.RunDir, rel))
		b, _ := os.ReadFile(filepath.Join(second.RunDir, rel))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s of the rerun from kept inputs differs from the first run's", rel)
		}
	}
	m2 := manifestOf(t, second.RunDir)
	if m2.InputDigest != m1.InputDigest || len(m2.Kept.Inputs) != len(m1.Kept.Inputs) {
		t.Errorf("rerun read other inputs: digest %s vs %s", m2.InputDigest, m1.InputDigest)
	}
	// An altered kept input: the rerun fails and publishes nothing.
	victim := filepath.Join(dir, date, store.InputsName, m1.Kept.Inputs[0].SHA256+".zst")
	if err := os.WriteFile(victim, []byte("not zstd"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(); err == nil || out != nil {
		t.Fatalf("a rerun over an altered kept input gave %v, %v", out, err)
	} else if !strings.Contains(err.Error(), m1.Kept.Inputs[0].Name) {
		t.Errorf("error %q does not name the input", err)
	}
}
