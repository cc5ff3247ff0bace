package diff

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"settle/engine"
	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// MoneyFormat is the number format of money cells.
const MoneyFormat = "¥#,##0.00"

// Sheet names of WriteXLSX, in order.
const (
	SheetSummary            = "Summary"
	SheetSettlement         = "Settlement"
	SheetVariance           = "Variance"
	SheetExceptionsAdded    = "Exceptions added"
	SheetExceptionsResolved = "Exceptions resolved"
	SheetExceptionsChanged  = "Exceptions changed"
)

// WriteXLSX writes the diff as a workbook with one sheet per kind of change after a summary:
// Summary (the runs, the cause, the totals), Settlement and Variance (a row per line, with
// old, new and delta of each figure; the missing side of an added or removed line is left
// empty), Exceptions added, Exceptions resolved and Exceptions changed. Money cells are
// numbers (yuan, converted from fen as the last step) in MoneyFormat, counts are integers,
// every text from the data is a string cell — never a formula — and headers are frozen with
// an autofilter.
func WriteXLSX(w io.Writer, d *Diff) error {
	x, err := newWorkbook()
	if err != nil {
		return err
	}
	defer x.f.Close()
	for _, write := range []func(*workbook, *Diff) error{
		writeSummarySheet, writeSettlementSheet, writeVarianceSheet,
		writeExceptionsSheet(SheetExceptionsAdded, func(c *Counter) []engine.Exception { return c.Added }),
		writeExceptionsSheet(SheetExceptionsResolved, func(c *Counter) []engine.Exception { return c.Resolved }),
		writeChangedSheet,
	} {
		if err := write(x, d); err != nil {
			return fmt.Errorf("write xlsx: %w", err)
		}
	}
	if err := x.f.Write(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

type workbook struct {
	f                             *excelize.File
	sheets                        int
	header, label, money, integer int
}

func newWorkbook() (*workbook, error) {
	f := excelize.NewFile()
	x := &workbook{f: f}
	format := MoneyFormat
	gray := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E7E6E6"}}
	for _, s := range []struct {
		id    *int
		style excelize.Style
	}{
		{&x.header, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: gray}},
		{&x.label, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&x.money, excelize.Style{CustomNumFmt: &format}},
		{&x.integer, excelize.Style{NumFmt: 1}},
	} {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			f.Close()
			return nil, err
		}
		*s.id = id
	}
	return x, nil
}

// sheet adds a sheet (the first replaces excelize's default one) and writes its header row,
// frozen and filtered when the sheet is a table.
func (x *workbook) sheet(name string, header []string, widths []float64, table bool) (*excelize.StreamWriter, error) {
	f := x.f
	if x.sheets == 0 {
		if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
			return nil, err
		}
	} else if _, err := f.NewSheet(name); err != nil {
		return nil, err
	}
	x.sheets++
	if table {
		last, _ := excelize.CoordinatesToCellName(len(header), 1)
		if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
			return nil, err
		}
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	if table {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
		row := make([]any, len(header))
		for i, h := range header {
			row[i] = excelize.Cell{Value: h, StyleID: x.header}
		}
		if err := sw.SetRow("A1", row); err != nil {
			return nil, err
		}
	}
	return sw, nil
}

// str is a text cell: always a string, never a formula.
func str(s string) excelize.Cell { return excelize.Cell{Value: sheettext.XMLSafe(s)} }

// yuan is a money cell: fen turned into a number of yuan at the last step.
func (x *workbook) yuan(fen int64) excelize.Cell {
	return excelize.Cell{Value: float64(fen) / 100, StyleID: x.money}
}

func (x *workbook) count(n int64) excelize.Cell { return excelize.Cell{Value: n, StyleID: x.integer} }

// figureCells are the old, new and delta cells of a figure; nil (an empty cell) for the
// missing side of an added or removed line.
func (x *workbook) figureCells(ch Change, f Figure) []any {
	val := func(v int64) any {
		if f.Money {
			return x.yuan(v)
		}
		return x.count(v)
	}
	cells := []any{nil, nil, val(f.Delta())}
	if ch != Added {
		cells[0] = val(f.Old)
	}
	if ch != Removed {
		cells[1] = val(f.New)
	}
	return cells
}

func writeSummarySheet(x *workbook, d *Diff) error {
	sw, err := x.sheet(SheetSummary, nil, []float64{12, 110}, false)
	if err != nil {
		return err
	}
	r := xlsxrows.New(sw, 0)
	for _, l := range summaryLines(d) {
		r.Add(excelize.Cell{Value: l[0], StyleID: x.label}, str(l[1]))
	}
	r.Add()
	hdr := func(s ...string) {
		cells := make([]any, len(s))
		for i, v := range s {
			cells[i] = excelize.Cell{Value: v, StyleID: x.header}
		}
		r.Add(cells...)
	}
	t := d.Totals
	hdr("kind", "changed", "added", "removed / resolved")
	r.Add(str("settlement"), x.count(int64(t.Settlement.Changed)), x.count(int64(t.Settlement.Added)), x.count(int64(t.Settlement.Removed)))
	r.Add(str("variance"), x.count(int64(t.Variance.Changed)), x.count(int64(t.Variance.Added)), x.count(int64(t.Variance.Removed)))
	r.Add(str("exceptions"), x.count(int64(t.Exceptions.Changed)), x.count(int64(t.Exceptions.Added)), x.count(int64(t.Exceptions.Resolved)))
	r.Add()
	r.Add(excelize.Cell{Value: "counters changed", StyleID: x.label}, x.count(int64(t.Counters)))
	r.Add(excelize.Cell{Value: "net delta", StyleID: x.label}, x.yuan(t.NetDelta))
	r.Add(excelize.Cell{Value: "variance delta", StyleID: x.label}, x.yuan(t.VarianceDelta))
	return r.Flush()
}

