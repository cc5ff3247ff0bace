package store

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"settle/engine"
	"settle/feed"
	"settle/money"
)

// Headers of the CSV files (OUTPUTS.md "Run store").
var (
	SettlementHeader = []string{"biz_date", "city", "outlet_id", "counter_id", "category", "pay_method", "txn_count", "gross", "reversed", "net"}
	VarianceHeader   = []string{"biz_date", "city", "outlet_id", "counter_id", "pay_method", "expected", "deposited", "variance"}
	ExceptionsHeader = []string{"biz_date", "code", "severity", "city", "outlet_id", "counter_id", "feed", "txn_id", "amount", "detail", "source"}
	RejectsHeader    = []string{"feed", "source", "line", "reason", "raw"}
)

// KeyColumn is the column exceptions.parquet has after the CSV's: engine.Exception.Key.
const KeyColumn = "key"

var (
	settlementCols = columns(SettlementHeader, nil, map[string]colKind{"txn_count": kCount, "gross": kMoney, "reversed": kMoney, "net": kMoney})
	varianceCols   = columns(VarianceHeader, nil, map[string]colKind{"expected": kMoney, "deposited": kMoney, "variance": kMoney})
	exceptionsCols = columns(ExceptionsHeader, []string{KeyColumn}, map[string]colKind{"amount": kMoneyNull})
)

// Arrow schemas of settlement.parquet, variance.parquet and exceptions.parquet: the CSV's
// columns (exceptions then KeyColumn), text as string, txn_count int64, money int64 fen with
// field metadata unit=fen; only exceptions' amount is nullable.
var (
	SettlementSchema = schemaOf(settlementCols)
	VarianceSchema   = schemaOf(varianceCols)
	ExceptionsSchema = schemaOf(exceptionsCols)
)

// FeedPath is the path of a feed's normalized rows inside a run directory.
func FeedPath(id feed.ID) string { return feedsDir + "/" + id.String() + ".parquet" }

// feedsDir is the run folder of the feeds' Parquet files.
const feedsDir = "feeds"

// WriteResult writes the result's tables into the run: settlement, variance and exceptions
// as .csv and .parquet, rejects.csv, and feeds/<feed>.parquet for each of the nine feeds
// (an empty table for a feed without rows). The output is a function of res alone.
//
// CSV: UTF-8 (invalid bytes become U+FFFD), comma, header row, money as yuan with two
// decimals, biz_date res.BizDate() on every row; rows sorted as text, column by column
// from the left in byte order; rejects in the order given. Parquet: the same columns and
// rows, money as int64 fen (field metadata unit=fen), exceptions' amount null where the CSV
// has it empty, and exceptions.parquet has KeyColumn last.
//
// The files are written runtime.GOMAXPROCS(0) at a time, the largest feeds first: one after
// the other they were the longest serial stretch of a run (Parquet encoding of ~0.5 M rows),
// and each file depends on nothing but res. The first error in the order above is returned.
// WriteResult is WriteTables and WriteFeeds together.
func WriteResult(run *Run, res *engine.Result) error {
	return writeTasks(run, append(tableTasks(res), feedTasks(res.Feeds)...))
}

// WriteTables writes what WriteResult writes but the feeds: settlement, variance and
// exceptions as .csv and .parquet, and rejects.csv.
func WriteTables(run *Run, res *engine.Result) error { return writeTasks(run, tableTasks(res)) }

// WriteFeeds writes what WriteResult writes of the feeds: feeds/<feed>.parquet for each of
// the nine (an empty table for a nil record). The records are only read: a caller may write
// them while the rules run over them.
func WriteFeeds(run *Run, feeds [feed.Count]arrow.RecordBatch) error {
	return writeTasks(run, keyedTasks(run, feeds, feedTasks(feeds)))
}

// fileTask is one file of a run: where, how, and its size in rows (to start big ones first).
type fileTask struct {
	rel   string
	write func(io.Writer) error
	rows  int64
	keyed func() error // instead of write: the file's own way to the run (keyedTasks)
}

