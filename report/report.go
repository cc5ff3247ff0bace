// Package report renders the settlement reports of a run (OUTPUTS.md, "The settlement
// report"): for every counter an XLSX workbook and a PDF a clerk prints and signs, and the
// outlet and city roll-ups, in Chinese or English.
//
// Everything is drawn from an engine.Result; money stays integer fen until the last step (a
// cell value or a formatted string). Output depends only on the Result and the Options, so two
// renders with the same GeneratedAt are byte-identical.
package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"settle/engine"
	"settle/feed"
)

// Formats a report can be written in.
const (
	FormatXLSX = "xlsx"
	FormatPDF  = "pdf"
)

// Options control a Render.
type Options struct {
	// Lang is the language of labels and exception descriptions: "zh" (default when empty) or "en".
	Lang string
	// Formats lists the formats to write, "xlsx" and/or "pdf"; empty writes nothing. The
	// roll-ups are written in the same formats as the counters' reports.
	Formats []string
	// Workers bounds how many counters are rendered at once; 0 or less means runtime.NumCPU().
	Workers int
	// RunID and Source are shown in every report's header.
	RunID, Source string
	// GeneratedAt is shown in the header and stamped into the files' metadata (its zone is
	// the one shown: pass it in Asia/Shanghai).
	GeneratedAt time.Time
	// DayOpen marks a run of a business day that had not ended (Asia/Shanghai) when it
	// started: every report says "营业中，数据未截止" on its face (job.DayOpen decides).
	DayOpen bool
	// Progress, when set, is called after each file set is written (a counter's reports, an
	// outlet roll-up, the city roll-up) with the number done and the total; never concurrently.
	Progress func(done, total int)
	// Reuse, when set, is offered every file before it is rendered, with its content key,
	// and takes an earlier run's file in its place when that one shows the same (Reuser).
	Reuse Reuser
	// ToolVersion is part of every content key: another version renders afresh.
	ToolVersion string
}

// NewOptions returns the defaults: Chinese, both formats, one worker per CPU.
func NewOptions() Options {
	return Options{Lang: "zh", Formats: []string{FormatXLSX, FormatPDF}, Workers: runtime.NumCPU()}
}

// Validate checks the language and the formats.
func (o *Options) Validate() error {
	if _, err := labelsFor(o.Lang); err != nil {
		return err
	}
	for _, f := range o.Formats {
		if f != FormatXLSX && f != FormatPDF {
			return fmt.Errorf("formats: unknown format %q (want xlsx, pdf)", f)
		}
	}
	return nil
}

// Creator creates the files of a run: rel is a '/'-separated path inside the run directory,
// whose parent directories Create makes. A *store.Run is one; Render writes every report
// through it, so the store checks each path and a failed write keeps the run unpublished.
type Creator interface {
	Create(rel string) (io.WriteCloser, error)
}

// CounterPaths returns where Render writes a counter's reports, relative to the run
// directory and '/'-separated.
func CounterPaths(outlet, counter string) (xlsx, pdf string, err error) {
	if !feed.ValidID(outlet) {
		return "", "", fmt.Errorf("outlet id %q is not 1-32 characters of [A-Za-z0-9_-]", outlet)
	}
	if !feed.ValidID(counter) {
		return "", "", fmt.Errorf("counter id %q is not 1-32 characters of [A-Za-z0-9_-]", counter)
	}
	base := "reports/" + outlet + "/" + counter
	return base + ".xlsx", base + ".pdf", nil
}

