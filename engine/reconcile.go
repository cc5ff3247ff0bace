// Package engine is the columnar core of settle: it loads a day's inputs into Arrow
// records, applies every rule of RULES.md and returns the settlement, the deposit check,
// the exceptions and the rejected rows.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"settle/connectors"
	"settle/feed"
	"settle/internal/hugepage"
	"settle/internal/i18n"
	"settle/money"
)

// Config of one reconciliation.
type Config struct {
	Date     time.Time // business date; only its calendar day counts
	Lookback int       // days a reversal may reach back into stored runs (RULES.md §5)
	Ceiling  int64     // fen; an amount above it is malformed
	// Lang is the language of every exception detail and reject reason (internal/i18n): "zh"
	// (the default, also when empty) or "en". Only FEEDS.md's literal `repeated header`
	// reason is English in both.
	Lang    string
	Workers int // inputs parsed in parallel
	// CacheDir, when set, is the date's parse cache (parsecache.go): inputs an earlier run
	// read are taken from it rather than parsed again, and the run leaves its own there.
	// Result.CacheWritten says when that is done.
	CacheDir string
	// Ahead, when set, is the parse cache of CacheDir read before Load was called
	// (ReadCacheAhead): Load takes it, or drops it when it was read for other settings.
	Ahead   *CacheAhead
	History History // stored runs of earlier days; nil means none
	Mem     memory.Allocator
	// Progress, when set, is told how many inputs have been read.
	Progress func(done, total int)
}

// NewConfig returns the defaults: 90 days of look-back, a ceiling of 1,000,000.00 yuan.
func NewConfig() Config {
	return Config{Lookback: 90, Ceiling: 1_000_000_00, Lang: "zh", Workers: runtime.NumCPU(), Mem: hugepage.Allocator{Allocator: memory.DefaultAllocator}}
}

// Validate checks the configuration; errors name the setting.
func (c Config) Validate() error {
	switch {
	case c.Date.IsZero():
		return errors.New("date: must be set")
	case c.Lookback < 0:
		return fmt.Errorf("lookback: %d must not be negative", c.Lookback)
	case c.Ceiling <= 0:
		return fmt.Errorf("amount-ceiling: %s must be above 0", money.Format(c.Ceiling))
	case c.Lang != "" && c.Lang != "zh" && c.Lang != "en":
		return fmt.Errorf("lang: %q, want zh or en", c.Lang)
	}
	return nil
}

// Reconcile applies RULES.md to one day's inputs: Load, then Apply.
func Reconcile(ctx context.Context, cfg Config, src *connectors.Day) (*Result, error) {
	ld, err := Load(ctx, cfg, src)
	if err != nil {
		return nil, err
	}
	return ld.Apply()
}

// Loaded is a day's inputs read into their final feeds, before the rules: duplicates and
// rows of other counters are set aside, and every row is under its counter's city and
// outlet. Apply runs the rules over it; a caller that does not apply it releases it.
type Loaded struct {
	// Feeds holds each feed's valid rows, normalized (schema feed.Schema(id)), in canonical
	// order: Result.Feeds once applied. A caller may read them, from any goroutine, until
	// Apply's Result or Release frees them; it retains what it keeps using longer.
	Feeds [feed.Count]arrow.RecordBatch
	// InputDigest is Result.InputDigest.
	InputDigest string

	cfg        Config
	src        *connectors.Day
	l          *loader
	date       time.Time
	loads      []*loaded
	known      *counters
	dupInputs  []dupInput
	dupRejects []Reject // their Raw filled once rawsRead is closed
	rawsRead   <-chan struct{}
	dupExcs    []Exception
	foreign    []Exception
	pulls      map[string]bool
	conflicts  []Exception
	feedDigest [feed.Count]string
	cacheDone  chan error
}

