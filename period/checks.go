package period

import (
	"slices"
	"strings"

	"settle/internal/i18n"
	"settle/money"
)

// Period check codes (PERIOD.md "Period checks").
const (
	CodeDayMissing          = "PERIOD_DAY_MISSING"
	CodeDayIncomplete       = "PERIOD_DAY_INCOMPLETE"
	CodeNotApproved         = "PERIOD_NOT_APPROVED"
	CodeShortfallRecurrent  = "SHORTFALL_RECURRENT"
	CodeShortfallCumulative = "SHORTFALL_CUMULATIVE"
	CodeOverShortAlternate  = "OVER_SHORT_ALTERNATING"
	CodeRefundNearLimit     = "REFUND_NEAR_LIMIT"
	CodeItemsOverdue        = "ITEMS_OVERDUE"
)

// Severities.
const (
	SevError   = "ERROR"
	SevWarning = "WARNING"
)

// The checks' thresholds.
const (
	RecurrentDays         = 3      // SHORTFALL_RECURRENT: dates with a shortfall
	DefaultShortfallLimit = 50000  // SHORTFALL_CUMULATIVE: −500.00, in fen (--shortfall-limit)
	AlternatingRun        = 4      // OVER_SHORT_ALTERNATING: alternating CASH variances in a row
	RefundBandLow         = 9000   // REFUND_NEAR_LIMIT: 90.00 …
	RefundBandHigh        = 10000  // … to 100.00, the approval limit of RULES.md §5 (inclusive)
	RefundNearCount       = 3      // REFUND_NEAR_LIMIT: refunds in the band
	cashPay               = "CASH" // the pay method OVER_SHORT_ALTERNATING watches
)

// Finding is one row of period_findings.
type Finding struct {
	Code, Severity        string
	City, Outlet, Counter string
	Amount                int64
	HasAmount             bool
	Detail                string
}

// checker holds what the checks need beyond a counter's days.
type checker struct {
	lang  i18n.Lang
	limit int64 // SHORTFALL_CUMULATIVE's limit in fen, positive
}

// dayMissing: PERIOD_DAY_MISSING, one per date without a published run (and per city seen
// in the period: a date's run is a city's, so a store of several cities names each).
func (c checker) dayMissing(missing, cities []string) []Finding {
	if len(cities) == 0 {
		cities = []string{""}
	}
	var out []Finding
	for _, d := range missing {
		for _, city := range cities {
			out = append(out, Finding{Code: CodeDayMissing, Severity: SevError, City: city,
				Detail: c.lang.F(i18n.PeriodDetailDayMissing, d)})
		}
	}
	return out
}

// dayIncomplete: PERIOD_DAY_INCOMPLETE, one per counter-day whose run is incomplete for it.
func (c checker) dayIncomplete(s *Series) []Finding {
	var out []Finding
	for _, d := range s.Days {
		if !d.Complete {
			out = append(out, c.finding(CodeDayIncomplete, SevError, s.Key, 0, false,
				d.Date+" "+c.lang.F(i18n.PeriodDetailDayIncomplete, d.RunID)))
		}
	}
	return out
}

// notApproved: PERIOD_NOT_APPROVED, one per counter with days that have figures and are
// not approved; the detail counts and lists the dates.
func (c checker) notApproved(s *Series) []Finding {
	var dates []string
	for _, d := range s.Days {
		if d.HasFigures && d.Sign != SignApproved {
			dates = append(dates, d.Date)
		}
	}
	if len(dates) == 0 {
		return nil
	}
	return []Finding{c.finding(CodeNotApproved, SevWarning, s.Key, 0, false,
		c.lang.F(i18n.PeriodDetailNotApproved, len(dates), strings.Join(dates, ",")))}
}

// shortfalls returns the dates with a negative variance (DEPOSIT_SHORT: any pay method) and
// the sum of every negative variance of the period.
func shortfalls(s *Series) (dates []string, sum int64) {
	for _, d := range s.Days {
		short := false
		for _, v := range d.Variances {
			if v.Variance < 0 {
				sum += v.Variance
				short = true
			}
		}
		if short {
			dates = append(dates, d.Date)
		}
	}
	return dates, sum
}

// shortfallRecurrent: SHORTFALL_RECURRENT, DEPOSIT_SHORT on 3 or more dates; the amount is
// the sum of all the counter's shortfalls in the period.
func (c checker) shortfallRecurrent(s *Series) []Finding {
	dates, sum := shortfalls(s)
	if len(dates) < RecurrentDays {
		return nil
	}
	return []Finding{c.finding(CodeShortfallRecurrent, SevError, s.Key, sum, true,
		c.lang.F(i18n.PeriodDetailShortRecurrent, len(dates), strings.Join(dates, ",")))}
}