// Render writes the reports of res into the run out:
//
//	reports/<outlet_id>/<counter_id>.xlsx, .pdf   one per counter of res.Counters
//	reports/<outlet_id>/outlet.xlsx, .pdf         the outlet's roll-up
//	reports/city.xlsx, .pdf                       the city roll-up
//
// Outlet and counter ids must be valid ids (ValidID), and no two counters may share a report
// path; otherwise nothing is written and an error says which. Counters are rendered in parallel
// by opts.Workers workers; the first failure stops the rest and is returned (files already
// created stay: the run is not to be published). res is only read.
func Render(ctx context.Context, res *engine.Result, out Creator, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	l, _ := labelsFor(opts.Lang)
	wantXLSX, wantPDF := slices.Contains(opts.Formats, FormatXLSX), slices.Contains(opts.Formats, FormatPDF)
	if !wantXLSX && !wantPDF {
		return nil
	}

	// Every path part is checked before anything is written.
	type place struct{ city, outlet, counter string }
	seen := map[string]place{}
	var outlets []string
	isOutlet := map[string]bool{}
	for _, c := range res.Counters {
		if _, _, err := CounterPaths(c.Outlet, c.Counter); err != nil {
			return fmt.Errorf("counter %s/%s/%s: %w", c.City, c.Outlet, c.Counter, err)
		}
		p := c.Outlet + "/" + c.Counter
		if prev, dup := seen[p]; dup {
			return fmt.Errorf("counters %s/%s/%s and %s/%s/%s would share the report %q",
				prev.city, prev.outlet, prev.counter, c.City, c.Outlet, c.Counter, "reports/"+p)
		}
		seen[p] = place{c.City, c.Outlet, c.Counter}
		if !isOutlet[c.Outlet] {
			isOutlet[c.Outlet] = true
			outlets = append(outlets, c.Outlet)
		}
	}
	slices.Sort(outlets)

	ix := newRunIndex(res)
	ix.memoViews(res.Counters)
	r := &renderer{ix: ix, l: l, opts: &opts, out: out, sorted: ix.sortedCounters()}
	byOutlet := make(map[string][]engine.CounterInfo, len(outlets))
	for _, c := range r.sorted {
		byOutlet[c.Outlet] = append(byOutlet[c.Outlet], c)
	}
	if wantPDF {
		var err error
		if r.font, err = newRunFont(res, l, &opts); err != nil {
			return err
		}
		r.fontSum = fontDigest(r.font.data)
	}
	r.base = r.runKey()
	// The city roll-up, the longest task, goes first: last, it kept one CPU busy alone at the end.
	var tasks []task
	if wantXLSX {
		tasks = append(tasks, task{"city roll-up", func() error {
			ru := r.cityRollupData()
			return r.withReuse(ru.file+".xlsx", func() string { return r.rollupKey(ru, FormatXLSX) }, func() error { return r.rollupXLSX(ru) })
		}})
	}
	if wantPDF {
		tasks = append(tasks, task{"city roll-up PDF", func() error {
			ru := r.cityRollupData()
			return r.withReuse(ru.file+".pdf", func() string { return r.rollupKey(ru, FormatPDF) }, func() error { return r.rollupPDF(ru) })
		}})
	}
	for _, c := range res.Counters {
		tasks = append(tasks, task{"counter " + c.Outlet + "/" + c.Counter, func() error { return r.counter(c, wantXLSX, wantPDF) }})
	}
	for _, o := range outlets {
		if wantXLSX {
			tasks = append(tasks, task{"outlet " + o, func() error {
				ru := r.outletRollupData(o, byOutlet[o])
				return r.withReuse(ru.file+".xlsx", func() string { return r.rollupKey(ru, FormatXLSX) }, func() error { return r.rollupXLSX(ru) })
			}})
		}
		if wantPDF {
			tasks = append(tasks, task{"outlet " + o + " PDF", func() error {
				ru := r.outletRollupData(o, byOutlet[o])
				return r.withReuse(ru.file+".pdf", func() string { return r.rollupKey(ru, FormatPDF) }, func() error { return r.rollupPDF(ru) })
			}})
		}
	}
	return runPool(ctx, opts.Workers, tasks, opts.Progress)
}

// renderer holds what the reports of one run share.
type renderer struct {
	ix   *runIndex
	l    *labels
	opts *Options
	out  Creator
	font *runFont // nil without PDF
	// sorted are the run's counters by city, outlet and counter (sortedCounters).
	sorted []engine.CounterInfo
	// base is the part of the content keys every file of the run shares (runKey); fontSum
	// the digest of the PDF font.
	base, fontSum string
	// books starts a workbook; nil: newBook (the tests start some through excelize).
	books func(l *labels, stamp time.Time, title, header string) (*book, error)
}

