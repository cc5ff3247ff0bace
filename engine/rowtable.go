package engine

import (
	"hash/maphash"
	"math/bits"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
)

// The indexes the rules share, made for speed: a city-day's rules had spent most of their
// time hashing and comparing strings in Go maps (a txn_id per invoice looked up among
// 270,000 revenue rows, a counter's three ids and two more strings per settlement key).

// rowTable is an open-addressing hash table of rows, keyed by what the rows hold: a slot
// keeps the top bits of its key's hash beside the row, so that a look-up compares the row's
// own strings (in its Arrow buffers) only when those bits agree. Its slots are 8 bytes each,
// half empty: a city-day's 270,000 txn_ids take 4 MiB, where a map[string] took 13.
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

// set puts row in slot (find's), under hash h.
func (t *rowTable) set(slot int, h uint64, row int) {
	t.slots[slot] = h>>rowBits<<rowBits | uint64(row+1)
}

// txnIndex finds the revenue row (feeds 1, 2, 5, 6, 7) of a txn_id: when several rows have
// it, the last in feed order, then row order (as a map[string] filled in that order had).
type txnIndex struct {
	seed  maphash.Seed
	table rowTable
	txn   [feed.Count]*array.String
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
	for _, f := range feed.All {
		if !feed.IsRevenue(f) {
			continue
		}
		for r := 0; r < d.n(f); r++ {
			id := x.txn[f].Value(r)
			h := maphash.String(x.seed, id)
			slot, _, _ := x.table.find(h, func(v int) bool { return x.txnOf(v) == id })
			x.table.set(slot, h, int(f)<<revRowBits|r) // a later row of the same txn_id takes its slot
		}
	}
	return x
}

func (x *txnIndex) txnOf(v int) string {
	return x.txn[v>>revRowBits].Value(v & (1<<revRowBits - 1))
}

// lookup returns the revenue row of txn_id id.
func (x *txnIndex) lookup(id string) (ref, bool) {
	_, v, ok := x.table.find(maphash.String(x.seed, id), func(v int) bool { return x.txnOf(v) == id })
	if !ok {
		return ref{}, false
	}
	return ref{feed.ID(v >> revRowBits), v & (1<<revRowBits - 1)}, true
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
// order; xs[i]'s is ids[i]), then by rest, stably: sortByCounter's order, the counters
// ranked already.
func sortByID[T any](xs []T, ids []int32, ncounters int, rest func(a, b *T) int) []T {
	start := make([]int, ncounters+1)
	for _, id := range ids {
		start[id+1]++
	}
	for r := 1; r < len(start); r++ {
		start[r] += start[r-1]
	}
	out := make([]T, len(xs))
	next := slices.Clone(start[:ncounters])
	for i, id := range ids {
		out[next[id]] = xs[i]
		next[id]++
	}
	for r := range ncounters {
		sortPart(out[start[r]:start[r+1]], rest)
	}
	return out
}