// shortfallCumulative: SHORTFALL_CUMULATIVE, the sum of the negative variances is −limit or
// less.
func (c checker) shortfallCumulative(s *Series) []Finding {
	_, sum := shortfalls(s)
	if sum > -c.limit {
		return nil
	}
	return []Finding{c.finding(CodeShortfallCumulative, SevError, s.Key, sum, true,
		c.lang.F(i18n.PeriodDetailShortCumulative, money.Format(sum), money.Format(-c.limit)))}
}

// alternating: OVER_SHORT_ALTERNATING. Among the dates with a non-zero CASH variance, in date
// order, the longest stretch whose signs alternate (the first of equally long ones); it fires
// at 4 or more, with the sum of the stretch's absolute variances.
func (c checker) alternating(s *Series) []Finding {
	type pt struct {
		date string
		v    int64
	}
	var pts []pt
	for _, d := range s.Days {
		for _, v := range d.Variances {
			if v.Pay == cashPay && v.Variance != 0 {
				pts = append(pts, pt{d.Date, v.Variance})
			}
		}
	}
	bestStart, bestLen := 0, 0
	for i := 0; i < len(pts); {
		j := i + 1
		for j < len(pts) && (pts[j].v < 0) != (pts[j-1].v < 0) {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < AlternatingRun {
		return nil
	}
	var sum int64
	for _, p := range pts[bestStart : bestStart+bestLen] {
		sum += max(p.v, -p.v)
	}
	return []Finding{c.finding(CodeOverShortAlternate, SevWarning, s.Key, sum, true,
		c.lang.F(i18n.PeriodDetailAlternating, bestLen, pts[bestStart].date, pts[bestStart+bestLen-1].date))}
}

// refundNearLimit: REFUND_NEAR_LIMIT, 3 or more valid REFUNDs of 90.00 to 100.00 (both
// included: 100.00 itself needs no approval, RULES.md §5 asks for one above it).
func (c checker) refundNearLimit(s *Series) []Finding {
	var ids []string
	var sum int64
	for _, d := range s.Days {
		for _, r := range d.Refunds {
			if r.Amount >= RefundBandLow && r.Amount <= RefundBandHigh {
				ids = append(ids, r.TxnID)
				sum += r.Amount
			}
		}
	}
	if len(ids) < RefundNearCount {
		return nil
	}
	return []Finding{c.finding(CodeRefundNearLimit, SevWarning, s.Key, sum, true,
		c.lang.F(i18n.PeriodDetailRefundNear, len(ids), strings.Join(ids, ",")))}
}

// itemsOverdue: ITEMS_OVERDUE, one per counter with overdue items at the period's end; the
// amount is the sum of their amounts. (Without an item store, Items gives none and this
// never fires: see NoItems.)
func (c checker) itemsOverdue(items []Item) []Finding {
	type agg struct {
		n   int
		sum int64
	}
	by := map[CounterKey]*agg{}
	for _, it := range items {
		if !it.Overdue {
			continue
		}
		k := CounterKey{it.City, it.Outlet, it.Counter}
		a := by[k]
		if a == nil {
			a = &agg{}
			by[k] = a
		}
		a.n++
		a.sum += it.Amount
	}
	var out []Finding
	for k, a := range by {
		out = append(out, c.finding(CodeItemsOverdue, SevWarning, k, a.sum, true, c.lang.F(i18n.PeriodDetailItemsOverdue, a.n)))
	}
	return out
}

func (c checker) finding(code, sev string, k CounterKey, amount int64, has bool, detail string) Finding {
	return Finding{Code: code, Severity: sev, City: k.City, Outlet: k.Outlet, Counter: k.Counter, Amount: amount, HasAmount: has, Detail: detail}
}

// Check runs every period check over d and the open items.
func Check(d *Data, items []Item, lang i18n.Lang, limit int64) []Finding {
	c := checker{lang: lang, limit: limit}
	out := c.dayMissing(d.Missing, d.Cities)
	keys := make([]CounterKey, 0, len(d.Counters))
	for k := range d.Counters {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b CounterKey) int {
		return strings.Compare(a.City+"\x00"+a.Outlet+"\x00"+a.Counter, b.City+"\x00"+b.Outlet+"\x00"+b.Counter)
	})
	for _, k := range keys {
		s := d.Counters[k]
		out = append(out, c.dayIncomplete(s)...)
		out = append(out, c.notApproved(s)...)
		out = append(out, c.shortfallRecurrent(s)...)
		out = append(out, c.shortfallCumulative(s)...)
		out = append(out, c.alternating(s)...)
		out = append(out, c.refundNearLimit(s)...)
	}
	return append(out, c.itemsOverdue(items)...)
}
