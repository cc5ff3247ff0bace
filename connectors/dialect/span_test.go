package dialect

import (
	"reflect"
	"strings"
	"testing"

	"settle/feed"
)

// TestReadSpans: a Table keeps each cell as a span of its row's raw text, or of the side
// text for a cell that is not a substring of it. Each case gives the rows as Cell and Raw
// must return them and the side text exactly: a span off by one, pointing into another
// row, or left behind when the footer is taken out would change a cell; a plain cell
// copied to the side text would change side.
func TestReadSpans(t *testing.T) {
	lp := feed.Get(feed.LocalPayment)
	tests := []struct {
		name string
		data []byte
		xlsx bool
		want []row
		side string
	}{{
		name: "quoted cells with escapes and a tail next to plain ones, the last without a line end",
		data: []byte(lpHeader + "\n" +
			`2026-11-19,TY,TY0009,TY0009-01,"T""1""",2026-11-19 09:00:00, 139 ,A1,"1,200.00",CASH` + "\n" +
			`2026-11-19,TY,TY0009,TY0009-01,T2,2026-11-19 09:00:00,"13""9" x ,A2,"2.00"z,"CA` + "\n" + `SH"` + "\r\n" +
			`2026-11-19,TY,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,"""CASH"""`),
		want: []row{
			{2, `2026-11-19|TY|TY0009|TY0009-01|T"1"|2026-11-19 09:00:00|139|A1|1,200.00|CASH`,
				`2026-11-19,TY,TY0009,TY0009-01,"T""1""",2026-11-19 09:00:00, 139 ,A1,"1,200.00",CASH`},
			{3, "2026-11-19|TY|TY0009|TY0009-01|T2|2026-11-19 09:00:00|13\"9 x|A2|2.00z|CA\nSH",
				`2026-11-19,TY,TY0009,TY0009-01,T2,2026-11-19 09:00:00,"13""9" x ,A2,"2.00"z,"CA` + "\n" + `SH"`},
			{5, `2026-11-19|TY|TY0009|TY0009-01|T3|2026-11-19 09:00:00|139|A3|3.00|"CASH"`,
				`2026-11-19,TY,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,"""CASH"""`},
		},
		side: `T"1"` + `13"9 x` + `2.00z` + `"CASH"`,
	}, {
		name: "a 合计 line amid the rows is taken out with its cells",
		data: []byte(lpHeader + "\n" +
			`2026-11-19,TY,TY0009,TY0009-01,"T""1",2026-11-19 09:00:00,139,A1,1.00,CASH` + "\n" +
			`合计,3,,,,,,,"6""00",` + "\n" +
			`2026-11-19,TY,TY0009,TY0009-01,"T""2",2026-11-19 09:00:00,139,A2,2.00,CASH` + "\n" +
			`2026-11-19,TY,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,POS` + "\n"),
		want: []row{
			{2, `2026-11-19|TY|TY0009|TY0009-01|T"1|2026-11-19 09:00:00|139|A1|1.00|CASH`,
				`2026-11-19,TY,TY0009,TY0009-01,"T""1",2026-11-19 09:00:00,139,A1,1.00,CASH`},
			{4, `2026-11-19|TY|TY0009|TY0009-01|T"2|2026-11-19 09:00:00|139|A2|2.00|CASH`,
				`2026-11-19,TY,TY0009,TY0009-01,"T""2",2026-11-19 09:00:00,139,A2,2.00,CASH`},
			{5, `2026-11-19|TY|TY0009|TY0009-01|T3|2026-11-19 09:00:00|139|A3|3.00|POS`,
				`2026-11-19,TY,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,POS`},
		},
		// The footer's own amount stays in the side text: nothing points at it.
		side: `T"1` + `6"00` + `T"2`,
	}, {
		name: "GBK with CRLF, Chinese cells and an escaped quote",
		data: gbk(t, "太原 本地缴费日报\r\n"+lpHeaderZh+"\r\n"+
			`2026-11-19,太原,TY0009,TY0009-01,T1,2026-11-19 09:00:00,139,A1,"1,000.00",现金`+"\r\n"+
			`2026-11-19,太原,TY0009,TY0009-01,T2,2026-11-19 09:00:00,139,A2,2.00,"微""信"`+"\r\n"+
			`2026-11-19,太原,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,支付宝`),
		want: []row{
			{3, `2026-11-19|太原|TY0009|TY0009-01|T1|2026-11-19 09:00:00|139|A1|1,000.00|现金`,
				`2026-11-19,太原,TY0009,TY0009-01,T1,2026-11-19 09:00:00,139,A1,"1,000.00",现金`},
			{4, `2026-11-19|太原|TY0009|TY0009-01|T2|2026-11-19 09:00:00|139|A2|2.00|微"信`,
				`2026-11-19,太原,TY0009,TY0009-01,T2,2026-11-19 09:00:00,139,A2,2.00,"微""信"`},
			{5, `2026-11-19|太原|TY0009|TY0009-01|T3|2026-11-19 09:00:00|139|A3|3.00|支付宝`,
				`2026-11-19,太原,TY0009,TY0009-01,T3,2026-11-19 09:00:00,139,A3,3.00,支付宝`},
		},
		side: `微"信`,
	}, {
		name: "XLSX: cells quoted in the raw text are spans of it unless they hold a quote",
		data: xlsxBook(t, [][]any{
			{"账务日期", "地市", "营业厅编码", "工号", "流水号", "受理时间", "手机号码", "账户编码", "金额", "支付方式"},
			{"2026/11/19", " TY ", "TY0009", "TY0009-01", `T"1"`, "2026/11/19 09:00:00", "a,b", "A1", 35.5, "微信"},
			{"2026/11/19", "TY", "TY0009", "TY0009-01", "T2", "2026/11/19 09:00:00", "x\ny", `"q"`, 1.0, " 现金 "},
		}),
		xlsx: true,
		want: []row{
			{2, `2026/11/19|TY|TY0009|TY0009-01|T"1"|2026/11/19 09:00:00|a,b|A1|35.5|微信`,
				`2026/11/19, TY ,TY0009,TY0009-01,"T""1""",2026/11/19 09:00:00,"a,b",A1,35.5,微信`},
			{3, "2026/11/19|TY|TY0009|TY0009-01|T2|2026/11/19 09:00:00|x\ny|\"q\"|1|现金",
				`2026/11/19,TY,TY0009,TY0009-01,T2,2026/11/19 09:00:00,"x` + "\n" + `y","""q""",1, 现金 `},
		},
		side: `T"1"` + `"q"`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := Read("in", tc.data, tc.xlsx, lp)
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(tab).Rows; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows\n%+v\nwant\n%+v", got, tc.want)
			}
			if tab.side != tc.side {
				t.Errorf("side text %q, want %q", tab.side, tc.side)
			}
			for c := range lp.Columns {
				n := 0
				for i := 0; i < tab.Len(); i++ {
					n += len(tab.Cell(i, c))
				}
				if got := tab.TextLen(c); got != n {
					t.Errorf("TextLen(%d) = %d, cells hold %d bytes", c, got, n)
				}
			}
		})
	}
}

