package engine

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/connectors"
	"settle/feed"
	"settle/internal/i18n"
)

// RULES.md §1 "Whose row it is" and DUPLICATE_INPUT: which inputs are read, which rows of a
// per-counter input are its counter's, and the one city and outlet of every counter.

// duplicateInputs sets aside every input that holds data rows and is byte-identical to an
// earlier input of its feed (loads are in canonical order): its rows, findings and counters
// are dropped, and one DUPLICATE_INPUT names the input it repeats. The counter is attached
// later, with the other findings of per-counter inputs.
//
// Two per-counter inputs of two different counters never repeat each other (docs/DECISIONS.md,
// "DUPLICATE_INPUT"): when one holds the other's report byte for byte, its rows are the other
// counter's in the wrong input (MALFORMED_ROW, row by row), and the genuine report of the
// other counter must be read, not set aside as a repeat.
func (l *loader) duplicateInputs(loads []*loaded, known *counters) []dupInput {
	type fk struct {
		f      feed.ID
		digest [32]byte
	}
	earlier := map[fk][]*loaded{}
	var out []dupInput
	for _, ld := range loads {
		if ld.read == 0 {
			continue
		}
		k := fk{ld.in.Feed, ld.digest}
		var orig *loaded
		for _, e := range earlier[k] {
			if !known.perCounter(e.in) || !known.perCounter(ld.in) || e.in.Counter == ld.in.Counter {
				orig = e
				break
			}
		}
		if orig == nil {
			earlier[k] = append(earlier[k], ld)
			continue
		}
		ld.dropRows()
		ld.read, ld.rejects, ld.excs, ld.triples = 0, nil, nil, nil
		out = append(out, dupInput{ld: ld, exc: Exception{
			Code: CodeDuplicateInput, Severity: severity(CodeDuplicateInput), Feed: ld.in.Feed.String(), Source: ld.in.Name, Key: ld.in.Name,
			Detail: l.lang.f(i18n.DetailDuplicateInput, orig.in.Name),
		}})
	}
	return out
}

type dupInput struct {
	ld  *loaded
	exc Exception
}

// counters is the day's counters: counter_id → its city and outlet, and the order they were
// first seen in (roster first, then rows in canonical order).
type counters struct {
	byID   map[string]triple
	order  []string
	roster map[string]bool // counters on the roster (the day was pulled)
	pulled bool            // the source has a roster
}

func (c *counters) add(t triple) {
	if _, ok := c.byID[t.counter]; ok {
		return
	}
	c.byID[t.counter] = t
	c.order = append(c.order, t.counter)
}

// perCounter reports whether in covers one counter alone: a pull, or a file named for a
// counter of the day (a name token that is no counter of the day is not taken for one).
func (c *counters) perCounter(in connectors.Input) bool {
	if in.Counter == "" {
		return false
	}
	_, ok := c.byID[in.Counter]
	return in.Pull || ok
}

// knownCounters lists the roster's counters, then those rows carry with valid ids. A row of
// another counter in a per-counter input names no counter of the day. Each counter's city
// and outlet are provisional here: place settles them once the valid rows are known.
func knownCounters(src *connectors.Day, loads []*loaded) *counters {
	c := &counters{byID: map[string]triple{}, roster: map[string]bool{}, pulled: src.Roster != nil}
	for _, r := range src.Roster {
		if feed.ValidID(r.City) && feed.ValidID(r.Outlet) && feed.ValidID(r.Counter) {
			c.add(triple{r.City, r.Outlet, r.Counter})
			c.roster[r.Counter] = true
		}
	}
	// Which files are per counter depends on the counters rows name; the rows of other
	// counters in pulls (always per counter) do not count for that.
	ids := map[string]bool{}
	for id := range c.byID {
		ids[id] = true
	}
	for _, ld := range loads {
		for _, t := range ld.triples {
			if !ld.in.Pull || t.counter == ld.in.Counter {
				ids[t.counter] = true
			}
		}
	}
	isPer := func(in connectors.Input) bool { return in.Counter != "" && (in.Pull || ids[in.Counter]) }
	for _, ld := range loads {
		per := isPer(ld.in)
		for _, t := range ld.triples {
			if !per || t.counter == ld.in.Counter {
				c.add(t)
			}
		}
	}
	return c
}

