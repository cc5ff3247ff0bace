package diff

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadV1Run: a run stored in the earlier Parquet format (money int64 fen, biz_date
// text; store/testdata/v1store) loads, its lines match its CSVs, and it diffs against
// itself as equal.
func TestLoadV1Run(t *testing.T) {
	dir := filepath.Join("..", "store", "testdata", "v1store", "2026-11-01", "runs", "20261205T163218.190Z-99e44491")
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	count := func(name string) int {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return len(rows) - 1
	}
	if len(r.Settlement) != count("settlement.csv") || len(r.Variance) != count("variance.csv") || len(r.Exceptions) != count("exceptions.csv") {
		t.Errorf("loaded %d/%d/%d lines, the CSVs have %d/%d/%d", len(r.Settlement), len(r.Variance), len(r.Exceptions),
			count("settlement.csv"), count("variance.csv"), count("exceptions.csv"))
	}
	if len(r.Settlement) == 0 || r.Settlement[0].Gross == 0 {
		t.Errorf("no figures read: %+v", r.Settlement)
	}
	if d := Compare(r, r); !d.Equal() {
		t.Error("the run differs from itself")
	}
}
