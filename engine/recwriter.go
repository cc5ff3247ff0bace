package engine

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors/dialect"
	"settle/feed"
)

// recWriter writes a feed's valid rows straight into the buffers of an Arrow record, each
// value once, where the record will read it: gathered first in per-column Go slices and
// then appended to array builders, every value had been copied twice, ~40% of a city-day's
// parse. The buffers are laid out as array.Int64Builder, Date32Builder, TimestampBuilder and
// StringBuilder lay theirs (a validity bitmap in every column, an empty text buffer that is
// not nil), so a record reads, compares and is written (Parquet, the parse cache) as one
// built by them.
type recWriter struct {
	mem    memory.Allocator
	schema *arrow.Schema
	cols   []wcol // the feed's columns, then feed.SourceColumn and feed.LineColumn
	n      int    // rows written
	rows   int    // rows the buffers have room for
}

type wkind uint8

const (
	wText   wkind = iota // Ident, Enum, Digits, Text, the source: offsets and bytes
	wInt64               // Money, Whole, Time (a timestamp in seconds), the line
	wDate32              // Date
)

// wcol is one column's buffers and the typed views of them that rows are written through.
type wcol struct {
	kind  wkind
	dt    arrow.DataType
	enum  []string // an Enum column's codes (value.i indexes them); nil for another
	nulls int
	valid *memory.Buffer // the validity bitmap, bits, of every column
	bits  []byte
	vals  *memory.Buffer // the int64s, the date32s, or the text bytes
	offs  *memory.Buffer // text: the int32 offsets, o32
	i64   []int64
	d32   []arrow.Date32
	o32   []int32
	text  []byte // text: vals' bytes, used of them written
	used  int
}

func newRecWriter(mem memory.Allocator, id feed.ID) *recWriter {
	schema := schemas()[id]
	f := feed.Get(id)
	w := &recWriter{mem: mem, schema: schema, cols: make([]wcol, schema.NumFields())}
	for c := range w.cols {
		dt := schema.Field(c).Type
		k := wText
		switch dt.ID() {
		case arrow.INT64, arrow.TIMESTAMP:
			k = wInt64
		case arrow.DATE32:
			k = wDate32
		}
		w.cols[c] = wcol{kind: k, dt: dt}
		if c < len(f.Columns) && f.Columns[c].Kind == feed.Enum {
			w.cols[c].enum = f.Columns[c].Enum.Values
		}
	}
	return w
}

// reserve makes room for rows more rows (text bytes apart: reserveText).
func (w *recWriter) reserve(rows int) {
	need := w.n + rows
	if need <= w.rows {
		return
	}
	if w.rows > 0 {
		need = max(need, 2*w.rows) // not expected: loaders reserve an input's rows, or an arena's, at once
	}
	for c := range w.cols {
		col := &w.cols[c]
		if col.valid == nil {
			col.valid = memory.NewResizableBuffer(w.mem)
		}
		old := len(col.bits)
		col.valid.Reserve(int(bitutil.BytesForBits(int64(need))))
		col.bits = col.valid.Buf()
		// A bit is set or cleared as its row is written; the bits past the last row are 0,
		// as a builder leaves them.
		clear(col.bits[old:])
		if col.vals == nil {
			col.vals = memory.NewResizableBuffer(w.mem)
		}
		switch col.kind {
		case wInt64:
			col.vals.Reserve(need * arrow.Int64SizeBytes)
			col.i64 = arrow.Int64Traits.CastFromBytes(col.vals.Buf())
		case wDate32:
			col.vals.Reserve(need * arrow.Date32SizeBytes)
			col.d32 = arrow.Date32Traits.CastFromBytes(col.vals.Buf())
		case wText:
			if col.offs == nil {
				col.offs = memory.NewResizableBuffer(w.mem)
			}
			col.offs.Reserve((need + 1) * arrow.Int32SizeBytes)
			col.o32 = arrow.Int32Traits.CastFromBytes(col.offs.Buf())
			col.o32[w.n] = int32(col.used)
		}
	}
	w.rows = need
}