// foreignRows marks the rows of a per-counter input that carry another counter_id: they are
// set aside as MALFORMED_ROW under the input's counter.
func (l *loader) foreignRows(ld *loaded, drop []bool) (rejects []Reject, excs []Exception, marked bool) {
	counter := ld.rec.Column(feed.ColCounter).(*array.String)
	f := feed.Get(ld.in.Feed)
	txnCol := f.Col("txn_id")
	for r := range int(ld.n) {
		a := int(ld.off) + r // the row in ld.rec
		other := counter.Value(a)
		if other == ld.in.Counter {
			continue
		}
		drop[r] = true
		marked = true
		detail := l.lang.f(i18n.DetailForeignRow, other, ld.in.Counter)
		line := lineOf(ld.rec, a)
		rejects = append(rejects, Reject{Feed: f.Name, Source: sourceOf(ld.rec, a), Line: line, Reason: string(CodeMalformedRow) + ": " + detail})
		e := Exception{Code: CodeMalformedRow, Severity: severity(CodeMalformedRow), Feed: f.Name, Detail: detail,
			Source: rowSource(ld.in, sourceOf(ld.rec, a), line), Counter: ld.in.Counter}
		if txnCol >= 0 {
			e.TxnID = strings.Clone(str(ld.rec, txnCol, a))
		}
		excs = append(excs, e)
	}
	return rejects, excs, marked
}

// place settles every counter's city and outlet (RULES.md §1): the roster's when the day was
// pulled, else the pair most of its valid rows carry, a tie going to the first in canonical
// order. Valid rows that carry another pair raise COUNTER_KEY_CONFLICT and are rewritten to
// the counter's, so that every output draws the counter from the same rows. known is updated.
func (l *loader) place(feeds *[feed.Count]arrow.RecordBatch, known *counters, pulls map[string]bool) []Exception {
	type pair struct{ city, outlet string }
	type tally struct {
		first pair
		n     map[pair]int // nil while every row agrees with first
		order []pair       // pairs in the order first seen, once n is made
		count int          // rows of first while n is nil
		check bool         // some row may carry another pair than the counter's
	}
	tallies := map[string]*tally{}
	// Rows of one counter mostly follow each other (a per-counter input, a city file sorted
	// by counter): the last counter's tally is reused without a map lookup.
	var lastID string
	var last *tally
	tallyOf := func(id string) *tally {
		if last == nil || id != lastID {
			lastID, last = id, tallies[id]
		}
		return last
	}
	for _, f := range feed.All {
		rec := feeds[f]
		city, outlet, counter := strCol(rec, feed.ColCity), strCol(rec, feed.ColOutlet), strCol(rec, feed.ColCounter)
		for r := 0; r < int(rec.NumRows()); r++ {
			c, o := city.Value(r), outlet.Value(r)
			t := tallyOf(counter.Value(r))
			switch {
			case t == nil:
				id := strings.Clone(counter.Value(r))
				t = &tally{first: pair{strings.Clone(c), strings.Clone(o)}, count: 1}
				tallies[id] = t
				lastID, last = id, t
			case t.n == nil && c == t.first.city && o == t.first.outlet:
				t.count++
			default:
				if t.n == nil {
					t.n = map[pair]int{t.first: t.count}
					t.order = []pair{t.first}
				}
				p := pair{c, o}
				if _, ok := t.n[p]; !ok {
					p = pair{strings.Clone(c), strings.Clone(o)}
					t.order = append(t.order, p)
				}
				t.n[p]++
			}
		}
	}
	for id, t := range tallies {
		home := t.first
		for _, p := range t.order {
			if t.n[p] > t.n[home] {
				home = p
			}
		}
		if known.roster[id] {
			h := known.byID[id]
			home = pair{h.city, h.outlet}
		}
		t.check = t.n != nil || home != t.first
		if _, ok := known.byID[id]; !ok {
			known.order = append(known.order, id)
		}
		known.byID[id] = triple{home.city, home.outlet, id}
	}
	last = nil

	var excs []Exception
	for _, f := range feed.All {
		rec := feeds[f]
		city, outlet, counter := strCol(rec, feed.ColCity), strCol(rec, feed.ColOutlet), strCol(rec, feed.ColCounter)
		var off []int
		for r := 0; r < int(rec.NumRows()); r++ {
			if !tallyOf(counter.Value(r)).check {
				continue // every row of the counter carries its pair
			}
			h := known.byID[counter.Value(r)]
			if city.Value(r) != h.city || outlet.Value(r) != h.outlet {
				off = append(off, r)
			}
		}
		if len(off) == 0 {
			continue
		}
		txnCol := feed.Get(f).Col("txn_id")
		for _, r := range off {
			h := known.byID[counter.Value(r)]
			e := Exception{Code: CodeCounterKeyConflict, Severity: severity(CodeCounterKeyConflict),
				City: h.city, Outlet: h.outlet, Counter: h.counter, Feed: f.String(),
				Detail: l.lang.f(i18n.DetailKeyConflict, city.Value(r), outlet.Value(r), h.counter, h.city, h.outlet),
				Source: recSource(rec, r, pulls)}
			if txnCol >= 0 {
				e.TxnID = strings.Clone(str(rec, txnCol, r))
			}
			excs = append(excs, e)
		}
		feeds[f] = l.rekey(rec, off, known)
	}
	return excs
}

