package dialect

import (
	"errors"
	"strings"
	"unicode/utf8"
	"unsafe"

	"settle/feed"
)

// Limits of the reader.
const (
	// minHeaderNames is how many of the feed's columns a line without a header needs to
	// be named as the nearest to one (Table.Near).
	minHeaderNames = 4
	// maxHeaderCells: a line with more cells than this is never the header (no feed has
	// more than 14 columns; the limit only keeps an absurd line from costing memory).
	maxHeaderCells = 1024
	// sampleRows is how many data rows are read before the row count of the rest of the
	// input is estimated and the Table's slices are sized once.
	sampleRows = 256
)

// Footer first cells.
const (
	footerZh = "合计"
	footerEn = "TOTAL"
)

// IsFooterCell reports whether s, the trimmed first cell of a line, makes the line a
// footer: it is 合计 or TOTAL, exactly (FEEDS.md). Read and the BOSS connector's check for
// a body cut short both use it, so they agree on what a footer is.
func IsFooterCell(s string) bool { return s == footerZh || s == footerEn }

// Read reads one input of feed f in either dialect of FEEDS.md: CSV (UTF-8 with or
// without BOM, or GB18030/GBK when the bytes are not valid UTF-8) or, when xlsx is set,
// every sheet of an XLSX workbook in order. name is the input's name, kept in Table.Name
// and in errors.
//
// The header is the first line holding every required column of f by its English or
// Chinese name (feed.HeaderName), in any order; its other cells are extra columns,
// ignored. Lines before it are title lines and are skipped. After the header, a line that
// is a header of f again, or repeats a title line, is set aside in Table.Repeated; every
// other non-blank line is a data row, except the last one whose first cell is 合计 or
// TOTAL, which is the Footer. In a workbook each sheet needs its own header (a sheet
// without one is skipped and logged) and the footer is on the last sheet read; rows are
// cited by Table.Source.
//
// An input without a header line is not an error: HeaderLine is 0, Missing lists the
// required columns the nearest line lacked (Near), and every non-blank line is a data row
// whose cells are all "", so the caller can set each aside with its line and raw text. A
// header that also holds every column of another feed that has columns f lacks sets
// WrongFeed, and every non-blank line is likewise a data row without cells. Read returns
// an *Error only for an input that cannot be read at all: an XLSX that is not a zip
// archive, would unpack to more than 512 MiB or expand beyond its memory budget, has no
// sheet or a sheet that cannot be parsed, and for text with a record, or quoted cells with
// escapes, of more than 4 GiB (beyond any input the engine reads). It never panics on any
// input. The Table may
// share memory with data (UTF-8 input is not copied): the caller must not modify data
// while the Table or any string taken from it is in use.
func Read(name string, data []byte, xlsx bool, f *feed.Feed) (*Table, error) {
	if f == nil {
		return nil, errors.New("dialect.Read: nil feed")
	}
	b := newBuilder(name, f)
	if xlsx {
		if err := readXLSX(name, data, b); err != nil {
			return nil, err
		}
		return b.finish()
	}
	text := decode(data)
	p := newSplitter(text, maxHeaderCells)
	for p.next() {
		if p.last < 0 {
			continue // blank
		}
		if b.found && b.rows == sampleRows {
			// Size the Table for the rest of the input once, from the bytes per data row
			// read so far, instead of growing its slices row by row.
			per := max((p.pos-b.dataStart)/(sampleRows+1), 1)
			b.reserve(sampleRows + 1 + (len(text)-p.pos)/per + 1)
		}
		found := b.found
		b.line(p.start, p.raw, p.fields, p.last+1)
		if !found && b.found {
			p.limit = max(len(b.colOf), 2)
			b.dataStart = p.pos
		}
	}
	return b.finish()
}

// errTooLarge is Read's error for an input with a record, or quoted cells that hold
// escapes, of more than maxText bytes.
var errTooLarge = errors.New("a record or its cells larger than 4 GiB")