// Load reads one day's inputs and assembles their feeds (RULES.md before the rules proper).
func Load(ctx context.Context, cfg Config, src *connectors.Day) (*Loaded, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	inputs := append([]connectors.Input(nil), src.Inputs...)
	connectors.SortInputs(inputs)
	l := newLoader(cfg)
	l.cache = cfg.Ahead.take(cfg.CacheDir, l)
	if l.cache == nil {
		l.cache = openParseCache(cfg.CacheDir, l)
	}
	var progress func(int)
	if cfg.Progress != nil {
		progress = func(done int) { cfg.Progress(done, len(inputs)) }
	}
	loads, err := l.loadAll(ctx, inputs, cfg.Workers, progress)
	if l.cache != nil {
		l.cache.release() // the inputs it served hold their own slices
	}
	if err != nil {
		return nil, err
	}
	// The inputs' names and digests, summed beside the rest of Load.
	type sums struct {
		all string
		per [feed.Count]string
	}
	digested := make(chan sums, 1)
	go func() {
		var s sums
		s.all, s.per = digests(loads)
		digested <- s
	}()
	// The cache is written before assemble takes the inputs' records over (and frees each
	// as soon as it is joined): written beside it, it held a day's rows twice, which a
	// province-day cannot afford. When what is to be written is a small part of the day (a
	// refresh writes the feeds of the inputs it read again), or the day is small enough that
	// its rows twice are no burden (a city-day: ~100 MB more for a moment), it is written
	// beside the rest of the run: written first, it had left a core idle for ~0.1 s of a
	// city-day's ~1.1 s reconcile-only run.
	cacheDone := make(chan error, 1)
	if l.cache != nil {
		p := l.cache.plan(loads)
		if rows := loadedRows(loads); p.rows()*8 <= rows || rows <= cacheBesideRows {
			go func() { cacheDone <- p.write(l) }()
		} else {
			cacheDone <- p.write(l)
		}
	} else {
		cacheDone <- nil
	}
	// The counters are known before the repeated inputs are set aside: a repeat's rows are
	// those of an input earlier in canonical order, so they add no counter and change no order.
	known := knownCounters(src, loads)
	dupInputs := l.duplicateInputs(loads, known)
	feeds, dupRejects, dupExcs, foreign, rawsRead, err := l.assemble(loads, known)
	if err != nil {
		// Nothing of the run goes on once Load returns: the cache's files are not written
		// into a directory the caller may remove, nor the inputs read again for raw text.
		<-cacheDone
		<-rawsRead
		<-digested
		return nil, err
	}
	pulls := map[string]bool{}
	for _, in := range inputs {
		if in.Pull {
			pulls[in.Name] = true
		}
	}
	conflicts := l.place(&feeds, known, pulls)
	// A feed may be a slice of a shared record (an arena's, the parse cache's), whose null
	// counts Arrow works out on first asking and then keeps: asked here once, so that the
	// goroutines that read the feeds afterwards (rules, Parquet, report keys) only read them.
	for _, rec := range feeds {
		if rec != nil {
			for _, col := range rec.Columns() {
				col.NullN()
			}
		}
	}
	ld := &Loaded{Feeds: feeds, cfg: cfg, src: src, l: l, date: l.date, loads: loads, known: known,
		dupInputs: dupInputs, dupRejects: dupRejects, rawsRead: rawsRead, dupExcs: dupExcs, foreign: foreign, pulls: pulls, conflicts: conflicts,
		cacheDone: cacheDone}
	ds := <-digested
	ld.InputDigest, ld.feedDigest = ds.all, ds.per
	return ld, nil
}

// cacheBesideRows is the most rows of a day whose parse cache Load writes beside assemble
// (holding the rows twice for a moment): a city-day has ~523,000, a province-day eleven
// times as many. A variable for the tests, which take both ways.
var cacheBesideRows int64 = 1_500_000

// loadedRows is how many valid rows the inputs hold.
func loadedRows(loads []*loaded) int64 {
	var n int64
	for _, ld := range loads {
		n += ld.n
	}
	return n
}

// Release frees the feeds of a Loaded that is not applied; after Apply it does nothing.
func (ld *Loaded) Release() {
	// Nothing of the Loaded is in use once it returns: neither the rejects' raw text being
	// read again nor the parse cache being written.
	<-ld.rawsRead
	if ld.cacheDone != nil {
		<-ld.cacheDone
		ld.cacheDone = nil
	}
	for i, rec := range ld.Feeds {
		if rec != nil {
			rec.Release()
			ld.Feeds[i] = nil
		}
	}
}

