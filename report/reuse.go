package report

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime/debug"
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
const keyVersion = "settle-report-key-2"

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
}

var keyBufs = sync.Pool{New: func() any { return new(keyHasher) }}

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
	s := sha256.Sum256(k.b)
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
		for j, col := range rec.Columns() {
			k.str(rec.ColumnName(j))
			hashColumn(k, col, rows)
		}
	}
	return k.sum()
}

// hashColumn writes the values of rows of one column (a null as -1). The type is switched on
// once per column, not per row: the keys of a city-day's counters cover every row of the day.
func hashColumn(k *keyHasher, col arrow.Array, rows []int) {
	nulls := col.NullN() > 0
	each := func(v func(i int)) {
		for _, i := range rows {
			if nulls && col.IsNull(i) {
				k.int(-1)
				continue
			}
			v(i)
		}
	}
	switch a := col.(type) {
	case *array.String:
		if !nulls { // without a call through each per row: the keys cover every row of the day
			for _, i := range rows {
				k.str(a.Value(i))
			}
			return
		}
		each(func(i int) { k.str(a.Value(i)) })
	case *array.Int64:
		v := a.Int64Values()
		each(func(i int) { k.int(v[i]) })
	case *array.Int32:
		v := a.Int32Values()
		each(func(i int) { k.int(int64(v[i])) })
	case *array.Date32:
		v := a.Date32Values()
		each(func(i int) { k.int(int64(v[i])) })
	case *array.Timestamp:
		v := a.TimestampValues()
		each(func(i int) { k.int(int64(v[i])) })
	case *array.Boolean:
		each(func(i int) { k.bool(a.Value(i)) })
	default:
		each(func(i int) { k.str(col.DataType().String(), col.ValueStr(i)) })
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
