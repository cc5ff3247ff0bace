package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/feed"
)

// testDate is the run date of every hand-built case.
var testDate = time.Date(2026, 11, 21, 0, 0, 0, 0, Shanghai)

// defaults fill the columns a test row does not name.
var defaults = map[string]string{
	"biz_date": "2026-11-21", "city": "TY", "outlet_id": "O1", "counter_id": "C1",
	"txn_time": "2026-11-21 10:00:00", "order_id": "ORD1", "msisdn": "13900000000",
	"service_code": "OPEN", "amount": "10.00", "pay_method": "CASH", "imei": "861234567890123",
	"model": "M1", "orig_txn_id": "X", "orig_date": "2026-11-21", "orig_feed": "local_payment",
	"kind": "REFUND", "approver_id": "", "reason": "", "category": "LOCAL", "txn_count": "1",
	"account_id": "A1", "home_region": "BJ", "clearing_status": "CONFIRMED", "clearing_ref": "",
	"face_value": "100.00", "serial_from": "0001", "serial_to": "0001", "quantity": "1",
	"invoice_code": "IC", "invoice_no": "00000001", "status": "ISSUED", "slip_no": "",
}

// row is one test row: its feed and "col=value" overrides separated by '|'.
type row struct {
	f      feed.ID
	fields string
}

func r(f feed.ID, fields string) row { return row{f, fields} }

// csvOf renders rows of one feed as a canonical CSV file.
func csvOf(f feed.ID, rows []string) string {
	cols := feed.Get(f).Columns
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.Name)
	}
	b.WriteByte('\n')
	for _, fields := range rows {
		vals := map[string]string{}
		for _, kv := range strings.Split(fields, "|") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				panic("bad test field " + kv)
			}
			vals[strings.TrimSpace(k)] = v
		}
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(',')
			}
			v, ok := vals[c.Name]
			if !ok {
				v = defaults[c.Name]
			}
			if strings.ContainsAny(v, ",\"\n") {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func input(f feed.ID, name, text string) connectors.Input {
	return connectors.Input{Feed: f, Name: name, Open: connectors.Bytes([]byte(text))}
}

// dayOf builds a source day with one <feed>.csv per feed (every feed present, maybe empty).
func dayOf(rows ...row) *connectors.Day {
	per := map[feed.ID][]string{}
	for _, x := range rows {
		per[x.f] = append(per[x.f], x.fields)
	}
	d := &connectors.Day{}
	for _, f := range feed.All {
		d.Inputs = append(d.Inputs, input(f, f.String()+".csv", csvOf(f, per[f])))
	}
	return d
}

// reconcile runs the engine with a checked allocator that must be empty afterwards. The
// details are in English, which the rule tests read; TestDetailLanguages checks the Chinese
// default.
func reconcile(t *testing.T, d *connectors.Day, hist History) *Result {
	t.Helper()
	return reconcileIn(t, d, hist, "en")
}

// reconcileIn is reconcile with the details in lang.
func reconcileIn(t *testing.T, d *connectors.Day, hist History, lang string) *Result {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := NewConfig()
	cfg.Lang = lang
	cfg.Date = testDate
	cfg.Mem = mem
	cfg.History = hist
	res, err := Reconcile(context.Background(), cfg, d)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	t.Cleanup(func() {
		res.Release()
		mem.AssertSize(t, 0)
	})
	return res
}

// findings renders exceptions as "CODE SEVERITY counter feed txn amount", keeping only codes.
func findings(res *Result, codes ...Code) []string {
	keep := map[Code]bool{}
	for _, c := range codes {
		keep[c] = true
	}
	var out []string
	for i := range res.Exceptions {
		e := &res.Exceptions[i]
		if len(codes) > 0 && !keep[e.Code] {
			continue
		}
		f := ExceptionFields(e)
		out = append(out, strings.Join([]string{f[0], f[1], f[4], f[5], f[6], f[7]}, " "))
	}
	sort.Strings(out)
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// memHistory is stored runs held in memory: date → feed → record.
type memHistory map[string]map[feed.ID]arrow.RecordBatch

func (h memHistory) Feed(date time.Time, id feed.ID) (arrow.RecordBatch, bool, error) {
	day, ok := h[date.Format("2006-01-02")]
	if !ok {
		return nil, false, nil
	}
	rec, ok := day[id]
	if !ok {
		return nil, false, fmt.Errorf("no %s", id)
	}
	rec.Retain()
	return rec, true, nil
}

type arrowRecord = arrow.RecordBatch
