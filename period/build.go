package period

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"settle/internal/i18n"
	"settle/store"
)

// Output names inside a period run directory (PERIOD.md "Outputs").
const (
	SettlementName = "period_settlement"
	VarianceName   = "period_variance"
	DaysName       = "period_days"
	FindingsName   = "period_findings"
	OpenItemsName  = "open_items"
)

// CSV headers of the period tables.
var (
	SettlementHeader = []string{"from", "to", "city", "outlet_id", "counter_id", "category", "pay_method", "days", "txn_count", "gross", "reversed", "net"}
	VarianceHeader   = []string{"from", "to", "city", "outlet_id", "counter_id", "pay_method", "expected", "deposited", "variance", "days_short", "days_over", "worst_shortfall"}
	DaysHeader       = []string{"biz_date", "city", "outlet_id", "counter_id", "run_id", "data_status", "signoff_status", "errors", "warnings", "open_items"}
	FindingsHeader   = []string{"from", "to", "code", "severity", "city", "outlet_id", "counter_id", "amount", "detail"}
	OpenItemsHeader  = []string{"biz_date", "city", "outlet_id", "counter_id", "code", "txn_id", "state", "amount", "age_days", "overdue"}
)

// Options configure one period report.
type Options struct {
	StoreDir       string
	Period         Period
	SignOffs       SignOffs
	Items          Items
	XLSX, PDF      bool
	Lang           string // zh or en
	ShortfallLimit int64  // fen, positive; 0: DefaultShortfallLimit
	ToolVersion    string
	Now            func() time.Time
	LockTimeout    time.Duration
	Workers        int // dates read at once; 0: GOMAXPROCS
	Log            *slog.Logger
}

// Manifest is a period run's manifest.json.
type Manifest struct {
	Period      string `json:"period"`
	From        string `json:"from"`
	To          string `json:"to"`
	RunID       string `json:"run_id"`
	ToolVersion string `json:"tool_version"`
	Lang        string `json:"lang"`
	GeneratedAt string `json:"generated_at"`
	Status      string `json:"status"` // complete: every date has a run, complete for every counter
	// RunsUsed: the run ids each date's counter-days came from, sorted (the prune command
	// reads exactly this field to keep them).
	RunsUsed     map[string][]string     `json:"runs_used"`
	MissingDates []string                `json:"missing_dates"`
	Counters     int                     `json:"counters"`
	Findings     FindingCounts           `json:"findings"`
	Outputs      map[string]store.Output `json:"outputs"`
}

// FindingCounts counts the period findings.
type FindingCounts struct {
	Total      int            `json:"total"`
	ByCode     map[string]int `json:"by_code"`
	BySeverity map[string]int `json:"by_severity"`
}

// Outcome is what Run published.
type Outcome struct {
	RunID, Dir string
	Manifest   *Manifest
	Complete   bool
}

// ErrIncomplete: published, but some date has no complete run (exit 4).
var ErrIncomplete = errors.New("period published, but some date has no complete run")

// Run builds the period report of o.Period from the published runs and publishes it under
// <store>/periods/<from>_<to>/runs/<run_id>/. A closed period is refused (*ClosedError): its
// report of record is the one published before the close.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Items == nil {
		o.Items = NoItems{}
	}
	if o.ShortfallLimit <= 0 {
		o.ShortfallLimit = DefaultShortfallLimit
	}
	lang, err := i18n.Parse(o.Lang)
	if err != nil {
		return nil, err
	}
	p := o.Period
	if c, closed, err := ReadClosure(o.StoreDir, p); err != nil {
		return nil, err
	} else if closed && c.Closed {
		return nil, &ClosedError{Closure: c}
	}
	days, err := store.Open(o.StoreDir)
	if err != nil {
		return nil, err
	}
	ps, err := store.OpenPeriods(o.StoreDir)
	if err != nil {
		return nil, err
	}
	unlock, err := ps.Lock(ctx, p.Name(), o.LockTimeout, func(holder string) {
		o.Log.Info("waiting for the period's lock", "period", p.Name(), "holder", holder)
	})
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Closed while we waited for the lock?
	if c, closed, err := ReadClosure(o.StoreDir, p); err != nil {
		return nil, err
	} else if closed && c.Closed {
		return nil, &ClosedError{Closure: c}
	}
	start := o.Now()
	data, err := Load(ctx, days, p, o.SignOffs, o.Workers)
	if err != nil {
		return nil, err
	}
	items, err := o.Items.Open(ctx, p, p.To)
	if err != nil {
		return nil, fmt.Errorf("open items: %w", err)
	}
	findings := Check(data, items, lang, o.ShortfallLimit)
	runID := store.NewRunID(start, digestOf(data, o))
	run, err := ps.Begin(p.Name(), runID)
	if err != nil {
		return nil, err
	}
	defer run.Abort()
	m := &Manifest{Period: p.Name(), From: p.From, To: p.To, RunID: runID, ToolVersion: o.ToolVersion, Lang: lang.String(),
		GeneratedAt: start.UTC().Truncate(time.Second).Format(time.RFC3339), RunsUsed: data.RunsUsed,
		MissingDates: slices.Clip(data.Missing), Counters: len(data.Counters),
		Findings: FindingCounts{ByCode: map[string]int{}, BySeverity: map[string]int{}}}
	if m.MissingDates == nil {
		m.MissingDates = []string{}
	}
	m.Status = store.StatusComplete
	for _, f := range findings {
		m.Findings.Total++
		m.Findings.ByCode[f.Code]++
		m.Findings.BySeverity[f.Severity]++
		if f.Code == CodeDayMissing || f.Code == CodeDayIncomplete {
			m.Status = store.StatusIncomplete
		}
	}
	if len(data.Missing) > 0 {
		m.Status = store.StatusIncomplete
	}
	if err := writeTables(run, data, findings, items); err != nil {
		return nil, err
	}
	if o.XLSX || o.PDF {
		if err := writeReports(ctx, run, data, findings, items, lang, o, m, start); err != nil {
			return nil, err
		}
	}
	if m.Outputs, err = store.Checksums(run); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := store.WriteRunFile(run, store.ManifestName, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return nil, err
	}
	if err := run.Publish(); err != nil {
		return nil, err
	}
	out := &Outcome{RunID: runID, Dir: run.Dir(), Manifest: m, Complete: m.Status == store.StatusComplete}
	o.Log.Info("period published", "period", p.Name(), "run_id", runID, "counters", m.Counters, "findings", m.Findings.Total, "status", m.Status)
	return out, nil
}

