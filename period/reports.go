package period

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"settle/feed"
	"settle/internal/i18n"
	"settle/report"
	"settle/store"
)

// counterTotals are a counter's sums over the period, for the reports.
type counterTotals struct {
	key                           CounterKey
	days                          int
	txn, gross, reversed, net     int64
	expected, deposited, variance int64
	daysShort                     int
	worst                         int64
	series                        *Series
}

// totals sums each counter's period lines; the reports' figures come from the same sums as
// period_settlement and period_variance, so their totals equal the CSVs'.
func totals(d *Data) map[CounterKey]*counterTotals {
	out := map[CounterKey]*counterTotals{}
	get := func(k CounterKey) *counterTotals {
		t := out[k]
		if t == nil {
			t = &counterTotals{key: k}
			out[k] = t
		}
		return t
	}
	for k, a := range d.Settlement {
		t := get(k.CounterKey)
		t.txn += a.TxnCount
		t.gross += a.Gross
		t.reversed += a.Reversed
		t.net += a.Net
	}
	for k, a := range d.Variance {
		t := get(k.CounterKey)
		t.expected += a.Expected
		t.deposited += a.Deposited
		t.variance += a.Variance
		t.worst = min(t.worst, a.WorstShortfall)
	}
	for k, s := range d.Counters {
		t := get(k)
		t.series = s
		t.days = len(s.Days)
		dates, _ := shortfalls(s)
		t.daysShort = len(dates)
	}
	return out
}

func sortKeys(m map[CounterKey]*counterTotals) []*counterTotals {
	out := make([]*counterTotals, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *counterTotals) int {
		return cmp.Or(cmp.Compare(a.key.City, b.key.City), cmp.Compare(a.key.Outlet, b.key.Outlet), cmp.Compare(a.key.Counter, b.key.Counter))
	})
	return out
}

// writeReports renders reports/<outlet>/outlet-period.{xlsx,pdf} and
// reports/city-period.{xlsx,pdf}, o.Workers (GOMAXPROCS) at a time.
func writeReports(ctx context.Context, run *store.Run, d *Data, findings []Finding, items []Item, lang i18n.Lang, o Options, m *Manifest, stamp time.Time) error {
	all := sortKeys(totals(d))
	byOutlet := map[string][]*counterTotals{}
	var outlets []string
	for _, t := range all {
		if _, ok := byOutlet[t.key.Outlet]; !ok {
			outlets = append(outlets, t.key.Outlet)
		}
		byOutlet[t.key.Outlet] = append(byOutlet[t.key.Outlet], t)
	}
	for _, id := range outlets {
		if !feed.ValidID(id) {
			return fmt.Errorf("outlet id %q is not 1-32 characters of [A-Za-z0-9_-]", id)
		}
	}
	stamp = stamp.UTC().Truncate(time.Second)
	r := &reporter{l: lang, p: d.Period, runID: m.RunID, status: m.Status, stamp: stamp}
	type job struct {
		rel string
		doc func() *report.PeriodDoc
	}
	var jobs []job
	add := func(base string, doc func() *report.PeriodDoc) {
		if o.XLSX {
			jobs = append(jobs, job{base + ".xlsx", doc})
		}
		if o.PDF {
			jobs = append(jobs, job{base + ".pdf", doc})
		}
	}
	add("reports/city-period", func() *report.PeriodDoc { return r.cityDoc(d, all, findings, items) })
	for _, out := range outlets {
		add("reports/"+out+"/outlet-period", func() *report.PeriodDoc { return r.outletDoc(out, byOutlet[out]) })
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, j := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			doc := j.doc()
			return store.WriteRunFile(run, j.rel, func(w io.Writer) error {
				if strings.HasSuffix(j.rel, ".pdf") {
					return report.WritePeriodPDF(w, doc)
				}
				return report.WritePeriodXLSX(w, doc)
			})
		})
	}
	return g.Wait()
}

// reporter lays the period's data out as report.PeriodDocs.
type reporter struct {
	l      i18n.Lang
	p      Period
	runID  string
	status string
	stamp  time.Time
}

func (r *reporter) s(k i18n.Key) string { return r.l.S(k) }

func (r *reporter) statusText() string {
	if r.status == store.StatusComplete {
		return r.s(i18n.ReportComplete)
	}
	return r.s(i18n.ReportIncomplete)
}

