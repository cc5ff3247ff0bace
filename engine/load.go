package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/connectors/dialect"
	"settle/feed"
	"settle/internal/hugepage"
	"settle/internal/i18n"
	"settle/money"
)

// maxInputBytes bounds what one input may hold; a larger one is set aside as unreadable.
const maxInputBytes = 1 << 30

// loaded is one input after its rows were parsed and checked on their own (RULES.md §1
// before duplicates): rows that parse and carry the run date are in rec, in input order.
type loaded struct {
	in     connectors.Input
	digest [32]byte // sha256 of the input's bytes
	unread bool     // its bytes could not be read (digest is then of what was): never cached
	// rec holds the input's valid rows, n of them from row off: the input's own record, or
	// one it shares with other inputs (an arena's, a parse cache batch), of which it holds
	// one reference. nil when no row survived (n is then 0). Rows are numbered from 0 in the
	// input: row r is rec's row off+r.
	rec     arrow.RecordBatch
	off, n  int64
	read    int // data lines read
	rejects []Reject
	excs    []Exception
	triples []triple // counters seen on rows with valid ids
}

// dropRows lets go of ld's rows.
func (ld *loaded) dropRows() {
	if ld.rec != nil {
		ld.rec.Release()
	}
	ld.rec, ld.off, ld.n = nil, 0, 0
}

type triple struct{ city, outlet, counter string }

// compareTriple orders counters by city, outlet, then counter id.
func compareTriple(a, b triple) int {
	return cmp.Or(strings.Compare(a.city, b.city), strings.Compare(a.outlet, b.outlet), strings.Compare(a.counter, b.counter))
}

// loader turns inputs into Arrow records.
type loader struct {
	date    time.Time
	day     arrow.Date32
	ceiling int64
	mem     memory.Allocator
	lang    lang // of the details the loader writes (Config.Lang)
	// arenas are each feed's record builders shared by the small inputs (arena): a city-day
	// pulled is 20,565 inputs of ~25 rows, and a record per input (with its own buffers and
	// their slack) had held twice the day's rows in memory. loadAll finishes them at its end.
	arenas  [feed.Count]arenaPool
	cache   *parseCache // inputs read by an earlier run (Config.CacheDir), or nil
	workers int         // goroutines of the loader's parallel parts (Config.Workers, at least 1)
}

// arenaRows is how many rows an arena's record holds; an input of more than arenaRows/4
// rows gets a record of its own.
const arenaRows = 1 << 14

// arena is a record writer that several inputs of one feed append their rows to, one after
// the other; each input's record is its slice of the arena's record once that is finished.
type arena struct {
	w       *recWriter
	pending []pendingRows
	scratch *parseScratch // parseRows's, for the next input of the arena's feed
}

// parseScratch is what parseRows works in: an arena keeps it for its next input (a pulled
// day's 20,565 inputs had each made their own), and its Enum columns' memos go on filling.
type parseScratch struct {
	size []int   // text bytes by column, the source last
	vals []value // the row being read
	memo rowMemo
}

func newParseScratch(ncol int) *parseScratch {
	return &parseScratch{size: make([]int, ncol+1), vals: make([]value, ncol), memo: rowMemo{enums: make([]enumMemo, ncol)}}
}

// textColumns are each feed's columns held as text (isText).
var textColumns = sync.OnceValue(func() (out [feed.Count][]int) {
	for _, id := range feed.All {
		for c, col := range feed.Get(id).Columns {
			if isText(col.Kind) {
				out[id] = append(out[id], c)
			}
		}
	}
	return out
})

type pendingRows struct {
	ld       *loaded
	from, to int64
}

type arenaPool struct {
	mu   sync.Mutex
	free []*arena
}

// schemas are the feeds' Arrow schemas (feed.Schema), made once.
var schemas = sync.OnceValue(func() (s [feed.Count]*arrow.Schema) {
	for _, id := range feed.All {
		s[id] = feed.Schema(id)
	}
	return s
})

// arena returns an arena of feed id with room for rows more rows (finishing a full one).
func (l *loader) arena(id feed.ID, rows int) *arena {
	p := &l.arenas[id]
	p.mu.Lock()
	var a *arena
	if n := len(p.free); n > 0 {
		a = p.free[n-1]
		p.free = p.free[:n-1]
	}
	p.mu.Unlock()
	if a == nil {
		a = &arena{w: newRecWriter(l.mem, id)}
	}
	if n := a.w.n; n > 0 && n+rows > arenaRows {
		a.finish()
	}
	if a.w.n == 0 {
		a.w.reserve(arenaRows)
	}
	return a
}