// digestOf is what the run id's hash covers: the period, the runs used and the options that
// change the outputs.
func digestOf(d *Data, o Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n%v%v\n%s\n", d.Period.Name(), o.Lang, o.ShortfallLimit, o.XLSX, o.PDF, o.ToolVersion)
	for _, date := range slices.Sorted(maps.Keys(d.RunsUsed)) {
		fmt.Fprintf(h, "%s=%s\n", date, strings.Join(d.RunsUsed[date], ","))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeTables writes the period's CSV and Parquet tables.
func writeTables(run *store.Run, d *Data, findings []Finding, items []Item) error {
	from, to := d.Period.From, d.Period.To
	st := store.NewOutTable(SettlementName, SettlementHeader, map[string]store.ColumnKind{
		"days": store.ColCount, "txn_count": store.ColCount, "gross": store.ColMoney, "reversed": store.ColMoney, "net": store.ColMoney})
	for k, a := range d.Settlement {
		st.Add(from, to, k.City, k.Outlet, k.Counter, k.Category, k.Pay, a.Days, a.TxnCount, a.Gross, a.Reversed, a.Net)
	}
	vt := store.NewOutTable(VarianceName, VarianceHeader, map[string]store.ColumnKind{
		"expected": store.ColMoney, "deposited": store.ColMoney, "variance": store.ColMoney,
		"days_short": store.ColCount, "days_over": store.ColCount, "worst_shortfall": store.ColMoney})
	for k, a := range d.Variance {
		vt.Add(from, to, k.City, k.Outlet, k.Counter, k.Pay, a.Expected, a.Deposited, a.Variance, a.DaysShort, a.DaysOver, a.WorstShortfall)
	}
	openBy := map[string]int{} // date|counter → open items
	for _, it := range items {
		openBy[it.Date+"|"+it.Counter]++
	}
	dt := store.NewOutTable(DaysName, DaysHeader, map[string]store.ColumnKind{"errors": store.ColCount, "warnings": store.ColCount, "open_items": store.ColCount})
	for k, s := range d.Counters {
		for _, day := range s.Days {
			status := store.StatusComplete
			if !day.Complete {
				status = store.StatusIncomplete
			}
			dt.Add(day.Date, k.City, k.Outlet, k.Counter, day.RunID, status, day.Sign, day.Errors, day.Warnings, openBy[day.Date+"|"+k.Counter])
		}
	}
	ft := store.NewOutTable(FindingsName, FindingsHeader, map[string]store.ColumnKind{"amount": store.ColMoneyNull})
	for _, f := range findings {
		var amount any
		if f.HasAmount {
			amount = f.Amount
		}
		ft.Add(from, to, f.Code, f.Severity, f.City, f.Outlet, f.Counter, amount, f.Detail)
	}
	it := store.NewOutTable(OpenItemsName, OpenItemsHeader, map[string]store.ColumnKind{"amount": store.ColMoney, "age_days": store.ColCount})
	for _, i := range items {
		over := "no"
		if i.Overdue {
			over = "yes"
		}
		it.Add(i.Date, i.City, i.Outlet, i.Counter, i.Code, i.TxnID, i.State, i.Amount, i.Age, over)
	}
	// The tables are written two at a time (the days table, one row per counter-day, is
	// most of the work).
	var g errgroup.Group
	g.SetLimit(2)
	for _, w := range []struct {
		t       *store.OutTable
		parquet bool
	}{{dt, false}, {st, true}, {vt, true}, {ft, true}, {it, false}} {
		g.Go(func() error { return w.t.Write(run, w.parquet) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return nil
}
