package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/diff/difftest"
	"settle/engine"
	"settle/feed"
	"settle/money"
)

const diffDate = "2026-11-21"

// diffResult is a hand-made day of two counters; short is DT0002-01's cash shortfall in fen
// (0: the deposit was corrected).
func diffResult(short int64) *engine.Result {
	res := &engine.Result{
		Date:     time.Date(2026, 11, 21, 0, 0, 0, 0, engine.Shanghai),
		Complete: true,
		Settlement: []engine.SettlementLine{
			{City: "大同", Outlet: "DT0002", Counter: "DT0002-01", Category: "CARD", PayMethod: "CASH", TxnCount: 2, Gross: 10000, Net: 10000},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", Category: "ORDER_FEE", PayMethod: "CASH", TxnCount: 3, Gross: 15000, Net: 15000},
		},
		Variance: []engine.VarianceLine{
			{City: "大同", Outlet: "DT0002", Counter: "DT0002-01", PayMethod: "CASH", Expected: 10000, Deposited: 10000 - short, Variance: -short},
			{City: "太原", Outlet: "TY0001", Counter: "TY0001-01", PayMethod: "CASH", Expected: 15000, Deposited: 15000},
		},
		Exceptions: []engine.Exception{
			{Code: engine.CodeRemotePending, Severity: "WARNING", City: "太原", Outlet: "TY0001", Counter: "TY0001-01", Feed: "remote_payment",
				TxnID: "R100", Amount: 5000, HasAmount: true, Detail: "异地缴费待清算", Source: "remote_payment.csv:4"},
		},
		InputDigest: "inputs",
	}
	if short != 0 {
		res.Exceptions = append(res.Exceptions, engine.Exception{Code: engine.CodeDepositShort, Severity: "ERROR", City: "大同", Outlet: "DT0002",
			Counter: "DT0002-01", Feed: "deposit", Amount: -short, HasAmount: true, Detail: "CASH short", Source: "deposit.csv:2", Key: "CASH"})
		res.InputDigest = "inputs-short"
	}
	for _, id := range feed.All {
		res.FeedDigests[id] = id.String()
	}
	res.FeedDigests[feed.Deposit] = res.InputDigest
	return res
}