// put gives an arena back for the next input of its feed.
func (l *loader) put(id feed.ID, a *arena) {
	p := &l.arenas[id]
	p.mu.Lock()
	p.free = append(p.free, a)
	p.mu.Unlock()
}

// finish makes the arena's record and gives each input its rows of it.
func (a *arena) finish() {
	if len(a.pending) == 0 {
		return
	}
	// Each input holds a reference to the whole record and its rows' place in it: a slice
	// per input (an Arrow array per column) had cost a pulled day 300,000 allocations.
	rec := a.w.finish()
	for _, p := range a.pending {
		rec.Retain()
		p.ld.rec, p.ld.off, p.ld.n = rec, p.from, p.to-p.from
	}
	rec.Release()
	a.pending = nil
}

// finishArenas finishes and releases every arena (loadAll's end).
func (l *loader) finishArenas() {
	for i := range l.arenas {
		p := &l.arenas[i]
		p.mu.Lock()
		for _, a := range p.free {
			a.finish()
			a.w.release()
		}
		p.free = nil
		p.mu.Unlock()
	}
}

// loadAll reads every input with up to workers goroutines. The result keeps input order.
func (l *loader) loadAll(ctx context.Context, inputs []connectors.Input, workers int, progress func(done int)) ([]*loaded, error) {
	out := make([]*loaded, len(inputs))
	if workers < 1 {
		workers = 1
	}
	var (
		mu   sync.Mutex
		done int
	)
	// The biggest feeds are read first, so that the last input read is a small one and no
	// worker idles while another finishes the day's invoices (a whole-city invoice file is
	// 40% of the rows). The results keep the inputs' order.
	order := make([]int, len(inputs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return feed.Share[inputs[order[a]].Feed] > feed.Share[inputs[order[b]].Feed] })
	// workers goroutines take the inputs in that order (one goroutine per input had cost a
	// pulled day's 20,565 inputs as much as taking them from the parse cache).
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(workers, max(1, len(order))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(order) || ctx.Err() != nil {
					return
				}
				i := order[k]
				out[i] = l.load(inputs[i]) // reports an input's trouble in what it returns, never as an error
				if progress != nil {
					mu.Lock()
					done++
					progress(done)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	l.finishArenas()
	if err := ctx.Err(); err != nil {
		for _, ld := range out {
			if ld != nil {
				ld.dropRows()
			}
		}
		return nil, err
	}
	return out, nil
}

// errInputTooLarge is readInput's error for an input over maxInputBytes.
var errInputTooLarge = fmt.Errorf("larger than %d bytes", maxInputBytes)

// readInput returns the bytes of in and, when its reader knows it (connectors.CheckedBytes:
// a kept input, checked against its sum as it was read back), their sha256.
func readInput(in connectors.Input) ([]byte, *[32]byte, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	if b, ok := rc.(interface{ Bytes() []byte }); ok { // connectors.Bytes: no copy
		if len(b.Bytes()) > maxInputBytes {
			return nil, nil, errInputTooLarge
		}
		var sum *[32]byte
		if c, ok := rc.(interface{ SHA256() [32]byte }); ok {
			s := c.SHA256()
			sum = &s
		}
		return b.Bytes(), sum, nil
	}
	data, err := readAll(rc)
	return data, nil, err
}

func readAll(rc io.ReadCloser) ([]byte, error) {
	// Read in one allocation when the size is known (a file, a buffer).
	size := int64(-1)
	switch r := rc.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	case interface{ Len() int }:
		size = int64(r.Len())
	}
	if size > maxInputBytes {
		return nil, errInputTooLarge
	}
	data, err := hugepage.ReadSized(io.LimitReader(rc, maxInputBytes+1), size)
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputBytes {
		return nil, errInputTooLarge
	}
	return data, nil
}

// cannotRead is the detail of an input that could not be read: the error as the reader
// said it, but for the engine's own limit. A dialect.Error of the input names it already:
// the detail names it once (with the line, when the error has one).
func (l *loader) cannotRead(name string, err error) string {
	if errors.Is(err, errInputTooLarge) {
		return l.lang.f(i18n.DetailInputTooLarge, name, maxInputBytes)
	}
	var de *dialect.Error
	if errors.As(err, &de) && de.Name == name && de.Err != nil {
		if de.Line > 0 {
			name = fmt.Sprintf("%s:%d", name, de.Line)
		}
		err = de.Err
	}
	return l.lang.f(i18n.DetailCannotRead, name, err)
}

// load reads one input; it never fails: what cannot be read is reported in the result.
func (l *loader) load(in connectors.Input) *loaded {
	if l.cache != nil {
		if d, ok := keptDigest(in); ok {
			if ld := l.cache.hit(in, d); ld != nil {
				return ld
			}
		}
	}
	ld := &loaded{in: in}
	f := feed.Get(in.Feed)
	data, sum, err := readInput(in)
	if sum != nil && err == nil {
		ld.digest = *sum
	} else {
		ld.digest = sha256.Sum256(data)
	}
	if l.cache != nil && err == nil {
		if hit := l.cache.hit(in, ld.digest); hit != nil {
			return hit
		}
	}
	var t *dialect.Table
	if err == nil {
		t, err = dialect.Read(in.Name, data, in.Format == connectors.XLSX, f)
	}
	if err != nil {
		ld.unread = true
		ld.excs = append(ld.excs, Exception{
			Code: CodeFeedMissing, Severity: severity(CodeFeedMissing), Feed: f.Name,
			Detail: l.cannotRead(in.Name, err), Source: in.Name,
		})
		return ld
	}
	ld.read = t.Len()
	if t.HeaderLine == 0 || t.WrongFeed != "" {
		l.collectTriples(ld, t)
		var reason string
		switch {
		case t.WrongFeed != "":
			// FEEDS.md: another feed's report under this feed's name.
			reason = l.lang.f(i18n.DetailWrongFeed, l.lang.feedNamed(t.WrongFeed), l.lang.feed(f.ID),
				rowSource(in, t.PartSource(t.HeaderSheet), t.HeaderLine))
		case t.Near > 0:
			lacks := make([]string, len(t.Missing))
			for i, name := range t.Missing {
				lacks[i] = l.lang.colOf(f, name)
			}
			reason = l.lang.f(i18n.DetailNoHeaderNearest, l.lang.feed(f.ID), t.Near, l.lang.list(lacks))
		default:
			reason = l.lang.f(i18n.DetailNoHeader, l.lang.feed(f.ID))
		}
		ld.excs = append(ld.excs, Exception{
			Code: CodeFeedMissing, Severity: severity(CodeFeedMissing), Feed: f.Name,
			Detail: l.lang.f(i18n.DetailSetAside, in.Name, reason, t.Len()),
			Source: rowSource(in, t.PartSource(t.HeaderSheet), t.HeaderLine),
		})
		for i := 0; i < t.Len(); i++ {
			ld.rejects = append(ld.rejects, Reject{Feed: f.Name, Source: t.Source(i), Line: t.Line(i), Reason: string(CodeFeedMissing) + ": " + l.lang.f(i18n.DetailRejectFile, reason), Raw: strings.Clone(t.Raw(i))})
		}
		return ld
	}
	// Headers and titles repeated at page breaks: set aside, nothing raised (FEEDS.md).
	for _, a := range t.Repeated {
		ld.rejects = append(ld.rejects, Reject{Feed: f.Name, Source: t.PartSource(a.Part), Line: a.Line, Reason: "repeated header", Raw: strings.Clone(a.Raw)})
	}
	// The footer's finding comes before the rows', as it did when the footer was checked
	// first; its amounts are those parseRows read.
	n := len(ld.excs)
	sums := l.parseRows(ld, t, f)
	l.checkFooter(ld, t, f, sums, n)
	return ld
}

// rowSource cites a line of an input read as source (the input's name, or name[Sheet]
// for a sheet of a workbook: dialect.Table.Source): source:line, or the name alone for a
// pull or no line.
func rowSource(in connectors.Input, source string, line int) string {
	if in.Pull || line <= 0 {
		return source
	}
	return fmt.Sprintf("%s:%d", source, line)
}

// collectTriples notes the counters that t's rows name (every row's, valid or not), in the
// order they first come: those of an input set aside whole. parseRows notes those of an
// input it reads as it goes, in the same order (a pass of its own over a city-day's cells
// had been ~15 ms).
func (l *loader) collectTriples(ld *loaded, t *dialect.Table) {
	seen := map[triple]bool{}
	var last triple
	for i := 0; i < t.Len(); i++ {
		tr := triple{t.Cell(i, feed.ColCity), t.Cell(i, feed.ColOutlet), t.Cell(i, feed.ColCounter)}
		if i > 0 && tr == last { // a counter's rows mostly follow each other: taken already
			continue
		}
		last = tr
		noteTriple(ld, seen, tr)
	}
}

// noteTriple adds tr to ld's counters unless it is in seen already or names an invalid id.
func noteTriple(ld *loaded, seen map[triple]bool, tr triple) {
	if !seen[tr] && feed.ValidID(tr.city) && feed.ValidID(tr.outlet) && feed.ValidID(tr.counter) {
		seen[tr] = true
		// The cells are the input's bytes: copies, so that the counters of the run do
		// not keep every input alive.
		ld.triples = append(ld.triples, triple{strings.Clone(tr.city), strings.Clone(tr.outlet), strings.Clone(tr.counter)})
	}
}

// amountSums is what a footer's amount is checked against: the sum of every row's amount,
// read as money.Parse reads it, unless a row's is empty or not an amount (valid false).
type amountSums struct {
	valid, overflow bool
	sum             int64
}

// add takes one row's amount: ok false when it is empty or not an amount.
func (s *amountSums) add(v int64, ok bool) {
	if !s.valid {
		return
	}
	if !ok {
		s.valid = false
		return
	}
	// v >= 0. A sum beyond int64 is beyond any amount a footer can state.
	if s.sum > math.MaxInt64-v {
		s.overflow = true
	}
	s.sum += v
}

// checkFooter compares a 合计/TOTAL line with the rows read (RULES.md §9): their number, and
// the sum of their amounts (sums, from parseRows: parsing them again had been ~20 ms of a
// city-day's parse). Its finding goes at ld.excs[at].
func (l *loader) checkFooter(ld *loaded, t *dialect.Table, f *feed.Feed, sums amountSums, at int) {
	ft := t.Footer
	if ft == nil {
		return
	}
	var problems []string
	count, err := ParseWhole(ft.Count)
	if err != nil {
		problems = append(problems, l.lang.f(i18n.DetailFooterCountNaN, quote(ft.Count)))
	} else if count != int64(t.Len()) {
		problems = append(problems, l.lang.f(i18n.DetailFooterCount, count, t.Len()))
	}
	sum, overflow := sums.sum, sums.overflow
	if sums.valid {
		want, err := money.Parse(ft.Amount)
		switch {
		case err != nil:
			problems = append(problems, l.lang.f(i18n.DetailFooterAmountNaN, quote(ft.Amount)))
		case overflow:
			problems = append(problems, l.lang.f(i18n.DetailFooterAmountOver, money.Format(want), money.Format(math.MaxInt64)))
		case want != sum:
			problems = append(problems, l.lang.f(i18n.DetailFooterAmount, money.Format(want), money.Format(sum)))
		}
	}
	if len(problems) == 0 {
		return
	}
	ld.excs = slices.Insert(ld.excs, at, Exception{
		Code: CodeFeedTotalMismatch, Severity: severity(CodeFeedTotalMismatch), Feed: f.Name,
		Detail: l.lang.f(i18n.DetailInputProblems, ld.in.Name, l.lang.join(problems)), Source: rowSource(ld.in, t.PartSource(ft.Part), ft.Line),
	})
}

// value is one parsed cell: a number (Money, Whole; a Date's date32, a Time's Unix seconds),
// or an Enum's code by its index in the column's Enumeration.Values. A text kept as read
// (Ident, Digits, Text) is the cell itself, read from the table where it is needed. A value
// holds no pointer: storing a row's strings in values had cost the write barriers of the
// garbage collector, which runs all through a big day's parse (~20 ms of a city-day's).
type value struct {
	i    int64
	null bool
}

// parseRows validates every row on its own and writes the good ones to an Arrow record. It
// returns the sum of every row's amount, good or not, for the footer.
func (l *loader) parseRows(ld *loaded, t *dialect.Table, f *feed.Feed) (sums amountSums) {
	sums.valid = true
	var (
		a    *arena
		w    *recWriter
		from int64
	)
	ncol := len(f.Columns)
	var sc *parseScratch
	if t.Len() <= arenaRows/4 {
		a = l.arena(f.ID, t.Len())
		w = a.w
		from = int64(w.n)
		if a.scratch == nil {
			a.scratch = newParseScratch(ncol)
		}
		sc = a.scratch
		clear(sc.size)
		sc.memo.date = dateMemo{} // its text is one of another input
	} else {
		w = newRecWriter(l.mem, f.ID)
		w.reserve(t.Len())
		sc = newParseScratch(ncol)
	}
	// Text is sized from the text itself: a guess that falls short makes the buffer double,
	// and the record keeps the slack (a province-day's feeds carried hundreds of MB of it).
	// A text column's length is summed from the Table's spans, without touching the text.
	size, textCols := sc.size, textColumns()[f.ID]
	for _, c := range textCols {
		size[c] = t.TextLen(c)
	}
	for i := 0; i < t.Len(); i++ {
		size[ncol] += len(t.Source(i))
	}
	rows := int(from) + t.Len()
	for _, c := range textCols {
		n := size[c]
		if f.Columns[c].Kind == feed.Enum {
			n += t.Len() * 2 // a code may be longer than the name it was written as
		}
		w.reserveText(c, n, a != nil, rows)
	}
	w.reserveText(ncol, size[ncol], a != nil, rows)
	vals, memo := sc.vals, &sc.memo
	var problems []problem
	kept := 0
	amountCol := f.Col("amount")
	payCol := f.Col("pay_method")
	seen := map[triple]bool{}
	var last triple
	for i := 0; i < t.Len(); i++ {
		// The row's counter (as collectTriples notes them), valid row or not.
		if tr := (triple{t.Cell(i, feed.ColCity), t.Cell(i, feed.ColOutlet), t.Cell(i, feed.ColCounter)}); i == 0 || tr != last {
			last = tr
			noteTriple(ld, seen, tr)
		}
		problems = problems[:0]
		amountOK := false
		for c := range f.Columns {
			col := &f.Columns[c]
			text := t.Cell(i, c)
			vals[c] = value{}
			if text == "" {
				vals[c].null = true
				if !col.Optional && !(c == payCol && f.ID == feed.Order) {
					problems = append(problems, problem{c, l.lang.f(i18n.DetailFieldEmpty, l.lang.col(col))})
				}
				continue
			}
			p := l.parseCell(c, col, text, &vals[c], memo)
			if p != "" {
				problems = append(problems, problem{c, p})
			}
			if c == amountCol {
				amountOK = p == ""
			}
		}
		sums.add(vals[max(amountCol, 0)].i, amountOK)
		problems = l.crossCheck(f, t, i, vals, amountCol, payCol, problems)
		var code Code
		switch {
		case len(problems) > 0:
			code = CodeMalformedRow
		case arrow.Date32(vals[feed.ColBizDate].i) != l.day:
			code = CodeWrongDate
			problems = append(problems, problem{feed.ColBizDate, l.lang.f(i18n.DetailWrongDate, l.lang.col(&f.Columns[feed.ColBizDate]),
				quote(t.Cell(i, feed.ColBizDate)), l.date.Format("2006-01-02"))})
		}
		if code != "" {
			texts := make([]string, len(problems))
			for j, p := range problems {
				texts[j] = p.text
			}
			detail := l.lang.join(texts)
			// Copies of the input's text: a reject must not keep the whole input alive.
			ld.rejects = append(ld.rejects, Reject{Feed: f.Name, Source: t.Source(i), Line: t.Line(i), Reason: string(code) + ": " + detail, Raw: strings.Clone(t.Raw(i))})
			e := Exception{Code: code, Severity: severity(code), Feed: f.Name, Detail: detail, Source: rowSource(ld.in, t.Source(i), t.Line(i)),
				City: strings.Clone(t.Cell(i, feed.ColCity)), Outlet: strings.Clone(t.Cell(i, feed.ColOutlet)), Counter: strings.Clone(t.Cell(i, feed.ColCounter))}
			if tc := f.Col("txn_id"); tc >= 0 {
				e.TxnID = strings.Clone(t.Cell(i, tc))
			}
			ld.excs = append(ld.excs, e)
			continue
		}
		w.put(vals, t, i)
		kept++
	}
	if a != nil {
		if kept > 0 {
			a.pending = append(a.pending, pendingRows{ld, from, from + int64(kept)})
		}
		l.put(f.ID, a)
		return sums
	}
	if rec := w.finish(); rec != nil {
		ld.rec, ld.n = rec, rec.NumRows()
	}
	return sums
}

// rowRef names a row of an input as its rejects cite it: the row's source (the input's
// name, or name[Sheet] for a sheet of a workbook) and line.
type rowRef struct {
	source string
	line   int
}

// sourceOf is the source column of row r: the input's name, or name[Sheet].
func sourceOf(rec arrow.RecordBatch, r int) string {
	return rec.Column(int(rec.NumCols()) - 2).(*array.String).Value(r)
}

// rawLines returns the raw text of the given rows of an input, read again: the loader keeps
// no raw text of valid rows (it would keep every input in memory for the few rows that turn
// out to be duplicates). An input that cannot be read again, or reads differently, gives an
// error.
func rawLines(ld *loaded, rows []rowRef) (map[rowRef]string, error) {
	data, sum, err := readInput(ld.in)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		s := sha256.Sum256(data)
		sum = &s
	}
	if *sum != ld.digest {
		return nil, fmt.Errorf("%s changed since it was read", ld.in.Name)
	}
	f := feed.Get(ld.in.Feed)
	out := make(map[rowRef]string, len(rows))
	if ld.in.Format == connectors.XLSX {
		// A workbook's rows are told apart by sheet as well as line.
		want := make(map[rowRef]bool, len(rows))
		for _, r := range rows {
			want[r] = true
		}
		t, err := dialect.Read(ld.in.Name, data, true, f)
		if err != nil {
			return nil, err
		}
		for i := 0; i < t.Len(); i++ {
			if ref := (rowRef{t.Source(i), t.Line(i)}); want[ref] {
				out[ref] = strings.Clone(t.Raw(i))
			}
		}
		return out, nil
	}
	lines := make([]int, len(rows))
	for i, r := range rows {
		lines[i] = r.line
	}
	raws, err := dialect.RawLines(ld.in.Name, data, false, f, lines)
	if err != nil {
		return nil, err
	}
	for l, raw := range raws {
		out[rowRef{ld.in.Name, l}] = raw
	}
	return out, nil
}

