package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
)

// Reuser lets Render skip a report whose content did not change since an earlier run
// (issue 17.3). Before rendering a file, Render computes its content key: a digest of
// everything the file shows but the run id and the time it was generated (its lines,
// exceptions, status, feed rows, labels and language, source, tool version and, for a
// PDF, the run's font). Its methods are called from Render's workers concurrently.
type Reuser interface {
	// Reuse puts an earlier run's file rel into the run being written when that file was
	// rendered under key, and returns the id of the run that rendered it (the id the file
	// shows) and true; false when rel must be rendered.
	Reuse(rel, key string) (renderedIn string, ok bool, err error)
	// Rendered records that rel was rendered in this run under key.
	Rendered(rel, key string)
}

// keyVersion changes when what a content key covers changes.
const keyVersion = "settle-report-key-3"

// buildStamp is the tool's identity beyond its version: the VCS revision the binary was
// built from, when the build recorded one, so that a development build that changed how
// reports look does not reuse the files of the build before.
var buildStamp = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	s := bi.Main.Version
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" || kv.Key == "vcs.modified" {
			s += " " + kv.Key + "=" + kv.Value
		}
	}
	return s
})

// keyHasher writes values into a sha256, each one length-prefixed so that no two sequences
// of values hash alike.
type keyHasher struct {
	b []byte // what is hashed, gathered: one sha256 call per key (a Write per value had been most of a refresh's keys)
	// h takes long slices (raw) as they are, after b: copying a city-day's feed rows into b
	// had cost more than the Writes.
	h hash.Hash
}

var keyBufs = sync.Pool{New: func() any { return &keyHasher{h: sha256.New()} }}

// raw writes p as it is (what it is and how long must be written before).
func (k *keyHasher) raw(p []byte) {
	if len(p) < 256 {
		k.b = append(k.b, p...)
		return
	}
	k.h.Write(k.b)
	k.b = k.b[:0]
	k.h.Write(p)
}

func newKeyHasher() *keyHasher { return keyBufs.Get().(*keyHasher) }

func (k *keyHasher) int(v int64) { k.b = binary.LittleEndian.AppendUint64(k.b, uint64(v)) }

// str writes each string after its length as a uvarint (a prefix no string can be taken for;
// 8 bytes of length had been most of what the keys of a day's short ids hashed).
func (k *keyHasher) str(ss ...string) {
	for _, s := range ss {
		k.b = binary.AppendUvarint(k.b, uint64(len(s)))
		k.b = append(k.b, s...)
	}
}

func (k *keyHasher) bool(b bool) {
	if b {
		k.int(1)
	} else {
		k.int(0)
	}
}

func (k *keyHasher) ints(vs []int64) {
	k.int(int64(len(vs)))
	for _, v := range vs {
		k.int(v)
	}
}

// sum is the key; the hasher goes back to the pool and must not be used after.
func (k *keyHasher) sum() string {
	k.h.Write(k.b)
	var s [sha256.Size]byte
	k.h.Sum(s[:0])
	k.h.Reset()
	k.b = k.b[:0]
	keyBufs.Put(k)
	return hex.EncodeToString(s[:])
}

// runKey is the part of every content key the run's files share: what the key covers, the
// tool, the language, the date, the source shown in headers, and the tables' rows and columns.
func (r *renderer) runKey() string {
	k := newKeyHasher()
	k.str(keyVersion, r.opts.ToolVersion, buildStamp(), r.opts.Lang, r.ix.res.BizDate(), r.opts.Source)
	k.bool(r.opts.DayOpen) // the open day's mark on every report
	k.str(r.ix.cats...)
	k.str("|")
	k.str(r.ix.methods...)
	return k.sum()
}

