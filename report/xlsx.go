package report

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/xuri/excelize/v2"

	"settle/engine"
	"settle/feed"
	"settle/internal/i18n"
	"settle/internal/sheettext"
	"settle/internal/xlsxrows"
)

// counterXLSX writes a counter's workbook: summary, exceptions, one detail sheet per feed.
func (r *renderer) counterXLSX(v *counterView, rel string) error {
	l := r.l
	b, err := r.newBook(r.stamp(), l.s(i18n.ReportTitle)+" "+v.info.Counter, headerLine(l, v.info, r.ix.res.BizDate()))
	if err != nil {
		return err
	}
	if r.opts.DayOpen {
		b.warn = l.s(i18n.ReportDayOpen)
	}
	if err := r.summarySheet(b, v); err != nil {
		return fmt.Errorf("sheet %q: %w", l.s(i18n.ReportSummarySheet), err)
	}
	if err := r.exceptionSheet(b, v); err != nil {
		return fmt.Errorf("sheet %q: %w", l.s(i18n.ReportExceptionSheet), err)
	}
	for _, id := range feed.All {
		if err := r.detailSheet(b, v, id); err != nil {
			return fmt.Errorf("sheet %q: %w", l.sheetOfFeed(feed.Get(id)), err)
		}
	}
	return b.save(r, rel)
}

