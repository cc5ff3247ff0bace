package engine_test

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
)

// FuzzReconcile replaces one feed's file of a small generated day (two counters, every
// anomaly) with fuzzed bytes, as CSV or XLSX, and reconciles the day. Whatever the bytes,
// Reconcile must not fail or panic, must account for every row it read (rows read = valid +
// rejected, per feed), raise only the codes of RULES.md, settle only counters with valid ids,
// and release every Arrow buffer it allocated. The seeds are the day's own files, generated
// here (f.Add); failing inputs the fuzzer finds go to testdata/fuzz/FuzzReconcile.
func FuzzReconcile(f *testing.F) {
	cfg := fixtures.NewConfig()
	cfg.Date = time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai)
	cfg.Outlets, cfg.Counters, cfg.Anomalies = 1, 2, 1
	day, err := fixtures.Generate(cfg)
	if err != nil {
		f.Fatal(err)
	}
	var files [feed.Count][]byte
	for _, fl := range day.Files() {
		var b bytes.Buffer
		if err := fl.Write(&b); err != nil {
			f.Fatal(err)
		}
		files[fl.Feed] = b.Bytes()
		f.Add(b.Bytes(), uint8(fl.Feed), false)
	}
	codes := map[engine.Code]bool{}
	for _, c := range engine.Codes {
		codes[c.Code] = true
	}
	f.Fuzz(func(t *testing.T, data []byte, id uint8, xlsx bool) {
		fuzzed := feed.ID(id % uint8(feed.Count))
		src := &connectors.Day{}
		for _, fid := range feed.All {
			in := connectors.Input{Feed: fid, Name: feed.Get(fid).Name + ".csv", Format: connectors.CSV}
			b := files[fid]
			if fid == fuzzed {
				b = data
				if xlsx {
					in.Name, in.Format = feed.Get(fid).Name+".xlsx", connectors.XLSX
				}
			}
			in.Open = connectors.Bytes(b)
			src.Inputs = append(src.Inputs, in)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		ecfg := engine.NewConfig()
		ecfg.Date, ecfg.Mem, ecfg.Workers = cfg.Date, mem, 2
		res, err := engine.Reconcile(context.Background(), ecfg, src)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		for _, fid := range feed.All {
			if c := res.Counts[fid]; c.Read != c.Valid+c.Rejected {
				t.Errorf("%s: %d rows read, %d valid + %d rejected", fid, c.Read, c.Valid, c.Rejected)
			}
		}
		for _, e := range res.Exceptions {
			if !codes[e.Code] {
				t.Errorf("unknown exception code %q", e.Code)
			}
		}
		for _, s := range res.Settlement {
			if !feed.ValidID(s.City) || !feed.ValidID(s.Outlet) || !feed.ValidID(s.Counter) {
				t.Errorf("settlement line of an invalid counter %q/%q/%q", s.City, s.Outlet, s.Counter)
			}
		}
		if !slices.IsSortedFunc(res.Counters, func(a, b engine.CounterInfo) int {
			return cmp.Or(strings.Compare(a.City, b.City), strings.Compare(a.Outlet, b.Outlet), strings.Compare(a.Counter, b.Counter))
		}) {
			t.Error("counters are not sorted")
		}
		res.Release()
		mem.AssertSize(t, 0)
	})
}
