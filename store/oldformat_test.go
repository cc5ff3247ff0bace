package store

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"settle/engine"
	"settle/feed"
	"settle/money"
)

// v1Run is a run written by settle before money became DECIMAL(18,2) and dates DATE in
// Parquet (money int64 fen, biz_date text), committed as it was published.
const v1Run = "testdata/v1store/2026-11-01/runs/20261205T163218.190Z-99e44491"

// TestReadsV1Run: a run of the earlier Parquet format reads as before (tables and feeds),
// its figures equal its CSVs, and written again today it reads back to the same rows.
func TestReadsV1Run(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	raw, err := ReadParquet(filepath.Join(v1Run, "settlement.parquet"), nil, mem)
	if err != nil {
		t.Fatal(err)
	}
	if typ := raw.Schema().Field(raw.Schema().FieldIndices("net")[0]).Type; typ.ID() != arrow.INT64 {
		t.Fatalf("testdata is not of the earlier format: net is %v", typ)
	}
	raw.Release()

	old, err := OpenStored(v1Run)
	if err != nil {
		t.Fatal(err)
	}
	tabs, err := old.ReadTables(mem)
	if err != nil {
		t.Fatal(err)
	}
	var net int64
	for _, l := range tabs.Settlement {
		net += l.Net
	}
	if want := v1CSVSum(t, filepath.Join(v1Run, "settlement.csv"), "net"); net != want || want == 0 {
		t.Errorf("settlement net %d fen, settlement.csv %d", net, want)
	}
	var variance int64
	for _, l := range tabs.Variance {
		variance += l.Variance
	}
	if want := v1CSVSum(t, filepath.Join(v1Run, "variance.csv"), "variance"); variance != want {
		t.Errorf("variance %d fen, variance.csv %d", variance, want)
	}
	if n := len(v1CSVRows(t, filepath.Join(v1Run, "exceptions.csv"))) - 1; len(tabs.Exceptions) != n || n == 0 {
		t.Errorf("%d exceptions, exceptions.csv has %d", len(tabs.Exceptions), n)
	}
	var feeds [feed.Count]arrow.RecordBatch
	for _, id := range feed.All {
		if feeds[id], err = ReadFeed(v1Run, id, mem); err != nil {
			t.Fatal(err)
		}
		defer feeds[id].Release()
	}
	if feeds[feed.LocalPayment].NumRows() == 0 {
		t.Error("no local payments read")
	}

	// Written again: today's format, the same rows.
	res := &engine.Result{Date: time.Date(2026, 11, 1, 0, 0, 0, 0, engine.Shanghai),
		Settlement: tabs.Settlement, Variance: tabs.Variance, Exceptions: tabs.Exceptions, Feeds: feeds}
	meta := testMeta
	dir := publishResult(t, res, meta.RunID, &meta)
	st, err := OpenStored(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.ReadTables(mem)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, tabs) {
		t.Error("the run written again reads back other rows")
	}
	for _, id := range feed.All {
		rec, err := ReadFeed(dir, id, mem)
		if err != nil {
			t.Fatal(err)
		}
		if !array.RecordEqual(rec, feeds[id]) {
			t.Errorf("feed %s written again reads back other rows", id)
		}
		rec.Release()
	}
	checkStorageTypes(t, filepath.Join(dir, "settlement.parquet"), "net", "biz_date")
	checkStorageTypes(t, filepath.Join(dir, "exceptions.parquet"), "amount", "biz_date")
	checkStorageTypes(t, filepath.Join(dir, "feeds", "local_payment.parquet"), "amount", "biz_date")
}

// checkStorageTypes asserts that the Parquet file stores money as DECIMAL(18,2) on INT64
// and date as DATE on INT32.
func checkStorageTypes(t *testing.T, path, money, date string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	col := sc.Column(sc.ColumnIndexByName(money))
	if col.PhysicalType() != parquet.Types.Int64 || !col.LogicalType().Equals(schema.NewDecimalLogicalType(18, 2)) {
		t.Errorf("%s %s: %v %v, want INT64 DECIMAL(18,2)", filepath.Base(path), money, col.PhysicalType(), col.LogicalType())
	}
	col = sc.Column(sc.ColumnIndexByName(date))
	if col.PhysicalType() != parquet.Types.Int32 || !col.LogicalType().Equals(schema.DateLogicalType{}) {
		t.Errorf("%s %s: %v %v, want INT32 DATE", filepath.Base(path), date, col.PhysicalType(), col.LogicalType())
	}
}

func v1CSVRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// v1CSVSum sums column col of a CSV of yuan amounts, in fen.
func v1CSVSum(t *testing.T, path, col string) int64 {
	t.Helper()
	rows := v1CSVRows(t, path)
	i := -1
	for j, h := range rows[0] {
		if h == col {
			i = j
		}
	}
	var sum int64
	for _, r := range rows[1:] {
		s, neg := strings.CutPrefix(r[i], "-")
		v, err := money.Parse(s)
		if err != nil && s != "0.00" {
			t.Fatalf("%s: %q: %v", path, r[i], err)
		}
		if neg {
			v = -v
		}
		sum += v
	}
	return sum
}
