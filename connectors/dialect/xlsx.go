package dialect

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"settle/feed"
)

// Limits of an XLSX input. A workbook that declares more than xlsxUnzipLimit unpacked, or
// a part that would inflate more than xlsxRatioLimit times over xlsxRatioFloor, is refused
// before anything is inflated (a zip bomb); archive/zip refuses an entry that inflates to
// more than it declares.
//
// Memory: a read reserves, from xlsxMemory shared by every read in the process, a budget of
// xlsxMemPerByte bytes per unpacked byte (at least 1 MiB, at most xlsxMemLimit), and counts
// against it what it keeps: the shared strings (their text and 4 bytes per entry) and the
// Table (raw text, cells not shared with the shared strings, 16 bytes per cell and 32 per
// row, and a copy of each cell holding a quote: builder.span). A workbook that needs more — a shared string referenced by millions of cells —
// is an *Error. So concurrent reads of XLSX inputs keep at most xlsxMemory bytes at once.
const (
	xlsxUnzipLimit = 512 << 20 // all entries together
	xlsxRatioLimit = 100       // a part may inflate this many times its compressed size...
	xlsxRatioFloor = 16 << 20  // ...or to this size, whichever is more
	xlsxMemPerByte = 4
	xlsxMemLimit   = 320 << 20
	xlsxMemory     = 640 << 20
	xlsxMaxColumns = 16384 // column XFD, the last of a sheet
	// xlsxMaxRun bounds the text between two '<' of a part: the XML decoder holds a whole
	// attribute or text in memory, so one huge token could cost as much as the part.
	xlsxMaxRun = 4 << 20
)

// markupGuard passes a part's bytes on, failing once more than xlsxMaxRun bytes come
// without a '<'.
type markupGuard struct {
	r   io.Reader
	run int
}

func (g *markupGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			g.run += len(b)
			break
		}
		if g.run+i > xlsxMaxRun {
			g.run += i
			break
		}
		g.run = 0
		b = b[i+1:]
	}
	if g.run > xlsxMaxRun {
		return 0, fmt.Errorf("xlsx refused: more than %d MiB of text without markup", xlsxMaxRun>>20)
	}
	return n, err
}

// xlsxMemory is shared by all reads.
var xlsxSem = semaphore.NewWeighted(xlsxMemory)

// errBudget is what a read that needs more memory than its budget says.
var errBudget = errors.New("xlsx refused: its cells expand to more than its memory budget")

// book is an open workbook.
type book struct {
	name   string
	files  map[string]*zip.File
	budget int64 // bytes the read may still keep
	limit  int64 // the whole budget, for the error

	dateStyle []bool // by cell style index: the number format shows a date or time
	timeStyle []bool // by cell style index: ... with a time of day
	date1904  bool

	sst     string   // shared strings, concatenated
	sstEnds []uint32 // end offset of each shared string in sst
}

// take counts n more bytes against the read's budget.
func (bk *book) take(n int) error {
	bk.budget -= int64(n)
	if bk.budget < 0 {
		return fmt.Errorf("%w (%d MiB)", errBudget, bk.limit>>20)
	}
	return nil
}

