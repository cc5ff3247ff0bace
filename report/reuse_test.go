package report

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/feed"
)

// keyOfCounter is counterKey of counter (of testResult's TY0001) in res.
func keyOfCounter(t *testing.T, res *engine.Result, counter string) string {
	t.Helper()
	opts := testOptions("zh")
	l, _ := labelsFor(opts.Lang)
	r := &renderer{ix: newRunIndex(res), l: l, opts: &opts}
	r.base = r.runKey()
	for _, c := range res.Counters {
		if c.Counter == counter {
			return r.counterKey(r.ix.counter(c))
		}
	}
	t.Fatalf("no counter %s", counter)
	return ""
}

// orderRow is a row of the order feed of counter, with its source and line.
func orderRow(counter, txn, orderID string, amount int64, pay any, line int64) row {
	return row{testDate, "TY", "TY0001", counter, txn, "2026-11-21 09:30:00", orderID, "13900000001", "OPEN", amount, pay, "order.csv", line}
}

// withOrders is testResult with its order feed made of rows.
func withOrders(t *testing.T, mem memory.Allocator, rows ...row) *engine.Result {
	t.Helper()
	res := testResult(t, mem)
	res.Feeds[feed.Order] = buildFeed(t, mem, feed.Order, rows)
	return res
}

// TestCounterKeyFollowsFeedRows: a counter's content key changes with any value, null, count
// or order of its feed rows, sequences that differ only in where a string's bytes are cut do
// not hash alike, and another counter's rows do not move it.
func TestCounterKeyFollowsFeedRows(t *testing.T) {
	mem := memory.NewGoAllocator()
	const a, b = "TY0001-01", "TY0001-02"
	base := []row{
		orderRow(a, "O001", "ab", 100000, "CASH", 2),
		orderRow(a, "O002", "c", 23450, "CASH", 3),
		orderRow(a, "O003", "d", 0, "", 4),
		orderRow(b, "O201", "e", 500, "CASH", 5),
	}
	edit := func(i, col int, v any) []row {
		out := make([]row, len(base))
		for j, r := range base {
			out[j] = append(row{}, r...)
		}
		out[i][col] = v
		return out
	}
	const colTxn, colOrder, colAmount, colPay, colLine = 4, 6, 9, 10, 12
	key := func(rows []row, counter string) string {
		return keyOfCounter(t, withOrders(t, mem, rows...), counter)
	}
	ka, kb := key(base, a), key(base, b)
	if ka == kb {
		t.Fatal("two counters share a key")
	}
	if key(base, a) != ka {
		t.Fatal("the key is not a function of the content")
	}
	moved := edit(0, colOrder, "a")
	moved[1][colOrder] = "bc" // "ab","c" → "a","bc"
	for name, rows := range map[string][]row{
		"an amount":                        edit(1, colAmount, int64(23451)),
		"a string":                         edit(0, colTxn, "O00X"),
		"bytes moved between two cells":    moved,
		"an empty string made null":        edit(2, colPay, nil),
		"a line number":                    edit(2, colLine, int64(40)),
		"a row removed":                    {base[0], base[1], base[3]},
		"two rows swapped":                 {base[1], base[0], base[2], base[3]},
		"a row of the counter's own added": {base[0], base[1], base[2], orderRow(a, "O004", "f", 1, "CASH", 6), base[3]},
	} {
		if key(rows, a) == ka {
			t.Errorf("%s: the counter's key did not change", name)
		}
	}
	// Every column of the counter's rows but its city, outlet and counter (which would make
	// the row another counter's): a value changed, and a value made null.
	schema := feed.Schema(feed.Order)
	for c := range base[0] {
		if c == feed.ColCity || c == feed.ColOutlet || c == feed.ColCounter {
			continue
		}
		var other any
		switch v := base[0][c]; schema.Field(c).Type.ID() {
		case arrow.DATE32:
			other = "2026-11-20"
		case arrow.TIMESTAMP:
			other = "2026-11-21 09:31:00"
		case arrow.INT64:
			other = v.(int64) + 1
		case arrow.STRING:
			other = v.(string) + "X"
		default:
			t.Fatalf("column %s: type %s", schema.Field(c).Name, schema.Field(c).Type)
		}
		if key(edit(0, c, other), a) == ka {
			t.Errorf("column %s: a value changed: the counter's key did not change", schema.Field(c).Name)
		}
		if key(edit(0, c, nil), a) == ka {
			t.Errorf("column %s: a value made null: the counter's key did not change", schema.Field(c).Name)
		}
	}
	for name, rows := range map[string][]row{
		"an amount":              edit(3, colAmount, int64(501)),
		"a value made null":      edit(3, colPay, nil),
		"a row of its own added": append(append([]row{}, base...), orderRow(b, "O202", "g", 1, "CASH", 6)),
	} {
		if key(rows, a) != ka {
			t.Errorf("another counter's rows: %s: the counter's key changed", name)
		}
		if key(rows, b) == kb {
			t.Errorf("another counter's rows: %s: that counter's key did not change", name)
		}
	}
	// The same rows not next to each other in the record (written row by row) have the
	// key they have next to each other (written in bulk).
	split := []row{base[0], base[3], base[1], base[2]}
	if got := key(split, a); got != ka {
		t.Error("the counter's rows split by another's: the key differs from theirs together")
	}
}

