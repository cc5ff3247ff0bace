package diff

import (
	"strconv"
	"strings"

	"settle/engine"
	"settle/money"
)

// Kinds of Row.
const (
	KindSettlement = "settlement"
	KindVariance   = "variance"
	KindException  = "exception"
)

// Row is one figure or field that changed, the long form shared by the table and CSV
// writers: a changed line gives a row per figure that differs, an added or removed line a
// row per figure that is not zero, a changed exception a row per field that differs, and
// an added or resolved exception rows for its severity, amount (when it has one) and
// detail. Money is yuan with two decimals, counts are whole numbers; Old is empty for what
// was added, New for what was removed or resolved, and Delta (New − Old, the missing side
// counting as zero) is set for numbers only.
type Row struct {
	City, Outlet, Counter string
	Kind                  string // KindSettlement, KindVariance, KindException
	Change                Change
	Category, PayMethod   string // settlement: both; variance: pay method
	Code, Feed, TxnID     string // exceptions
	Key                   string // exceptions: the pay method/category of counter-level findings
	Field                 string // txn_count, gross, ...; severity, amount, detail, city, outlet_id
	Old, New, Delta       string
}

// RowHeader is the CSV header, one name per Row field in order.
var RowHeader = []string{"city", "outlet_id", "counter_id", "kind", "change", "category", "pay_method",
	"code", "feed", "txn_id", "key", "field", "old", "new", "delta"}

func (r *Row) fields() []string {
	return []string{r.City, r.Outlet, r.Counter, r.Kind, string(r.Change), r.Category, r.PayMethod,
		r.Code, r.Feed, r.TxnID, r.Key, r.Field, r.Old, r.New, r.Delta}
}

// Item names what the row is about in one cell: category/pay method, pay method, or the
// exception's code, feed, txn_id and key.
func (r *Row) Item() string {
	switch r.Kind {
	case KindSettlement:
		return r.Category + "/" + r.PayMethod
	case KindVariance:
		return r.PayMethod
	}
	parts := make([]string, 0, 4)
	for _, p := range []string{r.Code, r.Feed, r.TxnID, r.Key} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// Rows flattens the diff into rows: by counter, then kind (settlement, variance,
// exceptions added, resolved, changed), then key, then field.
func (d *Diff) Rows() []Row {
	var rows []Row
	for i := range d.Counters {
		c := &d.Counters[i]
		base := Row{City: c.City, Outlet: c.Outlet, Counter: c.Counter}
		for _, s := range c.Settlement {
			r := base
			r.Kind, r.Change, r.Category, r.PayMethod = KindSettlement, s.Change, s.Category, s.PayMethod
			rows = appendFigures(rows, r, s.Figures())
		}
		for _, v := range c.Variance {
			r := base
			r.Kind, r.Change, r.PayMethod = KindVariance, v.Change, v.PayMethod
			rows = appendFigures(rows, r, v.Figures())
		}
		for _, e := range c.Added {
			rows = appendException(rows, base, Added, nil, &e)
		}
		for _, e := range c.Resolved {
			rows = appendException(rows, base, Resolved, &e, nil)
		}
		for _, ec := range c.Changed {
			r := exceptionRow(base, Changed, &ec.New)
			for _, f := range ec.Fields {
				rows = append(rows, exceptionField(r, f, &ec.Old, &ec.New))
			}
		}
	}
	return rows
}

func appendFigures(rows []Row, r Row, figs []Figure) []Row {
	for _, f := range differing(figs) {
		r.Field, r.Old, r.New, r.Delta = f.Name, "", "", formatFigure(f.Money, f.Delta())
		if r.Change != Added {
			r.Old = formatFigure(f.Money, f.Old)
		}
		if r.Change != Removed {
			r.New = formatFigure(f.Money, f.New)
		}
		rows = append(rows, r)
	}
	return rows
}

func formatFigure(isMoney bool, v int64) string {
	if isMoney {
		return money.Format(v)
	}
	return strconv.FormatInt(v, 10)
}

func exceptionRow(base Row, ch Change, e *engine.Exception) Row {
	r := base
	r.Kind, r.Change, r.Code, r.Feed, r.TxnID, r.Key = KindException, ch, string(e.Code), e.Feed, e.TxnID, e.Key
	return r
}

func appendException(rows []Row, base Row, ch Change, o, n *engine.Exception) []Row {
	e := n
	if e == nil {
		e = o
	}
	r := exceptionRow(base, ch, e)
	for _, f := range []string{"severity", "amount", "detail"} {
		if f == "amount" && !e.HasAmount {
			continue
		}
		rows = append(rows, exceptionField(r, f, o, n))
	}
	return rows
}

// exceptionField fills the row of one field of an exception; o or n is nil for an added
// or resolved one.
func exceptionField(r Row, field string, o, n *engine.Exception) Row {
	r.Field = field
	get := func(e *engine.Exception) string {
		if e == nil {
			return ""
		}
		switch field {
		case "severity":
			return string(e.Severity)
		case "amount":
			if !e.HasAmount {
				return ""
			}
			return money.Format(e.Amount)
		case "detail":
			return e.Detail
		case "city":
			return e.City
		case "outlet_id":
			return e.Outlet
		}
		return ""
	}
	r.Old, r.New = get(o), get(n)
	if field == "amount" && (o == nil || o.HasAmount) && (n == nil || n.HasAmount) {
		var ov, nv int64
		if o != nil {
			ov = o.Amount
		}
		if n != nil {
			nv = n.Amount
		}
		r.Delta = money.Format(nv - ov)
	}
	return r
}