// reserveText makes room for n more bytes of text in column c (nothing for a column not of
// text). For an input of its own,
// exactly that. In an arena, which will hold about rows rows after this input, room is made
// for the rest of the arena too, at its bytes per row so far: room made to measure for each
// input had copied an arena's text once per input it holds (a pulled city-day's parse had
// allocated 8 GB).
func (w *recWriter) reserveText(c, n int, inArena bool, rows int) {
	col := &w.cols[c]
	need := col.used + n
	if col.kind != wText || need <= len(col.text) {
		return
	}
	if inArena && rows > 0 && rows < arenaRows {
		need += need / rows * (arenaRows - rows)
	}
	col.growText(need)
}

// growText gives a text column room for size bytes in all.
func (col *wcol) growText(size int) {
	col.vals.Reserve(size)
	col.text = col.vals.Buf()
}

// putText writes s as the text of row r of a text column.
func (col *wcol) putText(r int, s string) {
	if col.used+len(s) > len(col.text) {
		// Beyond what was reserved (an Enum's code longer than its text by more than the
		// guess): doubled, as a builder would.
		col.growText(max(col.used+len(s), 2*len(col.text)))
	}
	col.used += copy(col.text[col.used:], s)
	col.o32[r+1] = int32(col.used)
}

// put writes row i of t: vals of the feed's columns (a text kept as read taken from t), then
// its source and line. Room for it was made by reserve.
func (w *recWriter) put(vals []value, t *dialect.Table, i int) {
	r := w.n
	byteAt, bit := r>>3, byte(1)<<(r&7)
	for c := range vals {
		v, col := &vals[c], &w.cols[c]
		if v.null {
			col.bits[byteAt] &^= bit
			col.nulls++
		} else {
			col.bits[byteAt] |= bit
		}
		switch col.kind {
		case wText:
			switch {
			case v.null:
				col.putText(r, "") // no bytes, as AppendNull
			case col.enum != nil:
				col.putText(r, col.enum[v.i])
			default:
				col.putText(r, t.Cell(i, c))
			}
		case wInt64:
			col.i64[r] = v.i // 0 when null, as AppendNull leaves it
		case wDate32:
			col.d32[r] = arrow.Date32(v.i)
		}
	}
	sc, lc := &w.cols[len(vals)], &w.cols[len(vals)+1]
	sc.bits[byteAt] |= bit
	sc.putText(r, t.Source(i))
	lc.bits[byteAt] |= bit
	lc.i64[r] = int64(t.Line(i))
	w.n++
}

// finish makes the record of the rows written (nil when none) and leaves the writer empty,
// its buffers handed over to the record.
func (w *recWriter) finish() arrow.RecordBatch {
	if w.n == 0 {
		w.release()
		return nil
	}
	n := w.n
	cols := make([]arrow.Array, len(w.cols))
	for c := range w.cols {
		col := &w.cols[c]
		col.valid.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		var bufs []*memory.Buffer
		switch col.kind {
		case wInt64:
			col.vals.Resize(n * arrow.Int64SizeBytes)
			bufs = []*memory.Buffer{col.valid, col.vals}
		case wDate32:
			col.vals.Resize(n * arrow.Date32SizeBytes)
			bufs = []*memory.Buffer{col.valid, col.vals}
		case wText:
			col.offs.ResizeNoShrink((n + 1) * arrow.Int32SizeBytes)
			if col.used == 0 {
				// An empty buffer, not none: Arrow would read a nil one's values as nulls
				// (as bufferBuilder.Finish, arrow-go issue 625).
				col.vals.Release()
				col.vals = memory.NewBufferBytes([]byte{})
			} else {
				col.vals.ResizeNoShrink(col.used)
			}
			bufs = []*memory.Buffer{col.valid, col.offs, col.vals}
		}
		d := array.NewData(col.dt, n, bufs, nil, col.nulls, 0)
		cols[c] = array.MakeFromData(d)
		d.Release()
	}
	w.release() // the arrays hold the buffers now
	rec := array.NewRecordBatch(w.schema, cols, int64(n))
	for _, a := range cols {
		a.Release()
	}
	return rec
}

// release lets go of the writer's buffers and leaves it empty, ready for another record: what
// each column is (its kind, type, Enum codes) stays.
func (w *recWriter) release() {
	for c := range w.cols {
		col := &w.cols[c]
		for _, b := range []*memory.Buffer{col.valid, col.vals, col.offs} {
			if b != nil {
				b.Release()
			}
		}
		w.cols[c] = wcol{kind: col.kind, dt: col.dt, enum: col.enum}
	}
	w.n, w.rows = 0, 0
}
