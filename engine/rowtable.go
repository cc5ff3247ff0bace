package engine

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
)

// The indexes the rules share, made for speed: a city-day's rules had spent most of their
// time hashing and comparing strings in Go maps (a txn_id per invoice looked up among
// 270,000 revenue rows, a counter's three ids and two more strings per settlement key).

// rowTable is an open-addressing hash table of rows, keyed by what the rows hold: a slot
// keeps the top bits of its key's hash beside the row, so that a look-up compares the row's
// own strings (in its Arrow buffers) only when those bits agree. Its slots are 8 bytes each,
// half empty: a city-day's 270,000 txn_ids take 4 MiB, where a map[string]ref took 20.
type rowTable struct {
	slots []uint64 // hash>>rowBits<<rowBits | row+1; 0 is empty
	mask  uint64
}

// rowBits is the width of a slot's row: rows up to 2^40 (no day comes near).
const rowBits = 40

// newRowTable makes a table for n rows.
func newRowTable(n int) rowTable {
	size := 8
	if n > 2 {
		size = max(size, 1<<bits.Len(uint(2*n-1)))
	}
	return rowTable{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// find returns the row of hash h that same says is the key's, or, when there is none, the
// empty slot where it goes (for set).
func (t *rowTable) find(h uint64, same func(row int) bool) (slot int, row int, ok bool) {
	tag := h >> rowBits
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i]
		if e == 0 {
			return int(i), 0, false
		}
		if e>>rowBits == tag {
			if r := int(e&(1<<rowBits-1)) - 1; same(r) {
				return int(i), r, true
			}
		}
	}
}

// reset empties the table and makes it fit n rows, keeping its slots when they are enough.
func (t *rowTable) reset(n int) {
	size := 8
	if n > 2 {
		size = max(size, 1<<bits.Len(uint(2*n-1)))
	}
	if cap(t.slots) < size {
		t.slots = make([]uint64, size)
	} else {
		t.slots = t.slots[:size]
		clear(t.slots)
	}
	t.mask = uint64(size - 1)
}

// partSlots is how many slots of a table partitioned walks at a time: 64 KiB, which the
// cache keeps while they are filled.
const partSlots = 8192

// partitioned calls each(i) for every key i of hashes hs, the keys that go to one part of
// the table together, each part's in the order of i: filled in i's order, a table bigger
// than the cache missed it at nearly every key, when the keys' own strings are mostly
// read only for a key met again. Keys of one hash are in one part, in i's order, so a
// table filled this way is the same as one filled in i's order.
func (t *rowTable) partitioned(hs []uint64, each func(i int)) {
	parts := max(1, len(t.slots)/partSlots)
	shift := uint(bits.Len(uint(len(t.slots)-1)) - bits.Len(uint(parts-1)))
	at := make([]int32, parts+1)
	for _, h := range hs {
		at[(h&t.mask)>>shift+1]++
	}
	for p := 1; p < len(at); p++ {
		at[p] += at[p-1]
	}
	order := make([]int32, len(hs))
	for i, h := range hs {
		p := (h & t.mask) >> shift
		order[at[p]] = int32(i)
		at[p]++
	}
	for _, i := range order {
		each(int(i))
	}
}

// set puts row in slot (find's), under hash h.
func (t *rowTable) set(slot int, h uint64, row int) {
	t.slots[slot] = h>>rowBits<<rowBits | uint64(row+1)
}

// firstOfPair returns, for every row, the first row with its pair of strings (a, b): the
// row itself when none is before it. A pair is hashed as the xor of its strings' hashes,
// a's once per run of rows of one value (an invoice code is a counter's for many rows).
func firstOfPair(a, b *array.String, n int) []int32 {
	seed := maphash.MakeSeed()
	hs := make([]uint64, n)
	var (
		lastA string
		ha    uint64
	)
	for r := range n {
		if va := a.Value(r); r == 0 || va != lastA {
			lastA, ha = va, maphash.String(seed, va)
		}
		hs[r] = ha ^ bits.RotateLeft64(maphash.String(seed, b.Value(r)), 31)
	}
	t := newRowTable(n)
	first := make([]int32, n)
	t.partitioned(hs, func(r int) {
		slot, f, ok := t.find(hs[r], func(v int) bool { return b.Value(v) == b.Value(r) && a.Value(v) == a.Value(r) })
		if ok {
			first[r] = int32(f)
			return
		}
		t.set(slot, hs[r], r)
		first[r] = int32(r)
	})
	return first
}

