package dialect

import (
	"fmt"
	"strings"
	"testing"

	"settle/feed"
)

// benchCSV builds a local_payment feed of about size bytes: canonical (UTF-8, English
// header, TOTAL footer) or as the BOSS exports it (GBK, CRLF, a title line, Chinese
// header and pay methods, amounts with thousands separators in quotes, 合计 footer).
func benchCSV(b *testing.B, size int, boss bool) []byte {
	var sb strings.Builder
	eol := "\n"
	if boss {
		eol = "\r\n"
		sb.WriteString("太原分公司 本地缴费日报 2026-11-19" + eol + lpHeaderZh + eol)
	} else {
		sb.WriteString(lpHeader + eol)
	}
	pays := []string{"CASH", "POS", "WECHAT", "ALIPAY"}
	if boss {
		pays = []string{"现金", "银行卡", "微信", "支付宝"}
	}
	n := 0
	for sb.Len() < size {
		n++
		amount := fmt.Sprintf("%d.%02d", n%2000, n%100)
		if boss && n%2000 >= 1000 {
			amount = fmt.Sprintf("\"1,%03d.%02d\"", n%1000, n%100)
		}
		fmt.Fprintf(&sb, "2026-11-19,TY,TY%04d,TY%04d-%02d,T%09d,2026-11-19 %02d:%02d:%02d,139%08d,A%09d,%s,%s%s",
			n%457, n%457, n%5, n, 8+n%12, n%60, n%60, n, n, amount, pays[n%4], eol)
	}
	if boss {
		fmt.Fprintf(&sb, "合计,%d,,,,,,,0.00,%s", n, eol)
		return gbk(b, sb.String())
	}
	fmt.Fprintf(&sb, "TOTAL,%d,,,,,,,0.00,%s", n, eol)
	return []byte(sb.String())
}

func BenchmarkRead(b *testing.B) {
	f := feed.Get(feed.LocalPayment)
	for _, bc := range []struct {
		name string
		boss bool
	}{{"canonical", false}, {"boss-gbk", true}} {
		b.Run(bc.name, func(b *testing.B) {
			data := benchCSV(b, 10<<20, bc.boss)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var rows int
			for b.Loop() {
				tab, err := Read("bench.csv", data, false, f)
				if err != nil || tab.Footer == nil {
					b.Fatal(err, tab.Footer)
				}
				rows = tab.Len()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	b.Run("xlsx", func(b *testing.B) {
		rows := [][]any{{"太原分公司 本地缴费日报 2026-11-19"}, make([]any, 0, 10)}
		for _, h := range strings.Split(lpHeaderZh, ",") {
			rows[1] = append(rows[1], h)
		}
		for n := range 20000 {
			rows = append(rows, []any{"2026/11/19", "TY", "TY0009", "TY0009-01", fmt.Sprintf("T%09d", n),
				"2026/11/19 09:30:00", "13900009002", "A990009002", float64(n%3000) + 0.5, "现金"})
		}
		rows = append(rows, []any{"合计", 20000})
		data := xlsxBook(b, rows)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			tab, err := Read("bench.xlsx", data, true, f)
			if err != nil || tab.Len() != 20000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(20000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkCell reads every cell of a Table as the engine does (row by row, column by
// column): the cost of Table.Cell itself.
func BenchmarkCell(b *testing.B) {
	f := feed.Get(feed.LocalPayment)
	tab, err := Read("bench.csv", benchCSV(b, 10<<20, false), false, f)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := 0; i < tab.Len(); i++ {
			for c := range f.Columns {
				n += len(tab.Cell(i, c))
			}
		}
	}
	if n == 0 {
		b.Fatal("no text")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tab.Len()*len(f.Columns)), "ns/cell")
}