// TestRunIndexRowsOfEachCounter: the run index gives each counter exactly its own rows of a
// feed, in order, when they come in runs split by another counter's, and when two counters
// next to each other share a counter id in two outlets (a run is one city, outlet and counter).
func TestRunIndexRowsOfEachCounter(t *testing.T) {
	mem := memory.NewGoAllocator()
	at := func(outlet, counter string) row {
		return row{testDate, "TY", outlet, counter, "O", "2026-11-21 09:30:00", "o", "13900000001", "OPEN", int64(1), "CASH", "order.csv", int64(2)}
	}
	res := testResult(t, mem)
	res.Feeds[feed.Order] = buildFeed(t, mem, feed.Order, []row{
		at("TY0001", "A"), at("TY0001", "B"), at("TY0001", "A"), at("TY0001", "A"), // A split by B
		at("TY0001", "X"), at("TY0002", "X"), at("TY0002", "X"), at("TY0001", "X"), // X of two outlets
		at("TY0001", "B"),
	})
	ix := newRunIndex(res)
	for k, want := range map[key][]int{
		{"TY", "TY0001", "A"}: {0, 2, 3},
		{"TY", "TY0001", "B"}: {1, 8},
		{"TY", "TY0001", "X"}: {4, 7},
		{"TY", "TY0002", "X"}: {5, 6},
	} {
		r := ix.rows[k]
		if r == nil {
			t.Errorf("%v: no rows", k)
			continue
		}
		if got := r[feed.Order]; !slices.Equal(got, want) {
			t.Errorf("%v: rows %v, want %v", k, got, want)
		}
	}
}