func (r *reporter) header(lead ...report.PeriodField) []report.PeriodField {
	h := []report.PeriodField{{Label: r.s(i18n.PeriodRange), Value: r.p.From + " – " + r.p.To}}
	h = append(h, lead...)
	return append(h,
		report.PeriodField{Label: r.s(i18n.ReportRunID), Value: r.runID},
		report.PeriodField{Label: r.s(i18n.ReportGenerated), Value: r.stamp.Format("2006-01-02 15:04:05 UTC")},
		report.PeriodField{Label: r.s(i18n.ReportStatus), Value: r.statusText()})
}

func (r *reporter) col(k i18n.Key, w float64) report.PeriodColumn {
	return report.PeriodColumn{Label: r.s(k), Width: w}
}

func (r *reporter) money(k i18n.Key) report.PeriodColumn {
	return report.PeriodColumn{Label: r.s(k), Money: true, Width: 3}
}

func (r *reporter) count(k i18n.Key) report.PeriodColumn {
	return report.PeriodColumn{Label: r.s(k), Count: true, Width: 1.6}
}

// outletDoc: the outlet's month, one row per counter, then per day.
func (r *reporter) outletDoc(outlet string, counters []*counterTotals) *report.PeriodDoc {
	city := ""
	if len(counters) > 0 {
		city = counters[0].key.City
	}
	byCounter := report.PeriodTable{
		Title: r.s(i18n.PeriodByCounter), Sheet: r.s(i18n.PeriodByCounter),
		Columns: []report.PeriodColumn{r.col(i18n.ReportCounter, 2.5), r.count(i18n.PeriodDays), r.count(i18n.PeriodTxnCount),
			r.money(i18n.ReportGross), r.money(i18n.ReportReversed), r.money(i18n.ReportNet),
			r.money(i18n.ReportExpected), r.money(i18n.ReportDeposited), r.money(i18n.ReportVariance),
			r.count(i18n.PeriodDaysShort), r.money(i18n.PeriodWorstShortfall)},
	}
	var tot counterTotals
	for _, t := range counters {
		byCounter.Rows = append(byCounter.Rows, []report.PeriodCell{report.Txt(t.key.Counter), report.Num(int64(t.days)), report.Num(t.txn),
			report.Num(t.gross), report.Num(t.reversed), report.Num(t.net), report.Num(t.expected), report.Num(t.deposited), report.Num(t.variance),
			report.Num(int64(t.daysShort)), report.Num(t.worst)})
		tot.days += t.days
		tot.txn += t.txn
		tot.gross += t.gross
		tot.reversed += t.reversed
		tot.net += t.net
		tot.expected += t.expected
		tot.deposited += t.deposited
		tot.variance += t.variance
		tot.daysShort += t.daysShort
		tot.worst = min(tot.worst, t.worst)
	}
	byCounter.Total = []report.PeriodCell{report.Txt(r.s(i18n.ReportTotal)), report.Num(int64(tot.days)), report.Num(tot.txn),
		report.Num(tot.gross), report.Num(tot.reversed), report.Num(tot.net), report.Num(tot.expected), report.Num(tot.deposited), report.Num(tot.variance),
		report.Num(int64(tot.daysShort)), report.Num(tot.worst)}
	// Then one row per day: the outlet's counters that day, how many are incomplete or not
	// approved, and the day's figures (period_days.csv has every counter-day).
	byDay := report.PeriodTable{
		Title: r.s(i18n.PeriodByDay), Sheet: r.s(i18n.PeriodByDay),
		Columns: []report.PeriodColumn{r.col(i18n.ReportDate, 2), r.count(i18n.ReportCounters), r.count(i18n.ReportIncompleteCount),
			r.count(i18n.PeriodNotApprovedCount), r.count(i18n.PeriodShortCount), r.money(i18n.ReportNet), r.money(i18n.ReportVariance),
			r.count(i18n.ReportErrors), r.count(i18n.ReportWarnings)},
	}
	type dayTot struct {
		counters, incomplete, notApproved, short int
		net, variance                            int64
		errors, warnings                         int
	}
	byDate := map[string]*dayTot{}
	var dates []string
	for _, t := range counters {
		if t.series == nil {
			continue
		}
		for _, d := range t.series.Days {
			a := byDate[d.Date]
			if a == nil {
				a = &dayTot{}
				byDate[d.Date] = a
				dates = append(dates, d.Date)
			}
			a.counters++
			if !d.Complete {
				a.incomplete++
			}
			if d.HasFigures && d.Sign != SignApproved {
				a.notApproved++
			}
			for _, v := range d.Variances {
				if v.Variance < 0 {
					a.short++
					break
				}
			}
			a.net += d.Net
			a.variance += d.Variance
			a.errors += d.Errors
			a.warnings += d.Warnings
		}
	}
	slices.Sort(dates)
	var dt dayTot
	for _, date := range dates {
		a := byDate[date]
		inc := report.Num(int64(a.incomplete))
		inc.Alert = a.incomplete > 0
		byDay.Rows = append(byDay.Rows, []report.PeriodCell{report.Txt(date), report.Num(int64(a.counters)), inc,
			report.Num(int64(a.notApproved)), report.Num(int64(a.short)), report.Num(a.net), report.Num(a.variance),
			report.Num(int64(a.errors)), report.Num(int64(a.warnings))})
		dt.incomplete += a.incomplete
		dt.notApproved += a.notApproved
		dt.short += a.short
		dt.net += a.net
		dt.variance += a.variance
		dt.errors += a.errors
		dt.warnings += a.warnings
	}
	byDay.Total = []report.PeriodCell{report.Txt(r.s(i18n.ReportTotal)), {Blank: true}, report.Num(int64(dt.incomplete)),
		report.Num(int64(dt.notApproved)), report.Num(int64(dt.short)), report.Num(dt.net), report.Num(dt.variance),
		report.Num(int64(dt.errors)), report.Num(int64(dt.warnings))}
	return &report.PeriodDoc{
		Lang:  r.l.String(),
		Title: r.s(i18n.PeriodOutletTitle),
		Header: r.header(report.PeriodField{Label: r.s(i18n.ReportCity), Value: city},
			report.PeriodField{Label: r.s(i18n.ReportOutlet), Value: outlet}),
		Tables: []report.PeriodTable{byCounter, byDay},
		Footer: city + " · " + outlet + " · " + r.runID,
		Stamp:  r.stamp,
	}
}

