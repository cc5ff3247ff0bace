package dialect

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"settle/feed"
)

// FuzzRead checks the invariants of Read on any input, CSV or XLSX, for any feed: it
// never panics, fails only with an *Error and only for XLSX, and returns a Table whose
// rows are consistent (lines strictly increasing after the header, every cell in range,
// raw text of every row non-blank, the footer on a line of its own).
// The seed corpus is in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"local_payment.csv", "太原_TY0009-01_本地缴费日报.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false, uint8(feed.LocalPayment))
	}
	f.Add(xlsxBook(f, [][]any{
		{"title"},
		{"账务日期", "地市", "营业厅编码", "工号", "解款单号", "金额", "支付方式"},
		{"2026-11-19", "TY", "O1", "C1", "S1", 12.5, "现金"},
		{"合计", 1, nil, nil, nil, 12.5},
	}), true, uint8(feed.Deposit))
	f.Fuzz(func(t *testing.T, data []byte, xlsx bool, id uint8) {
		fd := feed.Get(feed.ID(id % uint8(feed.Count)))
		tab, err := Read("fuzz", data, xlsx, fd)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !xlsx {
				t.Fatalf("error %v (%T) for xlsx=%v", err, err, xlsx)
			}
			if tab != nil {
				t.Fatal("a Table with an error")
			}
			return
		}
		checkTable(t, tab, fd)
		if !xlsx { // RawLines gives each row's raw text as Read does
			lines := make([]int, tab.Len())
			for i := range lines {
				lines[i] = tab.Line(i)
			}
			raws, err := RawLines("fuzz", data, false, fd, lines)
			if err != nil {
				t.Fatal(err)
			}
			for i := range lines {
				if raws[lines[i]] != tab.Raw(i) {
					t.Fatalf("RawLines(%d) = %q, Read has %q", lines[i], raws[lines[i]], tab.Raw(i))
				}
			}
		}
	})
}

func checkTable(t *testing.T, tab *Table, fd *feed.Feed) {
	t.Helper()
	n := tab.Len()
	if len(tab.lines) != n || len(tab.raws) != n || len(tab.cells) != n*len(fd.Columns) || tab.ncol != len(fd.Columns) {
		t.Fatalf("Len %d, %d lines, %d raws, %d cells of %d columns", n, len(tab.lines), len(tab.raws), len(tab.cells), tab.ncol)
	}
	// Rows come in (part, line) order; data rows after the header of their part.
	noHeader := tab.HeaderLine == 0 || tab.WrongFeed != ""
	prevPart, prev := tab.HeaderSheet, tab.HeaderLine
	if noHeader {
		prevPart, prev = 0, 0
	}
	part := func(i int) int32 {
		if tab.parts == nil {
			return 0
		}
		return tab.part[i]
	}
	for i := range n {
		if p := part(i); p == prevPart && tab.Line(i) <= prev || p < prevPart {
			t.Fatalf("row %d on line %d of part %d after line %d of part %d", i, tab.Line(i), p, prev, prevPart)
		}
		prevPart, prev = part(i), tab.Line(i)
		if strings.TrimSpace(strings.ReplaceAll(tab.Raw(i), ",", "")) == "" {
			t.Fatalf("row %d (line %d) is blank: %q", i, tab.Line(i), tab.Raw(i))
		}
		for c := range fd.Columns {
			if v := tab.Cell(i, c); v != strings.TrimSpace(v) {
				t.Fatalf("row %d column %d not trimmed: %q", i, c, v)
			}
		}
		if noHeader && slices.ContainsFunc(tab.cells, func(s span) bool { return s != span{} }) {
			t.Fatal("cells without a header")
		}
	}
	if noHeader && (tab.Footer != nil || len(tab.Repeated) > 0) {
		t.Fatalf("no header, but footer %v, repeated %v", tab.Footer, tab.Repeated)
	}
	if tab.WrongFeed != "" && (tab.HeaderLine == 0 || len(tab.Missing) > 0) {
		t.Fatalf("wrong feed %s: header line %d, missing %v", tab.WrongFeed, tab.HeaderLine, tab.Missing)
	}
	onRow := func(p int32, line int) bool {
		for i := range n {
			if part(i) == p && tab.Line(i) == line {
				return true
			}
		}
		return false
	}
	if ft := tab.Footer; ft != nil {
		if ft.Part == tab.HeaderSheet && ft.Line <= tab.HeaderLine || ft.Part < tab.HeaderSheet || onRow(ft.Part, ft.Line) {
			t.Fatalf("footer on line %d of part %d, header %d of part %d, rows on %v", ft.Line, ft.Part, tab.HeaderLine, tab.HeaderSheet, tab.lines)
		}
	}
	for _, a := range tab.Repeated {
		if a.Part == tab.HeaderSheet && a.Line <= tab.HeaderLine || onRow(a.Part, a.Line) || strings.TrimSpace(strings.ReplaceAll(a.Raw, ",", "")) == "" {
			t.Fatalf("repeated %+v: header line %d, rows on %v", a, tab.HeaderLine, tab.lines)
		}
	}
	for _, m := range tab.Missing {
		if c := fd.Col(m); c < 0 || fd.Columns[c].Optional {
			t.Fatalf("missing %q is not a required column", m)
		}
	}
}