// TestCommasIn checks the word-at-a-time comma test against a byte loop on every word of
// eight bytes drawn from ',' and its neighbours in value and in the borrow of the shorter
// has-zero test ('-' is ',' + 1: "2026-11-19,-5" would mark the '-').
func TestCommasIn(t *testing.T) {
	alphabet := []byte{',', '-', '+', 0xac, 0x00, 0xff, 'a'}
	w := make([]byte, 8)
	var walk func(k int)
	walk = func(k int) {
		if k == len(w) {
			var want uint64
			for i, c := range w {
				if c == ',' {
					want |= 0x80 << (8 * i)
				}
			}
			if got := commasIn(string(w)); got != want {
				t.Fatalf("commasIn(%q) = %#x, want %#x", w, got, want)
			}
			return
		}
		for _, c := range alphabet {
			w[k] = c
			walk(k + 1)
		}
	}
	walk(0)
}

// TestPlainSplit: a line without quotes is cut at every comma wherever it falls in the
// words plain reads, and in the bytes after the last whole word.
func TestPlainSplit(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for step := 1; step <= 9; step++ {
			b := []byte(strings.Repeat("-", n))
			for i := 0; i < n; i += step {
				b[i] = ','
			}
			line := string(b)
			p := newSplitter(line, 1<<20)
			if !p.next() {
				t.Fatalf("%q: no record", line)
			}
			if want := strings.Split(line, ","); !reflect.DeepEqual(p.fields, want) || p.n != len(want) || p.raw != line {
				t.Fatalf("%q: fields %q (%d), raw %q, want %q", line, p.fields, p.n, p.raw, want)
			}
		}
	}
}

// TestReadRepeatedTwice: the header repeated on two lines in a row, and again after rows of
// one date, is set aside every time (repeated remembers the last date cell found to be no
// column name, and only such a cell).
func TestReadRepeatedTwice(t *testing.T) {
	in := lpHeader + "\n" + lpRow("T1", "1.00") + "\n" + lpHeaderZh + "\n" + lpHeaderZh + "\n" + lpRow("T2", "2.00") + "\n" +
		strings.Replace(lpRow("T3", "3.00"), "2026-11-19,", ",", 1) + "\n" + lpHeader + "\n"
	tab, err := Read("in", []byte(in), false, feed.Get(feed.LocalPayment))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"in:3 " + lpHeaderZh, "in:4 " + lpHeaderZh, "in:7 " + lpHeader}
	if got := dump(tab).Repeated; !reflect.DeepEqual(got, want) || tab.Len() != 3 {
		t.Errorf("repeated %q, %d rows; want %q, 3 rows", got, tab.Len(), want)
	}
}

// TestReadTitleRepeated: a title is found again whatever its first byte, including a digit
// as a data row's, and a row that starts as a title does without being one stays data
// (mayBeTitle only skips lines that cannot be a title).
func TestReadTitleRepeated(t *testing.T) {
	titles := []string{"2026-11-19 太原 本地缴费日报", " 太原分公司,,", "TY 日报"}
	in := strings.Join(titles, "\n") + "\n" + lpHeader + "\n" + lpRow("T1", "1.00") + "\n" +
		"2026-11-19 太原 本地缴费日报,\n" + "\u3000太原分公司\n" + lpRow("T2", "2.00") + "\n" + "TY 日报 \n" +
		"2026-11-19 太原\n"
	tab, err := Read("in", []byte(in), false, feed.Get(feed.LocalPayment))
	if err != nil {
		t.Fatal(err)
	}
	r := dump(tab)
	want := []string{"in:6 2026-11-19 太原 本地缴费日报,", "in:7 \u3000太原分公司", "in:9 TY 日报 "}
	if !reflect.DeepEqual(r.Repeated, want) || len(r.Rows) != 3 || r.Rows[2].Line != 10 {
		t.Errorf("repeated %q, rows %+v; want %q and rows on 5, 8, 10", r.Repeated, r.Rows, want)
	}
}