func figureHeader(names ...string) []string {
	var h []string
	for _, n := range names {
		h = append(h, n+" old", n+" new", n+" delta")
	}
	return h
}

func widths(text []float64, figures int) []float64 {
	for range figures * 3 {
		text = append(text, 14)
	}
	return text
}

func writeSettlementSheet(x *workbook, d *Diff) error {
	header := append([]string{"city", "outlet_id", "counter_id", "category", "pay_method", "change"},
		figureHeader("txn_count", "gross", "reversed", "net")...)
	sw, err := x.sheet(SheetSettlement, header, widths([]float64{10, 12, 14, 13, 12, 10}, 4), true)
	if err != nil {
		return err
	}
	r := xlsxrows.New(sw, 1)
	for _, c := range d.Counters {
		for _, s := range c.Settlement {
			row := []any{str(c.City), str(c.Outlet), str(c.Counter), str(s.Category), str(s.PayMethod), str(string(s.Change))}
			for _, f := range s.Figures() {
				row = append(row, x.figureCells(s.Change, f)...)
			}
			r.Add(row...)
		}
	}
	return r.Flush()
}

func writeVarianceSheet(x *workbook, d *Diff) error {
	header := append([]string{"city", "outlet_id", "counter_id", "pay_method", "change"},
		figureHeader("expected", "deposited", "variance")...)
	sw, err := x.sheet(SheetVariance, header, widths([]float64{10, 12, 14, 12, 10}, 3), true)
	if err != nil {
		return err
	}
	r := xlsxrows.New(sw, 1)
	for _, c := range d.Counters {
		for _, v := range c.Variance {
			row := []any{str(c.City), str(c.Outlet), str(c.Counter), str(v.PayMethod), str(string(v.Change))}
			for _, f := range v.Figures() {
				row = append(row, x.figureCells(v.Change, f)...)
			}
			r.Add(row...)
		}
	}
	return r.Flush()
}

var exceptionHeader = []string{"city", "outlet_id", "counter_id", "code", "severity", "feed", "txn_id", "key", "amount", "detail", "source"}

func writeExceptionsSheet(name string, list func(*Counter) []engine.Exception) func(*workbook, *Diff) error {
	return func(x *workbook, d *Diff) error {
		sw, err := x.sheet(name, exceptionHeader, []float64{10, 12, 14, 26, 10, 16, 20, 14, 14, 60, 30}, true)
		if err != nil {
			return err
		}
		r := xlsxrows.New(sw, 1)
		for i := range d.Counters {
			for _, e := range list(&d.Counters[i]) {
				r.Add(str(e.City), str(e.Outlet), str(e.Counter), str(string(e.Code)), str(string(e.Severity)), str(e.Feed),
					str(e.TxnID), str(e.Key), x.amount(&e), str(e.Detail), str(e.Source))
			}
		}
		return r.Flush()
	}
}

// amount is an exception's amount cell, empty when it has none.
func (x *workbook) amount(e *engine.Exception) any {
	if !e.HasAmount {
		return nil
	}
	return x.yuan(e.Amount)
}

func writeChangedSheet(x *workbook, d *Diff) error {
	header := []string{"city", "outlet_id", "counter_id", "code", "feed", "txn_id", "key", "changed",
		"severity old", "severity new", "amount old", "amount new", "amount delta", "detail old", "detail new",
		"source old", "source new"}
	sw, err := x.sheet(SheetExceptionsChanged, header,
		[]float64{10, 12, 14, 26, 16, 20, 14, 18, 10, 10, 14, 14, 14, 50, 50, 30, 30}, true)
	if err != nil {
		return err
	}
	r := xlsxrows.New(sw, 1)
	for _, c := range d.Counters {
		for _, ec := range c.Changed {
			o, n := &ec.Old, &ec.New
			var delta any
			if o.HasAmount && n.HasAmount {
				delta = x.yuan(n.Amount - o.Amount)
			}
			r.Add(str(n.City), str(n.Outlet), str(n.Counter), str(string(n.Code)), str(n.Feed), str(n.TxnID), str(n.Key),
				str(strings.Join(ec.Fields, ", ")), str(string(o.Severity)), str(string(n.Severity)),
				x.amount(o), x.amount(n), delta, str(o.Detail), str(n.Detail), str(o.Source), str(n.Source))
		}
	}
	return r.Flush()
}
