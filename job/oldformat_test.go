package job

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors/file"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/money"
	"settle/store"
)

// TestLookBackIntoV1Run: the reversal rules find originals in a run stored in the earlier
// Parquet format (money int64 fen, store/testdata/v1store): a refund within the original
// passes, one that crosses it is REVERSAL_EXCEEDS_ORIGINAL, as with a run of today.
func TestLookBackIntoV1Run(t *testing.T) {
	storeDir := filepath.Join(t.TempDir(), "store")
	copyV1Tree(t, filepath.Join("..", "store", "testdata", "v1store"), storeDir)
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	old, ok, err := st.Current("2026-11-01")
	if err != nil || !ok {
		t.Fatalf("the v1 run is not current: %v", err)
	}
	rec, err := store.ReadFeed(old, feed.LocalPayment, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	sc := rec.Schema()
	col := func(name string) int { return sc.FieldIndices(name)[0] }
	txn := rec.Column(col("txn_id")).(*array.String).Value(0)
	outlet := rec.Column(col("outlet_id")).(*array.String).Value(0)
	counter := rec.Column(col("counter_id")).(*array.String).Value(0)
	pay := rec.Column(col("pay_method")).(*array.String).Value(0)
	fen := rec.Column(col("amount")).(*array.Int64).Value(0)

	day2 := time.Date(2026, 11, 2, 0, 0, 0, 0, engine.Shanghai)
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed = day2, 2, 2, 7
	_, src := writeDay(t, cfg)
	head := "biz_date,city,outlet_id,counter_id,txn_id,txn_time,orig_txn_id,orig_date,orig_feed,kind,amount,pay_method,approver_id,reason\n"
	line := func(id, amt string) string {
		return strings.Join([]string{"2026-11-02", "TY", outlet, counter, id, "2026-11-02 10:00:00", txn, "2026-11-01", "local_payment", "REFUND", amt, pay, "SUP1", ""}, ",") + "\n"
	}
	extra := head + line("XR1", money.Format(fen-1)) + line("XR2", "0.02")
	if err := os.WriteFile(filepath.Join(src, "extra_冲退日报.csv"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runOnce(t, storeDir, file.New(src), day2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readCSV(t, filepath.Join(out.RunDir, "exceptions.csv"))[1:] {
		if strings.HasPrefix(e[1], "REVERSAL") {
			got = append(got, e[1]+" "+e[7]+" "+e[8])
		}
	}
	if want := "REVERSAL_EXCEEDS_ORIGINAL XR2 0.02"; strings.Join(got, "\n") != want {
		t.Errorf("reversal findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// copyV1Tree copies a directory tree, symbolic links as links.
func copyV1Tree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
