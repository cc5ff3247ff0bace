package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/engine"
	"settle/engine/feed"
	"settle/engine/money"
)

// FuzzFooter checks the footer check (RULES.md FEED_TOTAL_MISMATCH) through engine.Reconcile
// on a day of one deposit file: rows whose amount cells are taken from amounts (split at
// '|'), then a TOTAL line with the count and amount texts. It must never panic, and must
// raise FEED_TOTAL_MISMATCH exactly when the count is not the number of rows, or when every
// row's amount is valid money and the footer's amount is not exactly their sum (computed
// here without overflow). The seed corpus is in testdata/fuzz/FuzzFooter.
func FuzzFooter(f *testing.F) {
	f.Add("2", "30.00", "10.00|20.00")
	f.Add("2", "30.01", "10.00|20.00")
	f.Add("3", "30.00", "10.00|20.00")
	f.Add("1,000", "", "x")
	f.Add("0", "0", "")
	f.Add("2", "", "10.00|abc")
	f.Add(" 2 ", " 1,030.00 ", "1,000.00| 30")
	f.Fuzz(func(t *testing.T, count, amount, amounts string) {
		clean := func(s string) string {
			// One CSV cell: no separator, quote or line end; no footer marker.
			return strings.Map(func(r rune) rune {
				switch r {
				case ',', '"', '\n', '\r':
					return -1
				}
				return r
			}, s)
		}
		count, amount = clean(count), clean(amount)
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
			c = clean(c)
			fmt.Fprintf(&b, "2026-11-21,TY,O1,C1,CASH,%s,S%d\n", c, i)
			v, err := money.Parse(strings.TrimSpace(c))
			if err != nil {
				allValid = false
			}
			sum.Add(sum, big.NewInt(v))
		}
		fmt.Fprintf(&b, "TOTAL,%s,,,,%s,\n", count, amount)
		n, err := engine.ParseWhole(strings.TrimSpace(count))
		want := err != nil || n != int64(len(cells))
		if allValid {
			v, err := money.Parse(strings.TrimSpace(amount))
			want = want || err != nil || big.NewInt(v).Cmp(sum) != 0
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
			if e.Code == "FEED_TOTAL_MISMATCH" {
				got = append(got, e.Detail)
			}
		}
		if len(got) > 1 || (len(got) == 1) != want {
			t.Fatalf("footer count %q amount %q over %d rows (sum %s fen, all valid %v): FEED_TOTAL_MISMATCH %q, want one: %v",
				count, amount, len(cells), sum, allValid, got, want)
		}
	})
}