// isText reports whether a column of kind k is held as text (an Arrow string).
func isText(k feed.Kind) bool {
	switch k {
	case feed.Date, feed.Time, feed.Money, feed.Whole:
		return false
	}
	return true
}

// rowMemo is what parseCell remembers from one input's earlier cells: its last date, and
// the texts each Enum column has held.
type rowMemo struct {
	date  dateMemo
	enums []enumMemo // by column
}

// enumMemo is the texts an Enum column has held so far and the codes they gave: a column
// holds a handful of distinct texts, and Enumeration.Parse compares each with every value
// and name, case-folded (~15 ms of a city-day's parse).
type enumMemo struct {
	texts []string
	codes []int // by index in Values
}

// enumMemoMax bounds an enumMemo; a text beyond it is parsed each time.
const enumMemoMax = 16

// parse is Enumeration.Parse, its code by its index in e.Values: -1 when s is none of them.
func (m *enumMemo) parse(e *feed.Enumeration, s string) int {
	for i, t := range m.texts {
		if t == s {
			return m.codes[i]
		}
	}
	code, ok := e.Parse(s)
	if !ok {
		return -1
	}
	k := slices.Index(e.Values, code)
	if len(m.texts) < enumMemoMax {
		// A copy: an arena's memo outlives the input the text is part of.
		m.texts = append(m.texts, strings.Clone(s))
		m.codes = append(m.codes, k)
	}
	return k
}

