package dialect

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/feed"
)

// rawSheet is a sheet of a hand-built workbook: its name and its <sheetData> content.
type rawSheet struct {
	name string
	data string
}

// rawBook builds a minimal workbook by hand, so that tests control the stored text of
// every cell (<v>1.151378E4</v>): the sheets, shared strings, and cell styles whose number
// formats are formats[i] (a built-in id as "14" or a custom format code).
func rawBook(t testing.TB, sheets []rawSheet, sst []string, formats []string) []byte {
	t.Helper()
	var wb, rels strings.Builder
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	entries := []zipEntry{{name: "_rels/.rels", content: []byte(`<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)}}
	for i, s := range sheets {
		var name strings.Builder
		if err := xmlEscape(&name, s.name); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, name.String(), i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		entries = append(entries, zipEntry{name: fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1),
			content: []byte(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + s.data + `</sheetData></worksheet>`)})
	}
	wb.WriteString(`</sheets></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`)
	fmt.Fprintf(&rels, `<Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>`)
	rels.WriteString(`</Relationships>`)
	var st strings.Builder
	st.WriteString(`<styleSheet><numFmts>`)
	for i, f := range formats {
		if !allDigits(f) {
			var code strings.Builder
			xmlEscape(&code, f)
			fmt.Fprintf(&st, `<numFmt numFmtId="%d" formatCode="%s"/>`, 164+i, code.String())
		}
	}
	st.WriteString(`</numFmts><cellStyleXfs><xf numFmtId="14"/></cellStyleXfs><cellXfs><xf numFmtId="0"/>`)
	for i, f := range formats {
		id := fmt.Sprint(164 + i)
		if allDigits(f) {
			id = f
		}
		fmt.Fprintf(&st, `<xf numFmtId="%s"/>`, id)
	}
	st.WriteString(`</cellXfs></styleSheet>`)
	var ss strings.Builder
	ss.WriteString(`<sst>`)
	for _, s := range sst {
		ss.WriteString(`<si><t xml:space="preserve">`)
		xmlEscape(&ss, s)
		ss.WriteString(`</t></si>`)
	}
	ss.WriteString(`</sst>`)
	entries = append(entries,
		zipEntry{name: "xl/workbook.xml", content: []byte(wb.String())},
		zipEntry{name: "xl/_rels/workbook.xml.rels", content: []byte(rels.String())},
		zipEntry{name: "xl/styles.xml", content: []byte(st.String())},
		zipEntry{name: "xl/sharedStrings.xml", content: []byte(ss.String())})
	return zipOf(t, entries...)
}

func xmlEscape(sb *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	_, err := r.WriteString(sb, s)
	return err
}

// depRow is a sheet row of a deposit input: the four common cells as inline strings, then
// pay_method and the amount cell given as XML.
func depRow(r int, pay, amount string) string {
	return fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>2026-11-21</t></is></c><c r="B%d" t="inlineStr"><is><t>TY</t></is></c>`+
		`<c r="C%d" t="inlineStr"><is><t>O1</t></is></c><c r="D%d" t="inlineStr"><is><t>C1</t></is></c><c r="E%d" t="inlineStr"><is><t>%s</t></is></c>%s</row>`,
		r, r, r, r, r, r, pay, amount)
}

// depHeader is the deposit header row r, with shared strings 0-5.
func depHeader(r int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<row r="%d">`, r)
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&b, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+i, r, i)
	}
	b.WriteString(`</row>`)
	return b.String()
}

var depSST = []string{"账务日期", "地市", "营业厅编码", "工号", "支付方式", "金额", "合计", "说明", "封面"}

// TestReadXLSXNumbers: FEEDS.md — a numeric cell is read by the value it stores, never its
// display format; more than two decimals must stay visible for the money parser to reject.
func TestReadXLSXNumbers(t *testing.T) {
	formats := []string{"#,##0", "0.00", "0.0", "#,##0.00", "yyyy-mm-dd", "14", "22", `yyyy"年"m"月"d"日"`, "[Red]0.00", "@", "0.00E+00", "yyyy/m/d h:mm:ss"}
	style := func(f string) int {
		for i, x := range formats {
			if x == f {
				return i + 1
			}
		}
		t.Fatalf("no style %q", f)
		return 0
	}
	tests := []struct {
		format string // "" for General (style 0)
		v      string // stored text of <v>
		typ    string
		want   string
	}{
		{"#,##0", "11513.78", "", "11513.78"},
		{"0.00", "11513.78", "", "11513.78"},
		{"0.0", "11513.78", "", "11513.78"},
		{"#,##0.00", "1.151378E4", "", "11513.78"},
		{"#,##0.00", "28.913", "", "28.913"},
		{"0.00", "28.912999999999997", "", "28.913"}, // a double's noise, 15 significant digits
		{"0.00", "28.929999999999996", "", "28.93"},
		{"0.00", "0.30000000000000004", "", "0.3"},
		{"0.00", "99.999999999999999", "", "100"},
		{"", "1200", "", "1200"},
		{"", "1200.50", "", "1200.5"},
		{"", "3.0", "", "3"}, // a whole count
		{"", "3.5", "", "3.5"},
		{"", "-5", "n", "-5"},
		{"", "-0", "", "0"},
		{"", "0.000", "", "0"},
		{"", "1E-7", "", "0.0000001"},
		{"", "1.5e+20", "", "150000000000000000000"},
		{"", "13900009001", "", "13900009001"},
		{"", "123456789012345678", "", "123456789012345678"}, // an integer: as stored, never rounded
		{"", "202611210000000001", "", "202611210000000001"}, // an id stored as a number
		{"", "898600123456789012.0", "", "898600123456789012"},
		{"", "2.0261121E17", "", "202611210000000000"}, // an integer in exponent form: exact
		{"", "2.02611210000000001E17", "", "202611210000000001"},
		{"", "1234567890123456.5", "", "1234567890123456.5"}, // integer digits are never rounded
		{"", "-898600123456789012", "", "-898600123456789012"},
		{"", "NaN", "", "NaN"}, // not a decimal: kept for the parser to reject
		{"", "1e999", "", "1e999"},
		{"", "12abc", "", "12abc"},
		{"", "", "", ""},
		{"0.00E+00", "11513.78", "", "11513.78"},
		{"[Red]0.00", "11513.78", "", "11513.78"},
		{"@", "11513.78", "", "11513.78"},
		{"yyyy-mm-dd", "46347", "", "2026-11-21"},
		{"14", "46347", "", "2026-11-21"},
		{"22", "46347.395833333336", "", "2026-11-21 09:30:00"},
		{"yyyy/m/d h:mm:ss", "46347.5", "", "2026-11-21 12:00:00"},
		{"22", "46347", "", "2026-11-21 00:00:00"}, // a format with a time keeps midnight
		// Read by the stored value, not the display format: a time of day under a date-only
		// format is kept, to the nearest second; a double's noise is no time of day.
		{"14", "46347.395833333336", "", "2026-11-21 09:30:00"},
		{"yyyy-mm-dd", "46347.5", "", "2026-11-21 12:00:00"},
		{`yyyy"年"m"月"d"日"`, "46347.99998842592", "", "2026-11-21 23:59:59"},
		{"14", "46347.00000000001", "", "2026-11-21"},
		{"14", "46347.99999999999", "", "2026-11-22"},
		{"14", "46347.000005787", "", "2026-11-21"}, // 0.49999 s: no second
		{"14", "46347.0000115741", "", "2026-11-21 00:00:01"},
		{`yyyy"年"m"月"d"日"`, "46347", "", "2026-11-21"},
		{"yyyy-mm-dd", "60", "", "60"}, // Excel's 29 February 1900 is no date
		{"yyyy-mm-dd", "59", "", "1900-02-28"},
		{"yyyy-mm-dd", "-1", "", "-1"},
		{"", "2026-11-21T00:00:00", "d", "2026-11-21"},
		{"", "2026-11-21T09:30:00", "d", "2026-11-21 09:30:00"},
		{"", "1", "b", "TRUE"},
		{"", "#N/A", "e", "#N/A"},
		{"0.00", "11513.78", "str", "11513.78"},
		{"0.00", "a_x002C_b", "str", "a,b"},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.v+" "+tt.typ, func(t *testing.T) {
			s := 0
			if tt.format != "" {
				s = style(tt.format)
			}
			typ := ""
			if tt.typ != "" {
				typ = fmt.Sprintf(` t="%s"`, tt.typ)
			}
			cell := fmt.Sprintf(`<c r="F2" s="%d"%s><v>%s</v></c>`, s, typ, tt.v)
			data := rawBook(t, []rawSheet{{"解款日报", depHeader(1) + depRow(2, "CASH", cell)}}, depSST, formats)
			tab, err := Read("d.xlsx", data, true, feed.Get(feed.Deposit))
			if err != nil {
				t.Fatal(err)
			}
			if tab.Len() != 1 {
				t.Fatalf("%d rows: %v", tab.Len(), dump(tab))
			}
			if got := tab.Cell(0, feed.Get(feed.Deposit).Col("amount")); got != tt.want {
				t.Errorf("cell = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecimalText: the canonical text of a stored number. An integer (however written) is
// exact, whatever its length: ids and card serials are stored as numbers. Only the digits
// of a fraction beyond 15 significant digits are a double's noise, rounded away.
func TestDecimalText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"202611210000000001", "202611210000000001"},
		{"202611210000000002", "202611210000000002"},
		{"898600123456789012", "898600123456789012"},
		{"99999999999999999999", "99999999999999999999"},
		{"+0012", "12"},
		{"-0", "0"},
		{"3.000", "3"},
		{"2.0261121E17", "202611210000000000"},
		{"2.02611210000000001E17", "202611210000000001"},
		{"1.5e+20", "150000000000000000000"},
		{"8986001234567890120E-1", "898600123456789012"},
		{"1.151378E4", "11513.78"},
		{"1151378E-2", "11513.78"},
		{"28.929999999999996", "28.93"},
		{"28.912999999999997", "28.913"},
		{"0.30000000000000004", "0.3"},
		{"99.999999999999999", "100"},
		{"-28.929999999999996", "-28.93"},
		{"1E-7", "0.0000001"},
		{"12345678901234.567", "12345678901234.6"},       // 14 integer digits: 15 significant
		{"123456789012345.67", "123456789012345.67"},     // 15 integer digits: nothing rounded
		{"202611210000000001.5", "202611210000000001.5"}, // the integer digits stay
		{"NaN", "NaN"},
		{"1e999", "1e999"},
		{"12abc", "12abc"},
	} {
		if got := decimalText(tt.in); got != tt.want {
			t.Errorf("decimalText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReadXLSXLongIntegers: ids stored as numbers (excelize writes an int64 as its digits)
// are read exactly; rounded, two txn_ids became one and a row was dropped as a duplicate.
func TestReadXLSXLongIntegers(t *testing.T) {
	fd := feed.Get(feed.CardSale)
	x := excelize.NewFile()
	defer x.Close()
	hdr := []any{"biz_date", "city", "outlet_id", "counter_id", "txn_id", "txn_time", "face_value", "serial_from", "serial_to", "quantity", "amount", "pay_method"}
	x.SetSheetRow("Sheet1", "A1", &hdr)
	rows := [][]any{
		{"2026-11-21", "TY", "O1", "C1", int64(202611210000000001), "2026-11-21 09:00:00", 50, int64(898600123456789012), int64(898600123456789021), 10, 500, "CASH"},
		{"2026-11-21", "TY", "O1", "C1", int64(202611210000000002), "2026-11-21 09:00:00", 50, int64(898600123456789022), int64(898600123456789031), 10, 500, "CASH"},
	}
	for i, r := range rows {
		x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &r)
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Read("card_sale.xlsx", buf.Bytes(), true, fd)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"202611210000000001", "898600123456789012", "898600123456789021"},
		{"202611210000000002", "898600123456789022", "898600123456789031"},
	}
	if tab.Len() != len(want) {
		t.Fatalf("%d rows: %v", tab.Len(), dump(tab))
	}
	for i, w := range want {
		got := [3]string{tab.Cell(i, fd.Col("txn_id")), tab.Cell(i, fd.Col("serial_from")), tab.Cell(i, fd.Col("serial_to"))}
		if got != w {
			t.Errorf("row %d: txn_id, serial_from, serial_to = %q, want %q", i, got, w)
		}
	}
}

// TestReadXLSXTimeUnderDateFormat: a txn_time stored with its time of day but shown by a
// date-only format (built-in 14) is read with its time: shown as a date, it was a
// malformed row.
func TestReadXLSXTimeUnderDateFormat(t *testing.T) {
	fd := feed.Get(feed.LocalPayment)
	x := excelize.NewFile()
	defer x.Close()
	hdr := []any{"biz_date", "city", "outlet_id", "counter_id", "txn_id", "txn_time", "msisdn", "account_id", "amount", "pay_method"}
	x.SetSheetRow("Sheet1", "A1", &hdr)
	row := []any{46347.0, "TY", "O1", "C1", "T1", 46347.395833333336, "13800000000", "A1", 12.5, "CASH"}
	x.SetSheetRow("Sheet1", "A2", &row)
	st, err := x.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	x.SetCellStyle("Sheet1", "A2", "A2", st)
	x.SetCellStyle("Sheet1", "F2", "F2", st)
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Read("local_payment.xlsx", buf.Bytes(), true, fd)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 1 {
		t.Fatalf("%d rows: %v", tab.Len(), dump(tab))
	}
	if got := tab.Cell(0, fd.Col("biz_date")); got != "2026-11-21" {
		t.Errorf("biz_date = %q, want 2026-11-21", got)
	}
	if got := tab.Cell(0, fd.Col("txn_time")); got != "2026-11-21 09:30:00" {
		t.Errorf("txn_time = %q, want 2026-11-21 09:30:00", got)
	}
}

// TestReadXLSXSerialsByColumnKind: a midnight txn_time shown by a date-only format is
// still a time (2026-11-21 00:00:00), and a biz_date shown with a time of day (built-in 22)
// is the day alone: read as shown, each row was malformed.
func TestReadXLSXSerialsByColumnKind(t *testing.T) {
	fd := feed.Get(feed.LocalPayment)
	x := excelize.NewFile()
	defer x.Close()
	hdr := []any{"biz_date", "city", "outlet_id", "counter_id", "txn_id", "txn_time", "msisdn", "account_id", "amount", "pay_method"}
	x.SetSheetRow("Sheet1", "A1", &hdr)
	row := []any{46347.0, "TY", "O1", "C1", "T1", 46347.0, "13800000000", "A1", 12.5, "CASH"}
	x.SetSheetRow("Sheet1", "A2", &row)
	dateOnly, err := x.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	dateTime, err := x.NewStyle(&excelize.Style{NumFmt: 22})
	if err != nil {
		t.Fatal(err)
	}
	x.SetCellStyle("Sheet1", "A2", "A2", dateTime)
	x.SetCellStyle("Sheet1", "F2", "F2", dateOnly)
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Read("local_payment.xlsx", buf.Bytes(), true, fd)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 1 {
		t.Fatalf("%d rows: %v", tab.Len(), dump(tab))
	}
	if got := tab.Cell(0, fd.Col("biz_date")); got != "2026-11-21" {
		t.Errorf("biz_date = %q, want 2026-11-21", got)
	}
	if got := tab.Cell(0, fd.Col("txn_time")); got != "2026-11-21 00:00:00" {
		t.Errorf("txn_time = %q, want 2026-11-21 00:00:00", got)
	}
}

// TestReadXLSXNumberFormatsExcelize: the same through workbooks excelize writes (it stores
// float64s by their shortest text), with the formats BOSS exports use.
func TestReadXLSXNumberFormatsExcelize(t *testing.T) {
	for _, tt := range []struct {
		format string
		v      any
		want   string
	}{
		{"#,##0", 11513.78, "11513.78"},
		{"0.00", 11513.78, "11513.78"},
		{"0.0", 11513.78, "11513.78"},
		{"#,##0.00", 11513.78, "11513.78"},
		{"0.00", 28.913, "28.913"},
		{"0.00", 0.1 + 0.2, "0.3"},
		{"0", 3.0, "3"},
		{"0", 3.5, "3.5"},
		{"", 1200.5, "1200.5"},
		{"yyyy-mm-dd", 46347.0, "2026-11-21"},
	} {
		t.Run(fmt.Sprint(tt.format, " ", tt.v), func(t *testing.T) {
			x := excelize.NewFile()
			defer x.Close()
			hdr := []any{"账务日期", "地市", "营业厅编码", "工号", "支付方式", "金额"}
			x.SetSheetRow("Sheet1", "A1", &hdr)
			row := []any{"2026-11-21", "TY", "O1", "C1", "现金", tt.v}
			x.SetSheetRow("Sheet1", "A2", &row)
			if tt.format != "" {
				st, err := x.NewStyle(&excelize.Style{CustomNumFmt: &tt.format})
				if err != nil {
					t.Fatal(err)
				}
				x.SetCellStyle("Sheet1", "F2", "F2", st)
			}
			buf, err := x.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			tab, err := Read("d.xlsx", buf.Bytes(), true, feed.Get(feed.Deposit))
			if err != nil {
				t.Fatal(err)
			}
			if tab.Len() != 1 || tab.Cell(0, 5) != tt.want {
				t.Errorf("got %v, want amount %q", dump(tab), tt.want)
			}
		})
	}
}

func TestReadXLSXSheets(t *testing.T) {
	amount := func(r int, v string) string { return fmt.Sprintf(`<c r="F%d"><v>%s</v></c>`, r, v) }
	footer := func(r int, n, sum string) string {
		return fmt.Sprintf(`<row r="%d"><c r="A%d" t="s"><v>6</v></c><c r="B%d"><v>%s</v></c><c r="F%d"><v>%s</v></c></row>`, r, r, r, n, r, sum)
	}
	cover := rawSheet{"封面", `<row r="1"><c r="A1" t="s"><v>8</v></c></row><row r="3"><c r="B3" t="s"><v>7</v></c></row>`}
	tests := []struct {
		name   string
		sheets []rawSheet
		want   result
	}{{
		name: "a cover first, the feed over two sheets (one named with ]), the footer on the last",
		sheets: []rawSheet{cover,
			{"解款[1]", depHeader(1) + depRow(2, "CASH", amount(2, "10"))},
			{"解款 2", depHeader(1) + depRow(2, "POS", amount(2, "20.5")) + footer(3, "2", "30.5")}},
		want: result{Header: 1,
			Footer: &Footer{Line: 3, Part: 2, Count: "2", Amount: "30.5", Raw: "合计,2,,,,30.5"},
			Rows: []row{
				{2, "2026-11-21|TY|O1|C1|CASH|10|", "2026-11-21,TY,O1,C1,CASH,10"},
				{2, "2026-11-21|TY|O1|C1|POS|20.5|", "2026-11-21,TY,O1,C1,POS,20.5"}},
			Sources: []string{"d.xlsx[解款[1]]", "d.xlsx[解款 2]"}},
	}, {
		// The footer is on the last sheet of the feed: a 合计 line before it is a row.
		name: "a 合计 on a middle sheet is a data row",
		sheets: []rawSheet{
			{"S1", depHeader(1) + depRow(2, "CASH", amount(2, "10")) + footer(3, "1", "10")},
			{"S2", depHeader(1) + depRow(2, "POS", amount(2, "20"))}},
		want: result{Header: 1,
			Rows: []row{
				{2, "2026-11-21|TY|O1|C1|CASH|10|", "2026-11-21,TY,O1,C1,CASH,10"},
				{3, "合计|1||||10|", "合计,1,,,,10"},
				{2, "2026-11-21|TY|O1|C1|POS|20|", "2026-11-21,TY,O1,C1,POS,20"}},
			Sources: []string{"d.xlsx[S1]", "d.xlsx[S1]", "d.xlsx[S2]"}},
	}, {
		name: "a notes sheet between and after the feed's sheets is skipped",
		sheets: []rawSheet{
			{"S1", depHeader(1) + depRow(2, "CASH", amount(2, "10"))},
			{"notes", `<row r="1"><c r="A1" t="s"><v>7</v></c></row>`},
			{"S2", depRow(1, "x", "") + depHeader(2) + depRow(3, "POS", amount(3, "20")) + depHeader(4) + footer(5, "2", "30")},
			cover},
		want: result{Header: 1,
			Footer: &Footer{Line: 5, Part: 2, Count: "2", Amount: "30", Raw: "合计,2,,,,30"},
			Rows: []row{
				{2, "2026-11-21|TY|O1|C1|CASH|10|", "2026-11-21,TY,O1,C1,CASH,10"},
				{3, "2026-11-21|TY|O1|C1|POS|20|", "2026-11-21,TY,O1,C1,POS,20"}},
			Sources:  []string{"d.xlsx[S1]", "d.xlsx[S2]"},
			Repeated: []string{"d.xlsx[S2]:4 账务日期,地市,营业厅编码,工号,支付方式,金额"}},
	}, {
		name:   "one sheet: rows cited by the workbook's name alone",
		sheets: []rawSheet{{"S1", depHeader(1) + depRow(2, "CASH", amount(2, "10")) + depHeader(3)}},
		want: result{Header: 1,
			Rows:     []row{{2, "2026-11-21|TY|O1|C1|CASH|10|", "2026-11-21,TY,O1,C1,CASH,10"}},
			Repeated: []string{"d.xlsx:3 账务日期,地市,营业厅编码,工号,支付方式,金额"}},
	}, {
		name:   "no sheet has the header: every line of every sheet is set aside",
		sheets: []rawSheet{cover, {"S1", depRow(1, "CASH", amount(1, "10"))}},
		want: result{Missing: []string{"biz_date", "city", "outlet_id", "counter_id", "pay_method", "amount"},
			Rows:    []row{{1, "||||||", "封面"}, {3, "||||||", ",说明"}, {1, "||||||", "2026-11-21,TY,O1,C1,CASH,10"}},
			Sources: []string{"d.xlsx[封面]", "d.xlsx[封面]", "d.xlsx[S1]"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := Read("d.xlsx", rawBook(t, tt.sheets, depSST, nil), true, feed.Get(feed.Deposit))
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(tab); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// hostileBook is a workbook small on disk whose cells expand far beyond it: one shared
// string of size bytes referenced by cells cells.
func hostileBook(t testing.TB, size, cells int) []byte {
	var sd strings.Builder
	sd.WriteString(depHeader(1))
	for r := 2; r < cells/10+2; r++ {
		fmt.Fprintf(&sd, `<row r="%d">`, r)
		for c := 0; c < 10; c++ {
			fmt.Fprintf(&sd, `<c t="s"><v>9</v></c>`)
		}
		sd.WriteString(`</row>`)
	}
	sst := append(append([]string(nil), depSST...), strings.Repeat("x", size))
	return rawBook(t, []rawSheet{{"S", sd.String()}}, sst, nil)
}

// TestReadXLSXBomb: a shared string referenced by millions of cells would make gigabytes of
// row text; the read stops at its budget with an *Error, and memory stays bounded.
func TestReadXLSXBomb(t *testing.T) {
	data := hostileBook(t, 1<<20, 200_000) // 1 MiB × 200,000 cells = 195 GiB of text
	t.Logf("hostile workbook: %d KiB on disk", len(data)>>10)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := watchHeap(t)
	_, err := Read("bomb.xlsx", data, true, feed.Get(feed.Deposit))
	top := peak()
	runtime.ReadMemStats(&after)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, errBudget) {
		t.Fatalf("Read = %v; want an *Error wrapping errBudget", err)
	}
	const want = `bomb.xlsx:3: read sheet "S": xlsx refused: its cells expand to more than its memory budget (21 MiB)`
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	t.Logf("peak heap %d MiB, allocated %d MiB", top>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if top > 200<<20 {
		t.Errorf("peak heap %d MiB", top>>20)
	}
}

// TestReadXLSXManyEmptyStrings: millions of empty shared strings cost 4 bytes each.
func TestReadXLSXManyEmptyStrings(t *testing.T) {
	var ss strings.Builder
	ss.WriteString(`<sst>`)
	for i := 0; i < 1_200_000; i++ {
		ss.WriteString(`<si><t/></si>`)
	}
	ss.WriteString(`</sst>`)
	book := rawBook(t, []rawSheet{{"S", depHeader(1) + depRow(2, "CASH", `<c r="F2" t="s"><v>1200000</v></c>`)}}, depSST, nil)
	// Swap in the big shared strings part.
	data := zipOf(t, append(unzip(t, book, "xl/sharedStrings.xml"), zipEntry{name: "xl/sharedStrings.xml", content: []byte(strings.Replace(ss.String(), "<sst>", "<sst>"+sstOf(depSST), 1))})...)
	runtime.GC()
	peak := watchHeap(t)
	tab, err := Read("d.xlsx", data, true, feed.Get(feed.Deposit))
	top := peak()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 1 || tab.Cell(0, 5) != "" {
		t.Errorf("got %v", dump(tab))
	}
	t.Logf("%d KiB on disk, 1,200,009 shared strings: peak heap %d MiB", len(data)>>10, top>>20)
	if top > 100<<20 {
		t.Errorf("peak heap %d MiB", top>>20)
	}
}

// watchHeap samples the heap in use until the returned function is called, which gives
// the largest sample.
func watchHeap(t testing.TB) func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				done <- top
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// unzip returns the entries of a zip archive, less the one named except.
func unzip(t testing.TB, data []byte, except string) []zipEntry {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []zipEntry
	for _, f := range zr.File {
		if f.Name == except {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipEntry{name: f.Name, content: b})
	}
	return out
}

// sstOf is the <si> elements of strings.
func sstOf(strs []string) string {
	var b strings.Builder
	for _, s := range strs {
		b.WriteString(`<si><t>`)
		xmlEscape(&b, s)
		b.WriteString(`</t></si>`)
	}
	return b.String()
}

// TestReadXLSXBombsConcurrently: several hostile workbooks whose budget is the largest
// (they unpack to over 80 MiB without inflating 100 times: their cells carry random
// attributes) read at once, as the engine's workers would: the budget they share bounds
// the heap.
func TestReadXLSXBombsConcurrently(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds an 80 MiB workbook and measures the heap: not in -short or -race runs")
	}
	var sd strings.Builder
	sd.WriteString(depHeader(1))
	rnd := uint32(1)
	for r := 2; r < 160_002; r++ {
		fmt.Fprintf(&sd, `<row r="%d">`, r)
		for c := 0; c < 10; c++ {
			rnd = rnd*1664525 + 1013904223
			fmt.Fprintf(&sd, `<c t="s" x="%08x%08x%08x%08x"><v>9</v></c>`, rnd, rnd^0x5bd1e995, rnd*31, rnd*17)
		}
		sd.WriteString(`</row>`)
	}
	sst := append(append([]string(nil), depSST...), strings.Repeat("x", 1<<20))
	data := rawBook(t, []rawSheet{{"S", sd.String()}}, sst, nil)
	sd.Reset()
	const readers = 6
	runtime.GC()
	peak := watchHeap(t)
	errs := make(chan error, readers)
	for i := 0; i < readers; i++ {
		go func() {
			_, err := Read("bomb.xlsx", data, true, feed.Get(feed.Deposit))
			errs <- err
		}()
	}
	for i := 0; i < readers; i++ {
		if err := <-errs; !errors.Is(err, errBudget) || !strings.Contains(err.Error(), "(320 MiB)") {
			t.Errorf("Read = %v; want the 320 MiB budget refused", err)
		}
	}
	top := peak()
	t.Logf("%d readers of a %d MiB workbook: peak heap %d MiB (budget shared: %d MiB)", readers, len(data)>>20, top>>20, xlsxMemory>>20)
	if top > 1200<<20 {
		t.Errorf("peak heap %d MiB", top>>20)
	}
}