// readXLSX feeds the rows of every sheet of an XLSX workbook to b, in sheet order: cell
// values as stored (numbers as canonical decimal text, dates as ISO text), line = sheet
// row number, raw = the cells joined as a CSV line. A sheet without a header of the feed
// is skipped (and logged) when another sheet has one.
func readXLSX(name string, data []byte, b *builder) (err error) {
	defer func() {
		// The reader parses untrusted XML; a panic in it must not take the run down.
		if r := recover(); r != nil {
			err = &Error{Name: name, Err: fmt.Errorf("read xlsx: %v", r)}
		}
	}()
	zr, unpacked, err := checkZip(data)
	if err != nil {
		return &Error{Name: name, Err: err}
	}
	limit := min(max(xlsxMemPerByte*unpacked, 1<<20), xlsxMemLimit)
	if err := xlsxSem.Acquire(context.Background(), limit); err != nil {
		return &Error{Name: name, Err: err}
	}
	defer xlsxSem.Release(limit)
	bk := &book{name: name, files: map[string]*zip.File{}, budget: limit, limit: limit}
	for _, f := range zr.File {
		bk.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	sheets, err := bk.open()
	if err != nil {
		return &Error{Name: name, Err: err}
	}
	if len(sheets) == 0 {
		return &Error{Name: name, Err: errors.New("xlsx has no sheet")}
	}
	if len(sheets) > 1 {
		b.parts = true
		for _, s := range sheets {
			b.t.parts = append(b.t.parts, s.name)
		}
	}
	var skipped []string
	for i, s := range sheets {
		b.startPart(int32(i))
		if err := bk.readSheet(s, b); err != nil {
			return err
		}
		if b.endPart() {
			skipped = append(skipped, s.name)
		}
	}
	if b.anyFound && len(skipped) > 0 {
		slog.Info("xlsx sheets without a header of the feed skipped", "input", name, "feed", b.f.Name, "sheets", skipped)
	}
	return nil
}

type sheet struct {
	name string
	path string // zip entry
}

// open reads the workbook's parts other than the sheets: the sheet list, styles and
// shared strings.
func (bk *book) open() ([]sheet, error) {
	wbPath := "xl/workbook.xml"
	if rels, err := bk.rels("_rels/.rels", ""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/officeDocument") {
				wbPath = r.target
			}
		}
	}
	if bk.files[wbPath] == nil {
		return nil, fmt.Errorf("missing workbook part %q", wbPath)
	}
	dir := path.Dir(wbPath)
	rels, err := bk.rels(path.Join(dir, "_rels", path.Base(wbPath)+".rels"), dir)
	if err != nil {
		return nil, err
	}
	byID := map[string]rel{}
	var stylesPath, sstPath string
	for _, r := range rels {
		byID[r.id] = r
		switch {
		case strings.HasSuffix(r.typ, "/styles"):
			stylesPath = r.target
		case strings.HasSuffix(r.typ, "/sharedStrings"):
			sstPath = r.target
		}
	}
	var sheets []sheet
	err = bk.scan(wbPath, func(d *xml.Decoder, se xml.StartElement) error {
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			bk.date1904 = v == "1" || v == "true"
		case "sheet":
			r, ok := byID[attr(se, "id")]
			if !ok || !strings.HasSuffix(r.typ, "/worksheet") {
				return nil // a chart sheet, or a sheet without its part: no rows
			}
			sheets = append(sheets, sheet{name: attr(se, "name"), path: r.target})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if stylesPath != "" && bk.files[stylesPath] != nil {
		if err := bk.readStyles(stylesPath); err != nil {
			return nil, err
		}
	}
	if sstPath != "" && bk.files[sstPath] != nil {
		if err := bk.readSST(sstPath); err != nil {
			return nil, err
		}
	}
	return sheets, nil
}

type rel struct{ id, typ, target string }

// rels reads a relationships part; targets are resolved against dir.
func (bk *book) rels(p, dir string) ([]rel, error) {
	if bk.files[p] == nil {
		return nil, fmt.Errorf("missing workbook part %q", p)
	}
	var out []rel
	err := bk.scan(p, func(d *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local == "Relationship" {
			t := attr(se, "Target")
			if strings.HasPrefix(t, "/") {
				t = strings.TrimPrefix(t, "/")
			} else {
				t = path.Join(dir, t)
			}
			out = append(out, rel{attr(se, "Id"), attr(se, "Type"), t})
			if len(out) > 1<<16 {
				return errors.New("too many relationships")
			}
		}
		return nil
	})
	return out, err
}

// scan calls fn for every start element of a part.
func (bk *book) scan(p string, fn func(*xml.Decoder, xml.StartElement) error) error {
	f := bk.files[p]
	if f == nil {
		return fmt.Errorf("missing workbook part %q", p)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open %q: %w", p, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(&markupGuard{r: rc})
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %q: %w", p, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if err := fn(d, se); err != nil {
				return err
			}
		}
	}
}

// attr returns the value of the attribute with the local name n.
func attr(se xml.StartElement, n string) string {
	for _, a := range se.Attr {
		if a.Name.Local == n {
			return a.Value
		}
	}
	return ""
}