// counterKey is the digest of what a counter's reports show.
func (r *renderer) counterKey(v *counterView) string {
	k := newKeyHasher()
	k.str(r.base)
	c := v.info
	k.str(c.City, c.Outlet, c.Counter)
	k.bool(c.Incomplete)
	k.int(int64(len(c.Why)))
	k.str(c.Why...)
	for _, g := range [][][]int64{v.gross, v.reversed, v.net} {
		for _, row := range g {
			k.ints(row)
		}
	}
	k.ints(v.expected)
	k.ints(v.deposited)
	k.ints(v.variance)
	k.int(int64(len(v.exceptions)))
	for _, e := range v.exceptions {
		k.str(string(e.Code), string(e.Severity), e.City, e.Outlet, e.Counter, e.Feed, e.TxnID, e.Detail, e.Source, e.Key)
		k.int(e.Amount)
		k.bool(e.HasAmount)
	}
	for id := range feed.Count {
		var rows []int
		if v.rows != nil {
			rows = v.rows[id]
		}
		k.int(int64(len(rows)))
		rec := r.ix.res.Feeds[id]
		if rec == nil || len(rows) == 0 {
			continue
		}
		k.int(rec.NumCols())
		for j, col := range rec.Columns() {
			k.str(rec.ColumnName(j))
			if _, ok := col.(*array.String); ok && (j == feed.ColCity || j == feed.ColOutlet || j == feed.ColCounter) {
				// The rows are the counter's because these read c.City, c.Outlet and
				// c.Counter (newRunIndex), written above: only their nulls are left to say.
				k.b = append(k.b, 'k')
				k.nulls(col, rows)
				continue
			}
			hashColumn(k, col, rows)
		}
	}
	return k.sum()
}

// littleEndian is whether the machine's integers are little-endian: a column's fixed-width
// values are then hashed as they lie in its buffer, the bytes the row-by-row path writes.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// hashColumn writes the values of rows (row numbers of col, ascending) so that they can be
// read back, whatever else the record holds: a tag naming the column's type, the rows' nulls
// (0, or 1 and a byte per row, 1 for a null), then the values: for strings and fixed-width
// types a form byte, 'c' and the one value when every row holds the same (a day's date, the
// source of a counter's rows), 'q' and the first value when each fixed-width row holds the
// one before plus 1 (the lines of a counter's own file or pull), else 'a' and every value:
// a string column's as each row's length, in as many bytes (1, 2 or 4, written first) as the
// longest needs, then the rows' bytes end to end; a fixed-width column's little-endian. A
// null row's value is written as its slot holds it. A counter's rows follow one another in a
// feed's record (the engine sorts the feeds by counter): they are then written from the
// column's buffers in bulk rather than value by value (the keys of a city-day's counters
// cover every row of the day); rows that do not are written one by one, as the same bytes.
func hashColumn(k *keyHasher, col arrow.Array, rows []int) {
	lo, hi := rows[0], rows[len(rows)-1]+1
	run := hi-lo == len(rows) // rows are lo, lo+1, …, hi-1
	k.b = append(k.b, typeTag(col))
	k.nulls(col, rows)
	switch a := col.(type) {
	case *array.String:
		hashStrings(k, a, rows, run)
	case *array.Int64:
		hashFixed(k, a.Int64Values(), 8, rows, run, arrow.Int64Traits.CastToBytes)
	case *array.Timestamp:
		hashFixed(k, a.TimestampValues(), 8, rows, run, arrow.TimestampTraits.CastToBytes)
	case *array.Int32:
		hashFixed(k, a.Int32Values(), 4, rows, run, arrow.Int32Traits.CastToBytes)
	case *array.Date32:
		hashFixed(k, a.Date32Values(), 4, rows, run, arrow.Date32Traits.CastToBytes)
	case *array.Boolean:
		for _, i := range rows {
			if a.Value(i) {
				k.b = append(k.b, 1)
			} else {
				k.b = append(k.b, 0)
			}
		}
	default:
		for _, i := range rows {
			k.str(col.DataType().String(), col.ValueStr(i))
		}
	}
}