// pending is a non-blank line seen before any header: a data row if no header follows.
type pending struct {
	line int
	part int32 // index into Table.parts (XLSX: the sheet), 0 for a CSV
	raw  string
}

// maxTitles bounds how many title lines are remembered to recognise a title repeated
// after the header (BOSS titles are one or two lines).
const maxTitles = 16

// builder turns records (CSV or XLSX) into a Table.
type builder struct {
	f *feed.Feed
	t *Table

	found    bool   // the current part (a CSV, or the sheet being read) has its header
	anyFound bool   // some part had a header
	colOf    []int  // header cell index → f's column index, or -1
	amountAt int    // header cell index of f's amount column, or -1
	dateAt   int    // header cell index of f's biz_date column (to spot a repeated header)
	notName  string // a biz_date cell that is no column name (feed.HeaderName)...
	knowNot  bool   // ...when set
	pre      []pending
	titles   []string // title lines of the part (trimmed cells joined by \x00)
	part     int32    // the part being read
	parts    bool     // the input has several parts: rows carry theirs

	nearCols int // most of f's columns on a line without a header, for Missing

	rows      int // data rows so far
	dataStart int // CSV: offset where data rows start (for the size estimate)

	footerRow int // index of the last 合计/TOTAL row, or -1
	footer    Footer

	side    []byte // Table.side as it grows
	tooMuch bool   // a span would have passed maxText
}

func newBuilder(name string, f *feed.Feed) *builder {
	return &builder{
		f:         f,
		t:         &Table{Name: name, ncol: len(f.Columns)},
		amountAt:  -1,
		dateAt:    -1,
		footerRow: -1,
	}
}

// startPart starts a new part of the input (an XLSX sheet): it needs a header of its own,
// and a 合计 line on an earlier part is no longer the footer (FEEDS.md: the footer is on
// the last part).
func (b *builder) startPart(part int32) {
	b.part = part
	b.found = false
	b.titles = b.titles[:0]
}

// headerOf reads the trimmed cells of a line as a header of f: cols[c] is the cell index
// holding f's column c, or -1; names, when not nil, gets the canonical column names on the
// line. ok reports whether it holds every required column of f.
func (b *builder) headerOf(fields []string, cols []int, names map[string]bool) (have int, ok bool) {
	for c := range cols {
		cols[c] = -1
	}
	for j, c := range fields {
		if c == "" {
			continue
		}
		name, known := feed.HeaderName(c)
		if !known {
			continue
		}
		if names != nil {
			names[name] = true
		}
		if col := b.f.Col(name); col >= 0 && cols[col] < 0 {
			cols[col] = j
			have++
		}
	}
	ok = true
	for c, col := range b.f.Columns {
		if !col.Optional && cols[c] < 0 {
			ok = false
		}
	}
	return have, ok
}