// TestHashColumnBulkIsRowByRow: a column's rows hashed from its buffers in bulk give the bytes
// they give one by one, for every kind of column and an array that is a slice of another;
// and values that differ only in where they are cut, or in a null, give different bytes.
func TestHashColumnBulkIsRowByRow(t *testing.T) {
	mem := memory.NewGoAllocator()
	// vals are the rows; the bulk array holds them at 0..n-1, the scattered one at 0, 2, 4, …
	// between fillers.
	build := func(b array.Builder, vals []any, filler any, scattered bool) arrow.Array {
		app := func(v any) {
			if v == nil {
				b.AppendNull()
				return
			}
			switch b := b.(type) {
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Int32Builder:
				b.Append(v.(int32))
			case *array.Date32Builder:
				b.Append(arrow.Date32(v.(int32)))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v.(int64)))
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.Float64Builder:
				b.Append(v.(float64))
			}
		}
		app(filler)
		for _, v := range vals {
			app(v)
			if scattered {
				app(filler)
			}
		}
		app(filler)
		arr := b.NewArray()
		s := array.NewSlice(arr, 1, int64(arr.Len())) // an offset into the buffers
		arr.Release()
		return s
	}
	hash := func(col arrow.Array, rows []int) []byte {
		k := newKeyHasher()
		hashColumn(k, col, rows)
		return []byte(k.sum())
	}
	cases := []struct {
		name   string
		b      func() array.Builder
		vals   []any
		filler any
	}{
		{"string", func() array.Builder { return array.NewStringBuilder(mem) }, []any{"ab", nil, "", "长一点的文字", "c"}, "filler-of-another-counter"},
		{"long string", func() array.Builder { return array.NewStringBuilder(mem) }, []any{string(make([]byte, 300)), "x"}, "f"},
		{"longer string", func() array.Builder { return array.NewStringBuilder(mem) }, []any{string(make([]byte, 70000)), "x"}, "f"},
		{"many int64", func() array.Builder { return array.NewInt64Builder(mem) }, []any{int64(1), nil, int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8), int64(9), int64(10), int64(11), int64(12), int64(13), int64(14), int64(15), int64(16), int64(17), int64(18), int64(19), int64(20), int64(21), int64(22), int64(23), int64(24), int64(25), int64(26), int64(27), int64(28), int64(29), int64(30), int64(31), int64(32), int64(33)}, int64(7)},
		{"int64", func() array.Builder { return array.NewInt64Builder(mem) }, []any{int64(-1), nil, int64(0), int64(1 << 40)}, int64(7)},
		{"int32", func() array.Builder { return array.NewInt32Builder(mem) }, []any{int32(-1), nil, int32(5)}, int32(7)},
		{"date32", func() array.Builder { return array.NewDate32Builder(mem) }, []any{int32(20000), nil, int32(20001)}, int32(7)},
		{"timestamp", func() array.Builder {
			return array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second})
		}, []any{int64(1764892800), nil, int64(0)}, int64(7)},
		{"one string", func() array.Builder { return array.NewStringBuilder(mem) }, []any{"order/TY0001-01", nil, "order/TY0001-01"}, "f"},
		{"one int64", func() array.Builder { return array.NewInt64Builder(mem) }, []any{int64(5), nil, int64(5)}, int64(7)},
		{"int64 going up", func() array.Builder { return array.NewInt64Builder(mem) }, []any{int64(5), int64(6), int64(7)}, int64(7)},
		{"one date32", func() array.Builder { return array.NewDate32Builder(mem) }, []any{int32(20000), int32(20000)}, int32(7)},
		{"date32 going up", func() array.Builder { return array.NewDate32Builder(mem) }, []any{int32(20000), int32(20001)}, int32(7)},
		{"bool", func() array.Builder { return array.NewBooleanBuilder(mem) }, []any{true, nil, false}, true},
		{"other", func() array.Builder { return array.NewFloat64Builder(mem) }, []any{1.5, nil, 0.0}, 7.0},
	}
	for _, c := range cases {
		bulk := build(c.b(), c.vals, c.filler, false)
		scat := build(c.b(), c.vals, c.filler, true)
		var rb, rs []int
		for i := range c.vals {
			rb = append(rb, i)
			rs = append(rs, 2*i)
		}
		hb, hs := hash(bulk, rb), hash(scat, rs)
		if !bytes.Equal(hb, hs) {
			t.Errorf("%s: in bulk %x, row by row %x", c.name, hb, hs)
		}
		// Without the null row the column hashes as one with no nulls: the rows around
		// (another counter's) do not change it.
		if c.vals[1] == nil {
			noNull := build(c.b(), []any{c.vals[0]}, nil, false)
			if !bytes.Equal(hash(noNull, []int{0}), hash(bulk, []int{0})) {
				t.Errorf("%s: a null in another row changes the bytes of a row", c.name)
			}
		}
		bulk.Release()
		scat.Release()
	}
	// hashAll is hash of every row of arr, which it releases.
	hashAll := func(arr arrow.Array) []byte {
		defer arr.Release()
		rows := make([]int, arr.Len())
		for i := range rows {
			rows[i] = i
		}
		return hash(arr, rows)
	}
	str := func(vals ...any) []byte {
		b := array.NewStringBuilder(mem)
		for _, v := range vals {
			if v == nil {
				b.AppendNull()
			} else {
				b.Append(v.(string))
			}
		}
		return hashAll(b.NewArray())
	}
	for _, p := range [][2][]any{
		{{"ab", "c"}, {"a", "bc"}},
		{{"", "x"}, {nil, "x"}},
		{{"abc"}, {"ab", "c"}},
		{{"x", "x"}, {"x", "y"}},
		{{"xy", "xy"}, {"xy", "xz"}},
		{{"x", "x"}, {"xx"}},
		// lengths 300, 1 and 44, 257: the same low bytes, told apart by the lengths' width
		{{strings.Repeat("a", 300), "b"}, {strings.Repeat("a", 44), strings.Repeat("a", 256) + "b"}},
		{{strings.Repeat("a", 65537), "b"}, {"a", strings.Repeat("a", 65536) + "b"}}, // 65537, 1 and 1, 65537
	} {
		if bytes.Equal(str(p[0]...), str(p[1]...)) {
			t.Errorf("%.40q and %.40q hash alike", p[0], p[1])
		}
	}
	ints := func(vals ...int64) []byte {
		b := array.NewInt64Builder(mem)
		b.AppendValues(vals, nil)
		return hashAll(b.NewArray())
	}
	seen := map[string][]int64{}
	for _, vs := range [][]int64{{5, 5}, {5, 6}, {5, 7}, {6, 6}, {6, 7}, {5, 6, 7}, {5, 5, 5}, {5, 6, 8}} {
		h := string(ints(vs...))
		if o, dup := seen[h]; dup && len(o) == len(vs) {
			t.Errorf("%v and %v hash alike", o, vs)
		}
		seen[h] = vs
	}
	i64 := func(null bool) []byte {
		b := array.NewInt64Builder(mem)
		if null {
			b.AppendNull()
		} else {
			b.Append(0)
		}
		arr := b.NewArray()
		defer arr.Release()
		return hash(arr, []int{0})
	}
	if bytes.Equal(i64(true), i64(false)) {
		t.Error("a null and a 0 hash alike")
	}
}