// txnIndex finds the revenue row (feeds 1, 2, 5, 6, 7) of a txn_id: when several rows have
// it, the last in feed order, then row order (as a map[string] filled in that order had).
type txnIndex struct {
	seed  maphash.Seed
	table rowTable
	txn   [feed.Count]*array.String
	// shadowed marks the rows a later row of the same txn_id hides (nil for a feed
	// without one): lookup never returns them.
	shadowed [feed.Count][]bool
}

// revRow packs a revenue row in a table row: its feed above revRowBits, its row below.
const revRowBits = 36

func newTxnIndex(d *day) *txnIndex {
	x := &txnIndex{seed: maphash.MakeSeed()}
	n := 0
	for _, f := range feed.All {
		if feed.IsRevenue(f) {
			n += d.n(f)
			x.txn[f] = d.str(f, "txn_id")
		}
	}
	x.table = newRowTable(n)
	// The rows' hashes and places, in feed and row order, filled in partitions.
	hs, vs := make([]uint64, 0, n), make([]int, 0, n)
	for _, f := range feed.All {
		if !feed.IsRevenue(f) {
			continue
		}
		for r := 0; r < d.n(f); r++ {
			hs, vs = append(hs, maphash.String(x.seed, x.txn[f].Value(r))), append(vs, int(f)<<revRowBits|r)
		}
	}
	x.table.partitioned(hs, func(i int) {
		// The row's own txn_id is read only for a row of the same tag: read at every row, in
		// the partitions' order, it had missed the cache as the table had.
		slot, old, ok := x.table.find(hs[i], func(v int) bool { return x.txnOf(v) == x.txnOf(vs[i]) })
		if ok { // a later row of the same txn_id takes its slot
			o := unpackRev(old)
			if x.shadowed[o.f] == nil {
				x.shadowed[o.f] = make([]bool, d.n(o.f))
			}
			x.shadowed[o.f][o.row] = true
		}
		x.table.set(slot, hs[i], vs[i])
	})
	return x
}

func (x *txnIndex) txnOf(v int) string {
	return x.txn[v>>revRowBits].Value(v & (1<<revRowBits - 1))
}

// lookup returns the revenue row of txn_id id.
func (x *txnIndex) lookup(id string) (ref, bool) {
	return x.lookupHash(id, maphash.String(x.seed, id))
}

// lookupHash is lookup of id, whose hash (x.seed) is h.
func (x *txnIndex) lookupHash(id string, h uint64) (ref, bool) {
	_, v, ok := x.table.find(h, func(v int) bool { return x.txnOf(v) == id })
	if !ok {
		return ref{}, false
	}
	return unpackRev(v), true
}

func unpackRev(v int) ref { return ref{feed.ID(v >> revRowBits), v & (1<<revRowBits - 1)} }

// counterTxns looks txn_ids up among the revenue rows of one counter first, then in the
// day's txnIndex: the rows an invoice names are mostly its own counter's, and a table of a
// counter's hundred-odd rows, filled reading them in order, answers from the cache where
// the day's 4 MiB table had missed it twice per look-up (its slot, then the row's string).
// A row the counter's table finds stands for its txn_id only when no later row hides it
// (txnIndex.shadowed); else, and when the counter's table finds none, the day's answers.
type counterTxns struct {
	x      *txnIndex
	runs   []revRun // the runs of rows of each counter, by counter number
	at     []int32  // counter c's runs are runs[at[c]:at[c+1]]
	cid    int32    // the counter whose rows table holds; -1 when none
	table  rowTable
	active bool
}

// revRun is rows [start, end) of revenue feed f, of one counter.
type revRun struct {
	f          feed.ID
	start, end int
}

func newCounterTxns(d *day) *counterTxns {
	c := &counterTxns{x: d.revenue, cid: -1, at: make([]int32, len(d.counters)+1)}
	var runs []revRun
	var ids []int32
	for _, f := range feed.All {
		if !feed.IsRevenue(f) {
			continue
		}
		cid := d.cid[f]
		for r := 0; r < len(cid); {
			e := r + 1
			for e < len(cid) && cid[e] == cid[r] {
				e++
			}
			runs, ids = append(runs, revRun{f, r, e}), append(ids, cid[r])
			r = e
		}
	}
	for _, id := range ids {
		c.at[id+1]++
	}
	for i := 1; i < len(c.at); i++ {
		c.at[i] += c.at[i-1]
	}
	c.runs = make([]revRun, len(runs))
	next := slices.Clone(c.at[:len(c.at)-1])
	for i, id := range ids {
		c.runs[next[id]] = runs[i]
		next[id]++
	}
	return c
}