// FuzzSplit compares the record splitter with encoding/csv on the inputs both accept
// (valid UTF-8 without '\r', which encoding/csv rewrites inside quotes): the same
// records, fields (trimmed) and starting lines. On any input the splitter must consume
// the text and number its records with strictly increasing lines.
func FuzzSplit(f *testing.F) {
	f.Add("a,b\n\"c\nd\",e\n\n\"f\"\"g\",h")
	f.Add("a,\"b\n")
	f.Add("x\"y,\"z\"w\n")
	f.Add("2026-11-19,TY,,-1,\"a\"\"b\",x,,,,,,,,,,\n,-,-,-,-,-,-,-,-\n2026-11-19,,,,,,,,,,,,,,,,,y")
	f.Fuzz(func(t *testing.T, s string) {
		type rec struct {
			line   int
			fields []string
		}
		var ours []rec
		p := newSplitter(s, 1<<30)
		prev := 0
		for p.next() {
			if p.start <= prev || p.n != len(p.fields) || p.n == 0 {
				t.Fatalf("record on line %d after %d, %d fields kept of %d", p.start, prev, len(p.fields), p.n)
			}
			prev = p.start
			if p.raw != "" {
				ours = append(ours, rec{p.start, slices.Clone(p.fields)})
			}
		}
		if p.pos < len(s) {
			t.Fatalf("stopped at %d of %d", p.pos, len(s))
		}
		if !utf8.ValidString(s) || strings.Contains(s, "\r") {
			return
		}
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = -1
		var theirs []rec
		for {
			fields, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // not RFC 4180: the splitter is lenient there by design
			}
			line, _ := r.FieldPos(0)
			for i := range fields {
				fields[i] = strings.TrimSpace(fields[i])
			}
			theirs = append(theirs, rec{line, fields})
		}
		if len(ours) != len(theirs) {
			t.Fatalf("%d records, encoding/csv %d:\n%v\n%v", len(ours), len(theirs), ours, theirs)
		}
		for i := range ours {
			if ours[i].line != theirs[i].line || !slices.Equal(ours[i].fields, theirs[i].fields) {
				t.Fatalf("record %d: %d %q, encoding/csv %d %q", i, ours[i].line, ours[i].fields, theirs[i].line, theirs[i].fields)
			}
		}
	})
}

// FuzzDecode checks the fast GB18030 decoder against x/text's on any bytes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("合计,2\r\n"))
	f.Add([]byte("\x84\x31\x95\x33a\x81\x30\x81\x30,\xff\x80\x81"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			t.Skip(err)
		}
		if got := decodeGB18030(data); got != string(want) {
			t.Fatalf("decodeGB18030(%q) = %q, want %q", data, got, want)
		}
	})
}