// cityDoc: the city's month, one row per outlet, the findings, the open items by age.
func (r *reporter) cityDoc(d *Data, all []*counterTotals, findings []Finding, items []Item) *report.PeriodDoc {
	type outletRow struct {
		city, outlet string
		counters     int
		tot          counterTotals
	}
	var rows []*outletRow
	for _, t := range all {
		if len(rows) == 0 || rows[len(rows)-1].city != t.key.City || rows[len(rows)-1].outlet != t.key.Outlet {
			rows = append(rows, &outletRow{city: t.key.City, outlet: t.key.Outlet})
		}
		o := rows[len(rows)-1]
		o.counters++
		o.tot.txn += t.txn
		o.tot.gross += t.gross
		o.tot.reversed += t.reversed
		o.tot.net += t.net
		o.tot.expected += t.expected
		o.tot.deposited += t.deposited
		o.tot.variance += t.variance
		o.tot.daysShort += t.daysShort
	}
	byOutlet := report.PeriodTable{
		Title: r.s(i18n.PeriodByOutlet), Sheet: r.s(i18n.PeriodByOutlet),
		Columns: []report.PeriodColumn{r.col(i18n.ReportCity, 2), r.col(i18n.ReportOutlet, 2.5), r.count(i18n.ReportCounters), r.count(i18n.PeriodTxnCount),
			r.money(i18n.ReportGross), r.money(i18n.ReportReversed), r.money(i18n.ReportNet),
			r.money(i18n.ReportExpected), r.money(i18n.ReportDeposited), r.money(i18n.ReportVariance), r.count(i18n.PeriodDaysShort)},
	}
	var tot outletRow
	for _, o := range rows {
		byOutlet.Rows = append(byOutlet.Rows, []report.PeriodCell{report.Txt(o.city), report.Txt(o.outlet), report.Num(int64(o.counters)), report.Num(o.tot.txn),
			report.Num(o.tot.gross), report.Num(o.tot.reversed), report.Num(o.tot.net), report.Num(o.tot.expected), report.Num(o.tot.deposited),
			report.Num(o.tot.variance), report.Num(int64(o.tot.daysShort))})
		tot.counters += o.counters
		tot.tot.txn += o.tot.txn
		tot.tot.gross += o.tot.gross
		tot.tot.reversed += o.tot.reversed
		tot.tot.net += o.tot.net
		tot.tot.expected += o.tot.expected
		tot.tot.deposited += o.tot.deposited
		tot.tot.variance += o.tot.variance
		tot.tot.daysShort += o.tot.daysShort
	}
	byOutlet.Total = []report.PeriodCell{report.Txt(r.s(i18n.ReportTotal)), report.Txt(""), report.Num(int64(tot.counters)), report.Num(tot.tot.txn),
		report.Num(tot.tot.gross), report.Num(tot.tot.reversed), report.Num(tot.tot.net), report.Num(tot.tot.expected), report.Num(tot.tot.deposited),
		report.Num(tot.tot.variance), report.Num(int64(tot.tot.daysShort))}
	fs := slices.Clone(findings)
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)), cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Outlet, b.Outlet), cmp.Compare(a.Counter, b.Counter), cmp.Compare(a.Detail, b.Detail))
	})
	ft := report.PeriodTable{
		Title: r.s(i18n.PeriodFindings), Sheet: r.s(i18n.PeriodFindings), Empty: r.s(i18n.PeriodNone),
		Columns: []report.PeriodColumn{r.col(i18n.ReportCode, 4), r.col(i18n.ReportSeverity, 1.5), r.col(i18n.ReportOutlet, 2),
			r.col(i18n.ReportCounter, 2), r.money(i18n.ReportAmount), r.col(i18n.ReportDetail, 9)},
	}
	for _, f := range fs {
		sev := r.s(i18n.ReportSevWarning)
		if f.Severity == SevError {
			sev = r.s(i18n.ReportSevError)
		}
		ft.Rows = append(ft.Rows, []report.PeriodCell{report.Txt(f.Code), {Text: sev, Alert: f.Severity == SevError}, report.Txt(f.Outlet),
			report.Txt(f.Counter), {N: f.Amount, Blank: !f.HasAmount}, report.Txt(f.Detail)})
	}
	its := slices.Clone(items)
	slices.SortFunc(its, func(a, b Item) int {
		return cmp.Or(-cmp.Compare(a.Age, b.Age), cmp.Compare(a.Outlet, b.Outlet), cmp.Compare(a.Counter, b.Counter), cmp.Compare(a.TxnID, b.TxnID))
	})
	it := report.PeriodTable{
		Title: r.s(i18n.PeriodOpenItems), Sheet: sheetName(r.l), Empty: r.s(i18n.PeriodNone),
		Columns: []report.PeriodColumn{r.count(i18n.PeriodAge), r.col(i18n.ReportDate, 2), r.col(i18n.ReportOutlet, 2), r.col(i18n.ReportCounter, 2),
			r.col(i18n.ReportCode, 4), r.col(i18n.ReportTxn, 3), r.col(i18n.PeriodState, 2), r.money(i18n.ReportAmount), r.col(i18n.PeriodOverdue, 1.5)},
	}
	for _, i := range its {
		over := ""
		if i.Overdue {
			over = r.s(i18n.PeriodOverdue)
		}
		it.Rows = append(it.Rows, []report.PeriodCell{report.Num(int64(i.Age)), report.Txt(i.Date), report.Txt(i.Outlet), report.Txt(i.Counter),
			report.Txt(i.Code), report.Txt(i.TxnID), report.Txt(i.State), report.Num(i.Amount), {Text: over, Alert: i.Overdue}})
	}
	city := strings.Join(d.Cities, ", ")
	return &report.PeriodDoc{
		Lang:   r.l.String(),
		Title:  r.s(i18n.PeriodCityTitle),
		Header: r.header(report.PeriodField{Label: r.s(i18n.ReportCity), Value: city}),
		Tables: []report.PeriodTable{byOutlet, ft, it},
		Footer: city + " · " + r.runID,
		Stamp:  r.stamp,
	}
}

// sheetName is the open items' sheet: the title without its parenthesis (no sheet name may
// hold one of []:*?/\, and a short name prints better).
func sheetName(l i18n.Lang) string {
	t := l.S(i18n.PeriodOpenItems)
	if i := strings.IndexAny(t, "（("); i > 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

func sevRank(s string) int {
	if s == SevError {
		return 0
	}
	return 1
}