// Apply runs the rules over the loaded feeds and returns the Result, which owns the feeds
// from then on (also on an error, when they are freed): lo is spent.
func (lo *Loaded) Apply() (*Result, error) {
	cfg, src, l, loads, known := lo.cfg, lo.src, lo.l, lo.loads, lo.known
	<-lo.rawsRead // the rejects' raw text, read again beside the rest of Load
	feeds := lo.Feeds
	lo.Feeds = [feed.Count]arrow.RecordBatch{}
	res := &Result{Date: lo.date, Feeds: feeds, Lang: l.lang.code(), InputDigest: lo.InputDigest, FeedDigests: lo.feedDigest,
		cacheDone: lo.cacheDone}
	lo.cacheDone = nil // the Result's to wait for now
	d := newDay(l.day, feeds, lo.pulls, cfg.Lookback, cfg.History, l.lang)
	d.excs = append(d.excs, lo.conflicts...)
	foreign := lo.foreign
	for _, di := range lo.dupInputs {
		e := di.exc
		if known.perCounter(di.ld.in) {
			e.Counter = di.ld.in.Counter
		}
		foreign = append(foreign, e)
	}
	homeKeys(foreign, known)
	d.excs = append(d.excs, foreign...)
	for _, ld := range loads {
		res.Rejects = append(res.Rejects, ld.rejects...)
	}
	res.Rejects = append(res.Rejects, lo.dupRejects...)
	d.excs = append(d.excs, lo.dupExcs...)

	// The rules only read the day (and its shared indexes) and each raises into its own
	// copy's list, so they run side by side; the lists are joined in this fixed order, and the
	// exceptions are sorted after, so the result does not depend on which finished first.
	rules := []func(r *day) error{
		func(r *day) error { res.Settlement, res.Variance = r.settle(); return nil },
		func(r *day) error { r.summary(); return nil },
		func(r *day) error { r.purchases(); return nil },
		func(r *day) error { return r.reversals() },
		func(r *day) error { r.remote(); return nil },
		func(r *day) error { r.cards(); return nil },
		func(r *day) error { r.invoices(); return nil },
	}
	// The longest groups start first (invoices, then the settlement; the demo city-day's
	// 215,000 invoice rows are about half the rules' work): started last, the invoices had
	// run alone on one core after the others were done.
	start := []int{6, 0, 1, 3, 5, 4, 2}
	raised := make([][]Exception, len(rules))
	var g errgroup.Group
	g.SetLimit(max(1, cfg.Workers))
	for _, i := range start {
		rule := rules[i]
		g.Go(func() error {
			r := *d
			r.excs = nil
			err := rule(&r)
			raised[i] = r.excs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		res.Release()
		return nil, err
	}
	for _, excs := range raised {
		d.excs = append(d.excs, excs...)
	}

	d.excs = append(d.excs, completeness(src, loads, known, l.lang)...)
	for _, ld := range loads {
		for _, e := range ld.excs {
			if e.Code == CodeMalformedRow || e.Code == CodeWrongDate {
				d.excs = append(d.excs, e)
			}
		}
	}
	res.Exceptions = d.excs
	sortExceptions(res.Exceptions)
	sortRejects(res.Rejects)
	res.Counters, res.Complete = counterList(known, res.Exceptions)
	for _, ld := range loads {
		c := &res.Counts[ld.in.Feed]
		c.Inputs++
		c.Read += ld.read
	}
	for _, r := range res.Rejects {
		if id, ok := feed.ByName(r.Feed); ok {
			res.Counts[id].Rejected++
		}
	}
	for id := range feed.All {
		res.Counts[id].Valid = d.n(feed.ID(id))
	}
	return res, nil
}

// completeness raises FEED_MISSING and FEED_TOTAL_MISMATCH (RULES.md §9) with the counter
// each belongs to (docs/DECISIONS.md).
func completeness(src *connectors.Day, loads []*loaded, known *counters, g lang) []Exception {
	var out []Exception
	attach := func(e *Exception, counter string) {
		if t, ok := known.byID[counter]; ok {
			e.City, e.Outlet = t.city, t.outlet
		}
		e.Counter = counter
	}
	missing := map[feed.ID]map[string]bool{}
	for _, m := range src.Missing {
		f := feed.Get(m.Feed)
		e := Exception{Code: CodeFeedMissing, Severity: severity(CodeFeedMissing), Feed: f.Name, Detail: g.missing(m)}
		if m.Counter != "" {
			attach(&e, m.Counter)
			if e.City == "" {
				e.City, e.Outlet = m.City, m.Outlet
			}
			e.Source = f.Name + "/" + m.Counter
		}
		if missing[m.Feed] == nil {
			missing[m.Feed] = map[string]bool{}
		}
		missing[m.Feed][m.Counter] = true
		out = append(out, e)
	}
	perCounter := known.perCounter
	have := map[feed.ID]map[string]bool{}
	layoutPerCounter := map[feed.ID]bool{}
	for _, ld := range loads {
		in := ld.in
		if perCounter(in) {
			layoutPerCounter[in.Feed] = true
			if have[in.Feed] == nil {
				have[in.Feed] = map[string]bool{}
			}
			have[in.Feed][in.Counter] = true
		}
		for _, e := range ld.excs {
			if e.Code != CodeFeedMissing && e.Code != CodeFeedTotalMismatch {
				continue
			}
			if perCounter(in) {
				attach(&e, in.Counter)
			}
			out = append(out, e)
		}
	}
	if src.Roster == nil {
		for _, f := range feed.All {
			if !layoutPerCounter[f] {
				continue
			}
			for _, c := range known.order {
				if have[f][c] || missing[f][c] {
					continue
				}
				e := Exception{Code: CodeFeedMissing, Severity: severity(CodeFeedMissing), Feed: f.String(),
					Detail: g.f(i18n.DetailNoCounterFile, g.feed(f), c)}
				attach(&e, c)
				out = append(out, e)
			}
		}
	}
	return out
}

// counterList lists the day's counters with their completeness.
func counterList(known *counters, excs []Exception) ([]CounterInfo, bool) {
	why := IncompleteWhy(excs)
	complete := len(why) == 0
	out := make([]CounterInfo, 0, len(known.order))
	for _, id := range known.order {
		t := known.byID[id]
		w := why.Of(id)
		out = append(out, CounterInfo{City: t.city, Outlet: t.outlet, Counter: t.counter, Incomplete: len(w) > 0, Why: w})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		return compareTriple(triple{a.City, a.Outlet, a.Counter}, triple{b.City, b.Outlet, b.Counter}) < 0
	})
	return out, complete
}

// ExceptionFields returns an exception as the text columns of exceptions.csv after
// biz_date, in order; rows are sorted by these as text.
func ExceptionFields(e *Exception) [10]string {
	amount := ""
	if e.HasAmount {
		amount = money.Format(e.Amount)
	}
	return [10]string{string(e.Code), string(e.Severity), e.City, e.Outlet, e.Counter, e.Feed, e.TxnID, amount, e.Detail, e.Source}
}

func sortExceptions(excs []Exception) {
	keys := make([][10]string, len(excs))
	idx := make([]int, len(excs))
	for i := range excs {
		keys[i] = ExceptionFields(&excs[i])
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := &keys[idx[a]], &keys[idx[b]]
		for c := range ka {
			if ka[c] != kb[c] {
				return ka[c] < kb[c]
			}
		}
		return false
	})
	sorted := make([]Exception, len(excs))
	for i, j := range idx {
		sorted[i] = excs[j]
	}
	copy(excs, sorted)
}

