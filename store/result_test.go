package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
)

var shanghai = time.FixedZone("CST", 8*3600)

// testResult is a small day with the cases the CSV rules care about: counters "10" and "9",
// negative amounts, fields that need quoting, exceptions without an amount, invalid UTF-8.
func testResult() *engine.Result {
	return &engine.Result{
		Date: time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai),
		Settlement: []engine.SettlementLine{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-9", Category: "TERMINAL", PayMethod: "CASH", TxnCount: 1, Gross: 399900, Net: 399900},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Category: "ORDER_FEE", PayMethod: "CASH", TxnCount: 2, Gross: 5000, Reversed: 6200, Net: -1200},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Category: "LOCAL_BILL", PayMethod: "POS", TxnCount: 9, Gross: 900, Net: 900},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Category: "LOCAL_BILL", PayMethod: "POS", TxnCount: 10, Gross: 100, Net: 100},
			{City: "DT", Outlet: "DT0002", Counter: "DT0002-01", Category: "CARD", PayMethod: "WECHAT", Reversed: 5000, Net: -5000},
		},
		Variance: []engine.VarianceLine{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-9", PayMethod: "CASH", Expected: 399900, Deposited: 399800, Variance: -100},
			{City: "AA", Outlet: "A1", Counter: "A1-1", PayMethod: "CASH", Expected: 100, Deposited: 0, Variance: -100},
			{City: "AA", Outlet: "A1", Counter: "A1-1", PayMethod: "CASH", Expected: -1200, Deposited: 0, Variance: 1200},
			{City: "AA", Outlet: "A1", Counter: "A1-1", PayMethod: "CASH", Expected: -500, Deposited: 0, Variance: 500},
			{City: "ZZ", Outlet: "Z1", Counter: "Z1-1", PayMethod: "POS", Expected: 999_999_999_999_999_999, Deposited: 1, Variance: -12345},
		},
		Exceptions: []engine.Exception{
			{Code: engine.CodeSummaryMismatch, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Feed: "payment_summary", Amount: -500, HasAmount: true, Detail: "x", Source: "payment_summary.csv:3", Key: "LOCAL/CASH"},
			{Code: engine.CodeMalformedRow, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Feed: "order", TxnID: "T1", Amount: 777, Detail: `amount "1,2345.00": not an amount`, Source: "order.csv:7"},
			{Code: engine.CodeSummaryMismatch, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-10", Feed: "payment_summary", Amount: -500, HasAmount: true, Detail: "x", Source: "payment_summary.csv:3", Key: "CARD/CASH"},
			{Code: engine.CodeInvoiceGap, Severity: engine.SevWarning, City: "TY", Outlet: "TY0001", Counter: "TY0001-9", Feed: "invoice", Detail: " multi\nline", Source: "invoice.csv", Key: "0351 8-9"},
			{Code: engine.CodeDepositShort, Severity: engine.SevError, City: "TY", Outlet: "TY0001", Counter: "TY0001-9", Feed: "deposit", Amount: -100, HasAmount: true, Detail: "CASH: expected 3999.00, deposited 3998.00", Source: "deposit/TY0001-9", Key: "CASH"},
		},
		Rejects: []engine.Reject{
			{Feed: "purchase", Source: "太原_TY0001-03_购机日报.csv", Line: 12, Reason: "WRONG_DATE", Raw: "bad\xffbyte"},
			{Feed: "order", Source: "order.csv", Line: 7, Reason: "MALFORMED_ROW", Raw: `2026-11-21,TY,TY0001,TY0001-10,T1,"1,2345.00"`},
		},
		Counters: []engine.CounterInfo{
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-10"},
			{City: "TY", Outlet: "TY0001", Counter: "TY0001-9", Incomplete: true, Why: []string{"FEED_MISSING deposit"}},
		},
		Counts:      [feed.Count]engine.FeedCounts{feed.Order: {Inputs: 1, Read: 3, Valid: 2, Rejected: 1}, feed.Purchase: {Inputs: 2, Read: 3, Valid: 2, Rejected: 1}},
		InputDigest: "d1",
		FeedDigests: [feed.Count]string{feed.Order: "d2"},
	}
}

