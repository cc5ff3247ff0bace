package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/feed"
)

// wrow is a row as parseRows gives it to a recWriter.
type wrow struct {
	vals []value
	src  string
	line int64
}

// randomRows makes n rows of feed f: nulls, empty and long texts, zero and large numbers.
func randomRows(rng *rand.Rand, f *feed.Feed, n int) []wrow {
	rows := make([]wrow, n)
	for i := range rows {
		vals := make([]value, len(f.Columns))
		for c := range vals {
			switch {
			case rng.IntN(5) == 0:
				vals[c].null = true
			case isText(f.Columns[c].Kind):
				vals[c].s = strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40)) // "" too
			default:
				vals[c].i = rng.Int64N(1<<40) - 1<<20
			}
		}
		rows[i] = wrow{vals, fmt.Sprintf("in%d.csv", rng.IntN(3)), int64(i + 2)}
	}
	return rows
}

// builtWith is the record array builders make of rows: what a recWriter's must equal.
func builtWith(mem memory.Allocator, id feed.ID, rows []wrow) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schemas()[id])
	defer b.Release()
	ncol := len(feed.Get(id).Columns)
	for _, r := range rows {
		for c, v := range r.vals {
			fb := b.Field(c)
			if v.null {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(v.s)
			case *array.Int64Builder:
				fb.Append(v.i)
			case *array.Date32Builder:
				fb.Append(arrow.Date32(v.i))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.i))
			}
		}
		b.Field(ncol).(*array.StringBuilder).Append(r.src)
		b.Field(ncol + 1).(*array.Int64Builder).Append(r.line)
	}
	return b.NewRecordBatch()
}

// checkRecord fails unless got holds what want does, column by column, with valid buffers
// and the same null counts.
func checkRecord(t *testing.T, what string, got, want arrow.RecordBatch) {
	t.Helper()
	if got.NumRows() != want.NumRows() {
		t.Fatalf("%s: %d rows, want %d", what, got.NumRows(), want.NumRows())
	}
	for c := range int(want.NumCols()) {
		g, w := got.Column(c), want.Column(c)
		if v, ok := g.(interface{ ValidateFull() error }); ok { // the text columns
			if err := v.ValidateFull(); err != nil {
				t.Errorf("%s column %s: %v", what, want.ColumnName(c), err)
			}
		}
		if g.NullN() != w.NullN() || !array.Equal(g, w) {
			t.Errorf("%s column %s: %d nulls\n%v\nwant %d nulls\n%v", what, want.ColumnName(c), g.NullN(), g, w.NullN(), w)
		}
	}
}

// A recWriter's record equals the one array builders make of the same rows, written as an
// input of its own (room made to measure) and as inputs of an arena (room made in steps,
// text beyond what was reserved, rows beyond the first reservation).
func TestRecWriterMatchesBuilders(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, id := range feed.All {
		f := feed.Get(id)
		ncol := len(f.Columns)
		rows := randomRows(rng, f, 300)
		want := builtWith(mem, id, rows)

		own := newRecWriter(mem, id)
		own.reserve(len(rows))
		for c := range ncol + 1 {
			if c < ncol && !isText(f.Columns[c].Kind) {
				continue
			}
			n := 0
			for _, r := range rows {
				if c == ncol {
					n += len(r.src)
				} else {
					n += len(r.vals[c].s)
				}
			}
			own.reserveText(c, n, false, len(rows))
		}
		for _, r := range rows {
			own.put(r.vals, r.src, r.line)
		}
		got := own.finish()
		checkRecord(t, id.String()+" own", got, want)
		got.Release()

		ar := newRecWriter(mem, id)
		for from := 0; from < len(rows); {
			to := min(len(rows), from+1+rng.IntN(40))
			ar.reserve(to - from) // grows the rows now and then
			for c := range ncol + 1 {
				ar.reserveText(c, rng.IntN(50), true, to) // mostly short of the text
			}
			for _, r := range rows[from:to] {
				ar.put(r.vals, r.src, r.line)
			}
			from = to
		}
		got = ar.finish()
		checkRecord(t, id.String()+" arena", got, want)
		got.Release()
		want.Release()
		if ar.n != 0 || ar.finish() != nil {
			t.Errorf("%s: a finished writer still holds rows", id)
		}
	}
}

// A text column of empty values has an empty values buffer, not none (Arrow reads a nil one
// as nulls: arrow-go issue 625); nothing is left allocated by a writer released unfinished.
func TestRecWriterEmptyText(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := feed.Get(feed.Deposit)
	w := newRecWriter(mem, feed.Deposit)
	w.reserve(2)
	vals := make([]value, len(f.Columns))
	w.put(vals, "", 1)
	w.put(vals, "", 2)
	rec := w.finish()
	defer rec.Release()
	for c := range int(rec.NumCols()) {
		col := rec.Column(c)
		if col.NullN() != 0 {
			t.Errorf("column %s: %d nulls, want none", rec.ColumnName(c), col.NullN())
		}
		if s, ok := col.(*array.String); ok {
			if b := s.Data().Buffers()[2]; b == nil || b.Bytes() == nil {
				t.Errorf("column %s: no values buffer", rec.ColumnName(c))
			}
			if s.Value(1) != "" {
				t.Errorf("column %s: %q, want empty", rec.ColumnName(c), s.Value(1))
			}
		}
	}
	unfinished := newRecWriter(mem, feed.Deposit)
	unfinished.reserve(10)
	unfinished.reserveText(0, 100, false, 10)
	unfinished.put(vals, "x.csv", 1)
	unfinished.release()
}

// An Enum column's remembered texts give what Enumeration.Parse gives, also for texts that
// differ only in case, and past enumMemoMax distinct texts.
func TestEnumMemo(t *testing.T) {
	e := feed.PayMethods
	var texts []string
	for i, v := range e.Values {
		texts = append(texts, v, strings.ToLower(v), e.Zh[i], "x"+v)
	}
	for i := range enumMemoMax {
		texts = append(texts, fmt.Sprintf("cAsH%d", i))
	}
	texts = append(texts, "Cash", "cASH")
	var m enumMemo
	for round := range 3 {
		for _, s := range texts {
			code, ok := m.parse(e, s)
			wantCode, wantOK := e.Parse(s)
			if code != wantCode || ok != wantOK {
				t.Errorf("round %d: %q gave %q %v, want %q %v", round, s, code, ok, wantCode, wantOK)
			}
		}
	}
	if len(m.texts) > enumMemoMax {
		t.Errorf("memo holds %d texts, more than %d", len(m.texts), enumMemoMax)
	}
}