// typeTag is the byte hashColumn writes first for a column of col's type.
func typeTag(col arrow.Array) byte {
	switch col.(type) {
	case *array.String:
		return 's'
	case *array.Int64:
		return 'l'
	case *array.Timestamp:
		return 't'
	case *array.Int32:
		return 'i'
	case *array.Date32:
		return 'd'
	case *array.Boolean:
		return 'b'
	}
	return 'v'
}

// hashFixed writes the values v[i] of rows, size bytes each: 'c' and the value every row
// holds, 'q' and the first of values going up by 1 from row to row, or 'a' and every value
// (from v's buffer as it lies when rows run on and the machine is little-endian: asBytes).
func hashFixed[T ~int32 | ~int64](k *keyHasher, v []T, size int, rows []int, run bool, asBytes func([]T) []byte) {
	put := func(x T) {
		if size == 4 {
			k.b = binary.LittleEndian.AppendUint32(k.b, uint32(x))
		} else {
			k.b = binary.LittleEndian.AppendUint64(k.b, uint64(x))
		}
	}
	lo, hi := rows[0], rows[len(rows)-1]+1
	first := v[lo]
	same, step := true, true
	if run {
		for j, x := range v[lo:hi] {
			same, step = same && x == first, step && x == first+T(j)
			if !same && !step {
				break
			}
		}
	} else {
		for j, i := range rows {
			x := v[i]
			same, step = same && x == first, step && x == first+T(j)
			if !same && !step {
				break
			}
		}
	}
	switch {
	case same:
		k.b = append(k.b, 'c')
		put(first)
	case step:
		k.b = append(k.b, 'q')
		put(first)
	case run && littleEndian:
		k.b = append(k.b, 'a')
		k.raw(asBytes(v[lo:hi]))
	default:
		k.b = append(k.b, 'a')
		for _, i := range rows {
			put(v[i])
		}
	}
}

// nulls writes which of rows are null: 0 when none is (whatever col's other rows hold), else
// 1 and a byte per row, 1 for a null.
func (k *keyHasher) nulls(col arrow.Array, rows []int) {
	if col.NullN() == 0 {
		k.b = append(k.b, 0)
		return
	}
	at := len(k.b)
	k.b = append(k.b, 1)
	some := false
	for _, i := range rows {
		if col.IsNull(i) {
			k.b, some = append(k.b, 1), true
		} else {
			k.b = append(k.b, 0)
		}
	}
	if !some {
		k.b = append(k.b[:at], 0)
	}
}

// hashStrings writes the values of rows of a: 'c', the length as a uvarint and the bytes of
// the value every row holds; or 'a', the lengths of the rows in the width the longest needs
// (1, 2 or 4 bytes, written first), then their bytes end to end (rows lo..hi-1, run, in one
// slice).
func hashStrings(k *keyHasher, a *array.String, rows []int, run bool) {
	offs := a.ValueOffsets() // row i is data[offs[i]-offs[0] : offs[i+1]-offs[0]]
	data := a.ValueBytes()
	base := offs[0]
	value := func(i int) []byte { return data[offs[i]-base : offs[i+1]-base] }
	n0 := offs[rows[0]+1] - offs[rows[0]]
	longest, sameLen := int32(0), true
	if run { // the offsets of the rows, in order: no row numbers to go through
		o := offs[rows[0] : rows[len(rows)-1]+2]
		for j := 1; j < len(o); j++ {
			n := o[j] - o[j-1]
			longest, sameLen = max(longest, n), sameLen && n == n0
		}
	} else {
		for _, i := range rows {
			n := offs[i+1] - offs[i]
			longest, sameLen = max(longest, n), sameLen && n == n0
		}
	}
	if sameLen {
		first, same := value(rows[0]), true
		if run {
			// n rows of the one length run on: they are all the first when the slab of
			// them is the same shifted by a row (one compare, not one a row).
			slab := data[offs[rows[0]]-base : offs[rows[len(rows)-1]+1]-base]
			same = bytes.Equal(slab[len(first):], slab[:len(slab)-len(first)])
		} else {
			for _, i := range rows[1:] {
				if !bytes.Equal(value(i), first) {
					same = false
					break
				}
			}
		}
		if same {
			k.b = append(binary.AppendUvarint(append(k.b, 'c'), uint64(len(first))), first...)
			return
		}
	}
	k.b = append(k.b, 'a')
	w := 4
	switch {
	case longest < 1<<8:
		w = 1
	case longest < 1<<16:
		w = 2
	}
	k.b = append(k.b, byte(w))
	at := len(k.b)
	k.b = slices.Grow(k.b, w*len(rows))[:at+w*len(rows)]
	dst := k.b[at:]
	switch {
	case w == 1 && run:
		o := offs[rows[0] : rows[len(rows)-1]+2]
		for j := range dst {
			dst[j] = byte(o[j+1] - o[j])
		}
	case w == 1:
		for j, i := range rows {
			dst[j] = byte(offs[i+1] - offs[i])
		}
	case w == 2:
		for j, i := range rows {
			binary.LittleEndian.PutUint16(dst[2*j:], uint16(offs[i+1]-offs[i]))
		}
	default:
		for j, i := range rows {
			binary.LittleEndian.PutUint32(dst[4*j:], uint32(offs[i+1]-offs[i]))
		}
	}
	if run {
		lo, hi := rows[0], rows[len(rows)-1]+1
		k.raw(data[offs[lo]-base : offs[hi]-base])
		return
	}
	for _, i := range rows {
		k.b = append(k.b, value(i)...)
	}
}

