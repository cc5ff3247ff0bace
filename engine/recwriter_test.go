package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors/dialect"
	"settle/feed"
)

// randomTable makes a canonical CSV of n rows of feed f — empty cells (nulls) and texts of
// 1 to 40 letters; biz_date never empty, so that no line is blank — reads it as parseRows
// would, and gives each row the values parseRows would give a recWriter: random numbers,
// Enum codes by index.
func randomTable(t *testing.T, rng *rand.Rand, f *feed.Feed, name string, n int) (*dialect.Table, [][]value) {
	t.Helper()
	var b strings.Builder
	for c := range f.Columns {
		if c > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Columns[c].Name)
	}
	b.WriteString("\r\n")
	rows := make([][]value, n)
	for i := range rows {
		vals := make([]value, len(f.Columns))
		for c := range vals {
			if c > 0 {
				b.WriteByte(',')
			}
			if c != feed.ColBizDate && rng.IntN(5) == 0 {
				vals[c].null = true
				continue
			}
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(40)))
			switch col := f.Columns[c]; {
			case col.Kind == feed.Enum:
				vals[c].i = int64(rng.IntN(len(col.Enum.Values)))
			case !isText(col.Kind):
				vals[c].i = rng.Int64N(1<<40) - 1<<20
			}
		}
		b.WriteString("\r\n")
		rows[i] = vals
	}
	tab, err := dialect.Read(name, []byte(b.String()), false, f)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != n {
		t.Fatalf("%s: %d rows read, want %d", name, tab.Len(), n)
	}
	return tab, rows
}

// builtWith is the record array builders make of the rows: what a recWriter's must equal.
func builtWith(mem memory.Allocator, f *feed.Feed, tab *dialect.Table, rows [][]value) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schemas()[f.ID])
	defer b.Release()
	ncol := len(f.Columns)
	for i, vals := range rows {
		for c, v := range vals {
			fb := b.Field(c)
			if v.null {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				if e := f.Columns[c].Enum; e != nil {
					fb.Append(e.Values[v.i])
				} else {
					fb.Append(tab.Cell(i, c))
				}
			case *array.Int64Builder:
				fb.Append(v.i)
			case *array.Date32Builder:
				fb.Append(arrow.Date32(v.i))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.i))
			}
		}
		b.Field(ncol).(*array.StringBuilder).Append(tab.Source(i))
		b.Field(ncol + 1).(*array.Int64Builder).Append(int64(tab.Line(i)))
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
		tab, rows := randomTable(t, rng, f, id.String()+".csv", 300)
		want := builtWith(mem, f, tab, rows)

		own := newRecWriter(mem, id)
		own.reserve(len(rows))
		for c := range ncol + 1 {
			n := 0
			for i := range rows {
				switch {
				case c == ncol:
					n += len(tab.Source(i))
				case isText(f.Columns[c].Kind):
					n += len(tab.Cell(i, c)) + 2
				}
			}
			own.reserveText(c, n, false, len(rows))
		}
		for i, vals := range rows {
			own.put(vals, tab, i)
		}
		got := own.finish()
		checkRecord(t, id.String()+" own", got, want)
		got.Release()

		// An arena's writer makes one record after another (finished when full).
		ar := newRecWriter(mem, id)
		for round := range 2 {
			for from := 0; from < len(rows); {
				to := min(len(rows), from+1+rng.IntN(40))
				ar.reserve(to - from) // grows the rows now and then
				for c := range ncol + 1 {
					ar.reserveText(c, rng.IntN(50), true, to) // mostly short of the text
				}
				for i := from; i < to; i++ {
					ar.put(rows[i], tab, i)
				}
				from = to
			}
			got = ar.finish()
			checkRecord(t, fmt.Sprintf("%s arena, record %d", id, round+1), got, want)
			got.Release()
			if ar.n != 0 || ar.finish() != nil {
				t.Errorf("%s: a finished writer still holds rows", id)
			}
		}
		want.Release()
	}
}

// A text column of no bytes (every value null, or a source named "") has an empty values
// buffer, not none (Arrow reads a nil one's values as nulls: arrow-go issue 625); nothing is
// left allocated by a writer released unfinished.
func TestRecWriterEmptyText(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := feed.Get(feed.Deposit)
	var csv strings.Builder
	for c := range f.Columns {
		csv.WriteString(f.Columns[c].Name + ",")
	}
	csv.WriteString("\nx\nx\n")
	tab, err := dialect.Read("", []byte(csv.String()), false, f)
	if err != nil || tab.Len() != 2 {
		t.Fatalf("read: %v (%d rows)", err, tab.Len())
	}
	w := newRecWriter(mem, feed.Deposit)
	w.reserve(2)
	vals := make([]value, len(f.Columns))
	for c := range vals {
		vals[c].null = true
	}
	w.put(vals, tab, 0)
	w.put(vals, tab, 1)
	rec := w.finish()
	defer rec.Release()
	for c := range int(rec.NumCols()) {
		col := rec.Column(c)
		s, ok := col.(*array.String)
		if !ok {
			continue
		}
		if b := s.Data().Buffers()[2]; b == nil || b.Bytes() == nil {
			t.Errorf("column %s: no values buffer", rec.ColumnName(c))
		}
		if want := map[bool]int{true: 0, false: 2}[c == len(f.Columns)]; s.NullN() != want || s.Value(1) != "" {
			t.Errorf("column %s: %d nulls, value %q; want %d nulls, \"\"", rec.ColumnName(c), s.NullN(), s.Value(1), want)
		}
	}
	unfinished := newRecWriter(mem, feed.Deposit)
	unfinished.reserve(10)
	unfinished.reserveText(feed.ColCity, 100, false, 10)
	unfinished.put(vals, tab, 0)
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
			k := m.parse(e, s)
			code := ""
			if k >= 0 {
				code = e.Values[k]
			}
			if wantCode, _ := e.Parse(s); code != wantCode {
				t.Errorf("round %d: %q gave %q, want %q", round, s, code, wantCode)
			}
		}
	}
	if len(m.texts) > enumMemoMax {
		t.Errorf("memo holds %d texts, more than %d", len(m.texts), enumMemoMax)
	}
}
