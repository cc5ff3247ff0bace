package report

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/internal/i18n"
	"settle/store"
)

// CertItem is one item of the counter-day as the workflow log has it.
type CertItem struct {
	engine.Exception
	State, Reason, ReasonLabel, Text, By, ByName string
	At                                           time.Time
	Comment                                      string
}

// SignBlock is the sign-off of the counter-day: the clerk's name and certification time, the
// reviewer's name and approval time (zero until approved).
type SignBlock struct {
	ClerkName    string
	CertifiedAt  time.Time
	ReviewerName string
	ApprovedAt   time.Time
}

// certView is what the certified report adds to a counter's report.
type certView struct {
	sign SignBlock
	// items are parallel to counterView.exceptions: the item of each exception, nil when the
	// log has none for it.
	items []*CertItem
	// lines are the texts of items, parallel too ("" for nil): state, reason, text, who,
	// when and the reviewer's comment.
	lines []string
}

// Certified renders the certified report of a counter-day (WORKFLOW.md "Paper and trail"):
// the counter's PDF as the run rendered it — header, revenue, deposits, exceptions — rebuilt
// from the stored run's tables and manifest (run id, source, generation time), with under
// every exception its item's state, reason, text, who and when and the reviewer's comment,
// and the sign-off block filled in from sign (the reviewer's lines stay empty until
// sign.ApprovedAt is set).
//
// Items are matched to the counter's exceptions by the diff's identity (code, counter, feed,
// txn_id, key); an item that matches none is listed after them with its own exception. The
// result depends only on the run's files and the arguments — not on the order of items, the
// clock or the map order — so the same call gives the same bytes: the PDF's creation date is
// sign.CertifiedAt (its modification date sign.ApprovedAt once set). Of opts only Lang is
// used; the header's run id, source and time are the manifest's.
func Certified(run *store.Stored, outlet, counter string, items []CertItem, sign SignBlock, opts Options) ([]byte, error) {
	if _, _, err := CounterPaths(outlet, counter); err != nil {
		return nil, err
	}
	l, err := labelsFor(opts.Lang)
	if err != nil {
		return nil, err
	}
	m := run.Manifest()
	date, err := time.ParseInLocation("2006-01-02", m.BizDate, engine.Shanghai)
	if err != nil {
		return nil, fmt.Errorf("run %q: manifest biz_date: %w", run.Dir(), err)
	}
	t, err := run.ReadTables(memory.NewGoAllocator())
	if err != nil {
		return nil, err
	}
	res := &engine.Result{Date: date, Settlement: t.Settlement, Variance: t.Variance, Exceptions: t.Exceptions, Lang: m.DetailLang}
	info, ok := storedCounter(res, m, outlet, counter)
	if !ok {
		return nil, fmt.Errorf("run %q: no counter %s/%s", run.Dir(), outlet, counter)
	}
	res.Counters = []engine.CounterInfo{info}
	o := Options{Lang: l.lang, RunID: m.RunID, Source: m.Source, GeneratedAt: m.StartedAt.In(engine.Shanghai), Workers: 1,
		DayOpen: m.DayOpen} // a run of a day not yet over says so on its certified report too
	ix := newRunIndex(res)
	v := ix.counter(info)
	v.setCompleteness(l)
	v.attach(l, items, sign)
	r := &renderer{ix: ix, l: l, opts: &o}
	if r.font, err = cutFont(l, &o, res.BizDate(), func(add func(ss ...string)) {
		for _, s := range res.Settlement {
			add(l.categoryName(s.Category), l.payMethodName(s.PayMethod))
		}
		for _, v := range res.Variance {
			add(l.payMethodName(v.PayMethod))
		}
		add(info.City, l.regionName(info.City), info.Outlet, info.Counter)
		addExceptions(l, add, v.exceptions)
		addExceptions(l, add, ix.completeness)
		add(v.cert.lines...)
		add(sign.ClerkName, sign.ReviewerName, formatTime(shanghai(sign.CertifiedAt)), formatTime(shanghai(sign.ApprovedAt)))
		add(l.g.F(i18n.ReportCertNote, o.RunID))
	}); err != nil {
		return nil, err
	}
	p, err := r.buildPDF(v)
	if err != nil {
		return nil, fmt.Errorf("certified report of %s/%s: %w", outlet, counter, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("certified report of %s/%s: pdf: %w", outlet, counter, err)
	}
	return buf.Bytes(), nil
}

// storedCounter finds a counter of a stored run: its city from its settlement or variance
// lines (which carry the counter's own keys), else from a finding about it. A counter with a
// report in the manifest but no line or finding has no city.
func storedCounter(res *engine.Result, m *store.Manifest, outlet, counter string) (engine.CounterInfo, bool) {
	c := engine.CounterInfo{Outlet: outlet, Counter: counter}
	for _, s := range res.Settlement {
		if s.Outlet == outlet && s.Counter == counter {
			c.City = s.City
			return c, true
		}
	}
	for _, v := range res.Variance {
		if v.Outlet == outlet && v.Counter == counter {
			c.City = v.City
			return c, true
		}
	}
	for _, e := range res.Exceptions {
		if e.Outlet == outlet && e.Counter == counter {
			c.City = e.City
			return c, true
		}
	}
	_, pdf, _ := CounterPaths(outlet, counter)
	_, ok := m.Outputs[pdf]
	return c, ok
}

// setCompleteness sets v's completeness from the run's findings, as the engine does (a counter is
// incomplete when a FEED_MISSING or FEED_TOTAL_MISMATCH concerns it or the whole city).
func (v *counterView) setCompleteness(l *labels) {
	v.info.Why = v.why(l)
	v.info.Incomplete = len(v.info.Why) > 0
}

// attach matches items to v's exceptions and adds the sign-off.
func (v *counterView) attach(l *labels, items []CertItem, sign SignBlock) {
	sorted := make([]*CertItem, len(items))
	for i := range items {
		sorted[i] = &items[i]
	}
	// A fixed order whatever the caller's: by identity, then every other field.
	slices.SortFunc(sorted, compareItems)
	used := make([]bool, len(sorted))
	c := &certView{sign: sign, items: make([]*CertItem, len(v.exceptions))}
	for i := range v.exceptions {
		e := &v.exceptions[i]
		for j, it := range sorted {
			if !used[j] && sameIdentity(e, &it.Exception) {
				used[j], c.items[i] = true, it
				break
			}
		}
	}
	for j, it := range sorted {
		if used[j] {
			continue
		}
		v.exceptions = append(v.exceptions, it.Exception)
		c.items = append(c.items, it)
		switch it.Severity {
		case engine.SevError:
			v.errors++
		case engine.SevWarning:
			v.warnings++
		}
	}
	c.lines = make([]string, len(c.items))
	for i, it := range c.items {
		if it != nil {
			c.lines[i] = itemLine(l, it)
		}
	}
	v.cert = c
}

// sameIdentity reports whether two findings are the same item: the diff's identity.
func sameIdentity(a, b *engine.Exception) bool {
	return a.Code == b.Code && a.Counter == b.Counter && a.Feed == b.Feed && a.TxnID == b.TxnID && a.Key == b.Key
}

func compareItems(a, b *CertItem) int {
	x, y := &a.Exception, &b.Exception
	return cmp.Or(
		cmp.Compare(x.Code, y.Code), cmp.Compare(x.Counter, y.Counter), cmp.Compare(x.Feed, y.Feed),
		cmp.Compare(x.TxnID, y.TxnID), cmp.Compare(x.Key, y.Key), cmp.Compare(x.City, y.City),
		cmp.Compare(x.Outlet, y.Outlet), cmp.Compare(x.Severity, y.Severity), cmp.Compare(x.Amount, y.Amount),
		cmpBool(x.HasAmount, y.HasAmount), cmp.Compare(x.Detail, y.Detail), cmp.Compare(x.Source, y.Source),
		cmp.Compare(a.State, b.State), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.ReasonLabel, b.ReasonLabel),
		cmp.Compare(a.Text, b.Text), cmp.Compare(a.By, b.By), cmp.Compare(a.ByName, b.ByName),
		a.At.Compare(b.At), cmp.Compare(a.Comment, b.Comment))
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// itemLine is how the certified report shows an item under its exception: its state, reason,
// text, who and when, and the reviewer's comment; the parts it lacks are left out.
func itemLine(l *labels, it *CertItem) string {
	parts := []string{l.labelled(i18n.ReportItemState, l.stateName(it.State))}
	if reason := cmp.Or(it.ReasonLabel, it.Reason); reason != "" {
		parts = append(parts, l.labelled(i18n.ReportItemReason, reason))
	}
	if it.Text != "" {
		parts = append(parts, l.labelled(i18n.ReportItemText, it.Text))
	}
	who := cmp.Or(it.ByName, it.By)
	if !it.At.IsZero() {
		who = strings.TrimSpace(who + " " + shanghai(it.At).Format("2006-01-02 15:04"))
	}
	if who != "" {
		parts = append(parts, who)
	}
	if it.Comment != "" {
		parts = append(parts, l.labelled(i18n.ReportItemComment, it.Comment))
	}
	return strings.Join(parts, " · ")
}

// shanghai is t shown in Asia/Shanghai, where the clerks are; the zero time stays zero.
func shanghai(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(engine.Shanghai)
}

// stamps are the PDF's creation and modification dates: the certification time and the
// approval time (the certification time until approved); fallback when not certified.
func (c *certView) stamps(fallback time.Time) (created, modified time.Time) {
	created = fallback
	if !c.sign.CertifiedAt.IsZero() {
		created = c.sign.CertifiedAt.UTC()
	}
	modified = created
	if !c.sign.ApprovedAt.IsZero() {
		modified = c.sign.ApprovedAt.UTC()
	}
	return created, modified
}

// approved reports whether the reviewer has approved.
func (c *certView) approved() bool { return !c.sign.ApprovedAt.IsZero() }

// stateColor is the text color of an item's state: red while it needs the clerk, green once
// settled.
func stateColor(state string) rgb {
	switch state {
	case "open", "rejected":
		return red
	case "accepted", "resolved", "acknowledged":
		return green
	}
	return black
}

// labelled is "label：value" in Chinese, "label: value" in English.
func (l *labels) labelled(k i18n.Key, value string) string {
	if l.lang == "en" {
		return l.s(k) + ": " + value
	}
	return l.s(k) + "：" + value
}