// readStyles reads which cell styles show a date or time.
func (bk *book) readStyles(p string) error {
	custom := map[int]string{}
	inXfs := false
	return bk.scan(p, func(d *xml.Decoder, se xml.StartElement) error {
		switch se.Name.Local {
		case "numFmt":
			id, err := strconv.Atoi(attr(se, "numFmtId"))
			if err == nil && len(custom) < 1<<16 {
				custom[id] = attr(se, "formatCode")
			}
		case "cellXfs":
			inXfs = true
		case "cellStyleXfs", "dxfs":
			inXfs = false
		case "xf":
			if !inXfs {
				return nil
			}
			if len(bk.dateStyle) >= 1<<16 {
				return errors.New("too many cell styles")
			}
			id, _ := strconv.Atoi(attr(se, "numFmtId"))
			date, tod := builtinDate(id)
			if code, ok := custom[id]; ok {
				date, tod = formatDate(code)
			}
			bk.dateStyle = append(bk.dateStyle, date)
			bk.timeStyle = append(bk.timeStyle, tod)
		}
		return nil
	})
}

// builtinDate reports whether a built-in number format shows a date, and a time of day
// (ECMA-376 §18.8.30, with the CJK built-ins 27–36 and 50–58).
func builtinDate(id int) (date, tod bool) {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		return true, false
	case id == 22:
		return true, true
	case id >= 18 && id <= 21, id == 32, id == 33, id >= 45 && id <= 47:
		return true, true
	}
	return false, false
}

// formatDate reports whether a format code shows a date, and a time of day: it holds
// y, m, d, h or s outside quoted text, escapes and [..] (colours, conditions, locales).
func formatDate(code string) (date, tod bool) {
	if i := strings.IndexByte(code, ';'); i >= 0 {
		code = code[:i] // the first section is the positive numbers'
	}
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; {
		case code[i] == '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case code[i] == '\\' || code[i] == '_' || code[i] == '*':
			i++
		case code[i] == '[':
			if j := strings.IndexByte(code[i:], ']'); j >= 0 {
				inner := strings.ToLower(code[i+1 : i+j])
				if inner == "h" || inner == "hh" || inner == "m" || inner == "mm" || inner == "s" || inner == "ss" {
					date, tod = true, true
				}
				i += j
			}
		case c == 'y' || c == 'd':
			date = true
		case c == 'm':
			date = true
		case c == 'h' || c == 's':
			date, tod = true, true
		}
	}
	return date, tod
}

// readSST reads the shared strings into one string and their end offsets (4 bytes each),
// counted against the budget as they grow.
func (bk *book) readSST(p string) error {
	f := bk.files[p]
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open %q: %w", p, err)
	}
	defer rc.Close()
	d := xml.NewDecoder(&markupGuard{r: rc})
	var (
		buf   []byte
		ends  []uint32
		depth int  // inside <si>
		inT   bool // inside a <t> of the <si> (not of a phonetic <rPh>)
		inRPh bool
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %q: %w", p, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				depth = 1
			case "rPh":
				inRPh = true
			case "t":
				inT = depth > 0 && !inRPh
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if depth > 0 {
					if len(buf) > 1<<32-1 {
						return errBudget
					}
					ends = append(ends, uint32(len(buf)))
					if err := bk.take(4); err != nil {
						return err
					}
				}
				depth = 0
			case "rPh":
				inRPh = false
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				// Twice: the text is copied once more into the string kept.
				if err := bk.take(2 * len(t)); err != nil {
					return err
				}
				buf = append(buf, t...)
			}
		}
	}
	if bytes.Contains(buf, []byte("_x")) {
		bk.sst, ends = unescapeEach(string(buf), ends)
	} else {
		bk.sst = string(buf)
	}
	bk.sstEnds = ends
	return nil
}

// sharedString returns shared string i, or false.
func (bk *book) sharedString(v string) (string, bool) {
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || i < 0 || i >= len(bk.sstEnds) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = bk.sstEnds[i-1]
	}
	return bk.sst[start:bk.sstEnds[i]], true
}

// unescapeEach undoes _xHHHH_ escapes string by string, giving new end offsets.
func unescapeEach(s string, ends []uint32) (string, []uint32) {
	var sb strings.Builder
	sb.Grow(len(s))
	start := uint32(0)
	for i, e := range ends {
		sb.WriteString(unescapeOOXML(s[start:e]))
		start = e
		ends[i] = uint32(sb.Len())
	}
	return sb.String(), ends
}

