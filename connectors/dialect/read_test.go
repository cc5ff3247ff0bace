package dialect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"settle/feed"
)

// row is a data row as the tests compare it: its line, its cells joined by '|' in the
// feed's column order, and its raw text.
type row struct {
	Line  int
	Cells string
	Raw   string
}

// result is everything Read returns, in a comparable form.
type result struct {
	Header  int
	Missing []string
	Near    int    // the line Missing is about, when there is no header
	Wrong   string // Table.WrongFeed
	Footer  *Footer
	Rows    []row
	// Sources is each row's Table.Source, only when the input has several parts.
	Sources []string
	// Repeated is each repeated header or title as "source:line raw".
	Repeated []string
}

func dump(t *Table) result {
	r := result{Header: t.HeaderLine, Missing: t.Missing, Near: t.Near, Wrong: t.WrongFeed, Footer: t.Footer}
	for i := 0; i < t.Len(); i++ {
		cells := make([]string, t.ncol)
		for c := range cells {
			cells[c] = t.Cell(i, c)
		}
		r.Rows = append(r.Rows, row{t.Line(i), strings.Join(cells, "|"), t.Raw(i)})
		if t.parts != nil {
			r.Sources = append(r.Sources, t.Source(i))
		}
	}
	for _, a := range t.Repeated {
		r.Repeated = append(r.Repeated, fmt.Sprintf("%s:%d %s", t.PartSource(a.Part), a.Line, a.Raw))
	}
	return r
}

func (r result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "header %d missing %q near %d wrong %q\n", r.Header, r.Missing, r.Near, r.Wrong)
	if r.Footer != nil {
		fmt.Fprintf(&b, "footer %+v\n", *r.Footer)
	}
	for _, x := range r.Rows {
		fmt.Fprintf(&b, "%d %q raw %q\n", x.Line, x.Cells, x.Raw)
	}
	fmt.Fprintf(&b, "sources %q\nrepeated %q\n", r.Sources, r.Repeated)
	return b.String()
}

const lpHeader = "biz_date,city,outlet_id,counter_id,txn_id,txn_time,msisdn,account_id,amount,pay_method"
const lpHeaderZh = "账务日期,地市,营业厅编码,工号,流水号,受理时间,手机号码,账户编码,金额,支付方式"

// lpRow is a canonical local_payment row with the given txn_id and amount.
func lpRow(txn, amount string) string {
	return "2026-11-19,TY,TY0009,TY0009-01," + txn + ",2026-11-19 09:00:00,139,A1," + amount + ",CASH"
}

