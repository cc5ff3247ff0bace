package dialect

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/feed"
)

// xlsxBook builds a workbook whose first sheet holds rows (a nil row is left empty) and
// whose second sheet holds something else. Float cells get the number format "#,##0.00".
func xlsxBook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "本地缴费日报"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	numFmt := "#,##0.00"
	money, err := x.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		t.Fatal(err)
	}
	for r, cells := range rows {
		for c, v := range cells {
			if v == nil {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := x.SetCellValue(sheet, ref, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(float64); ok {
				if err := x.SetCellStyle(sheet, ref, ref, money); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := x.NewSheet("other"); err != nil {
		t.Fatal(err)
	}
	if err := x.SetCellValue("other", "A1", "not this sheet"); err != nil {
		t.Fatal(err)
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadXLSX(t *testing.T) {
	hdr := []any{"账务日期", "地市", "营业厅编码", "工号", "流水号", "受理时间", "手机号码", "账户编码", "金额", "支付方式"}
	data := xlsxBook(t, [][]any{
		{"太原分公司 本地缴费日报 2026-11-19"},
		nil,
		hdr,
		{"2026/11/19", "TY", "TY0009", "TY0009-01", "T9001", "2026/11/19 09:00:00", "13900009001", "A990009001", 1200.0, "现金"},
		{"2026/11/19", " TY ", "TY0009", "TY0009-01", `T"2`, "2026/11/19 09:30:00", "a,b", "A990009002", 35.5, "微信"},
		{nil, nil, ""},
		{"合计", 2, nil, nil, nil, nil, nil, nil, 1235.5},
	})
	tab, err := Read("x.xlsx", data, true, feed.Get(feed.LocalPayment))
	if err != nil {
		t.Fatal(err)
	}
	want := result{Header: 3,
		// Numbers as stored, not as "#,##0.00" shows them (FEEDS.md).
		Footer: &Footer{Line: 7, Count: "2", Amount: "1235.5", Raw: `合计,2,,,,,,,1235.5`},
		Rows: []row{
			{4, "2026/11/19|TY|TY0009|TY0009-01|T9001|2026/11/19 09:00:00|13900009001|A990009001|1200|现金",
				`2026/11/19,TY,TY0009,TY0009-01,T9001,2026/11/19 09:00:00,13900009001,A990009001,1200,现金`},
			{5, `2026/11/19|TY|TY0009|TY0009-01|T"2|2026/11/19 09:30:00|a,b|A990009002|35.5|微信`,
				`2026/11/19, TY ,TY0009,TY0009-01,"T""2",2026/11/19 09:30:00,"a,b",A990009002,35.5,微信`},
		},
		Sources: []string{"x.xlsx[本地缴费日报]", "x.xlsx[本地缴费日报]"}}
	if got := dump(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}

	// Without a header every non-blank row of every sheet is a data row.
	data = xlsxBook(t, [][]any{{"title"}, nil, {"a", "b"}})
	tab, err = Read("x.xlsx", data, true, feed.Get(feed.Deposit))
	if err != nil {
		t.Fatal(err)
	}
	want = result{Missing: []string{"biz_date", "city", "outlet_id", "counter_id", "pay_method", "amount"},
		Rows:    []row{{1, "||||||", "title"}, {3, "||||||", "a,b"}, {1, "||||||", "not this sheet"}},
		Sources: []string{"x.xlsx[本地缴费日报]", "x.xlsx[本地缴费日报]", "x.xlsx[other]"}}
	if got := dump(tab); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

// zipOf builds a zip archive from name/content pairs; an entry's declared size may lie.
func zipOf(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
		fw.Write(e.content)
		fw.Close()
		size := uint64(len(e.content))
		if e.declared != 0 {
			size = e.declared
		}
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: e.name, Method: zip.Deflate,
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: size,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zipEntry struct {
	name     string
	content  []byte
	declared uint64
}

func TestReadXLSXUnreadable(t *testing.T) {
	good := xlsxBook(t, [][]any{{"a"}})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "x.xlsx: not an xlsx workbook: zip: not a valid zip file"},
		{"not a zip", []byte("biz_date,city\n"), "x.xlsx: not an xlsx workbook: zip: not a valid zip file"},
		{"truncated", good[:len(good)/2], "x.xlsx: not an xlsx workbook: zip: not a valid zip file"},
		{"declares a bomb", zipOf(t, zipEntry{name: "xl/worksheets/sheet1.xml", content: []byte("<x/>"), declared: 1 << 40}),
			"x.xlsx: xlsx refused: it unpacks to more than 512 MiB (zip bomb?)"},
		{"many entries add up to a bomb", zipOf(t,
			zipEntry{name: "a", content: []byte("a"), declared: 300 << 20},
			zipEntry{name: "b", content: []byte("b"), declared: 300 << 20}),
			"x.xlsx: xlsx refused: it unpacks to more than 512 MiB (zip bomb?)"},
		{"inflates beyond what it declares", zipOf(t,
			zipEntry{name: "xl/workbook.xml", content: []byte("<workbook/>")},
			zipEntry{name: "xl/_rels/workbook.xml.rels", content: bytes.Repeat([]byte(" "), 64<<20), declared: 100}),
			`x.xlsx: read "xl/_rels/workbook.xml.rels": zip: not a valid zip file`},
		{"a part inflating more than 100 times", zipOf(t,
			zipEntry{name: "xl/sharedStrings.xml", content: bytes.Repeat([]byte("<si/>"), 8<<20)}),
			`x.xlsx: xlsx refused: part "xl/sharedStrings.xml" inflates 40 MiB from 211 KiB, more than 100 times (zip bomb?)`},
		{"a huge text without markup", zipOf(t,
			zipEntry{name: "xl/workbook.xml", content: []byte("<workbook/>")},
			zipEntry{name: "xl/_rels/workbook.xml.rels", content: append([]byte(`<Relationships a="`), bytes.Repeat([]byte("ab"), 3<<20)...)}),
			`x.xlsx: read "xl/_rels/workbook.xml.rels": xlsx refused: more than 4 MiB of text without markup`},
		{"a zip without a workbook", zipOf(t, zipEntry{name: "hello.txt", content: []byte("hello")}),
			`x.xlsx: missing workbook part "xl/workbook.xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tab, err := Read("x.xlsx", tt.data, true, feed.Get(feed.Order))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Read = %v, %v; want an *Error", tab, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q\nwant      %q", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to refuse", d)
			}
		})
	}
}