// unescapeOOXML undoes the _xHHHH_ escapes of OOXML strings (ECMA-376 §22.9.2.19), as
// spreadsheet programs and excelize write a character XML cannot hold or a literal "_x".
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var sb strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) {
			sb.WriteString(s)
			return sb.String()
		}
		n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil || s[i+6] != '_' {
			sb.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		sb.WriteString(s[:i])
		sb.WriteRune(rune(n))
		s = s[i+7:]
	}
}

// readSheet streams one sheet's rows to b.
func (bk *book) readSheet(s sheet, b *builder) error {
	f := bk.files[s.path]
	if f == nil {
		return &Error{Name: bk.name, Err: fmt.Errorf("read sheet %q: missing part %q", s.name, s.path)}
	}
	rc, err := f.Open()
	if err != nil {
		return &Error{Name: bk.name, Err: fmt.Errorf("read sheet %q: %w", s.name, err)}
	}
	defer rc.Close()
	d := xml.NewDecoder(&markupGuard{r: rc})
	var (
		cells  []string
		line   int
		inRow  bool
		col    int    // column of the current cell
		typ    string // its t attribute
		style  int
		inV    bool // inside <v>
		inIsT  bool // inside <is>…<t>
		inIs   bool
		inRPh  bool
		val    []byte
		isText []byte
		sb     strings.Builder
		fail   = func(err error) error {
			return &Error{Name: bk.name, Line: line, Err: fmt.Errorf("read sheet %q: %w", s.name, err)}
		}
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				inRow = true
				cells = cells[:0]
				if r := attr(t, "r"); r != "" {
					n, err := strconv.Atoi(r)
					if err != nil || n <= line || n > 1<<20 {
						return fail(fmt.Errorf("bad row number %q", r))
					}
					line = n
				} else {
					line++
				}
				col = -1
			case "c":
				if !inRow {
					continue
				}
				if r := attr(t, "r"); r != "" {
					c, ok := columnOf(r)
					if !ok || c <= col {
						return fail(fmt.Errorf("bad cell reference %q", r))
					}
					col = c
				} else {
					col++
				}
				if col >= xlsxMaxColumns {
					return fail(fmt.Errorf("cell beyond column XFD"))
				}
				typ = attr(t, "t")
				style, _ = strconv.Atoi(attr(t, "s"))
				val, isText = val[:0], isText[:0]
			case "v":
				inV = inRow
			case "is":
				inIs = inRow
			case "rPh":
				inRPh = true
			case "t":
				inIsT = inIs && !inRPh
			}
		case xml.CharData:
			switch {
			case inV:
				if len(val)+len(t) > 1<<20 {
					return fail(errors.New("cell value longer than 1 MiB"))
				}
				val = append(val, t...)
			case inIsT:
				if len(isText)+len(t) > 1<<20 {
					return fail(errors.New("cell text longer than 1 MiB"))
				}
				isText = append(isText, t...)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "t":
				inIsT = false
			case "rPh":
				inRPh = false
			case "is":
				inIs = false
			case "c":
				if !inRow || col < 0 {
					continue
				}
				v, shared, err := bk.cellValue(typ, style, val, isText, b.kindAt(col))
				if err != nil {
					return fail(fmt.Errorf("cell %s: %w", cellName(col, line), err))
				}
				if !shared {
					if err := bk.take(len(v)); err != nil {
						return fail(err)
					}
				}
				for len(cells) < col {
					cells = append(cells, "")
				}
				cells = append(cells, v)
			case "row":
				inRow = false
				if err := bk.row(b, line, cells, &sb); err != nil {
					return fail(err)
				}
			}
		}
	}
	return nil
}

// row hands one sheet row to b.
func (bk *book) row(b *builder, line int, cells []string, sb *strings.Builder) error {
	last := -1 // the last non-empty cell
	for i := len(cells) - 1; i >= 0; i-- {
		if trim(cells[i]) != "" {
			last = i
			break
		}
	}
	if last < 0 {
		return nil // blank
	}
	// What the Table keeps of the row: its raw text, its cells' spans and line, and a copy
	// of each cell with a quote (the raw text holds it escaped: builder.span).
	n := 32 + 16*b.t.ncol
	for _, c := range cells {
		n += len(c) + 3
		if strings.IndexByte(c, '"') >= 0 {
			n += len(c)
		}
	}
	if err := bk.take(n); err != nil {
		return err
	}
	sb.Reset()
	sb.Grow(n) // no doubling of a huge row's text
	raw := joinCSV(sb, cells)
	for i, c := range cells {
		cells[i] = trim(c)
	}
	b.line(line, raw, cells, last+1)
	return nil
}

