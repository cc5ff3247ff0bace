package job

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"settle/connectors/file"
)

var update = flag.Bool("update", false, "rewrite the expected files of golden cases from the program's output (review the diff by eye)")

// TestGolden runs each case under testdata/golden: day1/ (2026-11-20, if present) is published
// first as history, then day2/ (2026-11-21) is run; settlement.csv and variance.csv must equal expected/ byte for
// byte, and the exceptions' code, severity, city, outlet, counter, feed, txn and amount
// must equal expected/exceptions.csv. The expected files were derived by hand.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			storeDir := t.TempDir()
			if _, err := os.Stat(filepath.Join(dir, "day1")); err == nil {
				if _, err := runOnce(t, storeDir, file.New(filepath.Join(dir, "day1")), day1.AddDate(0, 0, -1)); err != nil {
					t.Fatalf("day 1: %v", err)
				}
			}
			out, err := runOnce(t, storeDir, file.New(filepath.Join(dir, "day2")), day1)
			if err != nil && !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrFailOn) {
				t.Fatalf("day 2: %v", err)
			}
			for _, name := range []string{"settlement.csv", "variance.csv"} {
				got, _ := os.ReadFile(filepath.Join(out.RunDir, name))
				want := filepath.Join(dir, "expected", name)
				compareGolden(t, want, string(got))
			}
			rows := readCSV(t, filepath.Join(out.RunDir, "exceptions.csv"))
			lines := []string{"code,severity,city,outlet_id,counter_id,feed,txn_id,amount"}
			body := projected(rows, 1) // sorted
			compareGolden(t, filepath.Join(dir, "expected", "exceptions.csv"), strings.Join(append(lines, body...), "\n")+"\n")
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		g := strings.Split(strings.TrimSpace(got), "\n")
		w := strings.Split(strings.TrimSpace(string(want)), "\n")
		t.Errorf("%s differs:\n%s", path, diffLines(g, w))
	}
}