// rekey returns rec with the city and outlet of the rows off replaced by their counter's;
// rec is released.
func (l *loader) rekey(rec arrow.RecordBatch, off []int, known *counters) arrow.RecordBatch {
	counter := strCol(rec, feed.ColCounter)
	cols := make([]arrow.Array, rec.NumCols())
	copy(cols, rec.Columns())
	for _, c := range []int{feed.ColCity, feed.ColOutlet} {
		old := strCol(rec, c)
		b := array.NewStringBuilder(l.mem)
		b.Reserve(old.Len())
		k := 0
		for r := 0; r < old.Len(); r++ {
			if k < len(off) && off[k] == r {
				k++
				h := known.byID[counter.Value(r)]
				if c == feed.ColCity {
					b.Append(h.city)
				} else {
					b.Append(h.outlet)
				}
				continue
			}
			b.Append(old.Value(r)) // ids are required: never null in a valid row
		}
		cols[c] = b.NewArray()
		b.Release()
		defer cols[c].Release()
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	rec.Release()
	return out
}

// homeKeys gives the findings the engine attaches to a counter (not read off a row: a row of
// another counter in a per-counter input, a duplicated per-counter input) their counter's
// city and outlet.
func homeKeys(excs []Exception, known *counters) {
	for i := range excs {
		e := &excs[i]
		if t, ok := known.byID[e.Counter]; ok && e.Counter != "" {
			e.City, e.Outlet = t.city, t.outlet
		}
	}
}

func strCol(rec arrow.RecordBatch, c int) *array.String { return rec.Column(c).(*array.String) }

// recSource cites row r of a feed record: "feed/counter" for a pull, "name:line" for a file.
func recSource(rec arrow.RecordBatch, r int, pulls map[string]bool) string {
	name := rec.Column(int(rec.NumCols()) - 2).(*array.String).Value(r)
	if pulls[name] {
		return name
	}
	return fmt.Sprintf("%s:%d", name, lineOf(rec, r))
}
