package engine

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
	"settle/internal/i18n"
)

// assemble applies RULES.md §1 across the loaded inputs (which are in canonical order): the
// rows of other counters in per-counter inputs are set aside, then duplicate txn_ids and
// deposit slips; each feed's valid rows are concatenated into one record. The per-input
// records are released.
//
// The findings about rows of other counters (foreign) carry the input's counter but no city
// or outlet yet: the caller gives them the counter's once place has settled them.
//
// The raw text of the rows it sets aside is read again from their inputs in the background:
// rejects' Raw is filled once rawsRead is closed, and nothing may read or grow rejects before.
func (l *loader) assemble(loads []*loaded, known *counters) (feeds [feed.Count]arrow.RecordBatch, rejects []Reject, excs, foreign []Exception, rawsRead <-chan struct{}, err error) {
	drop := map[*loaded][]bool{}
	needRaw := map[*loaded][]int{} // rejects whose raw text is still to be read
	for _, ld := range loads {
		if ld.rec == nil || !known.perCounter(ld.in) {
			continue
		}
		d := make([]bool, ld.n)
		rj, ex, marked := l.foreignRows(ld, d)
		if !marked {
			continue
		}
		drop[ld] = d
		for i := range rj {
			rejects = append(rejects, rj[i])
			needRaw[ld] = append(needRaw[ld], len(rejects)-1)
		}
		foreign = append(foreign, ex...)
	}
	// identical reports whether row r of ld equals the kept row in every column.
	identical := func(ld *loaded, r int, kept loc) bool {
		return kept.ld.in.Feed == ld.in.Feed && rowsEqual(kept.ld.rec, kept.abs(), ld.rec, int(ld.off)+r, len(feed.Get(ld.in.Feed).Columns))
	}
	// duplicate sets row r of ld aside as DUPLICATE_TXN about id (a txn_id or a slip number).
	duplicate := func(ld *loaded, r int, id string, same bool, detail string) {
		f := feed.Get(ld.in.Feed)
		if drop[ld] == nil {
			drop[ld] = make([]bool, ld.n)
		}
		drop[ld][r] = true
		sev := SevError
		if same {
			sev = SevWarning
		}
		a := int(ld.off) + r // the row in ld.rec
		line := lineOf(ld.rec, a)
		rejects = append(rejects, Reject{Feed: f.Name, Source: sourceOf(ld.rec, a), Line: line, Reason: string(CodeDuplicateTxn) + ": " + detail})
		needRaw[ld] = append(needRaw[ld], len(rejects)-1)
		excs = append(excs, Exception{
			Code: CodeDuplicateTxn, Severity: sev, Feed: f.Name, TxnID: strings.Clone(id), Detail: detail,
			Source: rowSource(ld.in, sourceOf(ld.rec, a), line),
			City:   strings.Clone(str(ld.rec, feed.ColCity, a)), Outlet: strings.Clone(str(ld.rec, feed.ColOutlet, a)),
			Counter: strings.Clone(str(ld.rec, feed.ColCounter, a)),
		})
	}
	// The rows that carry a txn_id are numbered in canonical order, input after input; the
	// ids are hashed once, by shares of the rows side by side. Each of the workers then keeps
	// the rows of its share of the hash space in a txnTable, in canonical order, and notes the
	// repeats it finds; the repeats are then set aside in canonical order, as one pass over
	// every row would. (A city-day's 290,000 txn_ids in one map had been a fifth of a
	// refresh's Load; in a map per share, each id hashed by every worker and again by its
	// map, ~55 ms of its CPU.)
	type repeat struct {
		li, r int // the row: loads[li], its row r
		kept  loc
	}
	var (
		txnLoads []int // the loads with rows that have a txn_id
		bases    []int // the number of the first row of each
		txnCols  []*array.String
		total    int
	)
	for li, ld := range loads {
		if ld.rec != nil && feed.HasTxnID(ld.in.Feed) {
			txnLoads = append(txnLoads, li)
			bases = append(bases, total)
			txnCols = append(txnCols, ld.rec.Column(feed.Get(ld.in.Feed).Col("txn_id")).(*array.String))
			total += int(ld.n)
		}
	}
	// txnOf is the txn_id of row g.
	txnOf := func(g int) string {
		k := sort.SearchInts(bases, g+1) - 1 // the last input that starts at g or before
		return txnCols[k].Value(int(loads[txnLoads[k]].off) + g - bases[k])
	}
	locOf := func(g int) loc {
		k := sort.SearchInts(bases, g+1) - 1
		return loc{loads[txnLoads[k]], g - bases[k]}
	}
	shares := max(1, l.workers)
	hashes := make([]uint64, total)
	counts := make([][]int, shares) // counts[k][p]: rows of hash share p among the rows worker k hashed
	seed := maphash.MakeSeed()
	var sw sync.WaitGroup
	for k := range shares {
		sw.Add(1)
		go func() {
			defer sw.Done()
			counts[k] = make([]int, shares)
			from, to := k*total/shares, (k+1)*total/shares
			j := max(0, sort.SearchInts(bases, from+1)-1)
			for g := from; g < to; j++ {
				ld, txn := loads[txnLoads[j]], txnCols[j]
				end := min(to, bases[j]+int(ld.n))
				for ; g < end; g++ {
					h := maphash.String(seed, txn.Value(int(ld.off)+g-bases[j]))
					hashes[g] = h
					counts[k][shareOf(h, shares)]++
				}
			}
		}()
	}
	sw.Wait()
	found := make([][]repeat, shares)
	for p := range shares {
		sw.Add(1)
		go func() {
			defer sw.Done()
			n := 0
			for k := range shares {
				n += counts[k][p]
			}
			seen := newTxnTable(n, hashes)
			for j, li := range txnLoads {
				ld, base, d := loads[li], bases[j], drop[loads[li]]
				txn := txnCols[j]
				for r := range int(ld.n) {
					g := base + r
					if shares > 1 && shareOf(hashes[g], shares) != p || d != nil && d[r] {
						continue
					}
					id := txn.Value(int(ld.off) + r)
					if kept, dup := seen.add(g, func(k int) bool { return txnOf(k) == id }); dup {
						found[p] = append(found[p], repeat{li, r, locOf(kept)})
					}
				}
			}
		}()
	}
	sw.Wait()
	repeats := slices.Concat(found...)
	slices.SortFunc(repeats, func(a, b repeat) int { return cmp.Or(cmp.Compare(a.li, b.li), cmp.Compare(a.r, b.r)) })
	for _, rp := range repeats {
		ld, r, kept := loads[rp.li], rp.r, rp.kept
		id := ld.rec.Column(feed.Get(ld.in.Feed).Col("txn_id")).(*array.String).Value(int(ld.off) + r)
		same := identical(ld, r, kept)
		how := i18n.DetailDiffers
		if same {
			how = i18n.DetailIdentical
		}
		keptSrc := rowSource(kept.ld.in, sourceOf(kept.ld.rec, kept.abs()), lineOf(kept.ld.rec, kept.abs()))
		duplicate(ld, r, id, same, l.lang.f(i18n.DetailDuplicateTxn, quote(id), l.lang.feed(kept.ld.in.Feed), keptSrc, l.lang.s(how)))
	}
	// A deposit slip number is unique within its counter (RULES.md §1).
	slips := map[[2]string]loc{}
	for _, ld := range loads {
		if ld.rec == nil || ld.in.Feed != feed.Deposit {
			continue
		}
		slip := ld.rec.Column(feed.Get(feed.Deposit).Col("slip_no")).(*array.String)
		counter := strCol(ld.rec, feed.ColCounter)
		for r := range int(ld.n) {
			a := int(ld.off) + r
			if d := drop[ld]; d != nil && d[r] || slip.IsNull(a) || slip.Value(a) == "" {
				continue
			}
			k := [2]string{counter.Value(a), slip.Value(a)}
			kept, dup := slips[k]
			if !dup {
				slips[k] = loc{ld, r}
				continue
			}
			no := slip.Value(a)
			same := identical(ld, r, kept)
			keptSrc := rowSource(kept.ld.in, sourceOf(kept.ld.rec, kept.abs()), lineOf(kept.ld.rec, kept.abs()))
			how := i18n.DetailDiffers
			if same {
				how = i18n.DetailIdentical
			}
			duplicate(ld, r, no, same, l.lang.f(i18n.DetailDuplicateSlip, quote(no), keptSrc, l.lang.s(how)))
		}
	}
	// The raw text of the rows set aside, read again from their inputs (a handful of inputs),
	// each read and checked against its sha256 beside the rest of the run: one after the
	// other, before the feeds were joined, a city-day's whole-city invoice file read and
	// hashed again had been ~40 ms while the other core waited. Each goroutine fills its own
	// rejects' Raw.
	done := make(chan struct{})
	rawsRead = done
	var rw sync.WaitGroup
	// The goroutines fill the rows of this slice, not of the variable rejects: that is one of
	// assemble's results, which its return writes (nil on an error, where a goroutine had then
	// indexed nil and panicked).
	set := rejects
	for _, ld := range loads {
		idx := needRaw[ld]
		if len(idx) == 0 {
			continue
		}
		rows := make([]rowRef, len(idx))
		for i, j := range idx {
			rows[i] = rowRef{rejects[j].Source, rejects[j].Line}
		}
		rw.Add(1)
		go func() {
			defer rw.Done()
			raws, rerr := rawLines(ld, rows)
			for i, j := range idx {
				if rerr != nil {
					set[j].Raw = l.lang.f(i18n.DetailRawUnavailable, rerr)
				} else {
					set[j].Raw = raws[rows[i]]
				}
			}
		}()
	}
	go func() {
		rw.Wait()
		close(done)
	}()
	var per [feed.Count][]*loaded
	for _, ld := range loads {
		if ld.rec != nil {
			per[ld.in.Feed] = append(per[ld.in.Feed], ld)
		}
	}
	var parts [feed.Count][]arrow.RecordBatch
	for id := feed.ID(0); id < feed.Count; id++ {
		// The inputs' rows, consecutive rows of one record (inputs an arena or a parse cache
		// batch holds one after the other) taken as one slice of it.
		var (
			run        arrow.RecordBatch
			start, end int64
		)
		flush := func() {
			if run != nil {
				parts[id] = append(parts[id], sliceRows(run, start, end))
				run = nil
			}
		}
		// rows takes rows [from, to) of ld.
		rows := func(ld *loaded, from, to int64) {
			if run == ld.rec && end == ld.off+from {
				end += to - from
				return
			}
			flush()
			run, start, end = ld.rec, ld.off+from, ld.off+to
		}
		for _, ld := range per[id] {
			d := drop[ld]
			if d == nil {
				rows(ld, 0, ld.n)
				continue
			}
			// The runs of rows kept between those set aside: slices joined by concat, not
			// each value copied (one repeated row in a whole-city file had copied the feed
			// value by value).
			for a := int64(0); a < ld.n; {
				if d[a] {
					a++
					continue
				}
				b := a
				for b < ld.n && !d[b] {
					b++
				}
				rows(ld, a, b)
				a = b
			}
		}
		flush()
		for _, ld := range per[id] {
			ld.dropRows() // the parts hold the only references left: concat frees them column by column
		}
	}
	for _, ld := range loads {
		ld.dropRows()
	}
	// The feeds are joined side by side, the biggest first.
	order := feed.All
	slices.SortStableFunc(order[:], func(a, b feed.ID) int { return cmp.Compare(feed.Share[b], feed.Share[a]) })
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs [feed.Count]error
	)
	for range min(l.workers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1)) - 1; k < len(order); k = int(next.Add(1)) - 1 {
				id := order[k]
				feeds[id], errs[id] = l.concat(id, parts[id])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		for i, r := range feeds {
			if r != nil {
				r.Release()
				feeds[i] = nil
			}
		}
		return feeds, nil, nil, nil, rawsRead, err
	}
	return feeds, rejects, excs, foreign, rawsRead, nil
}