func tableTasks(res *engine.Result) []fileTask {
	date := res.BizDate()
	var tasks []fileTask
	for _, t := range []*table{settlementTable(date, res.Settlement), varianceTable(date, res.Variance), exceptionsTable(date, res.Exceptions)} {
		t.sort()
		n := int64(len(t.rows))
		tasks = append(tasks, fileTask{rel: t.name + ".csv", write: t.writeCSV, rows: n}, fileTask{rel: t.name + ".parquet", write: t.writeParquet, rows: n})
	}
	return append(tasks, fileTask{rel: "rejects.csv", write: func(w io.Writer) error { return writeRejects(w, res.Rejects) }, rows: int64(len(res.Rejects))})
}

func feedTasks(feeds [feed.Count]arrow.RecordBatch) []fileTask {
	var tasks []fileTask
	for _, id := range feed.All {
		rec := feeds[id]
		n := int64(0)
		if rec != nil {
			n = rec.NumRows() * 4 // Parquet costs more per row than CSV
		}
		tasks = append(tasks, fileTask{rel: FeedPath(id), write: func(w io.Writer) error { return writeFeed(w, id, rec) }, rows: n})
	}
	return tasks
}

// keyedTasks turns each feed's task into one that first tries the previous run's file of
// the same content key (feedKey, Run.Reuse) and writes the feed only when there is none.
func keyedTasks(run *Run, feeds [feed.Count]arrow.RecordBatch, tasks []fileTask) []fileTask {
	for i, id := range feed.All {
		t := &tasks[i]
		rel, write, rec := t.rel, t.write, feeds[id]
		t.write = nil
		t.keyed = func() error {
			key := feedKey(id, rec)
			if key != "" {
				if _, ok, err := run.Reuse(rel, key); err != nil || ok {
					return err
				}
			}
			if err := writeFile(run, rel, write); err != nil {
				return err
			}
			if key != "" {
				run.Rendered(rel, key)
			}
			return nil
		}
	}
	return tasks
}

// writeTasks writes the files GOMAXPROCS at a time, biggest first; it returns the error of
// the first failed file in that order.
func writeTasks(run *Run, tasks []fileTask) error {
	order := make([]int, len(tasks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return tasks[order[a]].rows > tasks[order[b]].rows })
	return parallel(order, runtime.GOMAXPROCS(0), func(i int) error {
		if tasks[i].keyed != nil {
			return tasks[i].keyed()
		}
		return writeFile(run, tasks[i].rel, tasks[i].write)
	})
}

// parallel calls do for each of items, at most limit at a time, taking them in order, and
// returns the error of the first item (in the items' order) that failed.
func parallel[T any](items []T, limit int, do func(T) error) error {
	// Every item runs (a failed file does not stop the others: the run is aborted as a
	// whole), and each error is kept by index, so the one returned does not depend on which
	// goroutine finished first.
	errs := make([]error, len(items))
	var g errgroup.Group
	g.SetLimit(max(1, limit))
	for i, item := range items {
		g.Go(func() error {
			errs[i] = do(item)
			return nil
		})
	}
	g.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// writeFile creates rel in the run and fills it with write, through a buffer.
func writeFile(run *Run, rel string, write func(io.Writer) error) error {
	f, err := run.Create(rel)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q: %w", rel, err)
	}
	return nil
}

// colKind is how a table column is formatted and typed.
type colKind int

const (
	kText      colKind = iota // string
	kCount                    // int64, decimal
	kMoney                    // int64 fen, yuan in CSV
	kMoneyNull                // kMoney, or null (empty in CSV)
)

type column struct {
	name string
	kind colKind
}

// cell is one value: s for kText, n for the numbers, null for kMoneyNull.
type cell struct {
	s    string
	n    int64
	null bool
}

func text(s string) cell { return cell{s: strings.ToValidUTF8(s, "\uFFFD")} }
func num(n int64) cell   { return cell{n: n} }

// table is one output table: its first csvCols columns go to CSV, all of them to Parquet.
type table struct {
	name    string
	cols    []column
	csvCols int
	rows    [][]cell
	texts   [][]string // formatted rows, parallel to rows
}

func (t *table) add(row ...cell) {
	txt := make([]string, len(row))
	for i, c := range row {
		switch t.cols[i].kind {
		case kText:
			txt[i] = c.s
		case kCount:
			txt[i] = strconv.FormatInt(c.n, 10)
		case kMoney:
			txt[i] = money.Format(c.n)
		case kMoneyNull:
			if !c.null {
				txt[i] = money.Format(c.n)
			}
		}
	}
	t.rows = append(t.rows, row)
	t.texts = append(t.texts, txt)
}