// fileKey is the content key of one file of a counter: its format and, for a PDF, the font
// the run embeds (cut to the run's characters, so it can change with another counter's text).
func (r *renderer) fileKey(counterKey, format string) string {
	k := newKeyHasher()
	k.str(counterKey, format)
	if format == FormatPDF && r.font != nil {
		k.str(r.fontSum)
	}
	return k.sum()
}

// rollupKey is the content key of a roll-up file: what its tables show (every row's leading
// cells and figures, the findings of no counter included), the reasons of its incomplete
// counters (the PDF lists them), and, for a PDF, the run's font. The title's run id is left
// out: a reused roll-up names the run that rendered it.
func (r *renderer) rollupKey(ru *rollup, format string) string {
	k := newKeyHasher()
	k.str(r.base, format, ru.file, ru.outlet)
	k.int(int64(len(ru.counters)))
	for _, c := range ru.counters {
		k.str(c.City, c.Outlet, c.Counter)
		k.bool(c.Incomplete)
		k.int(int64(len(c.Why)))
		k.str(c.Why...)
	}
	k.int(int64(len(ru.tables)))
	for _, t := range ru.tables {
		k.str(t.name)
		k.int(int64(len(t.heads)))
		k.str(t.heads...)
		k.int(int64(len(t.rows)))
		for _, row := range t.rows {
			k.bool(row.total)
			k.int(int64(len(row.lead)))
			for _, c := range row.lead {
				k.str(c.s)
				k.int(int64(c.n))
				k.bool(c.num)
				k.int(int64(c.mark))
			}
			tl := row.t
			k.ints([]int64{int64(tl.counters), int64(tl.incomplete), int64(tl.errors), int64(tl.warnings)})
			k.ints(tl.netCat)
			k.ints(tl.exp)
			k.ints(tl.dep)
			k.ints(tl.vari)
		}
	}
	if format == FormatPDF && r.font != nil {
		k.str(r.fontSum)
	}
	return k.sum()
}

// reuse offers rel under key to the Reuser: true when the earlier file was taken. Without a
// Reuser it is always false.
func (r *renderer) reuse(rel, key string) (bool, error) {
	if r.opts.Reuse == nil {
		return false, nil
	}
	_, ok, err := r.opts.Reuse.Reuse(rel, key)
	return ok, err
}

// rendered tells the Reuser that rel was rendered under key.
func (r *renderer) rendered(rel, key string) {
	if r.opts.Reuse != nil {
		r.opts.Reuse.Rendered(rel, key)
	}
}

// fontDigest names a font's bytes.
func fontDigest(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