// shareOf is the share of the hash space of n that hash h falls in: its low 32 bits scaled
// to n (a multiply, where h%n had been a division per row and worker).
func shareOf(h uint64, n int) int {
	return int(uint64(uint32(h)) * uint64(n) >> 32)
}

// txnTable is a set of rows told apart by their txn_ids: open addressing on the ids' hashes,
// each slot a row's number (plus one: 0 is empty) under 32 bits of its id's hash, so that ids
// are compared only when those bits match. A slot is 8 bytes, where a map[string]loc's entry
// was 32 and its lookups hashed and compared the id again.
type txnTable struct {
	slots  []uint64
	hashes []uint64 // of every row, by its number
	n      int
}

func newTxnTable(n int, hashes []uint64) *txnTable {
	return &txnTable{slots: make([]uint64, tableSize(n)), hashes: hashes}
}

// tableSize is a power of two at least 4/3 of n: the table is at most 3/4 full.
func tableSize(n int) int {
	size := 16
	for size*3 < n*4 {
		size *= 2
	}
	return size
}

// add adds row g unless a row with the same id is in already: then it returns that row, and
// true. same(k) reports whether row k has g's id.
func (t *txnTable) add(g int, same func(k int) bool) (int, bool) {
	h := t.hashes[g]
	mask := uint64(len(t.slots) - 1)
	tag := h << 32 // the low bits; the high ones place it
	for i := (h >> 32) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = tag | uint64(g+1)
			t.n++
			if t.n*4 > len(t.slots)*3 {
				t.grow()
			}
			return 0, false
		}
		if s&^(1<<32-1) == tag && same(int(s&(1<<32-1))-1) {
			return int(s&(1<<32-1)) - 1, true
		}
	}
}