// cellValue is a cell's text: a shared string (shared reports it: no new memory), an
// inline or formula string, a boolean, an error, a date or a number as stored.
//
// A date serial under a column of the feed is read as that column's kind needs: a whole
// serial under a Time column (txn_time formatted as a date only) is that day at 00:00:00,
// and one under a Date column (biz_date formatted with a time of day) is the day alone.
func (bk *book) cellValue(typ string, style int, val, isText []byte, kind feed.Kind) (v string, shared bool, err error) {
	switch typ {
	case "s":
		if len(val) == 0 {
			return "", true, nil
		}
		s, ok := bk.sharedString(string(val))
		if !ok {
			return "", false, fmt.Errorf("no shared string %q", val)
		}
		return s, true, nil
	case "inlineStr":
		return unescapeOOXML(string(isText)), false, nil
	case "str", "e":
		return unescapeOOXML(string(val)), false, nil
	case "b":
		switch strings.TrimSpace(string(val)) {
		case "1":
			return "TRUE", false, nil
		case "0":
			return "FALSE", false, nil
		}
		return string(val), false, nil
	case "d":
		return isoDate(string(val)), false, nil
	}
	if len(val) == 0 {
		return "", false, nil
	}
	if style >= 0 && style < len(bk.dateStyle) && bk.dateStyle[style] {
		tod := bk.timeStyle[style] && kind != feed.Date || kind == feed.Time
		if d, ok := serialDate(string(val), tod, bk.date1904); ok {
			return d, false, nil
		}
	}
	return decimalText(string(val)), false, nil
}

// serialDate is the text of a date serial number: 2006-01-02, with 15:04:05 when the
// serial has a time of day (to the nearest second) — whatever the format shows: a cell is
// read by its stored value (FEEDS.md), and a date-only format on a txn_time must not cut
// its time — or when the format shows one (tod: midnight then reads 00:00:00). ok is false
// for a value that is no date.
func serialDate(v string, tod, date1904 bool) (string, bool) {
	// A serial is a count of days and a fraction of one: a float is exact enough (a
	// second is 1/86400 of a day, far above float64's resolution at 10^5 days).
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 2958465 { // 9999-12-31
		return "", false
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if f < 61 {
		// Excel's 1900 calendar has a 29 February 1900; serials before it are one day on.
		if f < 60 {
			f++
		} else {
			return "", false
		}
	}
	secs := int64(f*86400 + 0.5) // to the nearest second: a double's noise is no time
	t := base.Add(time.Duration(secs) * time.Second)
	if tod || secs%86400 != 0 {
		return t.Format("2006-01-02 15:04:05"), true
	}
	return t.Format("2006-01-02"), true
}

// isoDate is the text of a t="d" cell (ISO 8601): 2006-01-02, with 15:04:05 when it has a
// time of day; other text is kept.
func isoDate(v string) string {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
				return t.Format("2006-01-02")
			}
			return t.Format("2006-01-02 15:04:05")
		}
	}
	return v
}

// maxDigits is how many significant digits of a stored fraction are kept: spreadsheet
// programs store binary doubles, whose shortest text may end in noise (28.929999999999996
// for 28.93); rounded to 15 significant digits — what Excel shows — the noise goes.
const maxDigits = 15

