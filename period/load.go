package period

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"settle/engine"
	"settle/feed"
	"settle/store"
)

// CounterKey names a counter.
type CounterKey struct{ City, Outlet, Counter string }

// VarLine is one pay method's variance of a counter-day.
type VarLine struct {
	Pay      string
	Variance int64
}

// Refund is one valid REFUND reversal made at a counter (RULES.md §5).
type Refund struct {
	TxnID  string
	Amount int64
}

// Day is what one counter-day contributes: the run it came from and the figures the checks
// look at.
type Day struct {
	Date, RunID      string
	Complete         bool   // the run is complete for the counter (no FEED_MISSING / FEED_TOTAL_MISMATCH for it or city-wide)
	Sign             string // SignOpen, SignCertified or SignApproved
	Errors, Warnings int    // the counter's findings of that run, city-wide ones included (as the page counts them)
	HasFigures       bool   // the counter has a settlement or variance line that day
	Net, Variance    int64  // the day's net revenue and variance, all lines
	Variances        []VarLine
	Refunds          []Refund // valid REFUND rows of the counter in that run
}

// Series is a counter's days in the period, in date order.
type Series struct {
	Key  CounterKey
	Days []Day
	// The counter's lines of Data.Settlement and Data.Variance, found by a short scan
	// instead of hashing five strings per line of every day (merge).
	sums []settleRef
	vars []varRef
}

type settleRef struct {
	category, pay string
	sum           *SettleSum
}

type varRef struct {
	pay string
	sum *VarSum
}

// settleKey and varKey are the keys of period_settlement and period_variance.
type settleKey struct {
	CounterKey
	Category, Pay string
}

type varKey struct {
	CounterKey
	Pay string
}

// SettleSum is one period_settlement line.
type SettleSum struct {
	Days                           int
	TxnCount, Gross, Reversed, Net int64
}

// VarSum is one period_variance line.
type VarSum struct {
	Days                          int
	Expected, Deposited, Variance int64
	DaysShort, DaysOver           int
	WorstShortfall                int64 // the most negative daily variance, 0 if none
}

// Data is a period loaded from the store.
type Data struct {
	Period     Period
	RunsUsed   map[string][]string // date → the run ids its counter-days came from, sorted
	Missing    []string            // dates with no published run
	Cities     []string            // every city seen, sorted
	Settlement map[settleKey]*SettleSum
	Variance   map[varKey]*VarSum
	Counters   map[CounterKey]*Series
}

// dayLoad is what one date contributes, before it is merged in date order.
type dayLoad struct {
	date    string
	missing bool
	runs    []string
	days    []counterDay
}

type counterDay struct {
	key        CounterKey
	day        Day
	settlement []engine.SettlementLine
	variance   []engine.VarianceLine
}