func sortRejects(rs []Reject) {
	order := map[string]int{}
	for _, f := range feed.All {
		order[f.String()] = int(f)
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Feed != b.Feed {
			return order[a.Feed] < order[b.Feed]
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Line < b.Line
	})
}

// digests sums the inputs' names and checksums, in canonical order, overall and per feed.
func digests(loads []*loaded) (string, [feed.Count]string) {
	all := sha256.New()
	var per [feed.Count]hash.Hash
	for i := range per {
		per[i] = sha256.New()
	}
	var line []byte
	for _, ld := range loads {
		// name NUL hex(digest) LF
		line = append(line[:0], ld.in.Name...)
		line = append(line, 0)
		line = hex.AppendEncode(line, ld.digest[:])
		line = append(line, '\n')
		all.Write(line)
		per[ld.in.Feed].Write(line)
	}
	var out [feed.Count]string
	for i, h := range per {
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return hex.EncodeToString(all.Sum(nil)), out
}

// IncompleteReasons says why counters' figures are incomplete: the FEED_MISSING and FEED_TOTAL_MISMATCH
// findings of a day, city-wide ones (no counter) under "".
type IncompleteReasons map[string][]string

// IncompleteWhy collects the completeness findings of excs, as CounterInfo.Why shows them.
func IncompleteWhy(excs []Exception) IncompleteReasons {
	why := IncompleteReasons{}
	for _, e := range excs {
		if e.Code == CodeFeedMissing || e.Code == CodeFeedTotalMismatch {
			why[e.Counter] = append(why[e.Counter], string(e.Code)+" "+e.Feed+": "+e.Detail)
		}
	}
	return why
}

// Of is CounterInfo.Why of counter: the city-wide reasons first, then the counter's own.
func (w IncompleteReasons) Of(counter string) []string {
	if counter == "" {
		return slices.Clone(w[""])
	}
	return append(slices.Clone(w[""]), w[counter]...)
}
