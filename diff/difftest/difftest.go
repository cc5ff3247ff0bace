// Package difftest publishes hand-made runs into a run store for the tests of settle diff:
// the result's tables are written by the store's own writers, as `settle run` writes them,
// without going through the engine's rules.
package difftest

import (
	"context"
	"fmt"
	"time"

	"settle/engine"
	"settle/store"
)

// Meta is what a test run's manifest says beyond its result.
type Meta struct {
	RunID       string
	ToolVersion string
	Source      string    // "test" when empty
	At          time.Time // start and finish; 2026-11-22T01:30:00Z when zero
}

// Publish writes res as run m.RunID of its date into the store at dir (created if needed)
// and publishes it, making it the date's current run; it returns the run directory.
func Publish(dir string, res *engine.Result, m Meta) (string, error) {
	s, err := store.Open(dir)
	if err != nil {
		return "", err
	}
	date := res.BizDate()
	unlock, err := s.Lock(context.Background(), date, 0, nil)
	if err != nil {
		return "", err
	}
	defer unlock()
	run, err := s.Begin(date, m.RunID)
	if err != nil {
		return "", err
	}
	defer run.Abort()
	if err := store.WriteResult(run, res); err != nil {
		return "", err
	}
	at := m.At
	if at.IsZero() {
		at = time.Date(2026, 11, 22, 1, 30, 0, 0, time.UTC)
	}
	src := m.Source
	if src == "" {
		src = "test"
	}
	man := store.NewManifest(res, nil, store.Meta{RunID: m.RunID, Source: src, ToolVersion: m.ToolVersion, StartedAt: at, FinishedAt: at})
	if err := store.WriteManifest(run, man); err != nil {
		return "", err
	}
	if err := run.Publish(); err != nil {
		return "", err
	}
	if err := unlock(); err != nil {
		return "", fmt.Errorf("unlock %s: %w", date, err)
	}
	return s.RunDir(date, m.RunID)
}

// City-day shape of CityDay: per counter, lines of these categories and pay methods.
var (
	categories = []string{"CARD", "LOCAL_BILL", "ORDER_FEE", "REMOTE_BILL", "TERMINAL"}
	payMethods = []string{"ALIPAY", "CASH", "POS", "WECHAT"}
	codes      = []struct {
		code     engine.Code
		severity engine.Severity
		feed     string
	}{
		{engine.CodeDuplicateTxn, engine.SevError, "order"},
		{engine.CodeRemotePending, engine.SevWarning, "remote_payment"},
		{engine.CodeInvoiceOrphan, engine.SevError, "invoice"},
		{engine.CodeReversalMethodMismatch, engine.SevWarning, "reversal"},
		{engine.CodeMalformedRow, engine.SevError, "local_payment"},
	}
)

// CityDay is a synthetic city day of n counters (5 per outlet) shaped like a real one:
// about 4.4 settlement lines, 3 variance lines and 4.4 exceptions per counter (2,285
// counters: some 10,000 settlement lines and 10,000 exceptions). With changed set, one
// counter in a hundred differs: a figure moved, a shortfall resolved, an exception added
// and one changed.
func CityDay(date time.Time, n int, changed bool) *engine.Result {
	res := &engine.Result{Date: date, Complete: true, InputDigest: "city-day"}
	if changed {
		res.InputDigest = "city-day-changed"
	}
	for i := range n {
		outlet := fmt.Sprintf("TY%04d", i/5+1)
		counter := fmt.Sprintf("%s-%02d", outlet, i%5+1)
		city := "太原"
		moved := changed && i%100 == 7
		res.Counters = append(res.Counters, engine.CounterInfo{City: city, Outlet: outlet, Counter: counter})
		expected := map[string]int64{}
		lines := 4 + i%2 // 4 or 5, 4.5 on average
		if i%10 == 0 {
			lines = 3
		}
		for j := range lines {
			cat, pay := categories[(i+j)%len(categories)], payMethods[(i*7+j)%3]
			gross := int64(1000 + (i*37+j*101)%90000)
			rev := int64(0)
			if j == 1 {
				rev = gross / 10
			}
			count := int64(1 + (i+j)%9)
			if moved && j == 0 {
				gross += 5000
				count++
			}
			res.Settlement = append(res.Settlement, engine.SettlementLine{City: city, Outlet: outlet, Counter: counter,
				Category: cat, PayMethod: pay, TxnCount: count, Gross: gross, Reversed: rev, Net: gross - rev})
			expected[pay] += gross - rev
		}
		short := int64(0)
		if i%13 == 0 && !moved {
			short = 1000
		}
		for _, pay := range payMethods {
			e, ok := expected[pay]
			if !ok {
				continue
			}
			dep := e
			if pay == "CASH" {
				dep -= short
			}
			res.Variance = append(res.Variance, engine.VarianceLine{City: city, Outlet: outlet, Counter: counter,
				PayMethod: pay, Expected: e, Deposited: dep, Variance: dep - e})
			if pay == "CASH" && short != 0 {
				res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeDepositShort, Severity: engine.SevError,
					City: city, Outlet: outlet, Counter: counter, Feed: "deposit", Amount: -short, HasAmount: true,
					Detail: "CASH: short", Source: "deposit.csv:" + fmt.Sprint(i+2), Key: "CASH"})
			}
		}
		exceptions := 4
		if i%5 == 0 {
			exceptions = 6
		}
		if moved {
			exceptions++
		}
		for j := range exceptions {
			c := codes[j%len(codes)]
			e := engine.Exception{Code: c.code, Severity: c.severity, City: city, Outlet: outlet, Counter: counter, Feed: c.feed,
				TxnID: fmt.Sprintf("T%s%04d", counter, j), Detail: "异地缴费待清算 " + fmt.Sprint(j), Source: fmt.Sprintf("%s.csv:%d", c.feed, i*8+j+2)}
			if c.code == engine.CodeRemotePending {
				e.Amount, e.HasAmount = int64(100*(j+1)), true
				if moved {
					e.Amount += 50
				}
			}
			if c.code == engine.CodeMalformedRow {
				e.TxnID = ""
			}
			res.Exceptions = append(res.Exceptions, e)
		}
	}
	return res
}