// Load reads, for every date of p, the run each counter-day contributes: the run pinned by
// an approval, else by a certification, else the date's current run (PERIOD.md "Which run
// a date contributes"). A date without a current run is Missing. Dates are read workers at a
// time (≤ 0: GOMAXPROCS).
func Load(ctx context.Context, st *store.Store, p Period, so SignOffs, workers int) (*Data, error) {
	dates := p.Dates()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	d := &Data{Period: p, RunsUsed: map[string][]string{}, Settlement: map[settleKey]*SettleSum{},
		Variance: map[varKey]*VarSum{}, Counters: map[CounterKey]*Series{}}
	cities := map[string]bool{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, date := range dates {
		g.Go(func() error {
			dl, err := loadDate(gctx, st, date, so)
			if err != nil {
				return fmt.Errorf("period %s: date %s: %w", p.Name(), date, err)
			}
			// Merged as each date arrives, so that only a few dates' lines are held at once;
			// sums do not depend on the order, and each series is sorted by date below.
			mu.Lock()
			defer mu.Unlock()
			d.merge(dl, cities)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.Sort(d.Missing)
	for _, s := range d.Counters {
		slices.SortFunc(s.Days, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	}
	delete(cities, "")
	for c := range cities {
		d.Cities = append(d.Cities, c)
	}
	slices.Sort(d.Cities)
	return d, nil
}

// merge adds one date's counter-days to d.
func (d *Data) merge(dl *dayLoad, cities map[string]bool) {
	if dl.missing {
		d.Missing = append(d.Missing, dl.date)
		return
	}
	d.RunsUsed[dl.date] = dl.runs
	for i := range dl.days {
		cd := &dl.days[i]
		cities[cd.key.City] = true
		s := d.Counters[cd.key]
		if s == nil {
			s = &Series{Key: cd.key}
			d.Counters[cd.key] = s
		}
		s.Days = append(s.Days, cd.day)
		for _, l := range cd.settlement {
			var a *SettleSum
			for _, r := range s.sums {
				if r.category == l.Category && r.pay == l.PayMethod {
					a = r.sum
					break
				}
			}
			if a == nil {
				k := settleKey{cd.key, l.Category, l.PayMethod}
				if a = d.Settlement[k]; a == nil {
					a = &SettleSum{}
					d.Settlement[k] = a
				}
				s.sums = append(s.sums, settleRef{l.Category, l.PayMethod, a})
			}
			a.Days++
			a.TxnCount += l.TxnCount
			a.Gross += l.Gross
			a.Reversed += l.Reversed
			a.Net += l.Net
		}
		for _, l := range cd.variance {
			var a *VarSum
			for _, r := range s.vars {
				if r.pay == l.PayMethod {
					a = r.sum
					break
				}
			}
			if a == nil {
				k := varKey{cd.key, l.PayMethod}
				if a = d.Variance[k]; a == nil {
					a = &VarSum{}
					d.Variance[k] = a
				}
				s.vars = append(s.vars, varRef{l.PayMethod, a})
			}
			a.Days++
			a.Expected += l.Expected
			a.Deposited += l.Deposited
			a.Variance += l.Variance
			switch {
			case l.Variance < 0:
				a.DaysShort++
				a.WorstShortfall = min(a.WorstShortfall, l.Variance)
			case l.Variance > 0:
				a.DaysOver++
			}
		}
	}
}

// loadedRun is one published run of a date, read.
type loadedRun struct {
	id       string
	dir      string
	tables   *store.Tables
	why      engine.IncompleteReasons
	cityWide []engine.Exception
	counters map[string]*counterLines // by counter_id
	refunds  map[string][]Refund      // by counter_id, read when first needed
}

type counterLines struct {
	key        CounterKey
	settlement []engine.SettlementLine
	variance   []engine.VarianceLine
	errors     int
	warnings   int
}

func openRun(dir string) (*loadedRun, error) {
	s, err := store.OpenStored(dir)
	if err != nil {
		return nil, err
	}
	t, err := s.ReadTables(memory.NewGoAllocator())
	if err != nil {
		return nil, err
	}
	id := s.Manifest().RunID
	if id == "" {
		id = filepath.Base(dir)
	}
	r := &loadedRun{id: id, dir: dir, tables: t, why: engine.IncompleteWhy(t.Exceptions), counters: map[string]*counterLines{}}
	get := func(city, outlet, counter string) *counterLines {
		c := r.counters[counter]
		if c == nil {
			c = &counterLines{key: CounterKey{city, outlet, counter}}
			r.counters[counter] = c
		}
		return c
	}
	for _, l := range t.Settlement {
		c := get(l.City, l.Outlet, l.Counter)
		c.settlement = append(c.settlement, l)
	}
	for _, l := range t.Variance {
		c := get(l.City, l.Outlet, l.Counter)
		c.variance = append(c.variance, l)
	}
	// Counters with findings but no lines are seen too; city-wide findings count for all.
	for _, e := range t.Exceptions {
		if e.Counter == "" {
			r.cityWide = append(r.cityWide, e)
			continue
		}
		c := r.counters[e.Counter]
		if c == nil {
			// A counter with findings but no lines is seen too, when its ids are ids (a
			// malformed row's "../etc" is data, not a counter; the page drops it the same way).
			if !feed.ValidID(e.Outlet) || !feed.ValidID(e.Counter) {
				continue
			}
			c = get(e.City, e.Outlet, e.Counter)
		}
		switch e.Severity {
		case engine.SevError:
			c.errors++
		case engine.SevWarning:
			c.warnings++
		}
	}
	return r, nil
}

// readRefunds reads the run's valid REFUND reversals by counter (feeds/reversal.parquet).
func (r *loadedRun) readRefunds() error {
	if r.refunds != nil {
		return nil
	}
	rec, err := store.ReadFeed(r.dir, feed.Reversal, memory.NewGoAllocator())
	if err != nil {
		return err
	}
	defer rec.Release()
	col := func(name string) (int, error) {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			return 0, fmt.Errorf("%s: no column %q", store.FeedPath(feed.Reversal), name)
		}
		return idx[0], nil
	}
	ci, err1 := col("counter_id")
	ti, err2 := col("txn_id")
	ki, err3 := col("kind")
	ai, err4 := col("amount")
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return err
	}
	counter, ok1 := rec.Column(ci).(*array.String)
	txn, ok2 := rec.Column(ti).(*array.String)
	kind, ok3 := rec.Column(ki).(*array.String)
	amount, ok4 := rec.Column(ai).(*array.Int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("%s: unexpected column types", store.FeedPath(feed.Reversal))
	}
	r.refunds = map[string][]Refund{}
	for i := 0; i < int(rec.NumRows()); i++ {
		if kind.IsNull(i) || kind.Value(i) != "REFUND" || amount.IsNull(i) {
			continue
		}
		c := counter.Value(i)
		r.refunds[c] = append(r.refunds[c], Refund{TxnID: txn.Value(i), Amount: amount.Value(i)})
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// loadDate reads the runs date's counter-days come from.
func loadDate(ctx context.Context, st *store.Store, date string, so SignOffs) (*dayLoad, error) {
	dl := &dayLoad{date: date}
	curDir, ok, err := st.Current(date)
	if err != nil {
		return nil, err
	}
	if !ok {
		dl.missing = true
		return dl, nil
	}
	pins, err := so.Day(ctx, date)
	if err != nil {
		return nil, fmt.Errorf("sign-offs: %w", err)
	}
	cur, err := openRun(curDir)
	if err != nil {
		return nil, err
	}
	runs := map[string]*loadedRun{cur.id: cur}
	// Every counter of the current run, then every pinned one: (outlet, counter) → sign-off.
	type pick struct {
		outlet, counter string
		sign            SignOff
	}
	seen := map[string]bool{}
	var picks []pick
	for id, c := range cur.counters {
		seen[id] = true
		picks = append(picks, pick{c.key.Outlet, id, pins[DayKey{c.key.Outlet, id}]})
	}
	for k, s := range pins {
		if !seen[k.Counter] {
			seen[k.Counter] = true
			picks = append(picks, pick{k.Outlet, k.Counter, s})
		}
	}
	slices.SortFunc(picks, func(a, b pick) int {
		if a.counter < b.counter {
			return -1
		}
		if a.counter > b.counter {
			return 1
		}
		return 0
	})
	used := map[string]bool{}
	for _, pk := range picks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		run := cur
		sign := pk.sign.Status
		if sign == "" {
			sign = SignOpen
		}
		if (sign == SignApproved || sign == SignCertified) && pk.sign.RunID != "" && pk.sign.RunID != cur.id {
			r, ok := runs[pk.sign.RunID]
			if !ok {
				dir, err := st.RunDir(date, pk.sign.RunID)
				if err != nil {
					return nil, fmt.Errorf("counter %s is %s on run %s: %w", pk.counter, sign, pk.sign.RunID, err)
				}
				if r, err = openRun(dir); err != nil {
					return nil, err
				}
				runs[pk.sign.RunID] = r
			}
			run = r
		}
		c := run.counters[pk.counter]
		if c == nil {
			// Pinned to a run in which the counter has neither lines nor findings.
			city := ""
			if len(run.tables.Settlement) > 0 {
				city = run.tables.Settlement[0].City
			}
			c = &counterLines{key: CounterKey{city, pk.outlet, pk.counter}}
		}
		if err := run.readRefunds(); err != nil {
			return nil, err
		}
		used[run.id] = true
		day := Day{
			Date: date, RunID: run.id, Sign: sign,
			Complete:   len(run.why.Of(pk.counter)) == 0,
			Errors:     c.errors,
			Warnings:   c.warnings,
			HasFigures: len(c.settlement) > 0 || len(c.variance) > 0,
			Refunds:    run.refunds[pk.counter],
		}
		for _, e := range run.cityWide {
			switch e.Severity {
			case engine.SevError:
				day.Errors++
			case engine.SevWarning:
				day.Warnings++
			}
		}
		for _, v := range c.variance {
			day.Variances = append(day.Variances, VarLine{Pay: v.PayMethod, Variance: v.Variance})
			day.Variance += v.Variance
		}
		for _, l := range c.settlement {
			day.Net += l.Net
		}
		dl.days = append(dl.days, counterDay{key: c.key, day: day, settlement: c.settlement, variance: c.variance})
	}
	for id := range used {
		dl.runs = append(dl.runs, id)
	}
	slices.Sort(dl.runs)
	if len(dl.runs) == 0 {
		dl.runs = []string{cur.id} // a run with no counters at all still is the date's run
	}
	return dl, nil
}