// header reports whether the trimmed cells of a line are the header (FEEDS.md: the first
// line holding every required column of the feed by its English or Chinese name, in any
// order; other cells are ignored); if so it maps them to the feed's columns. n is the
// number of cells up to the last non-empty one; fields holds at least those (or the line
// is too wide to be the header).
func (b *builder) header(line int, fields []string, n int) bool {
	if n > len(fields) || n > maxHeaderCells {
		return false
	}
	fields = fields[:n]
	cols := make([]int, len(b.f.Columns))
	have, ok := b.headerOf(fields, cols, nil)
	if !ok {
		if have >= minHeaderNames && have > b.nearCols && !b.anyFound {
			b.nearCols = have
			b.t.Near = line
			b.t.Missing = b.t.Missing[:0]
			for c, col := range b.f.Columns {
				if !col.Optional && cols[c] < 0 {
					b.t.Missing = append(b.t.Missing, col.Name)
				}
			}
		}
		return false
	}
	names := map[string]bool{} // every known column on the line, of any feed
	for _, c := range fields {
		if name, known := feed.HeaderName(c); known {
			names[name] = true
		}
	}
	if wrong := otherFeed(b.f, names); wrong != nil {
		if b.anyFound {
			return false // a later sheet of another feed: not this feed's, skipped
		}
		// Another feed's report under this feed's name: the whole input is set aside.
		b.t.WrongFeed = wrong.Name
		b.t.HeaderLine = line
		b.t.HeaderSheet = b.part
		return false
	}
	b.found = true
	if b.anyFound {
		// A later part of the feed: a 合计 line on an earlier one is a data row.
		b.footerRow = -1
	}
	if !b.anyFound {
		b.anyFound = true
		b.t.HeaderLine = line
		b.t.HeaderSheet = b.part
		b.t.Missing = nil
		b.t.Near = 0
	}
	for _, p := range b.pre {
		if p.part == b.part && len(b.titles) < maxTitles {
			b.titles = append(b.titles, titleKey(p.raw))
		}
	}
	b.pre = nil
	b.colOf = make([]int, n)
	for j := range b.colOf {
		b.colOf[j] = -1
	}
	b.amountAt, b.dateAt = -1, -1
	for c, j := range cols {
		if j < 0 {
			continue
		}
		b.colOf[j] = c
		switch b.f.Columns[c].Name {
		case "amount":
			b.amountAt = j
		case "biz_date":
			b.dateAt = j
		}
	}
	return true
}

// otherFeed returns the feed, other than f, whose every column (optional ones included) is
// among names and that has a column f lacks, or nil (FEEDS.md: such a header is that
// feed's report under the wrong name).
func otherFeed(f *feed.Feed, names map[string]bool) *feed.Feed {
	for _, id := range feed.All {
		g := feed.Get(id)
		if g.ID == f.ID {
			continue
		}
		all, extra := true, false
		for _, c := range g.Columns {
			if !names[c.Name] {
				all = false
				break
			}
			if f.Col(c.Name) < 0 {
				extra = true
			}
		}
		if all && extra {
			return g
		}
	}
	return nil
}

// titleKey is a line's identity as a title: its raw text without surrounding blanks and
// empty trailing cells.
func titleKey(raw string) string {
	return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(raw), ","))
}

// kindAt is the kind of the feed column under header cell i of the current part, Text
// before the part's header or under a cell that is no column of the feed.
func (b *builder) kindAt(i int) feed.Kind {
	if !b.found || i < 0 || i >= len(b.colOf) || b.colOf[i] < 0 {
		return feed.Text
	}
	return b.f.Columns[b.colOf[i]].Kind
}

// repeated reports whether a line after the header is the header again (a line that is a
// header of the feed: every required column by name, in any order or language) or one of
// the title lines above the header: BOSS repeats them at page breaks (FEEDS.md).
func (b *builder) repeated(raw string, fields []string, n int) bool {
	// A data row's biz_date cell holds a date, never a column name: the cheap test first,
	// and cheaper still for the date of the row before (nearly every row's), known to be
	// no column name without looking it up again.
	if b.dateAt >= 0 && b.dateAt < len(fields) && !(b.knowNot && fields[b.dateAt] == b.notName) {
		_, ok := feed.HeaderName(fields[b.dateAt])
		if !ok {
			b.notName, b.knowNot = fields[b.dateAt], true
		}
		if ok && n <= len(fields) && n <= maxHeaderCells {
			cols := make([]int, len(b.f.Columns))
			if _, ok := b.headerOf(fields[:n], cols, nil); ok {
				return true
			}
		}
	}
	if len(b.titles) > 0 && b.mayBeTitle(raw) {
		k := titleKey(raw)
		for _, t := range b.titles {
			if t == k {
				return true
			}
		}
	}
	return false
}