// sort orders the rows as text, column by column, in byte order; columns beyond the CSV's
// break ties, so the Parquet order is fixed too.
func (t *table) sort() {
	idx := make([]int, len(t.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return slices.Compare(t.texts[a], t.texts[b]) })
	rows, texts := make([][]cell, len(idx)), make([][]string, len(idx))
	for i, j := range idx {
		rows[i], texts[i] = t.rows[j], t.texts[j]
	}
	t.rows, t.texts = rows, texts
}

func (t *table) header() []string {
	h := make([]string, t.csvCols)
	for i := range h {
		h[i] = t.cols[i].name
	}
	return h
}

func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.header()); err != nil {
		return err
	}
	for _, txt := range t.texts {
		if err := cw.Write(txt[:t.csvCols]); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var fenMetadata = arrow.NewMetadata([]string{"unit"}, []string{"fen"})

func schemaOf(cols []column) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		switch c.kind {
		case kText:
			fields[i] = arrow.Field{Name: c.name, Type: arrow.BinaryTypes.String}
		case kCount:
			fields[i] = arrow.Field{Name: c.name, Type: arrow.PrimitiveTypes.Int64}
		case kMoney, kMoneyNull:
			fields[i] = arrow.Field{Name: c.name, Type: arrow.PrimitiveTypes.Int64, Nullable: c.kind == kMoneyNull, Metadata: fenMetadata}
		}
	}
	return arrow.NewSchema(fields, nil)
}

func (t *table) writeParquet(w io.Writer) error {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, schemaOf(t.cols))
	defer b.Release()
	for i, c := range t.cols {
		switch c.kind {
		case kText:
			fb := b.Field(i).(*array.StringBuilder)
			for _, r := range t.rows {
				fb.Append(r[i].s)
			}
		default:
			fb := b.Field(i).(*array.Int64Builder)
			for _, r := range t.rows {
				if r[i].null {
					fb.AppendNull()
				} else {
					fb.Append(r[i].n)
				}
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return writeParquet(w, rec, mem)
}

func settlementTable(date string, lines []engine.SettlementLine) *table {
	t := &table{name: string(Settlement), cols: settlementCols, csvCols: len(SettlementHeader)}
	for _, l := range lines {
		t.add(text(date), text(l.City), text(l.Outlet), text(l.Counter), text(l.Category), text(l.PayMethod),
			num(l.TxnCount), num(l.Gross), num(l.Reversed), num(l.Net))
	}
	return t
}

func varianceTable(date string, lines []engine.VarianceLine) *table {
	t := &table{name: string(Variance), cols: varianceCols, csvCols: len(VarianceHeader)}
	for _, l := range lines {
		t.add(text(date), text(l.City), text(l.Outlet), text(l.Counter), text(l.PayMethod),
			num(l.Expected), num(l.Deposited), num(l.Variance))
	}
	return t
}

func exceptionsTable(date string, exs []engine.Exception) *table {
	t := &table{name: string(Exceptions), cols: exceptionsCols, csvCols: len(ExceptionsHeader)}
	for _, e := range exs {
		amount := cell{n: e.Amount, null: !e.HasAmount}
		if !e.HasAmount {
			amount.n = 0
		}
		t.add(text(date), text(string(e.Code)), text(string(e.Severity)), text(e.City), text(e.Outlet), text(e.Counter),
			text(e.Feed), text(e.TxnID), amount, text(e.Detail), text(e.Source), text(e.Key))
	}
	return t
}

// columns makes the column list of a header plus extra text columns; kinds names the
// columns that are not text.
func columns(header, extra []string, kinds map[string]colKind) []column {
	cols := make([]column, 0, len(header)+len(extra))
	for _, h := range append(slices.Clip(header), extra...) {
		cols = append(cols, column{name: h, kind: kinds[h]}) // absent from kinds: kText
	}
	return cols
}

func writeRejects(w io.Writer, rejects []engine.Reject) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RejectsHeader); err != nil {
		return err
	}
	for _, r := range rejects {
		row := []string{text(r.Feed).s, text(r.Source).s, strconv.Itoa(r.Line), text(r.Reason).s, text(r.Raw).s}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