// counter readies the look-ups of rows of counter cid, of which n follow: its table is
// filled when its rows are at most a few times n (rows of counters interleaved would
// otherwise fill tables over and over), else the day's table answers alone.
func (c *counterTxns) counter(cid int32, n int) {
	if cid == c.cid {
		return
	}
	c.cid = cid
	runs := c.runs[c.at[cid]:c.at[cid+1]]
	rows := 0
	for _, run := range runs {
		rows += run.end - run.start
	}
	c.active = rows <= 4*n+16
	if !c.active {
		return
	}
	x := c.x
	c.table.reset(rows)
	for _, run := range runs {
		txn := x.txn[run.f]
		for r := run.start; r < run.end; r++ {
			id := txn.Value(r)
			h := maphash.String(x.seed, id)
			slot, _, _ := c.table.find(h, func(v int) bool { return x.txnOf(v) == id })
			c.table.set(slot, h, int(run.f)<<revRowBits|r)
		}
	}
}

// lookup is txnIndex.lookup.
func (c *counterTxns) lookup(id string) (ref, bool) {
	x := c.x
	h := maphash.String(x.seed, id)
	if c.active {
		if _, v, ok := c.table.find(h, func(v int) bool { return x.txnOf(v) == id }); ok {
			rf := unpackRev(v)
			if sh := x.shadowed[rf.f]; sh == nil || !sh[rf.row] {
				return rf, true
			}
		}
	}
	return x.lookupHash(id, h)
}

// numberCounters numbers the day's counters in compareTriple order and gives every row of
// every feed its counter's number. A counter's rows all carry its city and outlet (place
// rewrote those that did not), so a counter is told by its counter_id alone, and its triple
// is its first row's. The rows of a counter mostly follow each other: a row's id is looked
// up in the map only when it is not the previous row's.
func numberCounters(d *day) (ids [feed.Count][]int32, counters []triple) {
	seen := map[string]int32{}
	var first []triple // by the number of first sight
	for _, f := range feed.All {
		n := d.n(f)
		col := strCol(d.feeds[f], feed.ColCounter)
		out := make([]int32, n)
		var (
			last   string
			lastID int32 = -1
		)
		for r := range n {
			c := col.Value(r)
			if lastID < 0 || c != last {
				id, ok := seen[c]
				if !ok {
					id = int32(len(first))
					seen[c] = id
					first = append(first, d.counterOf(f, r))
				}
				last, lastID = c, id
			}
			out[r] = lastID
		}
		ids[f] = out
	}
	order := make([]int32, len(first))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareTriple(first[a], first[b]) })
	rank := make([]int32, len(first))
	counters = make([]triple, len(first))
	for r, i := range order {
		rank[i] = int32(r)
		counters[r] = first[i]
	}
	for _, out := range ids {
		for r, id := range out {
			out[r] = rank[id]
		}
	}
	return ids, counters
}

// names numbers the few distinct values of an enumerated column (pay methods, categories)
// in the order first seen.
type names struct{ list []string }

func (n *names) id(s string) int32 {
	for i, x := range n.list {
		if x == s {
			return int32(i)
		}
	}
	n.list = append(n.list, s)
	return int32(len(n.list) - 1)
}

// sortByID returns xs sorted by their counters' numbers ids (numberCounters: compareTriple
// order; xs[i]'s is ids[i]), then by keys, stably: the counters are put in order by counting
// and each counter's few elements by their keys, numbers where the lines' strings had been
// compared (a city-day's settlement lines had taken 40 ms to sort by five strings).
func sortByID[T any](xs []T, ids, keys []int32, ncounters int) []T {
	start := make([]int, ncounters+1)
	for _, id := range ids {
		start[id+1]++
	}
	for r := 1; r < len(start); r++ {
		start[r] += start[r-1]
	}
	idx := make([]int32, len(xs))
	next := slices.Clone(start[:ncounters])
	for i, id := range ids {
		idx[next[id]] = int32(i)
		next[id]++
	}
	for r := range ncounters {
		part := idx[start[r]:start[r+1]]
		if len(part) > 32 {
			slices.SortStableFunc(part, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
			continue
		}
		for i := 1; i < len(part); i++ {
			for j := i; j > 0 && keys[part[j-1]] > keys[part[j]]; j-- {
				part[j-1], part[j] = part[j], part[j-1]
			}
		}
	}
	out := make([]T, len(xs))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// ranks returns the place of each name in the names' string order.
func (n *names) ranks() []int32 {
	order := make([]int32, len(n.list))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(n.list[a], n.list[b]) })
	rank := make([]int32, len(n.list))
	for r, i := range order {
		rank[i] = int32(r)
	}
	return rank
}