// lpCells is lpRow's cells as dump joins them.
func lpCells(txn, amount string) string {
	return strings.ReplaceAll(lpRow(txn, amount), ",", "|")
}

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadCSV(t *testing.T) {
	allRequired := []string{"biz_date", "city", "outlet_id", "counter_id", "txn_id", "txn_time", "msisdn", "account_id", "amount", "pay_method"}
	tests := []struct {
		name  string
		feed  feed.ID
		order bool // feed is Order (0), not the default local_payment
		in    string
		want  result
	}{{
		name: "canonical",
		in:   lpHeader + "\n" + lpRow("T1", "1200.00") + "\n" + lpRow("T2", "35.50") + "\n",
		want: result{Header: 1, Rows: []row{
			{2, lpCells("T1", "1200.00"), lpRow("T1", "1200.00")},
			{3, lpCells("T2", "35.50"), lpRow("T2", "35.50")},
		}},
	}, {
		name: "BOM, CRLF, no final line end",
		in:   "\ufeff" + lpHeader + "\r\n" + lpRow("T1", "1.00") + "\r\n" + lpRow("T2", "2.00"),
		want: result{Header: 1, Rows: []row{
			{2, lpCells("T1", "1.00"), lpRow("T1", "1.00")},
			{3, lpCells("T2", "2.00"), lpRow("T2", "2.00")},
		}},
	}, {
		name: "no final line end after a quoted field",
		in:   lpHeader + "\n" + strings.Replace(lpRow("T1", "1.00"), "1.00", `"1,000.00"`, 1),
		want: result{Header: 1, Rows: []row{
			{2, "2026-11-19|TY|TY0009|TY0009-01|T1|2026-11-19 09:00:00|139|A1|1,000.00|CASH", strings.Replace(lpRow("T1", "1.00"), "1.00", `"1,000.00"`, 1)},
		}},
	}, {
		name: "title lines, blank lines, Chinese header and values",
		in: "太原分公司 本地缴费日报 2026-11-19\n\n,,\n  \n" + lpHeaderZh + "\n" +
			"2026/11/19,TY,TY0009,TY0009-01,T1,2026/11/19 09:00:00,139,A1,\"1,200.00\",现金\n" +
			" , ,\t,\n" +
			"2026/11/19,TY,TY0009,TY0009-01,T2,2026/11/19 09:30:00,139,A1,35.50,微信\n",
		want: result{Header: 5, Rows: []row{
			{6, "2026/11/19|TY|TY0009|TY0009-01|T1|2026/11/19 09:00:00|139|A1|1,200.00|现金",
				"2026/11/19,TY,TY0009,TY0009-01,T1,2026/11/19 09:00:00,139,A1,\"1,200.00\",现金"},
			{8, "2026/11/19|TY|TY0009|TY0009-01|T2|2026/11/19 09:30:00|139|A1|35.50|微信",
				"2026/11/19,TY,TY0009,TY0009-01,T2,2026/11/19 09:30:00,139,A1,35.50,微信"},
		}},
	}, {
		name: "a title line of three column names is not the header",
		in:   "金额,支付方式,地市\n" + lpHeader + "\n" + lpRow("T1", "1.00") + "\n",
		want: result{Header: 2, Rows: []row{{3, lpCells("T1", "1.00"), lpRow("T1", "1.00")}}},
	}, {
		// FEEDS.md (2026-12): an unknown cell is an extra column; the next line repeats the
		// header (without the extra cell) and is set aside.
		name: "an unknown cell in the header is an extra column",
		in:   "备注," + lpHeader + "\n" + lpHeader + "\n" + "x," + lpRow("T1", "1.00") + "\n",
		want: result{Header: 1, Rows: []row{{3, lpCells("T1", "1.00"), "x," + lpRow("T1", "1.00")}},
			Repeated: []string{"x.csv:2 " + lpHeader}},
	}, {
		name: "columns in another order, mixed languages, other feeds' columns, a repeated column",
		in: "pay_method,金额,service_code,biz_date,地市,outlet_id,工号,txn_id,amount,txn_time,msisdn,account_id\n" +
			"CASH,10.00,OPEN,2026-11-19,TY,TY0009,TY0009-01,T1,99.00,2026-11-19 09:00:00,139,A1\n",
		want: result{Header: 1, Rows: []row{{2,
			"2026-11-19|TY|TY0009|TY0009-01|T1|2026-11-19 09:00:00|139|A1|10.00|CASH",
			"CASH,10.00,OPEN,2026-11-19,TY,TY0009,TY0009-01,T1,99.00,2026-11-19 09:00:00,139,A1"}}},
	}, {
		name: "missing required columns, short and long rows",
		in: "biz_date,city,outlet_id,counter_id,txn_id,txn_time,amount,pay_method\n" +
			"2026-11-19,TY\n" +
			"2026-11-19,TY,O,C,T1,x,1.00,CASH,extra,,\n",
		// No line holds every required column: no header, every line set aside.
		want: result{Missing: []string{"msisdn", "account_id"}, Near: 1, Rows: []row{
			{1, "|||||||||", "biz_date,city,outlet_id,counter_id,txn_id,txn_time,amount,pay_method"},
			{2, "|||||||||", "2026-11-19,TY"},
			{3, "|||||||||", "2026-11-19,TY,O,C,T1,x,1.00,CASH,extra,,"},
		}},
	}, {
		name: "quoted commas, line ends and escaped quotes keep physical line numbers",
		in: lpHeader + "\r\n" +
			"2026-11-19,TY,TY0009,TY0009-01,\"T\r\n1\",\"a,b\",\"say \"\"hi\"\"\",A1,\"1,200.00\",CASH\r\n" +
			lpRow("T2", "2.00") + "\r\n" +
			"2026-11-19,TY,TY0009,TY0009-01,T3,\"\n\n\",139,A1,3.00,CASH\n" +
			lpRow("T4", "4.00") + "\n",
		want: result{Header: 1, Rows: []row{
			{2, "2026-11-19|TY|TY0009|TY0009-01|T\r\n1|a,b|say \"hi\"|A1|1,200.00|CASH",
				"2026-11-19,TY,TY0009,TY0009-01,\"T\r\n1\",\"a,b\",\"say \"\"hi\"\"\",A1,\"1,200.00\",CASH"},
			{4, lpCells("T2", "2.00"), lpRow("T2", "2.00")},
			{5, "2026-11-19|TY|TY0009|TY0009-01|T3||139|A1|3.00|CASH",
				"2026-11-19,TY,TY0009,TY0009-01,T3,\"\n\n\",139,A1,3.00,CASH"},
			{8, lpCells("T4", "4.00"), lpRow("T4", "4.00")},
		}},
	}, {
		name: "quotes inside an unquoted field and text after a closing quote are literal",
		in: lpHeader + "\n" +
			"2026-11-19,TY,TY0009,TY0009-01,T\"1,\"ab\"cd\"e,\"x\" ,A1,1.00,CASH\n",
		want: result{Header: 1, Rows: []row{{2,
			"2026-11-19|TY|TY0009|TY0009-01|T\"1|abcd\"e|x|A1|1.00|CASH",
			"2026-11-19,TY,TY0009,TY0009-01,T\"1,\"ab\"cd\"e,\"x\" ,A1,1.00,CASH"}}},
	}, {
		name: "an unterminated quote is its first line alone, quotes literal",
		in: lpHeader + "\n" +
			lpRow("T1", "1.00") + "\n" +
			"2026-11-19,TY,TY0009,TY0009-01,\"T2,x,139,A1,2.00,CASH\n" +
			lpRow("T3", "3.00") + "\n" +
			"合计,3,,,,,,,6.00,\n",
		want: result{Header: 1,
			Footer: &Footer{Line: 5, Count: "3", Amount: "6.00", Raw: "合计,3,,,,,,,6.00,"},
			Rows: []row{
				{2, lpCells("T1", "1.00"), lpRow("T1", "1.00")},
				{3, "2026-11-19|TY|TY0009|TY0009-01|\"T2|x|139|A1|2.00|CASH", "2026-11-19,TY,TY0009,TY0009-01,\"T2,x,139,A1,2.00,CASH"},
				{4, lpCells("T3", "3.00"), lpRow("T3", "3.00")},
			}},
	}, {
		name: "white space is trimmed, full-width space too",
		in: lpHeader + "\n" +
			"\u30002026-11-19 , TY\t,TY0009,TY0009-01,\" T1 \",x,139,A1,\u00a01.00\u3000,CASH \r\n",
		want: result{Header: 1, Rows: []row{{2,
			"2026-11-19|TY|TY0009|TY0009-01|T1|x|139|A1|1.00|CASH",
			"\u30002026-11-19 , TY\t,TY0009,TY0009-01,\" T1 \",x,139,A1,\u00a01.00\u3000,CASH "}}},
	}, {
		name: "canonical TOTAL footer",
		in:   lpHeader + "\n" + lpRow("T1", "1.00") + "\nTOTAL,1,,,,,,,1.00,\n",
		want: result{Header: 1,
			Footer: &Footer{Line: 3, Count: "1", Amount: "1.00", Raw: "TOTAL,1,,,,,,,1.00,"},
			Rows:   []row{{2, lpCells("T1", "1.00"), lpRow("T1", "1.00")}}},
	}, {
		name: "the last 合计 line is the footer, an earlier one and lines after it are data",
		in: lpHeaderZh + "\n" + "合计,9\n" + lpRow("T1", "1.00") + "\n" +
			" 合计 ,\"1\",,,,,,,\" 1.00 \"\n\n" + lpRow("T2", "2.00") + "\n,,\n",
		want: result{Header: 1,
			Footer: &Footer{Line: 4, Count: "1", Amount: "1.00", Raw: " 合计 ,\"1\",,,,,,,\" 1.00 \""},
			Rows: []row{
				{2, "合计|9||||||||", "合计,9"},
				{3, lpCells("T1", "1.00"), lpRow("T1", "1.00")},
				{6, lpCells("T2", "2.00"), lpRow("T2", "2.00")},
			}},
	}, {
		name: "footer without an amount cell",
		in:   lpHeader + "\n合计\n",
		want: result{Header: 1, Footer: &Footer{Line: 2, Raw: "合计"}},
	}, {
		name: "a header with 2,000 trailing empty cells, a footer and no amount column",
		in: strings.Replace(lpHeader, ",amount", "", 1) + strings.Repeat(",", 2000) + "\n" +
			lpRow("T1", "x") + "\n合计,1,,,,,,,1.00\n",
		// FEEDS.md: the header holds every required column; a line without amount is none,
		// so every line is set aside; Missing says what the nearest line lacked.
		want: result{Missing: []string{"amount"}, Near: 1, Rows: []row{
			{1, "|||||||||", strings.Replace(lpHeader, ",amount", "", 1) + strings.Repeat(",", 2000)},
			{2, "|||||||||", lpRow("T1", "x")},
			{3, "|||||||||", "合计,1,,,,,,,1.00"}}},
	}, {
		name: "a line wider than the header limit is not the header",
		in:   lpHeader + strings.Repeat(",amount", 1100) + "\n" + lpRow("T1", "1.00") + "\n",
		want: result{Missing: allRequired, Rows: []row{
			{1, "|||||||||", lpHeader + strings.Repeat(",amount", 1100)},
			{2, "|||||||||", lpRow("T1", "1.00")},
		}},
	}, {
		name: "header only",
		in:   lpHeader,
		want: result{Header: 1},
	}, {
		name: "empty input",
		in:   "",
		want: result{Missing: allRequired},
	}, {
		name: "no header: every non-blank line is a data row with empty cells",
		in:   "太原分公司 本地缴费日报\n\n" + "biz_date,city,outlet,counter,txn_id\n" + lpRow("T1", "1.00") + "\n合计,1\n",
		want: result{Missing: allRequired, Rows: []row{
			{1, "|||||||||", "太原分公司 本地缴费日报"},
			{3, "|||||||||", "biz_date,city,outlet,counter,txn_id"},
			{4, "|||||||||", lpRow("T1", "1.00")},
			{5, "|||||||||", "合计,1"},
		}},
	}, {
		name: "optional columns are never missing",
		feed: feed.Reversal,
		in:   "账务日期,地市,营业厅编码,工号,流水号,受理时间,原流水号,原账务日期,原业务类型,冲退类型,金额,支付方式\n",
		want: result{Header: 1},
	}, {
		// local_payment has columns deposit lacks: its report under deposit's name.
		name: "a deposit input holding local_payment's header is local_payment's report",
		feed: feed.Deposit,
		in:   "title\n" + lpHeader + "\n" + lpRow("T1", "1.00") + "\n",
		want: result{Header: 2, Wrong: "local_payment", Rows: []row{
			{1, "||||||", "title"}, {2, "||||||", lpHeader}, {3, "||||||", lpRow("T1", "1.00")}}},
	}, {
		name: "a deposit input holding order's header is order's report",
		feed: feed.Deposit,
		in:   "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method\n",
		want: result{Header: 1, Wrong: "order", Rows: []row{
			{1, "||||||", "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method"}}},
	}, {
		// The header holds every column of deposit, slip_no included, and deposit has a
		// column order lacks (slip_no): by FEEDS.md's rule it is deposit's report.
		name:  "an order input whose header also holds deposit's slip_no is deposit's report",
		order: true,
		in:    "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method,slip_no\n",
		want: result{Header: 1, Wrong: "deposit", Rows: []row{
			{1, "||||||||||", "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method,slip_no"}}},
	}, {
		// Deposit's required columns are in every revenue feed's header; without slip_no
		// the header does not hold all of deposit's columns: an order report.
		name:  "an order input holding deposit's required columns is fine",
		order: true,
		in:    "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method\n",
		want:  result{Header: 1},
	}, {
		name: "a deposit input with slip_no and an unknown column",
		feed: feed.Deposit,
		in:   "biz_date,备注,city,outlet_id,counter_id,pay_method,amount,slip_no\n2026-11-19,note,TY,TY0009,TY0009-01,CASH,1.00,S1\n",
		want: result{Header: 1, Rows: []row{{2, "2026-11-19|TY|TY0009|TY0009-01|CASH|1.00|S1", "2026-11-19,note,TY,TY0009,TY0009-01,CASH,1.00,S1"}}},
	}, {
		name: "extra columns, known and unknown, in the header are ignored; columns in any order",
		in: "amount,extra,pay_method,biz_date,city,outlet_id,counter_id,txn_id,txn_time,msisdn,account_id,order_id\n" +
			"1.00,x,CASH,2026-11-19,TY,TY0009,TY0009-01,T1,2026-11-19 09:00:00,139,A1,O1\n",
		want: result{Header: 1, Rows: []row{{2, "2026-11-19|TY|TY0009|TY0009-01|T1|2026-11-19 09:00:00|139|A1|1.00|CASH",
			"1.00,x,CASH,2026-11-19,TY,TY0009,TY0009-01,T1,2026-11-19 09:00:00,139,A1,O1"}}},
	}, {
		name: "a header and a title repeated at page breaks are set aside, not counted by the footer",
		in: "太原分公司 本地缴费日报 2026-11-19,,\n" + lpHeaderZh + "\n" + lpRow("T1", "1.00") + "\n" +
			"太原分公司 本地缴费日报 2026-11-19\n" + lpHeaderZh + "\n" + lpRow("T2", "2.00") + "\n" +
			lpHeader + "\n" + // the English names: still the header
			"账务日期,地市,营业厅编码,工号,流水号,受理时间,手机号码,账户编码,支付方式,金额\n" + // another order
			"太原分公司 本地缴费日报 第2页\n" + // not a title seen above: a data row
			"合计,3,,,,,,,3.00\n",
		want: result{Header: 2,
			Footer: &Footer{Line: 10, Count: "3", Amount: "3.00", Raw: "合计,3,,,,,,,3.00"},
			Rows: []row{
				{3, "2026-11-19|TY|TY0009|TY0009-01|T1|2026-11-19 09:00:00|139|A1|1.00|CASH", lpRow("T1", "1.00")},
				{6, "2026-11-19|TY|TY0009|TY0009-01|T2|2026-11-19 09:00:00|139|A1|2.00|CASH", lpRow("T2", "2.00")},
				{9, "太原分公司 本地缴费日报 第2页|||||||||", "太原分公司 本地缴费日报 第2页"}},
			Repeated: []string{
				"x.csv:4 太原分公司 本地缴费日报 2026-11-19",
				"x.csv:5 " + lpHeaderZh,
				"x.csv:7 " + lpHeader,
				"x.csv:8 账务日期,地市,营业厅编码,工号,流水号,受理时间,手机号码,账户编码,支付方式,金额"}},
	}, {
		name: "a line naming some columns after the header is data",
		in:   lpHeader + "\n" + "biz_date,city,outlet_id,counter_id\n",
		want: result{Header: 1, Rows: []row{{2, "biz_date|city|outlet_id|counter_id||||||", "biz_date,city,outlet_id,counter_id"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := feed.Get(tt.feed)
			if tt.feed == 0 && !tt.order {
				f = feed.Get(feed.LocalPayment)
			}
			tab, err := Read("x.csv", []byte(tt.in), false, f)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Name != "x.csv" {
				t.Errorf("Name = %q", tab.Name)
			}
			if got := dump(tab); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// TestReadExamples reads the two example files of FEEDS.md: the same rows in both dialects.
func TestReadExamples(t *testing.T) {
	f := feed.Get(feed.LocalPayment)
	tests := []struct {
		file string
		want result
	}{{
		file: "local_payment.csv",
		want: result{Header: 1, Rows: []row{
			{2, "2026-11-19|TY|TY0009|TY0009-01|T9001|2026-11-19 09:00:00|13900009001|A990009001|1200.00|CASH",
				"2026-11-19,TY,TY0009,TY0009-01,T9001,2026-11-19 09:00:00,13900009001,A990009001,1200.00,CASH"},
			{3, "2026-11-19|TY|TY0009|TY0009-01|T9002|2026-11-19 09:30:00|13900009002|A990009002|35.50|WECHAT",
				"2026-11-19,TY,TY0009,TY0009-01,T9002,2026-11-19 09:30:00,13900009002,A990009002,35.50,WECHAT"},
		}},
	}, {
		file: "太原_TY0009-01_本地缴费日报.csv", // GBK, CRLF, title line, 合计 footer
		want: result{Header: 2,
			Footer: &Footer{Line: 5, Count: "2", Amount: "1235.50", Raw: "合计,2,,,,,,,1235.50,"},
			Rows: []row{
				{3, "2026/11/19|TY|TY0009|TY0009-01|T9001|2026/11/19 09:00:00|13900009001|A990009001|1,200.00|现金",
					"2026/11/19,TY,TY0009,TY0009-01,T9001,2026/11/19 09:00:00,13900009001,A990009001,\"1,200.00\",现金"},
				{4, "2026/11/19|TY|TY0009|TY0009-01|T9002|2026/11/19 09:30:00|13900009002|A990009002|35.50|微信",
					"2026/11/19,TY,TY0009,TY0009-01,T9002,2026/11/19 09:30:00,13900009002,A990009002,35.50,微信"},
			}},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tab, err := Read(tt.file, data, false, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(tab); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestReadEncodings(t *testing.T) {
	f := feed.Get(feed.LocalPayment)
	text := "太原分公司 本地缴费日报\r\n" + lpHeaderZh + "\r\n" +
		"2026/11/19,TY,TY0009,TY0009-01,T1,x,139,A1,1.00,现金\r\n"
	want := result{Header: 2, Rows: []row{{3,
		"2026/11/19|TY|TY0009|TY0009-01|T1|x|139|A1|1.00|现金",
		"2026/11/19,TY,TY0009,TY0009-01,T1,x,139,A1,1.00,现金"}}}
	tests := []struct {
		name string
		data []byte
	}{
		{"UTF-8", []byte(text)},
		{"UTF-8 BOM", append([]byte("\xef\xbb\xbf"), text...)},
		{"GBK", gbk(t, text)},
		{"GB18030 BOM", gbk(t, "\ufeff"+text)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := Read("x", tt.data, false, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(tab); !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%v\nwant\n%v", got, want)
			}
		})
	}
	// Bytes that are neither UTF-8 nor GB18030 become U+FFFD; nothing is lost or fatal.
	tab, err := Read("x", []byte(lpHeader+"\n\xff,TY\n"), false, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(tab); !reflect.DeepEqual(got.Rows, []row{{2, "\ufffd|TY||||||||", "\ufffd,TY"}}) {
		t.Errorf("got\n%v", got)
	}
}

// TestReadLongFields: a 200 KB field and a record over 4 MiB are read like any other.
func TestReadLongFields(t *testing.T) {
	f := feed.Get(feed.LocalPayment)
	long := strings.Repeat("x", 200<<10)
	huge := strings.Repeat("y\n", 3<<20) // 6 MiB, 3 Mi line ends inside quotes
	in := lpHeader + "\n" +
		lpRow(long, "1.00") + "\n" +
		lpRow(`"`+long+`"`, "2.00") + "\n" +
		lpRow(`"a""`+huge+`"`, "3.00") + "\n" +
		lpRow("T4", "4.00") + "\n"
	tab, err := Read("x", []byte(in), false, f)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 4 {
		t.Fatalf("Len = %d, want 4", tab.Len())
	}
	txn := f.Col("txn_id")
	wantLines := []int{2, 3, 4, 4 + 3<<20 + 1}
	wantTxn := []string{long, long, `a"` + strings.TrimSpace(huge), "T4"}
	for i := range 4 {
		if tab.Line(i) != wantLines[i] {
			t.Errorf("row %d: line %d, want %d", i, tab.Line(i), wantLines[i])
		}
		if tab.Cell(i, txn) != wantTxn[i] {
			t.Errorf("row %d: txn_id of %d bytes, want %d", i, len(tab.Cell(i, txn)), len(wantTxn[i]))
		}
		if got := tab.Cell(i, f.Col("amount")); got != fmt.Sprintf("%d.00", i+1) {
			t.Errorf("row %d: amount %q", i, got)
		}
	}
	if got, want := tab.Raw(2), lpRow(`"a""`+huge+`"`, "3.00"); got != want {
		t.Errorf("raw of the huge record: %d bytes, want %d", len(got), len(want))
	}
}

func TestReadNilFeed(t *testing.T) {
	if _, err := Read("x", nil, false, nil); err == nil {
		t.Fatal("no error for a nil feed")
	}
	var e *Error
	if _, err := Read("x", nil, false, nil); errors.As(err, &e) {
		t.Fatal("a nil feed is a programming error, not an *Error about the input")
	}
}

// TestRawLines: RawLines gives every row's raw text as Read does, whatever the input's
// encoding, line ends, quoting or format, and nothing for a line that starts no row.
func TestRawLines(t *testing.T) {
	f := feed.Get(feed.LocalPayment)
	multi := "2026-11-19,TY,TY0009,TY0009-01,T3,2026-11-19 09:00:00,\"13\n9\",\"A,1\",5.00,CASH"
	inputs := map[string][]byte{
		"plain":    []byte(lpHeader + "\n" + lpRow("T1", "1.00") + "\n" + lpRow("T2", "2.00") + "\n"),
		"crlf":     []byte(lpHeader + "\r\n" + lpRow("T1", "1.00") + "\r\n\r\n" + lpRow("T2", "\"1,200.00\"") + "\r\n"),
		"quoted":   []byte("title line\n" + lpHeader + "\n" + multi + "\n" + lpRow("T4", "4.00") + "\nTOTAL,2,,,,,,,9.00,\n"),
		"gbk":      gbk(t, "太原 本地缴费日报\n"+lpHeaderZh+"\n"+lpRow("T1", "1.00")+",现金\n"+lpRow("T2", "2.00")+"\n合计,2,,,,,,,3.00,\n"),
		"no final": []byte(lpHeader + "\n" + lpRow("T1", "1.00") + "\n" + lpRow("T2", "2.00")),
		"unterminated quote": []byte(lpHeader + "\n" + lpRow("T1", "1.00") + "\n" +
			"2026-11-19,TY,TY0009,TY0009-01,T2,\"2026-11-19 09:00:00,139,A1,2.00,CASH\n" + lpRow("T3", "3.00") + "\n"),
	}
	xrows := [][]any{{"biz_date", "city", "outlet_id", "counter_id", "txn_id", "txn_time", "msisdn", "account_id", "amount", "pay_method"},
		{"2026-11-19", "TY", "TY0009", "TY0009-01", "T1", "2026-11-19 09:00:00", "139", "A1", "1.00", "CASH"}}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) { checkRawLines(t, name, data, false, f) })
	}
	t.Run("xlsx", func(t *testing.T) { checkRawLines(t, "x.xlsx", xlsxBook(t, xrows), true, f) })
}

func checkRawLines(t *testing.T, name string, data []byte, xlsx bool, f *feed.Feed) {
	tab, err := Read(name, data, xlsx, f)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() == 0 {
		t.Fatal("no rows")
	}
	lines := []int{1000} // starts no row
	for i := 0; i < tab.Len(); i++ {
		lines = append(lines, tab.Line(i))
	}
	got, err := RawLines(name, data, xlsx, f, lines)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{}
	for i := 0; i < tab.Len(); i++ {
		want[tab.Line(i)] = tab.Raw(i)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RawLines = %v, want %v", got, want)
	}
}