// summarySheet: header block, revenue, deposit check, exception count, sign-off.
func (r *renderer) summarySheet(b *book, v *counterView) error {
	l, st, ix := r.l, &b.st, r.ix
	nm := len(ix.methods)
	ncol := max(8, 3+nm) // category, item, methods..., total
	widths := make([]float64, ncol)
	widths[0], widths[1] = 18, 9
	for i := 2; i < ncol; i++ {
		widths[i] = 16
	}
	for _, c := range ix.cats {
		widths[0] = max(widths[0], colWidth(sheettext.Width(l.categoryName(c)), 0, 40))
	}
	sw, err := b.sheet(sheetSetup{name: l.s(i18n.ReportSummarySheet), widths: widths, freeze: 5})
	if err != nil {
		return err
	}
	w := xlsxrows.New(sw, 0)
	last := ncol
	half := last / 2 // the header block: label A, value B..half, label half+1, value half+2..last

	// Title and header block.
	w.AddHeight(30, str(l.s(i18n.ReportTitle), st.title))
	w.Merge(1, 1, last, 1)
	status, statusStyle := l.s(i18n.ReportComplete), st.statusOK
	if v.info.Incomplete {
		status, statusStyle = l.s(i18n.ReportIncomplete), st.statusBad
	}
	info := [][4]string{
		{l.s(i18n.ReportCity), l.regionName(v.info.City), l.s(i18n.ReportOutlet), v.info.Outlet},
		{l.s(i18n.ReportCounter), v.info.Counter, l.s(i18n.ReportDate), ix.res.BizDate()},
		{l.s(i18n.ReportRunID), r.opts.RunID, l.s(i18n.ReportGenerated), formatTime(r.opts.GeneratedAt)},
		{l.s(i18n.ReportSource), r.opts.Source, l.s(i18n.ReportStatus), status},
	}
	for i, kv := range info {
		row := make([]any, last)
		row[0] = str(kv[0], st.label)
		row[1] = str(kv[1], st.value)
		for c := 2; c < half; c++ {
			row[c] = str("", st.value)
		}
		row[half] = str(kv[2], st.label)
		vs := st.value
		if i == len(info)-1 {
			vs = statusStyle
		}
		row[half+1] = str(kv[3], vs)
		for c := half + 2; c < last; c++ {
			row[c] = str("", vs)
		}
		w.AddHeight(20, row...)
		w.Merge(2, w.Row(), half, w.Row())
		w.Merge(half+2, w.Row(), last, w.Row())
	}

	// Incomplete: a banner nobody can miss, and why.
	if v.info.Incomplete {
		w.Skip()
		w.AddHeight(40, str(l.s(i18n.ReportIncomplete), st.banner))
		w.Merge(1, w.Row(), last, w.Row())
		reasons := append([]string{l.s(i18n.ReportIncompleteNote)}, v.why(l)...)
		for _, why := range reasons {
			lines := (sheettext.Width(why) + 99) / 100
			w.AddHeight(16*float64(max(lines, 1)), str(why, st.reason))
			w.Merge(1, w.Row(), last, w.Row())
		}
	}

	// The business day not over: a banner as loud as INCOMPLETE's.
	if r.opts.DayOpen {
		w.Skip()
		w.AddHeight(40, str(l.s(i18n.ReportDayOpen), st.banner))
		w.Merge(1, w.Row(), last, w.Row())
		note := l.s(i18n.ReportDayOpenNote)
		w.AddHeight(16*float64(max((sheettext.Width(note)+99)/100, 1)), str(note, st.reason))
		w.Merge(1, w.Row(), last, w.Row())
	}

	// 1. Revenue by category × pay method.
	w.Skip()
	w.AddHeight(22, sectionRow(l.s(i18n.ReportRevenue), l.s(i18n.ReportUnit), last, st)...)
	head := []any{str(l.s(i18n.ReportCategory), st.th), str(l.s(i18n.ReportItem), st.th)}
	for _, m := range ix.methods {
		head = append(head, str(l.payMethodName(m), st.th))
	}
	head = append(head, str(l.s(i18n.ReportTotal), st.th))
	w.AddHeight(20, head...)
	kinds := []struct {
		name string
		g    [][]int64
	}{{l.s(i18n.ReportGross), v.gross}, {l.s(i18n.ReportReversed), v.reversed}, {l.s(i18n.ReportNet), v.net}}
	for ci, c := range ix.cats {
		for ki, k := range kinds {
			name := ""
			if ki == 0 {
				name = l.categoryName(c)
			}
			row := []any{str(name, st.text), str(k.name, st.text)}
			for mi := range ix.methods {
				row = append(row, fen(k.g[ci][mi], st.money))
			}
			row = append(row, fen(sumRow(k.g[ci]), st.moneyBold))
			w.Add(row...)
			if ki == len(kinds)-1 {
				w.Merge(1, w.Row()-2, 1, w.Row())
			}
		}
	}
	for ki, k := range kinds {
		name := ""
		if ki == 0 {
			name = l.s(i18n.ReportTotal)
		}
		row := []any{str(name, st.totalText), str(k.name, st.totalText)}
		for mi := range ix.methods {
			row = append(row, fen(sumCol(k.g, mi), st.moneyBold))
		}
		row = append(row, fen(sumAll(k.g), st.moneyBold))
		w.Add(row...)
		if ki == len(kinds)-1 {
			w.Merge(1, w.Row()-2, 1, w.Row())
		}
	}

	// 2. Deposit check per pay method.
	w.Skip()
	w.AddHeight(22, sectionRow(l.s(i18n.ReportDeposit), l.s(i18n.ReportUnit), last, st)...)
	dhead := []any{str(l.s(i18n.ReportPayMethod), st.th), str("", st.th), str(l.s(i18n.ReportExpected), st.th), str(l.s(i18n.ReportDeposited), st.th), str(l.s(i18n.ReportVariance), st.th), str(l.s(i18n.ReportResult), st.th)}
	w.AddHeight(20, dhead...)
	w.Merge(1, w.Row(), 2, w.Row())
	var sumExp, sumDep int64
	for mi, m := range ix.methods {
		vs, res := st.money, l.s(i18n.ReportBalanced)
		resStyle := st.text
		switch {
		case v.variance[mi] < 0:
			vs, res, resStyle = st.moneyShort, l.s(i18n.ReportShort), st.moneyShort
		case v.variance[mi] > 0:
			res = l.s(i18n.ReportOver)
		}
		row := []any{str(l.payMethodName(m), st.text), str("", st.text),
			fen(v.expected[mi], st.money), fen(v.deposited[mi], st.money), fen(v.variance[mi], vs), str(res, resStyle)}
		w.Add(row...)
		w.Merge(1, w.Row(), 2, w.Row())
		sumExp += v.expected[mi]
		sumDep += v.deposited[mi]
	}
	w.Add(str(l.s(i18n.ReportTotal), st.totalText), str("", st.totalText), fen(sumExp, st.moneyBold), fen(sumDep, st.moneyBold),
		str("", st.totalText), str("", st.totalText))
	w.Merge(1, w.Row(), 2, w.Row())

	// 3. Exceptions: the count here, the list on its own sheet.
	w.Skip()
	w.AddHeight(22, str(l.s(i18n.ReportExceptions), st.section))
	count := l.s(i18n.ReportNoExceptions)
	if n := len(v.exceptions); n > 0 {
		count = fmt.Sprintf(l.s(i18n.ReportExceptionCount), n, v.errors, v.warnings) + " → " + l.s(i18n.ReportExceptionSheet)
	}
	cs := st.note
	if v.errors > 0 {
		cs = st.reason
	}
	w.Add(str(count, cs))
	w.Merge(1, w.Row(), last, w.Row())

	// 4. Sign-off.
	w.Skip()
	w.AddHeight(22, str(l.s(i18n.ReportSignoff), st.section))
	w.Add(str(l.s(i18n.ReportSignNote), st.note))
	w.Merge(1, w.Row(), last, w.Row())
	sign := make([]any, 8)
	sign[0] = str(l.colon(l.s(i18n.ReportClerk)), st.signLabel)
	sign[1], sign[2] = str("", st.sign), str("", st.sign)
	sign[3] = str(l.colon(l.s(i18n.ReportReviewer)), st.signLabel)
	sign[4], sign[5] = str("", st.sign), str("", st.sign)
	sign[6] = str(l.colon(l.s(i18n.ReportSignDate)), st.signLabel)
	sign[7] = str("", st.sign)
	w.AddHeight(36, sign...)
	w.Merge(2, w.Row(), 3, w.Row())
	w.Merge(5, w.Row(), 6, w.Row())
	return w.Flush()
}