// decimalText is the canonical decimal text of a stored number (the text of <v>): no
// exponent, no sign of zero, no leading zeros, no trailing fractional zeros. A whole
// number, however written, is exact: 202611210000000001, 2.0261121E17 and 3.0 give
// 202611210000000001, 202611210000000000 and 3 (ids and card serials are stored as
// numbers; their digits are never rounded). A number with a fraction is rounded to 15
// significant digits (half away from zero on the decimal text, never through a float), to
// drop a double's noise, but never into its integer digits: one with 15 or more integer
// digits is kept as stored. 11513.78, 1.151378E4 and 11513.780 give 11513.78;
// 28.912999999999997 gives 28.913. Text that is not a decimal number is returned as it is
// (trimmed), for the caller to reject.
func decimalText(v string) string {
	v = strings.TrimSpace(v)
	s := v
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return v
		}
		exp, s = e, s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return v
	}
	// digits × 10^(exp - len(frac)), digits without leading zeros.
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	if digits == "" {
		return "0"
	}
	// Trailing zeros go into the exponent: the number is whole when exp >= 0.
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp < 0 && len(digits)+exp < maxDigits && len(digits) > maxDigits {
		up := digits[maxDigits] >= '5'
		exp += len(digits) - maxDigits
		digits = digits[:maxDigits]
		if up {
			b := []byte(digits)
			i := len(b) - 1
			for ; i >= 0 && b[i] == '9'; i-- {
				b[i] = '0'
			}
			if i < 0 {
				b = append([]byte{'1'}, b...)
			} else {
				b[i]++
			}
			digits = string(b)
		}
	}
	// Rounding may have left trailing zeros: into the exponent too.
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	var out string
	switch {
	case exp >= 0:
		out = digits + strings.Repeat("0", exp)
	case -exp < len(digits):
		out = digits[:len(digits)+exp] + "." + digits[len(digits)+exp:]
	default:
		out = "0." + strings.Repeat("0", -exp-len(digits)) + digits
	}
	if neg {
		out = "-" + out
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// columnOf is the 0-based column of a cell reference such as "B12".
func columnOf(ref string) (int, bool) {
	c, i := 0, 0
	for ; i < len(ref); i++ {
		ch := ref[i] | 0x20
		if ch < 'a' || ch > 'z' {
			break
		}
		c = c*26 + int(ch-'a'+1)
		if c > xlsxMaxColumns {
			return 0, false
		}
	}
	if i == 0 || !allDigits(ref[i:]) {
		return 0, false
	}
	return c - 1, true
}

// cellName is the reference of a 0-based column and a 1-based row, for errors.
func cellName(col, line int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b) + strconv.Itoa(line)
}

// checkZip refuses data that is not a zip archive, that declares more than xlsxUnzipLimit
// bytes unpacked, or a part that would inflate more than xlsxRatioLimit times, before
// anything is inflated. It returns the archive and the bytes it unpacks to.
func checkZip(data []byte) (*zip.Reader, int64, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, 0, fmt.Errorf("not an xlsx workbook: %w", err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > xlsxUnzipLimit || total > xlsxUnzipLimit {
			return nil, 0, fmt.Errorf("xlsx refused: it unpacks to more than %d MiB (zip bomb?)", xlsxUnzipLimit>>20)
		}
	}
	for _, f := range zr.File {
		if f.UncompressedSize64 > xlsxRatioFloor && f.UncompressedSize64/xlsxRatioLimit > f.CompressedSize64 {
			return nil, 0, fmt.Errorf("xlsx refused: part %q inflates %d MiB from %d KiB, more than %d times (zip bomb?)",
				f.Name, f.UncompressedSize64>>20, f.CompressedSize64>>10, xlsxRatioLimit)
		}
	}
	return zr, int64(total), nil
}

// joinCSV joins cells as one CSV line, quoting a cell that holds a comma, a quote or a
// line end. sb must be empty (Reset, maybe grown). Each cell the line holds as it is
// (every cell without a quote) is replaced by that substring of the line, so that the
// Table keeps the row's text once instead of the line and its cells apart (builder.span).
func joinCSV(sb *strings.Builder, cells []string) string {
	for i, c := range cells {
		if i > 0 {
			sb.WriteByte(',')
		}
		if !strings.ContainsAny(c, ",\"\r\n") {
			sb.WriteString(c)
			continue
		}
		sb.WriteByte('"')
		sb.WriteString(strings.ReplaceAll(c, `"`, `""`))
		sb.WriteByte('"')
	}
	raw := sb.String()
	at := 0 // where cell i starts on the line
	for i, c := range cells {
		if i > 0 {
			at++ // ','
		}
		switch {
		case !strings.ContainsAny(c, ",\"\r\n"):
			cells[i] = raw[at : at+len(c)]
			at += len(c)
		case strings.IndexByte(c, '"') < 0:
			cells[i] = raw[at+1 : at+1+len(c)]
			at += 1 + len(c) + 1
		default:
			at += 1 + len(c) + strings.Count(c, `"`) + 1
		}
	}
	return raw
}