// diffStore publishes three runs of diffDate: r1 with a shortfall, r2 and r3 corrected (the
// same result twice). r3 is current.
func diffStore(t *testing.T) (dir string, runs map[string]string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "store")
	runs = map[string]string{}
	for i, short := range []int64{1000, 0, 0} {
		id := []string{"20261122T010000Z-11111111", "20261122T020000Z-22222222", "20261122T030000Z-33333333"}[i]
		runDir, err := difftest.Publish(dir, diffResult(short), difftest.Meta{RunID: id, ToolVersion: "0.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		runs[id] = runDir
	}
	return dir, runs
}

func TestDiffExitCodes(t *testing.T) {
	st, runs := diffStore(t)
	r1, r2, r3 := diffDate+"@20261122T010000Z-11111111", diffDate+"@20261122T020000Z-22222222", diffDate+"@20261122T030000Z-33333333"
	lonely := filepath.Join(t.TempDir(), "lonely")
	if _, err := difftest.Publish(lonely, diffResult(0), difftest.Meta{RunID: "only", ToolVersion: "0.1.0"}); err != nil {
		t.Fatal(err)
	}
	notRun := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a part of stdout
		stderr string // a part of stderr; "" means stderr must be empty
	}{
		{"equal reruns", []string{r2, r3, "--store", st}, exitOK, "no differences", ""},
		{"lone date: current against the run before", []string{diffDate, "--store", st}, exitOK, "no differences", ""},
		{"different", []string{"--store", st, r1, r2}, exitFailed, "resolved  DEPOSIT_SHORT", ""},
		{"lone DATE@RUN_ID: against the run before", []string{r2, "--store", st}, exitFailed, "20261122T010000Z-11111111", ""},
		{"run directories", []string{runs["20261122T010000Z-11111111"], runs["20261122T030000Z-33333333"]}, exitFailed, "DEPOSIT_SHORT", ""},
		{"date against a run", []string{r1, diffDate, "--store", st, "--format", "csv"}, exitFailed, "exception,resolved", ""},
		{"flags with =", []string{r1, r3, "--store=" + st, "--format=json"}, exitFailed, `"equal": false`, ""},
		{"missing run", []string{r1, diffDate + "@20261122T040000Z-44444444", "--store", st}, exitUsage, "",
			`no run 2026-11-21@20261122T040000Z-44444444 in store "` + st + `"`},
		{"missing date", []string{"2026-11-30", "--store", st}, exitUsage, "", `no run of 2026-11-30 in store "` + st + `"`},
		{"missing run directory", []string{filepath.Join(st, "nope"), r1, "--store", st}, exitUsage, "", "nope"},
		{"directory without a manifest", []string{notRun, r1, "--store", st}, exitUsage, "", "not a published run"},
		{"no run before", []string{r1, "--store", st}, exitUsage, "", "has no run before it"},
		{"a single run", []string{diffDate, "--store", lonely}, exitOK, "no differences", "2026-11-21 has a single run, only"},
		{"missing store", []string{diffDate, "--store", filepath.Join(st, "absent")}, exitUsage, "", "does not exist"},
		{"no runs", []string{"--store", st}, exitUsage, "", "one or two runs"},
		{"three runs", []string{r1, r2, r3, "--store", st}, exitUsage, "", "one or two runs"},
		{"bad format", []string{r1, r2, "--store", st, "--format", "xml"}, exitUsage, "", `--format "xml"`},
		{"unknown trailing flag", []string{r1, r2, "--colour", "x"}, exitUsage, "", "flag provided but not defined: -colour"},
		{"flag without its value", []string{r1, r2, "--store"}, exitUsage, "", "flag needs an argument: -store"},
		{"not a date", []string{"21/11/2026", r1, "--store", st}, exitUsage, "", `no run "21/11/2026"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := settle(t, append([]string{"diff"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) ||
				(tt.stderr == "" && stderr != "") || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestDiffJSONNamesOnlyTheChange checks the JSON of a corrected deposit: the resolved
// shortfall and the variance line of that counter, and nothing of the other.
func TestDiffJSONNamesOnlyTheChange(t *testing.T) {
	st, _ := diffStore(t)
	code, stdout, stderr := settle(t, "diff", diffDate+"@20261122T010000Z-11111111", diffDate+"@20261122T020000Z-22222222",
		"--store", st, "--format", "json")
	if code != exitFailed || stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 1 and nothing", code, stderr)
	}
	var got struct {
		Equal bool `json:"equal"`
		Cause struct {
			Kind  string `json:"kind"`
			Feeds []struct {
				Feed string `json:"feed"`
			} `json:"feeds"`
		} `json:"cause"`
		Counters []struct {
			Counter  string `json:"counter_id"`
			Variance []struct {
				PayMethod string `json:"pay_method"`
				Deposited struct {
					Old, New, Delta string
				} `json:"deposited"`
			} `json:"variance"`
			Exceptions struct {
				Added, Resolved, Changed []struct {
					Code   string  `json:"code"`
					Key    string  `json:"key"`
					Amount *string `json:"amount"`
				}
			} `json:"exceptions"`
		} `json:"counters"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if got.Equal || got.Cause.Kind != "inputs" || len(got.Cause.Feeds) != 1 || got.Cause.Feeds[0].Feed != "deposit" {
		t.Errorf("equal %v, cause %+v; want false, inputs of deposit", got.Equal, got.Cause)
	}
	if len(got.Counters) != 1 {
		t.Fatalf("%d counters in the diff, want DT0002-01 alone:\n%s", len(got.Counters), stdout)
	}
	c := got.Counters[0]
	ex := c.Exceptions
	if c.Counter != "DT0002-01" || len(ex.Added) != 0 || len(ex.Changed) != 0 || len(ex.Resolved) != 1 ||
		ex.Resolved[0].Code != "DEPOSIT_SHORT" || ex.Resolved[0].Key != "CASH" || *ex.Resolved[0].Amount != "-10.00" {
		t.Errorf("counter %s exceptions %+v; want DT0002-01 with the DEPOSIT_SHORT of CASH (-10.00) resolved", c.Counter, ex)
	}
	if len(c.Variance) != 1 || c.Variance[0].PayMethod != "CASH" || c.Variance[0].Deposited.Old != "90.00" ||
		c.Variance[0].Deposited.New != "100.00" || c.Variance[0].Deposited.Delta != "10.00" {
		t.Errorf("variance %+v; want CASH deposited 90.00 → 100.00 (+10.00)", c.Variance)
	}
}

func TestDiffXLSXOut(t *testing.T) {
	st, _ := diffStore(t)
	out := filepath.Join(t.TempDir(), "diff.xlsx")
	code, stdout, stderr := settle(t, "diff", diffDate+"@20261122T010000Z-11111111", diffDate, "--store", st, "--format", "xlsx", "--out", out)
	if code != exitFailed || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and nothing printed", code, stdout, stderr)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Exceptions resolved")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][3] != "DEPOSIT_SHORT" {
		t.Errorf("Exceptions resolved = %q, want the header and the DEPOSIT_SHORT", rows)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d entries, want diff.xlsx alone (no temporary file left)", len(entries))
	}
}

