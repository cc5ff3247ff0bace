package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"settle/connectors"
	"settle/feed"
)

// excOf renders the exceptions of the given codes as "CODE counter feed | source | detail".
func excOf(res *Result, codes ...Code) []string {
	var out []string
	for _, e := range res.Exceptions {
		for _, c := range codes {
			if e.Code == c {
				out = append(out, fmt.Sprintf("%s %s %s | %s | %s", e.Code, e.Counter, e.Feed, e.Source, e.Detail))
			}
		}
	}
	return out
}

// rejOf renders rejects as "source:line reason | raw".
func rejOf(res *Result) []string {
	var out []string
	for _, r := range res.Rejects {
		out = append(out, fmt.Sprintf("%s:%d %s | %s", r.Source, r.Line, r.Reason, r.Raw))
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

const orderHeader = "biz_date,city,outlet_id,counter_id,txn_id,txn_time,order_id,msisdn,service_code,amount,pay_method"

// FEEDS.md: a header that holds every column of another feed that has columns this feed
// lacks is that feed's report under the wrong name.
func TestLoadWrongFeed(t *testing.T) {
	orderRow := "2026-11-21,TY,O1,C1,T1,2026-11-21 10:00:00,ORD1,139,OPEN,10.00,CASH"
	t.Run("a deposit file holding an order report", func(t *testing.T) {
		d := dayOf(r(LP, "txn_id=L1"))
		d.Inputs[feed.Deposit] = input(DEP, "deposit.csv", "太原 业务办理日报\n"+orderHeader+"\n"+orderRow+"\n")
		res := reconcile(t, d, nil)
		reason := "is the order report, not deposit: its header (deposit.csv:2) holds every column of order"
		same(t, "exceptions", excOf(res, CodeFeedMissing, CodeMalformedRow, CodeFeedTotalMismatch), []string{
			"FEED_MISSING  deposit | deposit.csv:2 | deposit.csv " + reason + "; its 3 line(s) are set aside"})
		same(t, "rejects", rejOf(res), []string{
			"deposit.csv:1 FEED_MISSING: file " + reason + " | 太原 业务办理日报",
			"deposit.csv:2 FEED_MISSING: file " + reason + " | " + orderHeader,
			"deposit.csv:3 FEED_MISSING: file " + reason + " | " + orderRow})
		if res.Complete {
			t.Error("complete, want incomplete")
		}
	})
	t.Run("an order file holding deposit's required columns is an order file", func(t *testing.T) {
		d := dayOf()
		d.Inputs[feed.Order] = input(ORD, "order.csv", orderHeader+"\n"+orderRow+"\n")
		res := reconcile(t, d, nil)
		same(t, "exceptions", excOf(res, CodeFeedMissing, CodeMalformedRow), nil)
		same(t, "rejects", rejOf(res), nil)
	})
	t.Run("a pull whose body is another feed's report", func(t *testing.T) {
		d := dayOf(r(LP, "txn_id=L1"))
		d.Inputs[feed.Deposit] = connectors.Input{Feed: DEP, Name: "deposit/C1", Counter: "C1", Pull: true,
			Open: connectors.Bytes([]byte(orderHeader + "\n" + orderRow + "\n合计,1,,,,,,,,10.00,\n"))}
		res := reconcile(t, d, nil)
		reason := "is the order report, not deposit: its header (deposit/C1) holds every column of order"
		same(t, "exceptions", excOf(res, CodeFeedMissing, CodeMalformedRow, CodeFeedTotalMismatch), []string{
			"FEED_MISSING C1 deposit | deposit/C1 | deposit/C1 " + reason + "; its 3 line(s) are set aside"})
		if len(res.Rejects) != 3 {
			t.Errorf("rejects %q", rejOf(res))
		}
	})
}

// FEEDS.md: a header (or title) repeated at a page break is set aside as "repeated header",
// raises nothing and is not counted by the footer.
func TestLoadRepeatedHeader(t *testing.T) {
	body := func(footer string) string {
		rows := strings.Split(strings.TrimSuffix(csvOf(LP, []string{"txn_id=L1", "txn_id=L2|amount=20.00"}), "\n"), "\n")
		return "太原 本地缴费日报\n" + rows[0] + "\n" + rows[1] + "\n太原 本地缴费日报\n" + rows[0] + "\n" + rows[2] + "\n" + footer + "\n"
	}
	t.Run("footer counts the data rows only", func(t *testing.T) {
		d := dayOf()
		d.Inputs[feed.LocalPayment] = input(LP, "local_payment.csv", body("合计,2,,,,,,,30.00,"))
		res := reconcile(t, d, nil)
		same(t, "exceptions", excOf(res, CodeFeedMissing, CodeMalformedRow, CodeFeedTotalMismatch), nil)
		same(t, "rejects", rejOf(res), []string{
			"local_payment.csv:4 repeated header | 太原 本地缴费日报",
			"local_payment.csv:5 repeated header | biz_date,city,outlet_id,counter_id,txn_id,txn_time,msisdn,account_id,amount,pay_method"})
		if !res.Complete {
			t.Error("incomplete")
		}
	})
	t.Run("a footer counting the repeated lines disagrees", func(t *testing.T) {
		d := dayOf()
		d.Inputs[feed.LocalPayment] = input(LP, "local_payment.csv", body("合计,4,,,,,,,30.00,"))
		res := reconcile(t, d, nil)
		same(t, "exceptions", excOf(res, CodeFeedTotalMismatch), []string{
			"FEED_TOTAL_MISMATCH  local_payment | local_payment.csv:7 | local_payment.csv: footer says 4 row(s), 2 read"})
	})
}

// FEEDS.md: a feed split over sheets (an .xls-era export, a new sheet every 65,536 rows)
// is read sheet by sheet, the footer on the last checked against all rows, each row
// cited as name.xlsx[Sheet]:row; numbers are read by the value stored.
func TestLoadXLSXSheets(t *testing.T) {
	book := func(amount2 float64, count int, sum float64) []byte {
		x := excelize.NewFile()
		defer x.Close()
		hdr := []any{"账务日期", "地市", "营业厅编码", "工号", "支付方式", "金额"}
		x.SetSheetName("Sheet1", "说明")
		x.SetCellValue("说明", "A1", "解款日报 导出说明")
		money := "#,##0"
		st, err := x.NewStyle(&excelize.Style{CustomNumFmt: &money})
		if err != nil {
			t.Fatal(err)
		}
		for i, rows := range [][][]any{
			{{"2026-11-21", "TY", "O1", "C1", "现金", 11513.78}},
			{{"2026-11-21", "TY", "O1", "C1", "银行卡", amount2}, {"2026-11-21", "TY", "O1", "C1", "微信", 0.5}, {"合计", count, nil, nil, nil, sum}},
		} {
			// Excel forbids ']' in a sheet name; the dialect tests cover one anyway.
			name := fmt.Sprintf("解款(%d)", i+1)
			if _, err := x.NewSheet(name); err != nil {
				t.Fatal(err)
			}
			x.SetSheetRow(name, "A1", &hdr)
			for j, row := range rows {
				x.SetSheetRow(name, fmt.Sprintf("A%d", j+2), &row)
				x.SetCellStyle(name, fmt.Sprintf("F%d", j+2), fmt.Sprintf("F%d", j+2), st)
			}
		}
		buf, err := x.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		data    []byte
		excs    []string
		rejects []string
	}{{
		name: "the footer on the last sheet agrees with the rows of both",
		data: book(28.91, 3, 11543.19),
	}, {
		name: "the footer's count disagrees with the rows of both",
		data: book(28.91, 2, 11543.19),
		excs: []string{"FEED_TOTAL_MISMATCH  deposit | TY/解款日报.xlsx[解款(2)]:4 | TY/解款日报.xlsx: footer says 2 row(s), 3 read"},
	}, {
		// Stored 28.913 shown as "29" by #,##0: read as stored, malformed.
		name: "a stored amount of three decimals",
		data: book(28.913, 3, 11542.28),
		excs: []string{`MALFORMED_ROW C1 deposit | TY/解款日报.xlsx[解款(2)]:2 | amount "28.913" has more than two decimals`},
		rejects: []string{
			`TY/解款日报.xlsx[解款(2)]:2 MALFORMED_ROW: amount "28.913" has more than two decimals | 2026-11-21,TY,O1,C1,银行卡,28.913`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dayOf(r(LP, "txn_id=L1"))
			d.Inputs[feed.Deposit] = connectors.Input{Feed: DEP, Name: "TY/解款日报.xlsx", Format: connectors.XLSX, Open: connectors.Bytes(tt.data)}
			res := reconcile(t, d, nil)
			same(t, "exceptions", excOf(res, CodeFeedMissing, CodeMalformedRow, CodeFeedTotalMismatch), tt.excs)
			same(t, "rejects", rejOf(res), tt.rejects)
		})
	}
}

// A row of a workbook of several sheets is told apart by its sheet: a duplicate on the
// second sheet's line 2 cites it, with its own raw text (not the first sheet's line 2).
func TestLoadXLSXSheetsDuplicate(t *testing.T) {
	x := excelize.NewFile()
	defer x.Close()
	hdr := []any{"账务日期", "地市", "营业厅编码", "工号", "流水号", "受理时间", "手机号码", "账户编码", "金额", "支付方式"}
	x.NewSheet("S2")
	for i, sh := range []string{"Sheet1", "S2"} {
		x.SetSheetRow(sh, "A1", &hdr)
		row := []any{"2026-11-21", "TY", "O1", "C1", "L1", "2026-11-21 10:00:00", "139", "A1", fmt.Sprintf("%d.00", i+1), "现金"}
		x.SetSheetRow(sh, "A2", &row)
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	d := dayOf()
	d.Inputs[feed.LocalPayment] = connectors.Input{Feed: LP, Name: "lp.xlsx", Format: connectors.XLSX, Open: connectors.Bytes(buf.Bytes())}
	res := reconcile(t, d, nil)
	const detail = `txn_id "L1" already seen; this row differs from the one kept (local_payment lp.xlsx[Sheet1]:2)`
	same(t, "exceptions", excOf(res, CodeDuplicateTxn), []string{"DUPLICATE_TXN C1 local_payment | lp.xlsx[S2]:2 | " + detail})
	same(t, "rejects", rejOf(res), []string{
		"lp.xlsx[S2]:2 DUPLICATE_TXN: " + detail + " | 2026-11-21,TY,O1,C1,L1,2026-11-21 10:00:00,139,A1,2.00,现金"})
}

// An input the dialect cannot read is named once in the detail, not once by the engine and
// again by the reader's error.
func TestLoadCannotReadNamesInputOnce(t *testing.T) {
	d := dayOf(r(LP, "txn_id=L1"))
	d.Inputs[feed.Deposit] = connectors.Input{Feed: DEP, Name: "dep.xlsx", Format: connectors.XLSX, Open: connectors.Bytes([]byte("not a zip"))}
	same(t, "zh", excOf(reconcileLang(t, d, "zh"), CodeFeedMissing), []string{
		"FEED_MISSING  deposit | dep.xlsx | 无法读取 dep.xlsx：not an xlsx workbook: zip: not a valid zip file"})
	same(t, "en", excOf(reconcileLang(t, d, "en"), CodeFeedMissing), []string{
		"FEED_MISSING  deposit | dep.xlsx | cannot read dep.xlsx: not an xlsx workbook: zip: not a valid zip file"})
}