// grow doubles the table.
func (t *txnTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := t.hashes[int(s&(1<<32-1))-1]
		i := (h >> 32) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// loc is row row of an input (numbered in the input: ld.rec's row ld.off+row).
type loc struct {
	ld  *loaded
	row int
}

// abs is the row in ld.rec.
func (k loc) abs() int { return int(k.ld.off) + k.row }

// concat joins records of one feed's schema; none gives an empty record. It takes over the
// parts: each is released (or becomes the result).
func (l *loader) concat(id feed.ID, parts []arrow.RecordBatch) (arrow.RecordBatch, error) {
	schema := feed.Schema(id)
	if len(parts) == 1 {
		return parts[0], nil
	}
	if len(parts) == 0 {
		b := array.NewRecordBuilder(l.mem, schema)
		defer b.Release()
		return b.NewRecordBatch(), nil
	}
	parts = coalesce(parts)
	if len(parts) == 1 {
		return parts[0], nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	var n int64
	// The parts' columns, held here alone (the parts are released), so that each column of
	// the parts can be let go as soon as it is copied: a feed of many inputs is never held
	// twice over.
	partCols := make([][]arrow.Array, len(parts))
	for i, p := range parts {
		n += p.NumRows()
		partCols[i] = make([]arrow.Array, len(cols))
		for c := range cols {
			partCols[i][c] = p.Column(c)
			partCols[i][c].Retain()
		}
		p.Release()
		parts[i] = nil
	}
	releaseFrom := func(c0 int) {
		for _, pc := range partCols {
			for c := c0; c < len(pc); c++ {
				pc[c].Release()
				pc[c] = nil
			}
		}
	}
	for c := range cols {
		arrs := make([]arrow.Array, len(parts))
		for i := range partCols {
			arrs[i] = partCols[i][c]
		}
		a, err := array.Concatenate(arrs, l.mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			releaseFrom(c)
			return nil, fmt.Errorf("concatenate %s.%s: %w", id, schema.Field(c).Name, err)
		}
		cols[c] = a
		for i := range partCols {
			partCols[i][c].Release()
			partCols[i][c] = nil
		}
	}
	rec := array.NewRecordBatch(schema, cols, n)
	for _, a := range cols {
		a.Release()
	}
	return rec, nil
}

// coalesce joins runs of parts that are consecutive slices of one record (the inputs an arena
// or a parse cache batch holds one after the other) into one slice of it each: a pulled
// city-day's 2,285 parts of a feed become a few dozen, and a feed read whole from one
// record is that record, not a copy. It takes over the parts.
func coalesce(parts []arrow.RecordBatch) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for i := 0; i < len(parts); {
		j := i + 1
		for j < len(parts) && follows(parts[j-1], parts[j]) {
			j++
		}
		if j == i+1 {
			out = append(out, parts[i])
			i = j
			continue
		}
		first := parts[i]
		var rows int64
		for _, p := range parts[i:j] {
			rows += p.NumRows()
		}
		cols := make([]arrow.Array, first.NumCols())
		for c := range cols {
			d := first.Column(c).Data()
			nulls := 0 // the parts' own counts: a buffer without nulls may be empty, not counted
			for _, p := range parts[i:j] {
				nulls += p.Column(c).NullN()
			}
			nd := array.NewData(d.DataType(), int(rows), d.Buffers(), nil, nulls, d.Offset())
			cols[c] = array.MakeFromData(nd)
			nd.Release()
		}
		out = append(out, array.NewRecordBatch(first.Schema(), cols, rows))
		for _, a := range cols {
			a.Release()
		}
		for _, p := range parts[i:j] {
			p.Release()
		}
		i = j
	}
	return out
}

// follows reports whether b's rows come right after a's in the same buffers, in every
// column (flat types only).
func follows(a, b arrow.RecordBatch) bool {
	if a.NumCols() != b.NumCols() {
		return false
	}
	for c := range int(a.NumCols()) {
		da, db := a.Column(c).Data(), b.Column(c).Data()
		if len(da.Children()) > 0 || len(db.Children()) > 0 || !arrow.TypeEqual(da.DataType(), db.DataType()) ||
			da.Offset()+da.Len() != db.Offset() {
			return false
		}
		ba, bb := da.Buffers(), db.Buffers()
		if len(ba) != len(bb) {
			return false
		}
		for k := range ba {
			if ba[k] != bb[k] {
				return false
			}
		}
	}
	return true
}

// sliceRows is rows [from, to) of rec, a new reference.
func sliceRows(rec arrow.RecordBatch, from, to int64) arrow.RecordBatch {
	if from == 0 && to == rec.NumRows() {
		rec.Retain()
		return rec
	}
	return rec.NewSlice(from, to)
}

// rowsEqual compares the first ncol columns of two rows of one schema.
func rowsEqual(a arrow.RecordBatch, ra int, b arrow.RecordBatch, rb int, ncol int) bool {
	for c := 0; c < ncol; c++ {
		x, y := a.Column(c), b.Column(c)
		if x.IsNull(ra) || y.IsNull(rb) {
			if x.IsNull(ra) != y.IsNull(rb) {
				return false
			}
			continue
		}
		switch x := x.(type) {
		case *array.String:
			if x.Value(ra) != y.(*array.String).Value(rb) {
				return false
			}
		case *array.Int64:
			if x.Value(ra) != y.(*array.Int64).Value(rb) {
				return false
			}
		case *array.Date32:
			if x.Value(ra) != y.(*array.Date32).Value(rb) {
				return false
			}
		case *array.Timestamp:
			if x.Value(ra) != y.(*array.Timestamp).Value(rb) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func str(rec arrow.RecordBatch, col, row int) string {
	return rec.Column(col).(*array.String).Value(row)
}

func lineOf(rec arrow.RecordBatch, row int) int {
	return int(rec.Column(int(rec.NumCols()) - 1).(*array.Int64).Value(row))
}