// newBook starts a workbook of the run.
func (r *renderer) newBook(stamp time.Time, title, header string) (*book, error) {
	if r.books != nil {
		return r.books(r.l, stamp, title, header)
	}
	return newBook(r.l, stamp, title, header)
}

// withReuse renders rel with render unless the Reuser takes an earlier file for key.
// Without a Reuser, key is not computed.
func (r *renderer) withReuse(rel string, key func() string, render func() error) error {
	if r.opts.Reuse == nil {
		return render()
	}
	k := key()
	ok, err := r.reuse(rel, k)
	if err != nil || ok {
		return err
	}
	if err := render(); err != nil {
		return err
	}
	r.rendered(rel, k)
	return nil
}

// stamp is the time written into the files' metadata: GeneratedAt, or the business date when
// it is not set (never the clock: a render is a function of its run), in UTC.
func (r *renderer) stamp() time.Time {
	if r.opts.GeneratedAt.IsZero() {
		return r.ix.res.Date.UTC()
	}
	return r.opts.GeneratedAt.UTC()
}

// counter writes one counter's reports.
func (r *renderer) counter(c engine.CounterInfo, wantXLSX, wantPDF bool) error {
	v := r.ix.counter(c)
	xlsxPath, pdfPath, _ := CounterPaths(c.Outlet, c.Counter)
	ck := ""
	if r.opts.Reuse != nil {
		ck = r.counterKey(v)
	}
	if wantXLSX {
		if err := r.withReuse(xlsxPath, func() string { return r.fileKey(ck, FormatXLSX) }, func() error { return r.counterXLSX(v, xlsxPath) }); err != nil {
			return fmt.Errorf("counter %s/%s: %w", c.Outlet, c.Counter, err)
		}
	}
	if wantPDF {
		if err := r.withReuse(pdfPath, func() string { return r.fileKey(ck, FormatPDF) }, func() error { return r.counterPDF(v, pdfPath) }); err != nil {
			return fmt.Errorf("counter %s/%s: %w", c.Outlet, c.Counter, err)
		}
	}
	return nil
}

// task is one piece of Render's work; its name says what a panic in it was about.
type task struct {
	name string
	run  func() error
}

// runPool runs tasks on at most workers goroutines (runtime.NumCPU() when workers <= 0),
// starting them in order. A task that panics fails with the panic, under its name, as its
// error. After the first error or the context's end no new task starts; that error is returned.
func runPool(ctx context.Context, workers int, tasks []task, progress func(done, total int)) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var (
		mu   sync.Mutex
		done int
	)
	for _, t := range tasks {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if gctx.Err() != nil { // an earlier task failed while this one waited for a slot
				return nil
			}
			if err := runTask(t); err != nil {
				return err
			}
			mu.Lock()
			done++
			if progress != nil {
				progress(done, len(tasks))
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil && done < len(tasks) {
		return err
	}
	return nil
}

// runTask runs t, turning a panic into its error.
func runTask(t task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", t.name, p)
		}
	}()
	return t.run()
}

// writeFile creates rel in the run and hands it to write. On failure the file is left to
// the run, which is then not published.
func (r *renderer) writeFile(rel string, write func(io.Writer) error) (err error) {
	out, err := r.out.Create(rel)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if err := write(out); err != nil {
		return fmt.Errorf("write %q: %w", rel, err)
	}
	return nil
}

// errNoFeedSchema reports a feed record not in the normalized schema.
var errNoFeedSchema = errors.New("feed record is not in the normalized schema")

// headerLine is what a report's pages belong to, for running heads and footers: the city by
// its name where l knows it.
func headerLine(l *labels, c engine.CounterInfo, date string) string {
	return strings.Join([]string{l.regionName(c.City), c.Outlet, c.Counter, date}, " · ")
}