// mayBeTitle reports false when raw is none of the part's titles, learnt without its
// titleKey: two TrimSpace on each row of a BOSS export, whose lines end in Chinese text,
// cost about as much as splitting it. A line whose first byte is printable ASCII other than
// ',' has a key that starts with that byte (TrimSpace keeps it, and TrimRight cannot take
// the whole line), so it is a title only if one starts with it; a data row starts with a
// digit, a title with its company's name.
func (b *builder) mayBeTitle(raw string) bool {
	if raw == "" {
		return true
	}
	c := raw[0]
	if c <= ' ' || c >= utf8.RuneSelf || c == ',' {
		return true
	}
	for _, t := range b.titles {
		if t != "" && t[0] == c {
			return true
		}
	}
	return false
}

// line takes one non-blank line of the current part with its trimmed cells; n is the
// number of cells up to the last non-empty one.
func (b *builder) line(line int, raw string, fields []string, n int) {
	switch {
	case b.t.WrongFeed != "":
		b.pre = append(b.pre, pending{line, b.part, raw})
	case !b.found:
		if b.header(line, fields, n) {
			return
		}
		b.pre = append(b.pre, pending{line, b.part, raw})
	case b.repeated(raw, fields, n):
		b.t.Repeated = append(b.t.Repeated, Aside{Line: line, Part: b.part, Raw: raw})
	default:
		b.row(line, raw, fields)
	}
}

// endPart ends a part: a part without a header (a cover, notes) is skipped when another
// part has one; its lines are kept until the end in case none has.
func (b *builder) endPart() (skipped bool) {
	return !b.found && b.t.WrongFeed == ""
}

// reserve sizes the Table's slices for n data rows in all.
func (b *builder) reserve(n int) {
	t := b.t
	if n <= cap(t.lines) {
		return
	}
	lines := make([]int, len(t.lines), n)
	copy(lines, t.lines)
	raws := make([]string, len(t.raws), n)
	copy(raws, t.raws)
	cells := make([]span, len(t.cells), n*t.ncol)
	copy(cells, t.cells)
	t.lines, t.raws, t.cells = lines, raws, cells
}

// row adds a data row (after the header) from its trimmed cells; cells beyond the
// header's width are ignored.
func (b *builder) row(line int, raw string, fields []string) {
	t := b.t
	if len(fields) > 0 && IsFooterCell(fields[0]) {
		b.footerRow = len(t.lines)
		b.footer = Footer{Line: line, Raw: raw, Part: b.part}
		if len(fields) > 1 {
			b.footer.Count = fields[1]
		}
		if b.amountAt >= 0 && b.amountAt < len(fields) {
			b.footer.Amount = fields[b.amountAt]
		}
	}
	t.lines = append(t.lines, line)
	t.raws = append(t.raws, raw)
	if b.parts {
		t.part = append(t.part, b.part)
	}
	base := len(t.cells)
	t.cells = append(t.cells, make([]span, t.ncol)...)
	cells := t.cells[base:]
	if len(fields) > len(b.colOf) {
		fields = fields[:len(b.colOf)]
	}
	for j, v := range fields {
		if c := b.colOf[j]; c >= 0 {
			cells[c] = b.span(v, raw)
		}
	}
	b.rows++
}

// span returns cell v of a row whose raw text is raw. Nearly every cell is a substring of
// raw (a CSV field as the splitter cuts it; a workbook's cell as joinCSV re-points it) and
// is kept as where it lies; any other (a quoted field with "" escapes or text after its
// closing quote) is appended to the side text. Which it is, is told by where v's bytes
// are: a string built apart cannot lie inside raw.
func (b *builder) span(v, raw string) span {
	if v == "" {
		return span{}
	}
	if off, ok := within(v, raw); ok && uint64(off+len(v)) <= maxText {
		return span{uint32(off), uint32(off + len(v))}
	}
	at := len(b.side)
	if uint64(at+len(v)) > maxText {
		b.tooMuch = true
		return span{}
	}
	b.side = append(b.side, v...)
	return span{uint32(at + len(v)), uint32(at)}
}