// TestDiffCorrectedDepositEndToEnd runs settle over a generated day, corrects the deposit
// row of one injected shortfall, runs again, and again over the same files: the diff of the
// first two names the resolved shortfall of that counter and nothing else; the lone-DATE
// diff of the two identical reruns is equal.
func TestDiffCorrectedDepositEndToEnd(t *testing.T) {
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	if code, _, stderr := settle(t, "fixtures", "generate", "--date", diffDate, "--out", src, "--outlets", "4",
		"--counters", "3", "--anomalies", "0.5", "--seed", "7"); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	// The first DEPOSIT_SHORT of the ground truth.
	truth := readCSV(t, filepath.Join(src, "truth.csv"))
	var counter string
	var short int64
	for _, r := range truth[1:] {
		if r[0] == "DEPOSIT_SHORT" {
			counter = r[4]
			v, err := money.Parse(strings.TrimPrefix(r[7], "-"))
			if err != nil {
				t.Fatal(err)
			}
			short = v
			break
		}
	}
	if counter == "" {
		t.Fatal("the generated day has no DEPOSIT_SHORT; pick another seed")
	}
	// Run ids sort by their start second: each run starts in a second of its own, so that
	// the run "before" the current one is the one run before it.
	runSettle := func() {
		t.Helper()
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		if code, _, stderr := settle(t, "run", "--date", diffDate, "--source", src, "--store", st, "--formats", "", "--quiet"); code != 0 {
			t.Fatalf("run: exit %d: %s", code, stderr)
		}
	}
	runSettle()
	firstID := currentID(t, st)
	// The pay method of the shortfall: the variance line of that counter that is -short.
	var pay string
	variance := readCSV(t, filepath.Join(st, diffDate, "current", "variance.csv"))
	for _, r := range variance[1:] { // biz_date,city,outlet_id,counter_id,pay_method,expected,deposited,variance
		if r[3] == counter && r[7] == money.Format(-short) {
			pay = r[4]
		}
	}
	if pay == "" {
		t.Fatalf("no variance line of %s is %s", counter, money.Format(-short))
	}

	// Correct the deposit: the first row of that counter and pay method gets the missing amount.
	depPath := filepath.Join(src, "deposit.csv")
	deposit := readCSV(t, depPath)
	col := func(name string) int {
		for i, h := range deposit[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("deposit.csv has no column %q: %q", name, deposit[0])
		return -1
	}
	ci, pi, ai := col("counter_id"), col("pay_method"), col("amount")
	fixed := false
	for _, r := range deposit[1:] {
		if len(r) > ai && r[ci] == counter && r[pi] == pay {
			v, err := money.Parse(r[ai])
			if err != nil {
				t.Fatal(err)
			}
			r[ai], fixed = money.Format(v+short), true
			break
		}
	}
	if !fixed {
		t.Fatalf("no deposit row of %s %s", counter, pay)
	}
	// And the footer's total with it.
	for _, r := range deposit[1:] {
		if (r[0] == "TOTAL" || r[0] == "合计") && len(r) > ai && r[ai] != "" {
			v, err := money.Parse(r[ai])
			if err != nil {
				t.Fatal(err)
			}
			r[ai] = money.Format(v + short)
		}
	}
	writeCSV(t, depPath, deposit)
	runSettle()
	secondID := currentID(t, st)

	code, stdout, stderr := settle(t, "diff", diffDate+"@"+firstID, diffDate+"@"+secondID, "--store", st, "--format", "json")
	if code != exitFailed || stderr != "" {
		t.Fatalf("diff: exit %d, stderr %q", code, stderr)
	}
	var got struct {
		Counters []struct {
			Counter    string `json:"counter_id"`
			Settlement []any  `json:"settlement"`
			Exceptions struct {
				Added    []any `json:"added"`
				Changed  []any `json:"changed"`
				Resolved []struct {
					Code string `json:"code"`
				} `json:"resolved"`
			} `json:"exceptions"`
		} `json:"counters"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Counters) != 1 || got.Counters[0].Counter != counter {
		t.Fatalf("diff names %d counters, want %s alone:\n%s", len(got.Counters), counter, stdout)
	}
	c := got.Counters[0]
	if len(c.Settlement) != 0 || len(c.Exceptions.Added) != 0 || len(c.Exceptions.Changed) != 0 ||
		len(c.Exceptions.Resolved) != 1 || c.Exceptions.Resolved[0].Code != "DEPOSIT_SHORT" {
		t.Errorf("diff of %s: %s\nwant the DEPOSIT_SHORT resolved and nothing else", counter, stdout)
	}

	// A rerun over the same files.
	runSettle()
	if id := currentID(t, st); id == secondID {
		t.Fatalf("the rerun replaced run %s", id)
	}
	if code, stdout, stderr := settle(t, "diff", diffDate, "--store", st); code != exitOK {
		t.Errorf("diff of two identical reruns: exit %d\n%s%s", code, stdout, stderr)
	}
}

func currentID(t *testing.T, st string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(st, diffDate, "current"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(target)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func writeCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDiffClockSetBack: three runs published with the clock going backwards, so each id
// sorts before the run published before it. A lone DATE compares the run published last
// (current) with the one published before it, not with the run whose id sorts before.
func TestDiffClockSetBack(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	ids := []string{"20261122T030000Z-33333333", "20261122T020000Z-22222222", "20261122T010000Z-11111111"}
	for i, short := range []int64{1000, 0, 0} { // the shortfall first, then corrected twice
		if _, err := difftest.Publish(st, diffResult(short), difftest.Meta{RunID: ids[i], ToolVersion: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := currentID(t, st); got != ids[2] {
		t.Fatalf("current = %s, want the run published last, %s", got, ids[2])
	}
	code, stdout, stderr := settle(t, "diff", diffDate, "--store", st)
	if code != exitOK || !strings.Contains(stdout, "no differences") || stderr != "" ||
		!strings.Contains(stdout, ids[1]) || !strings.Contains(stdout, ids[2]) {
		t.Errorf("diff %s: exit %d, stdout %q, stderr %q; want exit 0 comparing %s with %s", diffDate, code, stdout, stderr, ids[1], ids[2])
	}
	code, stdout, stderr = settle(t, "diff", diffDate+"@"+ids[1], "--store", st)
	if code != exitFailed || !strings.Contains(stdout, "resolved  DEPOSIT_SHORT") || !strings.Contains(stdout, ids[0]) {
		t.Errorf("diff %s@%s: exit %d, stdout %q, stderr %q; want exit 1, the shortfall of %s resolved", diffDate, ids[1], code, stdout, stderr, ids[0])
	}
	code, _, stderr = settle(t, "diff", diffDate+"@"+ids[0], "--store", st)
	if code != exitUsage || !strings.Contains(stderr, "has no run before it") {
		t.Errorf("diff of the run published first: exit %d, stderr %q; want exit 2, no run before it", code, stderr)
	}
}