func sectionRow(title, unit string, last int, st *styles) []any {
	row := make([]any, last)
	row[0] = str(title, st.section)
	row[last-1] = str(unit, st.note)
	return row
}

// exceptionSheet lists the counter's exceptions.
func (r *renderer) exceptionSheet(b *book, v *counterView) error {
	l, st := r.l, &b.st
	head := []string{l.s(i18n.ReportCode), l.s(i18n.ReportDescription), l.s(i18n.ReportSeverity), l.s(i18n.ReportFeedCol), l.s(i18n.ReportTxn), l.s(i18n.ReportAmount), l.s(i18n.ReportDetail), l.s(i18n.ReportSourceCol), l.s(i18n.ReportHints)}
	table := make([][]string, 0, len(v.exceptions))
	for _, e := range v.exceptions {
		table = append(table, []string{string(e.Code), l.codeDescription(e.Code), l.severityName(e.Severity),
			l.feedName(e.Feed), e.TxnID, "", e.Detail, e.Source, l.hint(e.Code)})
	}
	limits := []float64{30, 40, 10, 16, 24, 16, 60, 40, 50}
	widths := make([]float64, len(head))
	for c, h := range head {
		wmax := sheettext.Width(h)
		for _, row := range table {
			wmax = max(wmax, sheettext.Width(row[c]))
		}
		widths[c] = colWidth(wmax, 8, limits[c])
	}
	widths[5] = 16
	filter := ""
	if len(table) > 0 {
		filter = fmt.Sprintf("A1:I%d", len(table)+1)
	}
	sw, err := b.sheet(sheetSetup{name: l.s(i18n.ReportExceptionSheet), landscape: true, widths: widths, freeze: 1, filter: filter})
	if err != nil {
		return err
	}
	w := xlsxrows.New(sw, 0)
	hrow := make([]any, len(head))
	for i, h := range head {
		hrow[i] = str(h, st.th)
	}
	w.AddHeight(20, hrow...)
	for i, e := range v.exceptions {
		row := make([]any, len(head))
		lines := 1
		for c, s := range table[i] {
			if c == 5 {
				continue
			}
			row[c] = str(s, st.textWrap)
			if n := (sheettext.Width(s) + int(widths[c]) - 3) / max(int(widths[c])-2, 1); n > lines {
				lines = n
			}
		}
		if e.HasAmount {
			row[5] = excelize.Cell{Value: yuanCell(e.Amount), StyleID: st.money}
		}
		h := 0.0
		if lines > 1 {
			h = 15 * float64(min(lines, 20))
		}
		w.AddHeight(h, row...)
	}
	return w.Flush()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 -07:00")
}

// Excel serial dates count days from 1899-12-30.
const excelEpochDays = 25569 // 1970-01-01

