package engine

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"settle/feed"
)

// History gives the rules of RULES.md §5 access to earlier days' stored runs.
type History interface {
	// Feed returns the valid normalized rows of feed id in the stored (current) run of date.
	// ok is false when no run of that date is stored. The caller releases the record.
	Feed(date time.Time, id feed.ID) (rec arrow.RecordBatch, ok bool, err error)
}

// day is the valid rows of one business day, as the rules read them: column accessors over
// the feeds' Arrow records and the indexes several rules share.
type day struct {
	date     arrow.Date32
	feeds    [feed.Count]arrow.RecordBatch
	pulls    map[string]bool // input names that are pulls
	excs     []Exception
	lookback int
	hist     History
	lang     lang // of the details

	// revenue finds the valid revenue row (feeds 1, 2, 5, 6, 7) of a txn_id.
	revenue *txnIndex
	// cid is the number of every row's counter (numberCounters): counters[cid[f][r]] is
	// its city, outlet and counter, and the numbers follow compareTriple's order.
	cid      [feed.Count][]int32
	counters []triple
	// reversedToday sums the valid reversals whose orig_date is the run date, per original.
	reversedToday map[origKey]int64
	// voidedToday marks the originals a valid VOID of orig_date = run date names.
	voidedToday map[origKey]bool
}

type ref struct {
	f   feed.ID
	row int
}

// origKey names an original transaction of today as a reversal names it.
type origKey struct {
	feed string // orig_feed
	txn  string
}

func newDay(date arrow.Date32, feeds [feed.Count]arrow.RecordBatch, pulls map[string]bool, lookback int, hist History, g lang) *day {
	d := &day{date: date, feeds: feeds, pulls: pulls, lookback: lookback, hist: hist, lang: g}
	d.revenue = newTxnIndex(d)
	d.cid, d.counters = numberCounters(d)
	d.reversedToday = map[origKey]int64{}
	d.voidedToday = map[origKey]bool{}
	origDate, origFeed, origTxn := d.date32(feed.Reversal, "orig_date"), d.str(feed.Reversal, "orig_feed"), d.str(feed.Reversal, "orig_txn_id")
	kind, amount := d.str(feed.Reversal, "kind"), d.i64(feed.Reversal, "amount")
	for r := 0; r < d.n(feed.Reversal); r++ {
		if origDate[r] != d.date {
			continue
		}
		k := origKey{origFeed.Value(r), origTxn.Value(r)}
		d.reversedToday[k] += amount[r]
		if kind.Value(r) == "VOID" {
			d.voidedToday[k] = true
		}
	}
	return d
}

// n is the number of valid rows of feed f (every feed has a record, maybe empty).
func (d *day) n(f feed.ID) int {
	return int(d.feeds[f].NumRows())
}

func (d *day) col(f feed.ID, name string) arrow.Array {
	c := feed.Get(f).Col(name)
	if c < 0 {
		panic(fmt.Sprintf("engine: feed %s has no column %s", f, name))
	}
	return d.feeds[f].Column(c)
}

func (d *day) str(f feed.ID, name string) *array.String { return d.col(f, name).(*array.String) }
func (d *day) i64(f feed.ID, name string) []int64       { return d.col(f, name).(*array.Int64).Int64Values() }
func (d *day) date32(f feed.ID, name string) []arrow.Date32 {
	return d.col(f, name).(*array.Date32).Date32Values()
}
func (d *day) times(f feed.ID, name string) []arrow.Timestamp {
	return d.col(f, name).(*array.Timestamp).TimestampValues()
}

// source cites a row: "path:line" for a file, "feed/counter_id" for a pull.
func (d *day) source(f feed.ID, r int) string {
	name := d.inputName(f, r)
	if d.pulls[name] {
		return name
	}
	return fmt.Sprintf("%s:%d", name, lineOf(d.feeds[f], r))
}

// inputName is the name of the input row r of feed f was read from.
func (d *day) inputName(f feed.ID, r int) string {
	rec := d.feeds[f]
	return rec.Column(int(rec.NumCols()) - 2).(*array.String).Value(r)
}

// before reports whether row a comes before row b in the order of their citations: by
// input name, then by line as a number (a.csv:9 before a.csv:10).
func (d *day) before(a, b ref) bool {
	if na, nb := d.inputName(a.f, a.row), d.inputName(b.f, b.row); na != nb {
		return na < nb
	}
	return lineOf(d.feeds[a.f], a.row) < lineOf(d.feeds[b.f], b.row)
}

func (d *day) counterOf(f feed.ID, r int) triple {
	rec := d.feeds[f]
	return triple{str(rec, feed.ColCity, r), str(rec, feed.ColOutlet, r), str(rec, feed.ColCounter, r)}
}

// raise records an exception about row r of feed f, with no amount.
func (d *day) raise(f feed.ID, r int, code Code, detail string) *Exception {
	t := d.counterOf(f, r)
	e := Exception{Code: code, Severity: severity(code), City: t.city, Outlet: t.outlet, Counter: t.counter,
		Feed: f.String(), Detail: detail, Source: d.source(f, r)}
	if c := feed.Get(f).Col("txn_id"); c >= 0 {
		e.TxnID = str(d.feeds[f], c, r)
	}
	d.excs = append(d.excs, e)
	return &d.excs[len(d.excs)-1]
}

// raiseAmount records an exception about row r of feed f with an amount.
func (d *day) raiseAmount(f feed.ID, r int, code Code, amount int64, detail string) {
	e := d.raise(f, r, code, detail)
	e.Amount, e.HasAmount = amount, true
}

// fullyReversedToday reports whether today's valid reversals of an original of today add up
// to at least its amount.
func (d *day) fullyReversedToday(f feed.ID, txn string, amount int64) bool {
	return d.reversedToday[origKey{f.String(), txn}] >= amount
}