var wantCSV = map[string]string{
	"settlement.csv": `biz_date,city,outlet_id,counter_id,category,pay_method,txn_count,gross,reversed,net
2026-11-21,DT,DT0002,DT0002-01,CARD,WECHAT,0,0.00,50.00,-50.00
2026-11-21,TY,TY0001,TY0001-10,LOCAL_BILL,POS,10,1.00,0.00,1.00
2026-11-21,TY,TY0001,TY0001-10,LOCAL_BILL,POS,9,9.00,0.00,9.00
2026-11-21,TY,TY0001,TY0001-10,ORDER_FEE,CASH,2,50.00,62.00,-12.00
2026-11-21,TY,TY0001,TY0001-9,TERMINAL,CASH,1,3999.00,0.00,3999.00
`,
	"variance.csv": `biz_date,city,outlet_id,counter_id,pay_method,expected,deposited,variance
2026-11-21,AA,A1,A1-1,CASH,-12.00,0.00,12.00
2026-11-21,AA,A1,A1-1,CASH,-5.00,0.00,5.00
2026-11-21,AA,A1,A1-1,CASH,1.00,0.00,-1.00
2026-11-21,TY,TY0001,TY0001-9,CASH,3999.00,3998.00,-1.00
2026-11-21,ZZ,Z1,Z1-1,POS,9999999999999999.99,0.01,-123.45
`,
	"exceptions.csv": `biz_date,code,severity,city,outlet_id,counter_id,feed,txn_id,amount,detail,source
2026-11-21,DEPOSIT_SHORT,ERROR,TY,TY0001,TY0001-9,deposit,,-1.00,"CASH: expected 3999.00, deposited 3998.00",deposit/TY0001-9
2026-11-21,INVOICE_GAP,WARNING,TY,TY0001,TY0001-9,invoice,,," multi
line",invoice.csv
2026-11-21,MALFORMED_ROW,ERROR,TY,TY0001,TY0001-10,order,T1,,"amount ""1,2345.00"": not an amount",order.csv:7
2026-11-21,SUMMARY_MISMATCH,ERROR,TY,TY0001,TY0001-10,payment_summary,,-5.00,x,payment_summary.csv:3
2026-11-21,SUMMARY_MISMATCH,ERROR,TY,TY0001,TY0001-10,payment_summary,,-5.00,x,payment_summary.csv:3
`,
	"rejects.csv": `feed,source,line,reason,raw
purchase,太原_TY0001-03_购机日报.csv,12,WRONG_DATE,bad` + "\uFFFD" + `byte
order,order.csv,7,MALFORMED_ROW,"2026-11-21,TY,TY0001,TY0001-10,T1,""1,2345.00"""
`,
}

var wantEmptyCSV = map[string]string{
	"settlement.csv": "biz_date,city,outlet_id,counter_id,category,pay_method,txn_count,gross,reversed,net\n",
	"variance.csv":   "biz_date,city,outlet_id,counter_id,pay_method,expected,deposited,variance\n",
	"exceptions.csv": "biz_date,code,severity,city,outlet_id,counter_id,feed,txn_id,amount,detail,source\n",
	"rejects.csv":    "feed,source,line,reason,raw\n",
}

