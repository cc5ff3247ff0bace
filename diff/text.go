package diff

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"settle/engine"
	"settle/internal/sheettext"
	"settle/money"
)

// WriteCSV writes the diff as CSV: the header RowHeader and one line per Row (see Rows),
// UTF-8, comma-separated; a diff of equal runs is the header alone.
func WriteCSV(w io.Writer, d *Diff) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RowHeader); err != nil {
		return err
	}
	for _, r := range d.Rows() {
		f := r.fields()
		for i := range f {
			f[i] = strings.ToValidUTF8(f[i], "\uFFFD")
		}
		if err := cw.Write(f); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// MaxCellWidth bounds a cell of the terminal table, in columns; longer text (an
// exception's detail) is cut with "…". CSV, JSON and XLSX carry it whole.
const MaxCellWidth = 60

// WriteTable writes the diff for a terminal: the two runs, the cause and the totals, then
// two aligned tables, each by counter: the settlement and variance figures that changed (a
// line per figure: old, new, delta), and the exceptions added, resolved or changed (a line
// per exception; a changed one is followed by a "was" line with the old values of what
// changed). Equal runs give "no differences". Columns are aligned by display width (East
// Asian wide and fullwidth characters take two columns), numbers are right-aligned, cells
// longer than MaxCellWidth are cut, and control characters from the data are shown as
// U+FFFD so that nothing in a feed can move the cursor.
func WriteTable(w io.Writer, d *Diff) error {
	bw := bufio.NewWriter(w)
	for _, l := range summaryLines(d) {
		label := ""
		if l[0] != "" {
			label = l[0] + ":"
		}
		fmt.Fprintf(bw, "%-11s %s\n", label, termSafe(l[1]))
	}
	if d.Equal() {
		bw.WriteString("\nno differences\n")
		return bw.Flush()
	}
	figures := table{header: []string{"CITY", "OUTLET", "COUNTER", "KIND", "CHANGE", "ITEM", "FIELD", "OLD", "NEW", "DELTA"}}
	exceptions := table{header: []string{"CITY", "OUTLET", "COUNTER", "CHANGE", "CODE", "FEED", "TXN_ID", "KEY", "SEVERITY", "AMOUNT", "DETAIL", "SOURCE"}}
	for _, r := range d.Rows() {
		if r.Kind != KindException {
			delta := r.Delta
			if delta != "" && delta[0] != '-' {
				delta = "+" + delta
			}
			figures.add([]string{r.City, r.Outlet, r.Counter, r.Kind, string(r.Change), r.Item(), r.Field, r.Old, r.New, delta}, 7, 8, 9)
		}
	}
	for i := range d.Counters {
		c := &d.Counters[i]
		row := func(ch string, e *engine.Exception) []string {
			return []string{c.City, c.Outlet, c.Counter, ch, string(e.Code), e.Feed, e.TxnID, e.Key, string(e.Severity), amountText(e), e.Detail, e.Source}
		}
		for _, e := range c.Added {
			exceptions.add(row(string(Added), &e), 9)
		}
		for _, e := range c.Resolved {
			exceptions.add(row(string(Resolved), &e), 9)
		}
		for _, ec := range c.Changed {
			exceptions.add(row(string(Changed), &ec.New), 9)
			was := make([]string, len(exceptions.header))
			was[3] = "  was"
			for _, f := range ec.Fields {
				switch f {
				case "severity":
					was[8] = string(ec.Old.Severity)
				case "amount":
					was[9] = amountText(&ec.Old)
				case "detail":
					was[10] = ec.Old.Detail
				case "city":
					was[0] = ec.Old.City
				case "outlet_id":
					was[1] = ec.Old.Outlet
				}
			}
			if ec.Old.Source != ec.New.Source {
				was[11] = ec.Old.Source
			}
			exceptions.add(was, 9)
		}
	}
	for _, t := range []*table{&figures, &exceptions} {
		if len(t.rows) > 0 {
			bw.WriteString("\n")
			t.write(bw)
		}
	}
	return bw.Flush()
}

// amountText is an exception's amount in yuan, or "" when it has none.
func amountText(e *engine.Exception) string {
	if !e.HasAmount {
		return ""
	}
	return money.Format(e.Amount)
}

// summaryLines are the label/text lines above the table and on the XLSX summary sheet.
func summaryLines(d *Diff) [][2]string {
	run := func(r RunInfo) string {
		s := r.Name() + "  tool " + r.ToolVersion
		if r.Status != "" {
			s += "  " + r.Status
		}
		return s + "  " + r.Dir
	}
	lines := [][2]string{{"a", run(d.A)}, {"b", run(d.B)}, {"cause", causeText(d)}}
	for _, f := range d.Cause.Feeds {
		lines = append(lines, [2]string{"", "  " + feedText(f)})
	}
	t := &d.Totals
	return append(lines,
		[2]string{"counters", fmt.Sprintf("%d changed", t.Counters)},
		[2]string{"settlement", fmt.Sprintf("%d changed, %d added, %d removed; net %s",
			t.Settlement.Changed, t.Settlement.Added, t.Settlement.Removed, signed(t.NetDelta))},
		[2]string{"variance", fmt.Sprintf("%d changed, %d added, %d removed; variance %s",
			t.Variance.Changed, t.Variance.Added, t.Variance.Removed, signed(t.VarianceDelta))},
		[2]string{"exceptions", fmt.Sprintf("%d added, %d resolved, %d changed",
			t.Exceptions.Added, t.Exceptions.Resolved, t.Exceptions.Changed)})
}

func causeText(d *Diff) string {
	c := d.Cause
	ver := "tool version " + d.A.ToolVersion + " → " + d.B.ToolVersion
	var s string
	switch c.Kind() {
	case CauseInputs:
		s = "inputs changed; tool version unchanged (" + d.B.ToolVersion + ")"
	case CauseVersion:
		s = ver + "; inputs unchanged"
	case CauseBoth:
		s = "inputs changed and " + ver
	default:
		s = "neither inputs nor tool version changed"
		if !d.Equal() {
			s += " (the differences come from elsewhere: stored runs of earlier days, configuration)"
		}
	}
	if c.Basis == BasisCounts {
		s += " [inputs compared by counts: a manifest has no input checksums]"
	}
	if !c.DetailsCompared() {
		s += " [details not compared: written in " + langName(c.DetailLangs[0]) + " and " + langName(c.DetailLangs[1]) + "]"
	}
	return s
}

// langName names the language of a run's details ("" before settle recorded it).
func langName(code string) string {
	if code == "" {
		return "an unrecorded language"
	}
	return code
}

func feedText(f FeedChange) string {
	parts := make([]string, 0, len(f.Fields))
	for _, name := range f.Fields {
		var a, b string
		switch name {
		case "sha256", "rows_sha256":
			parts = append(parts, name+" differs")
			continue
		case "inputs":
			a, b = strconv.Itoa(f.A.Inputs), strconv.Itoa(f.B.Inputs)
		case "files":
			a, b = strconv.Itoa(f.A.Files), strconv.Itoa(f.B.Files)
		case "pulls":
			a, b = strconv.Itoa(f.A.Pulls), strconv.Itoa(f.B.Pulls)
		case "bytes":
			a, b = strconv.FormatInt(f.A.Bytes, 10), strconv.FormatInt(f.B.Bytes, 10)
		case "rows_read":
			a, b = strconv.Itoa(f.A.RowsRead), strconv.Itoa(f.B.RowsRead)
		case "valid":
			a, b = strconv.Itoa(f.A.Valid), strconv.Itoa(f.B.Valid)
		case "rejected":
			a, b = strconv.Itoa(f.A.Rejected), strconv.Itoa(f.B.Rejected)
		}
		parts = append(parts, name+" "+a+" → "+b)
	}
	return f.Feed + ": " + strings.Join(parts, ", ")
}

// signed formats fen with an explicit sign: +12.50, -3.00, +0.00.
func signed(fen int64) string {
	s := money.Format(fen)
	if fen >= 0 {
		s = "+" + s
	}
	return s
}

// table aligns cells by display width.
type table struct {
	header []string
	rows   [][]string
	right  [][]bool
	widths []int
}

// add adds a row whose columns rightCols are right-aligned.
func (t *table) add(cells []string, rightCols ...int) {
	if t.widths == nil {
		t.widths = make([]int, len(t.header))
		for i, h := range t.header {
			t.widths[i] = sheettext.Width(h)
		}
	}
	right := make([]bool, len(cells))
	for i, c := range cells {
		c = truncate(termSafe(c), MaxCellWidth)
		cells[i] = c
		t.widths[i] = max(t.widths[i], sheettext.Width(c))
	}
	for _, i := range rightCols {
		right[i] = true
	}
	t.rows, t.right = append(t.rows, cells), append(t.right, right)
}

func (t *table) write(w *bufio.Writer) {
	t.line(w, t.header, nil)
	for i, r := range t.rows {
		t.line(w, r, t.right[i])
	}
}

func (t *table) line(w *bufio.Writer, cells []string, right []bool) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", t.widths[i]-sheettext.Width(c))
		if right != nil && right[i] {
			b.WriteString(pad + c)
		} else {
			b.WriteString(c + pad)
		}
	}
	w.WriteString(strings.TrimRight(b.String(), " "))
	w.WriteString("\n")
}

// termSafe replaces what must not reach a terminal: tab, newline and carriage return
// become spaces; other control and format characters (escape sequences, bidi overrides)
// and invalid UTF-8 become U+FFFD.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncate cuts s to at most max display columns, ending it with "…" when cut.
func truncate(s string, max int) string {
	if sheettext.Width(s) <= max {
		return s
	}
	n := 0
	for i, r := range s {
		rw := sheettext.RuneWidth(r)
		if n+rw > max-1 {
			return s[:i] + "…"
		}
		n += rw
	}
	return s
}