// within returns the offset of v in s when v's bytes lie in s's (v is a substring of s).
func within(v, s string) (int, bool) {
	off := uintptr(unsafe.Pointer(unsafe.StringData(v))) - uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if off < uintptr(len(s)) && uintptr(len(v)) <= uintptr(len(s))-off {
		return int(off), true
	}
	return 0, false
}

// finish completes the Table: the footer is taken out of the data rows, or, without a
// header (or with another feed's), the pending lines become the data rows. It fails only
// when a record or the side text would have passed maxText.
func (b *builder) finish() (*Table, error) {
	t := b.finishRows()
	if b.tooMuch {
		return nil, &Error{Name: t.Name, Err: errTooLarge}
	}
	// b.side is not written to after this: the string can share its memory.
	t.side = unsafe.String(unsafe.SliceData(b.side), len(b.side))
	b.side = nil
	return t, nil
}

func (b *builder) finishRows() *Table {
	t := b.t
	if !b.anyFound || t.WrongFeed != "" {
		if t.WrongFeed == "" {
			t.HeaderLine, t.HeaderSheet = 0, 0
			if t.Near == 0 {
				t.Missing = nil
				for _, c := range b.f.Columns {
					if !c.Optional {
						t.Missing = append(t.Missing, c.Name)
					}
				}
			}
		} else {
			t.Missing, t.Near = nil, 0
		}
		t.Repeated = nil
		t.lines = make([]int, len(b.pre))
		t.raws = make([]string, len(b.pre))
		t.part = nil
		if b.parts {
			t.part = make([]int32, len(b.pre))
		}
		for i, p := range b.pre {
			t.lines[i], t.raws[i] = p.line, p.raw
			if b.parts {
				t.part[i] = p.part
			}
		}
		t.cells = make([]span, len(b.pre)*t.ncol)
		b.pre = nil
		return t
	}
	b.pre = nil
	if i := b.footerRow; i >= 0 {
		footer := b.footer
		t.Footer = &footer
		t.lines = append(t.lines[:i], t.lines[i+1:]...)
		t.raws = append(t.raws[:i], t.raws[i+1:]...)
		if b.parts {
			t.part = append(t.part[:i], t.part[i+1:]...)
		}
		t.cells = append(t.cells[:i*t.ncol], t.cells[(i+1)*t.ncol:]...)
		clear(t.raws[len(t.raws):cap(t.raws)][:1]) // let go of the string left beyond
	}
	return t
}

// RawLines returns the raw text, as Table.Raw gives it, of the rows of an input that start
// at the given lines, without building a Table: for a caller that kept only line numbers and
// needs a few rows' text again. A line that starts no row is absent from the result. Line
// numbers repeat from sheet to sheet of a workbook: for one of several sheets, use Read and
// Table.Source instead.
func RawLines(name string, data []byte, xlsx bool, f *feed.Feed, lines []int) (map[int]string, error) {
	out := make(map[int]string, len(lines))
	if len(lines) == 0 {
		return out, nil
	}
	want := make(map[int]bool, len(lines))
	last := 0
	for _, l := range lines {
		want[l] = true
		last = max(last, l)
	}
	if xlsx {
		t, err := Read(name, data, true, f)
		if err != nil {
			return nil, err
		}
		for i := 0; i < t.Len(); i++ {
			if want[t.Line(i)] {
				out[t.Line(i)] = strings.Clone(t.Raw(i))
			}
		}
		return out, nil
	}
	// The records as Read splits them, but no field is kept: a line without a quote is a
	// record of its own, a quoted one may run on.
	p := newSplitter(decode(data), 0)
	for p.pos < len(p.s) && p.line <= last {
		rest := p.s[p.pos:]
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		}
		if strings.IndexByte(rest[:end], '"') < 0 {
			if want[p.line] {
				out[p.line] = strings.Clone(strings.TrimSuffix(rest[:end], "\r"))
			}
			p.pos += end + 1
			p.line++
			continue
		}
		p.quoted()
		if want[p.start] {
			out[p.start] = strings.Clone(p.raw)
		}
	}
	return out, nil
}