// publishResult writes res (and a manifest from meta when meta.RunID is set) as run id of a
// new store and returns the published directory.
func publishResult(t *testing.T, res *engine.Result, id string, meta *Meta) string {
	t.Helper()
	s := lockedStore(t)
	run, err := s.Begin(testDate, id)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	if err := WriteResult(run, res); err != nil {
		t.Fatal(err)
	}
	if meta != nil {
		if err := WriteManifest(run, NewManifest(res, testDay(), *meta)); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Publish(); err != nil {
		t.Fatal(err)
	}
	return run.Dir()
}

func TestWriteResultCSV(t *testing.T) {
	for name, tc := range map[string]struct {
		res  *engine.Result
		want map[string]string
	}{
		"day":   {testResult(), wantCSV},
		"empty": {&engine.Result{Date: time.Date(2026, 11, 21, 0, 0, 0, 0, shanghai)}, wantEmptyCSV},
	} {
		t.Run(name, func(t *testing.T) {
			dir := publishResult(t, tc.res, "r1", nil)
			for _, rel := range slices.Sorted(maps.Keys(tc.want)) {
				if got := readFile(t, filepath.Join(dir, rel)); got != tc.want[rel] {
					t.Errorf("%s:\n%s\nwant:\n%s", rel, got, tc.want[rel])
				}
			}
		})
	}
}

func TestWriteResultParquetTables(t *testing.T) {
	dir := publishResult(t, testResult(), "r1", nil)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	fen := arrow.NewMetadata([]string{"unit"}, []string{"fen"})
	str := func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }
	money := func(name string, nullable bool) arrow.Field {
		return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: nullable, Metadata: fen}
	}
	schemas := map[string]*arrow.Schema{"settlement.parquet": SettlementSchema, "variance.parquet": VarianceSchema, "exceptions.parquet": ExceptionsSchema}
	tests := []struct {
		file   string
		fields []arrow.Field
		// columns to check, each as the text of its values in row order
		check map[string]string
	}{
		{"settlement.parquet",
			[]arrow.Field{str("biz_date"), str("city"), str("outlet_id"), str("counter_id"), str("category"), str("pay_method"),
				{Name: "txn_count", Type: arrow.PrimitiveTypes.Int64}, money("gross", false), money("reversed", false), money("net", false)},
			map[string]string{
				"biz_date":   `["2026-11-21" "2026-11-21" "2026-11-21" "2026-11-21" "2026-11-21"]`,
				"counter_id": `["DT0002-01" "TY0001-10" "TY0001-10" "TY0001-10" "TY0001-9"]`,
				"txn_count":  `[0 10 9 2 1]`,
				"net":        `[-5000 100 900 -1200 399900]`,
			}},
		{"variance.parquet",
			[]arrow.Field{str("biz_date"), str("city"), str("outlet_id"), str("counter_id"), str("pay_method"),
				money("expected", false), money("deposited", false), money("variance", false)},
			map[string]string{"expected": `[-1200 -500 100 399900 999999999999999999]`}},
		{"exceptions.parquet",
			[]arrow.Field{str("biz_date"), str("code"), str("severity"), str("city"), str("outlet_id"), str("counter_id"),
				str("feed"), str("txn_id"), money("amount", true), str("detail"), str("source"), str("key")},
			map[string]string{
				"code":   `["DEPOSIT_SHORT" "INVOICE_GAP" "MALFORMED_ROW" "SUMMARY_MISMATCH" "SUMMARY_MISMATCH"]`,
				"amount": `[-100 (null) (null) -500 -500]`,
				"key":    `["CASH" "0351 8-9" "" "CARD/CASH" "LOCAL/CASH"]`,
			}},
	}
	// The files themselves say what they hold: money DECIMAL(18,2) yuan, biz_date DATE.
	stored := map[string]string{
		"settlement.parquet.net":       `[-50 1 9 -12 3999]`,
		"settlement.parquet.biz_date":  `[2026-11-21 2026-11-21 2026-11-21 2026-11-21 2026-11-21]`,
		"variance.parquet.expected":    `[-12 -5 1 3999 9999999999999999.99]`,
		"exceptions.parquet.amount":    `[-1 (null) (null) -5 -5]`,
		"exceptions.parquet.biz_date":  `[2026-11-21 2026-11-21 2026-11-21 2026-11-21 2026-11-21]`,
		"settlement.parquet.txn_count": `[0 10 9 2 1]`,
	}
	yuanMD := arrow.NewMetadata([]string{"unit"}, []string{"yuan"})
	for _, tt := range tests {
		want := arrow.NewSchema(tt.fields, nil)
		if !schemas[tt.file].Equal(want) {
			t.Errorf("exported schema of %s:\n%v\nwant:\n%v", tt.file, schemas[tt.file], want)
		}
		var sf []arrow.Field
		for _, f := range tt.fields {
			switch {
			case f.Metadata.Equal(fen):
				f = arrow.Field{Name: f.Name, Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}, Nullable: f.Nullable, Metadata: yuanMD}
			case f.Name == "biz_date":
				f.Type = arrow.FixedWidthTypes.Date32
			}
			sf = append(sf, f)
		}
		raw, err := ReadParquet(filepath.Join(dir, tt.file), nil, mem)
		if err != nil {
			t.Fatal(err)
		}
		if !raw.Schema().Equal(arrow.NewSchema(sf, nil)) {
			t.Errorf("%s stored schema:\n%v\nwant:\n%v", tt.file, raw.Schema(), arrow.NewSchema(sf, nil))
		}
		for key, w := range stored {
			file, col, _ := strings.Cut(key, ".parquet.")
			if file+".parquet" != tt.file {
				continue
			}
			if got := raw.Column(raw.Schema().FieldIndices(col)[0]).String(); got != w {
				t.Errorf("%s as stored = %s, want %s", key, got, w)
			}
		}
		raw.Release()
		// Read as the table, the in-memory types come back: int64 fen, biz_date text.
		rec, err := ReadParquet(filepath.Join(dir, tt.file), schemas[tt.file], mem)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range tt.check {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Errorf("%s has no column %s", tt.file, name)
				continue
			}
			if got := rec.Column(idx[0]).String(); got != want {
				t.Errorf("%s.%s = %s, want %s", tt.file, name, got, want)
			}
		}
		rec.Release()
	}
}