// parseCell parses one non-empty cell of column c into v; it returns a problem or "".
func (l *loader) parseCell(c int, col *feed.Column, text string, v *value, memo *rowMemo) string {
	switch col.Kind {
	case feed.Ident:
		if !feed.ValidID(text) {
			return l.lang.field(col, text, errNotIdent)
		}
	case feed.Date:
		d := memo.date.parse(text)
		if d.err != nil {
			return l.lang.field(col, text, d.err)
		}
		v.i = d.day
	case feed.Time:
		// ParseTime(text).Unix(), the date part remembered.
		date, secs, ok := splitTime(text)
		if !ok {
			return l.lang.field(col, text, errNotTime)
		}
		d := memo.date.parse(date)
		if d.err != nil {
			return l.lang.field(col, text, errNotTime)
		}
		v.i = d.unix + secs
	case feed.Money:
		fen, err := money.Parse(text)
		if err != nil {
			return l.lang.field(col, text, err)
		}
		v.i = fen
	case feed.Whole:
		n, err := ParseWhole(text)
		if err != nil {
			return l.lang.field(col, text, err)
		}
		v.i = n
	case feed.Enum:
		code := memo.enums[c].parse(col.Enum, text)
		if code < 0 {
			values := col.Enum.Values
			if l.lang == langZh {
				values = col.Enum.Zh
			}
			return l.lang.f(i18n.DetailFieldNotOneOf, l.lang.col(col), quote(text), l.lang.list(values))
		}
		v.i = int64(code)
	case feed.Digits:
		// Kept as text (leading zeros are part of a serial); the rules read the value
		// with digitsValue.
		if _, err := ParseDigits(text); err != nil {
			return l.lang.field(col, text, err)
		}
	}
	return ""
}

