package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
)

// FuzzFooter checks the footer check (RULES.md FEED_TOTAL_MISMATCH) through engine.Reconcile
// on a day of one deposit file: rows whose amount cells are taken from amounts (split at
// '|'), then a TOTAL line with the count and amount texts, each written as a CSV cell
// (quoted when it holds a comma, quote or line end). It must never panic, and must raise
// FEED_TOTAL_MISMATCH exactly when the count is not the number of rows, or when every row's
// amount is valid money and the footer's amount is not exactly their sum. The expectation
// comes from the grammars of FEEDS.md written here as regular expressions (wholeNumber,
// moneyText), not from the parsers under test, and is computed without overflow. The seed
// corpus is in testdata/fuzz/FuzzFooter.
func FuzzFooter(f *testing.F) {
	f.Add("2", "30.00", "10.00|20.00")
	f.Add("2", "30.01", "10.00|20.00")
	f.Add("3", "30.00", "10.00|20.00")
	f.Add("1,000", "", "x")
	f.Add("0", "0", "")
	f.Add("2", "", "10.00|abc")
	f.Add(" 2 ", " 1,030.00 ", "1,000.00| 30")
	f.Add("2", "2,000.5", "1,000.25|1,000.25")
	f.Add("2", "2000.50", "1,000.25|1,00.25")
	f.Add("1", "\"5\"", "5")
	f.Fuzz(func(t *testing.T, count, amount, amounts string) {
		cell := func(s string) string {
			// Valid UTF-8 (an invalid byte makes the dialect read the file as GBK), quoted
			// when it holds a separator, a quote or a line end.
			s = strings.ToValidUTF8(s, "")
			if strings.ContainsAny(s, ",\"\r\n") {
				s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			return s
		}
		var cells []string
		if amounts != "" {
			cells = strings.Split(amounts, "|")
		}
		if len(cells) > 500 {
			cells = cells[:500]
		}
		var b bytes.Buffer
		b.WriteString("biz_date,city,outlet_id,counter_id,pay_method,amount,slip_no\n")
		sum, allValid := new(big.Int), true
		for i, c := range cells {
			fmt.Fprintf(&b, "2026-11-21,TY,O1,C1,CASH,%s,S%d\n", cell(c), i)
			v, ok := fenOf(c)
			allValid = allValid && ok
			sum.Add(sum, v)
		}
		fmt.Fprintf(&b, "TOTAL,%s,,,,%s,\n", cell(count), cell(amount))
		n, ok := wholeOf(count)
		want := !ok || n.Cmp(big.NewInt(int64(len(cells)))) != 0
		if allValid {
			v, ok := fenOf(amount)
			want = want || !ok || v.Cmp(sum) != 0
		}

		data := b.Bytes()
		day := &connectors.Day{Inputs: []connectors.Input{{
			Feed: feed.Deposit, Name: "deposit.csv", Format: connectors.CSV,
			Open: connectors.Bytes(data),
		}}}
		cfg := engine.NewConfig()
		cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
		cfg.Workers = 1
		res, err := engine.Reconcile(context.Background(), cfg, day)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		defer res.Release()
		var got []string
		for _, e := range res.Exceptions {
			if e.Code == engine.CodeFeedTotalMismatch {
				got = append(got, e.Detail)
			}
		}
		if len(got) > 1 || (len(got) == 1) != want {
			t.Fatalf("footer count %q amount %q over %d rows (sum %s fen, all valid %v): FEED_TOTAL_MISMATCH %q, want one: %v",
				count, amount, len(cells), sum, allValid, got, want)
		}
	})
}

var (
	// wholeNumber is a count: digits, with commas after the first digit (ParseWhole does
	// not check the grouping of a count's separators).
	wholeNumber = regexp.MustCompile(`^[0-9][0-9,]*$`)
	// moneyText is an amount in yuan (FEEDS.md): digits, or groups of three after a first
	// group of one to three, then up to two decimals.
	moneyText = regexp.MustCompile(`^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]{1,2})?$`)
)

// maxDigits is the most digits a count or a yuan amount may have (money.Parse,
// engine.ParseWhole): more could overflow fen.
const maxDigits = 15

// wholeOf is the value of a count cell (surrounding space trimmed, as the dialect does).
func wholeOf(s string) (*big.Int, bool) {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if !wholeNumber.MatchString(s) {
		return nil, false
	}
	digits := strings.ReplaceAll(s, ",", "")
	if len(digits) > maxDigits {
		return nil, false
	}
	n, _ := new(big.Int).SetString(digits, 10)
	return n, true
}

// fenOf is the value in fen of an amount cell (surrounding space trimmed); 0 when invalid.
func fenOf(s string) (*big.Int, bool) {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if !moneyText.MatchString(s) {
		return new(big.Int), false
	}
	yuan, frac, _ := strings.Cut(s, ".")
	yuan = strings.ReplaceAll(yuan, ",", "")
	if len(yuan) > maxDigits {
		return new(big.Int), false
	}
	n, _ := new(big.Int).SetString(yuan+(frac + "00")[:2], 10)
	return n, true
}