// buildFeed makes a record of feed id from rows of Go values (nil: null).
func buildFeed(t *testing.T, mem memory.Allocator, id feed.ID, rows [][]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, feed.Schema(id))
	defer b.Release()
	for _, row := range rows {
		if len(row) != len(b.Fields()) {
			t.Fatalf("row of %d values for %d columns", len(row), len(b.Fields()))
		}
		for i, v := range row {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.Int64Builder:
				fb.Append(int64(v.(int)))
			case *array.Date32Builder:
				fb.Append(arrow.Date32FromTime(v.(time.Time)))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(time.Time).Unix()))
			default:
				t.Fatalf("column %d: builder %T", i, fb)
			}
		}
	}
	return b.NewRecordBatch()
}

func TestFeedParquetRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 11, 21, 9, 15, 2, 0, shanghai)
	// purchase: biz_date city outlet_id counter_id txn_id txn_time order_id imei model amount pay_method source line
	purchase := buildFeed(t, mem, feed.Purchase, [][]any{
		{day, "TY", "TY0001", "TY0001-03", "P1", at, "O1", "860000000000001", "Mate 70", 399900, "CASH", "太原_TY0001-03_购机日报.csv", 5},
		{day, "TY", "TY0001", "TY0001-03", "P2", at.Add(time.Hour), "O2", "860000000000002", nil, 1, nil, "purchase/TY0001-03", 6},
	})
	res := testResult()
	res.Feeds[feed.Purchase] = purchase
	defer res.Release()

	dir := publishResult(t, res, "r1", nil)
	back, err := ReadFeed(dir, feed.Purchase, mem)
	if err != nil {
		t.Fatal(err)
	}
	if !array.RecordEqual(back, purchase) {
		t.Errorf("purchase read back:\n%v\nwant:\n%v", back, purchase)
	}
	if !back.Schema().Equal(feed.Schema(feed.Purchase)) {
		t.Errorf("schema read back: %v", back.Schema())
	}
	back.Release()

	// A feed without rows is an empty table of its schema.
	empty, err := ReadFeed(dir, feed.Deposit, mem)
	if err != nil {
		t.Fatal(err)
	}
	if empty.NumRows() != 0 || !empty.Schema().Equal(feed.Schema(feed.Deposit)) {
		t.Errorf("deposit read back: %v", empty)
	}
	empty.Release()

	if err := os.Remove(filepath.Join(dir, "feeds", "order.parquet")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFeed(dir, feed.Order, mem); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFeed of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestWriteResultRefusesWrongFeedSchema(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := testResult()
	res.Feeds[feed.Order] = buildFeed(t, mem, feed.Deposit, nil)
	defer res.Release()

	s := lockedStore(t)
	run, err := s.Begin(testDate, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	err = WriteResult(run, res)
	if err == nil || !strings.HasPrefix(err.Error(), `write "feeds/order.parquet": feed order: record schema`) {
		t.Errorf("WriteResult with a deposit record as order = %v", err)
	}
}

func testDay() *connectors.Day {
	d := &connectors.Day{}
	d.Stats[feed.Order] = connectors.FeedStats{Files: 1, Bytes: 120}
	d.Stats[feed.Purchase] = connectors.FeedStats{Pulls: 2, Retries: 3, Failures: 1, Bytes: 4567}
	return d
}

var testMeta = Meta{
	RunID:       "20261122T013000Z-ba7816bf",
	Source:      "http://boss.example/api?x=1&y=<2>",
	ToolVersion: "v0.1.0",
	StartedAt:   time.Date(2026, 11, 22, 9, 30, 0, 123, shanghai),
	FinishedAt:  time.Date(2026, 11, 22, 9, 31, 5, 999999999, shanghai),
}

// treeFiles reads every file under dir, keyed by '/'-separated relative path.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = readFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRunsAreByteIdentical(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var dirs []string
	for range 2 {
		res := testResult()
		res.Feeds[feed.Deposit] = buildFeed(t, mem, feed.Deposit, [][]any{
			{day, "TY", "TY0001", "TY0001-9", "CASH", 399800, nil, "deposit/TY0001-9", 1},
		})
		dirs = append(dirs, publishResult(t, res, testMeta.RunID, &testMeta))
		res.Release()
	}
	a, b := treeFiles(t, dirs[0]), treeFiles(t, dirs[1])
	if len(a) != 1+4+3+int(feed.Count) { // manifest, 4 CSV, 3 table parquet, 9 feeds
		t.Errorf("run holds %d files: %q", len(a), slices.Sorted(maps.Keys(a)))
	}
	for _, rel := range slices.Sorted(maps.Keys(a)) {
		if a[rel] != b[rel] {
			t.Errorf("%s differs between two runs of the same result", rel)
		}
	}
}

func TestManifest(t *testing.T) {
	dir := publishResult(t, testResult(), testMeta.RunID, &testMeta)
	m, err := ReadManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(dir); err != nil {
		t.Errorf("Verify = %v", err)
	}
	// Every file but the manifest, with its own sha256 and size.
	files := treeFiles(t, dir)
	delete(files, ManifestName)
	if got, want := slices.Sorted(maps.Keys(m.Outputs)), slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Errorf("outputs %q, want %q", got, want)
	}
	for rel, content := range files {
		sum := sha256.Sum256([]byte(content))
		if want := (Output{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content))}); m.Outputs[rel] != want {
			t.Errorf("outputs[%s] = %+v, want %+v", rel, m.Outputs[rel], want)
		}
	}

	// The text, with the outputs cut down to one.
	m.Outputs = map[string]Output{"rejects.csv": m.Outputs["rejects.csv"]}
	data, err := marshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(wantCSV["rejects.csv"]))
	want := `{
  "run_id": "20261122T013000Z-ba7816bf",
  "biz_date": "2026-11-21",
  "source": "http://boss.example/api?x=1&y=<2>",
  "tool_version": "v0.1.0",
  "input_digest": "d1",
  "started_at": "2026-11-22T01:30:00Z",
  "finished_at": "2026-11-22T01:31:05Z",
  "status": "incomplete",
  "feeds": [
    {
      "feed": "order",
      "inputs": 1,
      "files": 1,
      "pulls": 0,
      "retries": 0,
      "failures": 0,
      "bytes": 120,
      "rows_read": 3,
      "valid": 2,
      "rejected": 1,
      "sha256": "d2"
    },
    {
      "feed": "purchase",
      "inputs": 2,
      "files": 0,
      "pulls": 2,
      "retries": 3,
      "failures": 1,
      "bytes": 4567,
      "rows_read": 3,
      "valid": 2,
      "rejected": 1
    },
`
	for _, id := range feed.All[2:] {
		want += `    {
      "feed": "` + id.String() + `",
      "inputs": 0,
      "files": 0,
      "pulls": 0,
      "retries": 0,
      "failures": 0,
      "bytes": 0,
      "rows_read": 0,
      "valid": 0,
      "rejected": 0
    }`
		if id != feed.Deposit {
			want += ","
		}
		want += "\n"
	}
	want += `  ],
  "counters": {
    "total": 2,
    "incomplete": 1
  },
  "exceptions": {
    "total": 5,
    "by_code": {
      "DEPOSIT_SHORT": 1,
      "INVOICE_GAP": 1,
      "MALFORMED_ROW": 1,
      "SUMMARY_MISMATCH": 2
    },
    "by_severity": {
      "ERROR": 4,
      "WARNING": 1
    }
  },
  "outputs": {
    "rejects.csv": {
      "sha256": "` + hex.EncodeToString(sum[:]) + `",
      "size": ` + strconv.Itoa(len(wantCSV["rejects.csv"])) + `
    }
  }
}
`
	if string(data) != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", data, want)
	}

	// A changed, added or removed file is found.
	m, _ = ReadManifest(filepath.Join(dir, ManifestName))
	if err := os.WriteFile(filepath.Join(dir, "settlement.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(dir); err == nil || !strings.Contains(err.Error(), ": settlement.csv has sha256 ") {
		t.Errorf("Verify after a change = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "settlement.csv"), []byte(wantCSV["settlement.csv"]), 0o644)
	os.WriteFile(filepath.Join(dir, "extra"), nil, 0o644)
	if err := m.Verify(dir); err == nil || !strings.HasSuffix(err.Error(), ": extra is not in the manifest") {
		t.Errorf("Verify with an extra file = %v", err)
	}
	os.Remove(filepath.Join(dir, "extra"))
	os.Remove(filepath.Join(dir, "rejects.csv"))
	if err := m.Verify(dir); err == nil || !strings.HasSuffix(err.Error(), ": rejects.csv is missing") {
		t.Errorf("Verify with a missing file = %v", err)
	}
}

func TestWriteManifestChecks(t *testing.T) {
	s := lockedStore(t)
	run, err := s.Begin(testDate, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Abort()
	w, err := run.Create("open.csv")
	if err != nil {
		t.Fatal(err)
	}
	m := NewManifest(testResult(), nil, Meta{})
	if err := WriteManifest(run, m); err == nil || err.Error() != "write manifest: 1 output files still open" {
		t.Errorf("WriteManifest with an open file = %v", err)
	}
	w.Close()
	if err := WriteManifest(run, &Manifest{RunID: "r2"}); err == nil || err.Error() != `write manifest: run id "r2" is not the run's "r1"` {
		t.Errorf("WriteManifest of another run = %v", err)
	}
	if err := WriteManifest(run, m); err != nil {
		t.Fatal(err)
	}
	if m.RunID != "r1" || m.Outputs["open.csv"].Size != 0 || len(m.Outputs) != 1 {
		t.Errorf("manifest = %+v", m)
	}
}

func TestReadParquetRowGroupsAndErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var rows [][]any
	for i := range 5 {
		rows = append(rows, []any{day, "TY", "TY0001", "TY0001-03", "CASH", 100 * i, nil, "deposit.csv", i + 2})
	}
	rec := buildFeed(t, mem, feed.Deposit, rows)
	defer rec.Release()

	// Three row groups of at most two rows come back as one record.
	path := filepath.Join(t.TempDir(), "deposit.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(2), parquet.WithAllocator(mem))
	fw, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	back, err := ReadParquet(path, feed.Schema(feed.Deposit), mem)
	if err != nil {
		t.Fatal(err)
	}
	if !array.RecordEqual(back, rec) {
		t.Errorf("read back:\n%v\nwant:\n%v", back, rec)
	}
	back.Release()

	// A file of another feed is refused.
	_, err = ReadParquet(path, feed.Schema(feed.Order), mem)
	if want := fmt.Sprintf("read %q: 9 columns, want 13", path); err == nil || err.Error() != want {
		t.Errorf("ReadParquet as order = %v, want %q", err, want)
	}
	fields := feed.Schema(feed.Deposit).Fields()
	fields[4].Nullable = false
	_, err = ReadParquet(path, arrow.NewSchema(fields, nil), mem)
	if want := fmt.Sprintf("read %q: column 5 is pay_method utf8 nullable, want pay_method utf8", path); err == nil || err.Error() != want {
		t.Errorf("ReadParquet with pay_method required = %v, want %q", err, want)
	}
	fields = feed.Schema(feed.Deposit).Fields()
	fields[5].Type = arrow.BinaryTypes.String
	_, err = ReadParquet(path, arrow.NewSchema(fields, nil), mem)
	if want := fmt.Sprintf("read %q: column \"amount\" is int64, want utf8", path); err == nil || err.Error() != want {
		t.Errorf("ReadParquet with amount as text = %v, want %q", err, want)
	}
}

func TestConvertTimestamps(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tz := &arrow.TimestampType{Unit: arrow.Second, TimeZone: "Asia/Shanghai"}
	tests := []struct {
		from    arrow.TimeUnit
		in      []int64 // -1: null
		to      *arrow.TimestampType
		want    string
		wantErr string
	}{
		{arrow.Millisecond, []int64{1763687702000, -1, 0}, tz, "[1763687702 (null) 0]", ""},
		{arrow.Millisecond, []int64{1763687702001}, tz, "", "timestamp 1763687702001 is not a whole number of s"},
		{arrow.Second, []int64{2}, &arrow.TimestampType{Unit: arrow.Millisecond}, "[2000]", ""},
		{arrow.Second, []int64{math.MaxInt64 / 10}, &arrow.TimestampType{Unit: arrow.Nanosecond}, "", "timestamp 922337203685477580 overflows unit ns"},
	}
	for _, tt := range tests {
		b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: tt.from, TimeZone: "UTC"})
		for _, v := range tt.in {
			if v == -1 {
				b.AppendNull()
			} else {
				b.Append(arrow.Timestamp(v))
			}
		}
		in := b.NewTimestampArray()
		b.Release()
		out, err := convertTimestamps(in, tt.to, mem)
		in.Release()
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("convert %v %s→%s: error %v, want %q", tt.in, tt.from, tt.to.Unit, err, tt.wantErr)
			}
			if out != nil {
				out.Release()
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tt.want || !arrow.TypeEqual(out.DataType(), tt.to) {
			t.Errorf("convert %v %s→%s = %s %v, want %s", tt.in, tt.from, tt.to.Unit, got, out.DataType(), tt.want)
		}
		out.Release()
	}
}

func TestParquetCreatedBy(t *testing.T) {
	dir := publishResult(t, testResult(), "r1", nil)
	for _, rel := range []string{"settlement.parquet", "feeds/order.parquet"} {
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.MetaData().GetCreatedBy(); got != "settle" {
			t.Errorf("%s created_by = %q", rel, got)
		}
		pf.Close()
		f.Close()
	}
}