// detailSheet lists the counter's rows of one feed, as normalized.
func (r *renderer) detailSheet(b *book, v *counterView, id feed.ID) error {
	l, st := r.l, &b.st
	f := feed.Get(id)
	rec := r.ix.res.Feeds[id]
	var idx []int
	if v.rows != nil {
		idx = v.rows[id]
	}
	// Columns: the feed's own (the four common ones are the sheet's), then source and line.
	type col struct {
		name string
		c    feed.Column
		arr  arrow.Array
	}
	var cols []col
	for i, c := range f.Columns {
		if i <= feed.ColCounter {
			continue
		}
		var arr arrow.Array
		if rec != nil {
			arr = rec.Column(i)
		}
		cols = append(cols, col{l.columnName(c), c, arr})
	}
	srcCol := len(f.Columns)
	var srcArr, lineArr arrow.Array
	if rec != nil {
		if int(rec.NumCols()) != len(f.Columns)+2 {
			return fmt.Errorf("%s: %w", f.Name, errNoFeedSchema)
		}
		srcArr, lineArr = rec.Column(srcCol), rec.Column(srcCol+1)
	}
	srcName, lineName := feed.SourceColumn, feed.LineColumn
	if l.lang == "zh" {
		srcName, lineName = l.s(i18n.ReportSourceCol), l.s(i18n.ReportLine)
	}
	cols = append(cols, col{srcName, feed.Column{Name: feed.SourceColumn, Kind: feed.Text}, srcArr},
		col{lineName, feed.Column{Name: feed.LineColumn, Kind: feed.Whole}, lineArr})

	// Values first (widths must be set before the first row is streamed). The cells sit in
	// one slice and the rows point into it: one allocation per sheet, not one per cell.
	slab := make([]excelize.Cell, len(idx)*len(cols))
	cells := make([][]any, len(idx))
	anys := make([]any, len(idx)*len(cols))
	widths := make([]int, len(cols))
	for c, cl := range cols {
		widths[c] = sheettext.Width(cl.name)
	}
	for ri, i := range idx {
		row := anys[ri*len(cols) : (ri+1)*len(cols) : (ri+1)*len(cols)]
		for c, cl := range cols {
			cell := &slab[ri*len(cols)+c]
			w, ok, err := arrowCell(l, st, cl.c, cl.arr, i, cell)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", f.Name, cl.c.Name, err)
			}
			if ok {
				row[c] = cell
			}
			widths[c] = max(widths[c], w)
		}
		cells[ri] = row
	}
	ws := make([]float64, len(cols))
	for c := range cols {
		ws[c] = colWidth(widths[c], 8, 50)
	}
	lastCell, _ := excelize.CoordinatesToCellName(len(cols), len(idx)+1)
	sw, err := b.sheet(sheetSetup{name: l.sheetOfFeed(f), landscape: true, widths: ws, freeze: 1, filter: "A1:" + lastCell})
	if err != nil {
		return err
	}
	w := xlsxrows.New(sw, 0)
	head := make([]any, len(cols))
	for c, cl := range cols {
		head[c] = str(cl.name, st.th)
	}
	w.AddHeight(20, head...)
	for _, row := range cells {
		w.Add(row...)
	}
	return w.Flush()
}

// arrowCell sets *cell to the cell of row i of a normalized column and returns its display
// width; false for no value.
func arrowCell(l *labels, st *styles, c feed.Column, arr arrow.Array, i int, cell *excelize.Cell) (int, bool, error) {
	if arr == nil || arr.IsNull(i) {
		return 0, false, nil
	}
	switch a := arr.(type) {
	case *array.String:
		s := a.Value(i)
		if c.Kind == feed.Enum {
			s = l.enumName(c.Enum, s)
		}
		*cell = str(s, st.shortText)
		return sheettext.Width(s), true, nil
	case *array.Int64:
		n := a.Value(i)
		if c.Kind == feed.Money {
			*cell = excelize.Cell{Value: yuanCell(n), StyleID: st.money}
			return len(formatFen(n)) + 2, true, nil
		}
		*cell = excelize.Cell{Value: n}
		return digits(n), true, nil
	case *array.Date32:
		*cell = excelize.Cell{Value: float64(int64(a.Value(i)) + excelEpochDays), StyleID: st.date}
		return 10, true, nil
	case *array.Timestamp:
		t, err := timestampOf(a, i)
		if err != nil {
			return 0, false, err
		}
		*cell = excelize.Cell{Value: excelSerial(t), StyleID: st.datetime}
		return 19, true, nil
	}
	return 0, false, fmt.Errorf("%w: column type %s", errNoFeedSchema, arr.DataType())
}

// digits is the length of n written in decimal.
func digits(n int64) int {
	d := 1
	if n < 0 {
		d++
	}
	for n <= -10 || n >= 10 {
		n /= 10
		d++
	}
	return d
}

// timestampOf is the Asia/Shanghai wall-clock time of a timestamp value.
func timestampOf(a *array.Timestamp, i int) (time.Time, error) {
	tt, ok := a.DataType().(*arrow.TimestampType)
	if !ok {
		return time.Time{}, errNoFeedSchema
	}
	return a.Value(i).ToTime(tt.Unit).In(engine.Shanghai), nil
}

// excelSerial is the Excel date-time serial of t's wall clock.
func excelSerial(t time.Time) float64 {
	y, m, d := t.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	secs := t.Hour()*3600 + t.Minute()*60 + t.Second()
	return float64(days+excelEpochDays) + float64(secs)/86400
}
