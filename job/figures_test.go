package job

import (
	"encoding/csv"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/connectors"
	"settle/connectors/file"
	"settle/engine"
	"settle/feed"
	"settle/fixtures"
	"settle/money"
	"settle/report"
	"settle/store"
)

// counterFigures are one counter's totals as one output states them, in fen.
type counterFigures struct {
	city, outlet                  string
	gross, reversed, net          int64
	expected, deposited, variance int64
	byMethod                      map[string][3]int64 // expected, deposited, variance
}

// TestOneSourceForFigures runs a generated day with faults the trust round is about (a
// row keyed to another outlet, a deposit file saved twice, a row of another counter in a
// counter's file) through the file connector and a whole run with reports, then checks that
// every output tells the same story: each counter under one outlet, its report's figures
// equal to its CSV lines, the roll-ups adding up to the CSV totals.
func TestOneSourceForFigures(t *testing.T) {
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed = day1, 20, 3, 11
	cfg.Anomalies, cfg.Dialect, cfg.Layout, cfg.FeedFaults = 0.5, fixtures.DialectCanonical, fixtures.LayoutCounter, true
	day, src := writeDay(t, cfg)
	// Three counters with no injected anomaly of their own, c in another outlet than a.
	busy := map[string]bool{}
	for _, r := range day.Truth {
		busy[r.Counter] = true
	}
	var quiet []connectors.Counter
	for _, id := range day.Roster() {
		if !busy[id.Counter] && day.RowCount(feed.Order, id.Counter) > 0 && day.RowCount(feed.LocalPayment, id.Counter) > 0 &&
			day.RowCount(feed.Deposit, id.Counter) > 0 {
			quiet = append(quiet, id)
		}
	}
	if len(quiet) < 3 || quiet[0].Outlet == quiet[len(quiet)-1].Outlet {
		t.Fatalf("want quiet counters in several outlets: %v", quiet)
	}
	a, b, c := quiet[0], quiet[1], quiet[len(quiet)-1]

	// a's order file: one row says it was taken at c's outlet.
	rekeyed := editRow(t, filepath.Join(src, day.FileName(feed.Order, a.Counter)), feed.ColOutlet, c.Outlet)
	// b's local payments: one row carries c's counter_id (a row of another counter in b's file).
	foreign := editRow(t, filepath.Join(src, day.FileName(feed.LocalPayment, b.Counter)), feed.ColCounter, c.Counter)
	// c's deposit file saved a second time in another folder.
	depName := day.FileName(feed.Deposit, c.Counter)
	dep, err := os.ReadFile(filepath.Join(src, depName))
	if err != nil {
		t.Fatal(err)
	}
	copyName := "resent/" + depName
	if err := os.MkdirAll(filepath.Dir(filepath.Join(src, copyName)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, copyName), dep, 0o644); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ecfg := engine.NewConfig()
	ecfg.Lang = "en"
	opts := report.NewOptions()
	opts.Lang, opts.Formats = "en", []string{report.FormatXLSX}
	out, err := Run(t.Context(), Config{Date: day1, Source: file.New(src), Store: st, Engine: ecfg, Render: Reports(opts),
		LockTimeout: time.Minute, FailOn: "never"})
	if err != nil && !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Run: %v", err)
	}
	dir := out.RunDir

	// The three faults were found, each under the counter it belongs to.
	var found []string
	for _, e := range readCSV(t, filepath.Join(dir, "exceptions.csv"))[1:] {
		switch {
		case e[1] == "COUNTER_KEY_CONFLICT" && e[7] == rekeyed:
			found = append(found, "conflict "+e[3]+"/"+e[4]+"/"+e[5])
		case e[1] == "DUPLICATE_INPUT":
			found = append(found, "duplicate input "+e[3]+"/"+e[4]+"/"+e[5]+" "+e[10]+" | "+e[9])
		case e[1] == "MALFORMED_ROW" && e[7] == foreign:
			found = append(found, "foreign "+e[3]+"/"+e[4]+"/"+e[5]+" | "+e[9])
		}
	}
	slices.Sort(found)
	want := []string{
		"conflict " + a.City + "/" + a.Outlet + "/" + a.Counter,
		"duplicate input " + c.City + "/" + c.Outlet + "/" + c.Counter + " " + copyName + " | byte-identical to " + depName + ", an earlier input of the feed; not read",
		"foreign " + b.City + "/" + b.Outlet + "/" + b.Counter + " | row of counter " + c.Counter + " in the input of counter " + b.Counter,
	}
	slices.Sort(want)
	if strings.Join(found, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(found, "\n  "), strings.Join(want, "\n  "))
	}

	// settlement.csv and variance.csv: one outlet per counter.
	csvFig := map[string]*counterFigures{}
	get := func(city, outlet, counter, what string) *counterFigures {
		f := csvFig[counter]
		if f == nil {
			f = &counterFigures{city: city, outlet: outlet, byMethod: map[string][3]int64{}}
			csvFig[counter] = f
		}
		if f.city != city || f.outlet != outlet {
			t.Errorf("%s: counter %s under %s/%s and %s/%s", what, counter, f.city, f.outlet, city, outlet)
		}
		return f
	}
	var sumNet, sumVar int64
	for _, l := range readCSV(t, filepath.Join(dir, "settlement.csv"))[1:] {
		f := get(l[1], l[2], l[3], "settlement.csv")
		f.gross += fenOf(t, l[7])
		f.reversed += fenOf(t, l[8])
		f.net += fenOf(t, l[9])
		sumNet += fenOf(t, l[9])
	}
	for _, l := range readCSV(t, filepath.Join(dir, "variance.csv"))[1:] {
		f := get(l[1], l[2], l[3], "variance.csv")
		e, d, v := fenOf(t, l[5]), fenOf(t, l[6]), fenOf(t, l[7])
		f.expected += e
		f.deposited += d
		f.variance += v
		f.byMethod[l[4]] = [3]int64{e, d, v}
		sumVar += v
	}
	// Findings the engine attaches to a counter carry its outlet (row-level findings of rows
	// set aside carry the row's keys as read).
	for _, e := range readCSV(t, filepath.Join(dir, "exceptions.csv"))[1:] {
		if f := csvFig[e[5]]; f != nil && !slices.Contains([]string{"MALFORMED_ROW", "WRONG_DATE", "DUPLICATE_TXN"}, e[1]) && (e[3] != f.city || e[4] != f.outlet) {
			t.Errorf("exceptions.csv: %s of counter %s under %s/%s, settlement under %s/%s", e[1], e[5], e[3], e[4], f.city, f.outlet)
		}
	}
	if f := csvFig[a.Counter]; f == nil || f.outlet != a.Outlet {
		t.Fatalf("counter %s with the re-keyed row: %+v, want outlet %s", a.Counter, f, a.Outlet)
	}

	// Reports: one workbook per counter, in its outlet's folder; its totals are the CSVs'.
	reports := map[string]string{}
	err = filepath.WalkDir(filepath.Join(dir, "reports"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".xlsx") || de.Name() == "outlet.xlsx" || de.Name() == "city.xlsx" {
			return err
		}
		counter := strings.TrimSuffix(de.Name(), ".xlsx")
		outlet := filepath.Base(filepath.Dir(p))
		if o, ok := reports[counter]; ok {
			t.Errorf("counter %s has reports under %s and %s", counter, o, outlet)
		}
		reports[counter] = outlet
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for counter, f := range csvFig {
		if reports[counter] != f.outlet {
			t.Errorf("counter %s: report under %q, CSV under %q", counter, reports[counter], f.outlet)
		}
		x := openBook(t, filepath.Join(dir, "reports", f.outlet, counter+".xlsx"))
		rows, err := x.GetRows("Summary", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		var rev [3]int64
		var exp, dep int64
		for i, r := range rows {
			if len(r) > 2 && r[0] == "Total" && r[1] == "Gross" {
				for k := 0; k < 3; k++ {
					rev[k] = fenOf(t, rows[i+k][len(rows[i+k])-1])
				}
			}
			if len(r) > 3 && r[0] == "Total" && r[1] == "" {
				exp, dep = fenOf(t, r[2]), fenOf(t, r[3])
			}
		}
		x.Close()
		if rev != [3]int64{f.gross, f.reversed, f.net} || exp != f.expected || dep != f.deposited {
			t.Errorf("counter %s: report gross/reversed/net %v expected %d deposited %d; CSV %d/%d/%d, %d, %d",
				counter, rev, exp, dep, f.gross, f.reversed, f.net, f.expected, f.deposited)
		}
	}

	// The city roll-up: a row per counter equal to its CSV lines, and totals equal to the CSVs'.
	x := openBook(t, filepath.Join(dir, "reports", "city.xlsx"))
	defer x.Close()
	rows, err := x.GetRows("Counters", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	head := rows[2]
	netCol := slices.Index(head, "Total")
	names, err := report.NamesFor("en")
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]int{} // pay method code → its Expected column
	for i, g := range rows[1] {
		if i > netCol && g != "" && i+2 < len(head) && head[i] == "Expected" {
			for _, m := range feed.PayMethods.Values {
				if names.PayMethod(m) == g {
					methods[m] = i
				}
			}
		}
	}
	if netCol < 0 || len(methods) != len(feed.PayMethods.Values) {
		t.Fatalf("city roll-up header not understood: %q / %q", rows[1], head)
	}
	seen := map[string]bool{}
	var rollNet, rollVar int64
	for _, r := range rows[3:] {
		if r[0] == "Total" {
			if got := fenOf(t, r[netCol]); got != sumNet {
				t.Errorf("city roll-up total net %d, settlement.csv %d", got, sumNet)
			}
			continue
		}
		counter := r[2]
		f := csvFig[counter]
		if f == nil {
			f = &counterFigures{city: r[0], outlet: r[1], byMethod: map[string][3]int64{}}
		}
		if seen[counter] {
			t.Errorf("city roll-up lists counter %s twice", counter)
		}
		seen[counter] = true
		if r[0] != f.city || r[1] != f.outlet {
			t.Errorf("city roll-up: %s under %s/%s, CSV %s/%s", counter, r[0], r[1], f.city, f.outlet)
		}
		net := fenOf(t, r[netCol])
		rollNet += net
		if net != f.net {
			t.Errorf("city roll-up: %s net %d, settlement.csv %d", counter, net, f.net)
		}
		for m, col := range methods {
			got := [3]int64{fenOf(t, r[col]), fenOf(t, r[col+1]), fenOf(t, r[col+2])}
			rollVar += got[2]
			if got != f.byMethod[m] {
				t.Errorf("city roll-up: %s %s expected/deposited/variance %v, variance.csv %v", counter, m, got, f.byMethod[m])
			}
		}
	}
	if rollNet != sumNet || rollVar != sumVar {
		t.Errorf("city roll-up counters add up to net %d variance %d; CSVs %d, %d", rollNet, rollVar, sumNet, sumVar)
	}
	for counter := range csvFig {
		if !seen[counter] {
			t.Errorf("counter %s of settlement.csv is not in the city roll-up", counter)
		}
	}
	// Outlets: each outlet's net is its counters' (in the CSV), and no counter is in two.
	orows, err := x.GetRows("Outlets", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	outletNet := map[string]int64{}
	for _, f := range csvFig {
		outletNet[f.outlet] += f.net
	}
	for _, r := range orows[3:] {
		if r[1] == "" {
			continue // a total row
		}
		if got := fenOf(t, r[netCol]); got != outletNet[r[1]] {
			t.Errorf("city roll-up: outlet %s net %d, settlement.csv %d", r[1], got, outletNet[r[1]])
		}
	}
}

// editRow sets column col of the first data row of a canonical CSV file to value and
// returns the row's txn_id.
func editRow(t *testing.T, path string, col int, value string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 {
		t.Fatalf("%s: no data row", path)
	}
	txn := slices.Index(rows[0], "txn_id")
	rows[1][col] = value
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return rows[1][txn]
}

// fenOf reads an amount as a CSV (1234.50, -12.00) or a workbook cell (a number in yuan)
// states it.
func fenOf(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	neg := strings.HasPrefix(s, "-")
	if v, err := money.Parse(strings.TrimPrefix(s, "-")); err == nil {
		if neg {
			return -v
		}
		return v
	}
	// A workbook number: yuan as a float, read back for comparison only.
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return int64(math.Round(v * 100))
}

func openBook(t *testing.T, path string) *excelize.File {
	t.Helper()
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