// crossCheck applies the rules of FEEDS.md that involve a column's meaning or several columns.
// vals are row i of t, parsed.
func (l *loader) crossCheck(f *feed.Feed, t *dialect.Table, i int, vals []value, amountCol, payCol int, problems []problem) []problem {
	g := l.lang
	add := func(col int, k i18n.Key, args ...any) {
		problems = append(problems, problem{col, g.f(k, args...)})
	}
	amountOK := amountCol >= 0 && !vals[amountCol].null && !hasProblem(problems, amountCol)
	if amountOK {
		a := vals[amountCol].i
		if a == 0 && f.ID != feed.Order {
			add(amountCol, i18n.DetailFieldZero, g.colOf(f, "amount"))
		}
		if a > l.ceiling {
			add(amountCol, i18n.DetailFieldAboveCeiling, g.colOf(f, "amount"), money.Format(a), money.Format(l.ceiling))
		}
	}
	if f.ID == feed.Order && vals[payCol].null && amountOK && vals[amountCol].i != 0 {
		add(payCol, i18n.DetailPayEmptyWithAmount, g.colOf(f, "pay_method"))
	}
	switch f.ID {
	case feed.Reversal:
		odCol := f.Col("orig_date")
		od, bd := vals[odCol], vals[feed.ColBizDate]
		if !od.null && !bd.null && !hasProblem(problems, odCol, feed.ColBizDate) && od.i > bd.i {
			add(odCol, i18n.DetailAfter, g.colOf(f, "orig_date"), g.colOf(f, "biz_date"))
		}
	case feed.CardSale:
		fvCol, qCol := f.Col("face_value"), f.Col("quantity")
		if fv := vals[fvCol]; !fv.null && !hasProblem(problems, fvCol) && fv.i == 0 {
			add(fvCol, i18n.DetailFieldZero, g.colOf(f, "face_value"))
		}
		if q := vals[qCol]; !q.null && !hasProblem(problems, qCol) && q.i < 1 {
			add(qCol, i18n.DetailFieldZero, g.colOf(f, "quantity"))
		}
		fromCol, toCol := f.Col("serial_from"), f.Col("serial_to")
		from, to := t.Cell(i, fromCol), t.Cell(i, toCol)
		if !vals[fromCol].null && !vals[toCol].null && !hasProblem(problems, fromCol, toCol) && len(from) != len(to) {
			add(fromCol, i18n.DetailSerialLength, g.colOf(f, "serial_from"), quote(from), g.colOf(f, "serial_to"), quote(to))
		}
	}
	return problems
}

// problem is one thing wrong with a row: the column it is about (its index in the feed's
// Columns) and the text in the run's language.
type problem struct {
	col  int
	text string
}

// hasProblem reports whether a problem is about one of the columns cols.
func hasProblem(problems []problem, cols ...int) bool {
	for _, p := range problems {
		if slices.Contains(cols, p.col) {
			return true
		}
	}
	return false
}

// dayNumber is the Arrow date32 of a calendar date: days since 1970-01-01.
func dayNumber(t time.Time) arrow.Date32 {
	y, m, d := t.Date()
	return arrow.Date32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateOf is the inverse of dayNumber, at midnight Asia/Shanghai.
func dateOf(d arrow.Date32) time.Time {
	u := time.Unix(int64(d)*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, Shanghai)
}