// BenchmarkCounterKeys: the content keys of a day of 400 counters of 60 order rows each (a
// refresh computes every counter's).
func BenchmarkCounterKeys(b *testing.B) {
	mem := memory.NewGoAllocator()
	res := testResult(b, mem)
	var rows []row
	res.Counters = nil
	for c := range 400 {
		counter := fmt.Sprintf("TY%04d-%02d", c/5, c%5)
		res.Counters = append(res.Counters, engine.CounterInfo{City: "TY", Outlet: counter[:6], Counter: counter})
		for i := range 60 {
			var pay any = "CASH"
			if i%7 == 0 {
				pay = nil
			}
			rows = append(rows, row{testDate, "TY", counter[:6], counter, fmt.Sprintf("T%08d", len(rows)), "2026-11-21 09:30:00",
				fmt.Sprintf("ORD%07d", len(rows)), "13900000001", "OPEN", int64(100 * i), pay, "order/" + counter, int64(i + 2)})
		}
	}
	res.Feeds[feed.Order] = buildFeed(b, mem, feed.Order, rows)
	opts := testOptions("zh")
	l, _ := labelsFor(opts.Lang)
	r := &renderer{ix: newRunIndex(res), l: l, opts: &opts}
	r.base = r.runKey()
	views := make([]*counterView, len(res.Counters))
	for i, c := range res.Counters {
		views[i] = r.ix.counter(c)
	}
	// What goes into the sha256, per op (every key's bytes pass through the hash's Write).
	var hashed int64
	saved := keyBufs.New
	keyBufs.New = func() any { return &keyHasher{h: &countingHash{Hash: sha256.New(), n: &hashed}} }
	defer func() { keyBufs.New = saved }()
	for x := keyBufs.Get(); ; x = keyBufs.Get() { // drop the pool's hashers until New makes one
		if _, ok := x.(*keyHasher).h.(*countingHash); ok {
			keyBufs.Put(x)
			break
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, v := range views {
			r.counterKey(v)
		}
	}
	b.ReportMetric(float64(hashed)/float64(b.N), "hashed-B/op")
}

// countingHash counts the bytes written to a hash.
type countingHash struct {
	hash.Hash
	n *int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return c.Hash.Write(p)
}
