package period

import (
	"context"
	"fmt"
	"strconv"

	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/xuri/excelize/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"settle/connectors/demo"
	"settle/engine"
	"settle/job"
	"settle/money"
	"settle/store"
)

// fakeSignOffs pins counter-days: date → (outlet, counter) → sign-off.
type fakeSignOffs map[string]map[DayKey]SignOff

func (f fakeSignOffs) Day(_ context.Context, date string) (map[DayKey]SignOff, error) {
	return f[date], nil
}

// runDay runs the demo source for date into st (anomalies 0.3, seed seed) and returns the run id.
func runDay(t *testing.T, st *store.Store, date string, seed int64, at time.Time) string {
	t.Helper()
	cfg := demo.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Anomalies, cfg.Seed = 3, 2, 0.3, seed
	d, _ := time.Parse(time.DateOnly, date)
	out, err := job.Run(context.Background(), job.Config{Date: d, Source: demo.New(cfg), Store: st, Engine: engine.NewConfig(), LockTimeout: time.Minute,
		FailOn: "never", Now: func() time.Time { return at }})
	if err != nil && !errors.Is(err, job.ErrIncomplete) {
		t.Fatalf("run %s: %v", date, err)
	}
	return out.RunID
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// sumDaily sums the daily CSVs (settlement or variance) of the runs each counter-day is
// expected to come from (pick), independently of Load. Lines come out as period_<name>.csv
// writes them: settlement with days after the keys, variance with days_short, days_over and
// worst_shortfall after the sums.
func sumDaily(t *testing.T, files [][2]string, pick func(date, counter string) string, name string, keyCols, sumCols []int, from, to string) []string {
	t.Helper()
	type acc struct {
		days, short, over int
		sums              []int64
		money             []bool
		worst             int64
	}
	by := map[string]*acc{}
	var keys []string
	for _, f := range files {
		date, dir := f[0], f[1]
		rows := readCSV(t, filepath.Join(dir, name+".csv"))
		for _, r := range rows[1:] {
			if pick(date, r[3]) != filepath.Base(dir) {
				continue
			}
			var kp []string
			for _, c := range keyCols {
				kp = append(kp, r[c])
			}
			k := strings.Join(kp, ",")
			a := by[k]
			if a == nil {
				a = &acc{sums: make([]int64, len(sumCols)), money: make([]bool, len(sumCols))}
				by[k] = a
				keys = append(keys, k)
			}
			a.days++
			for i, c := range sumCols {
				v := parseNum(t, r[c])
				a.money[i] = strings.Contains(r[c], ".")
				a.sums[i] += v
				if name == "variance" && i == len(sumCols)-1 {
					switch {
					case v < 0:
						a.short++
						a.worst = min(a.worst, v)
					case v > 0:
						a.over++
					}
				}
			}
		}
	}
	var out []string
	for _, k := range keys {
		a := by[k]
		line := from + "," + to + "," + k
		if name == "settlement" {
			line += "," + itoa(a.days)
		}
		for i, v := range a.sums {
			if a.money[i] {
				line += "," + money.Format(v)
			} else {
				line += "," + itoa(int(v))
			}
		}
		if name == "variance" {
			line += "," + itoa(a.short) + "," + itoa(a.over) + "," + money.Format(a.worst)
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func TestPeriodSumsAndPins(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	dates := []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"}
	runOf := map[string]string{} // the current run of each date
	for i, d := range dates {
		runOf[d] = runDay(t, st, d, 7, base.Add(time.Duration(i)*time.Minute))
	}
	// 2026-11-03 is rerun over other figures; one counter stays approved on the first run,
	// one is certified on the first run, the rest take the new current run.
	first03 := runOf["2026-11-03"]
	runOf["2026-11-03"] = runDay(t, st, "2026-11-03", 99, base.Add(time.Hour))
	if first03 == runOf["2026-11-03"] {
		t.Fatal("the rerun has the first run's id")
	}
	so := fakeSignOffs{"2026-11-03": {
		{"TY0001", "TY0001-01"}: {Status: SignApproved, RunID: first03},
		{"TY0002", "TY0002-02"}: {Status: SignCertified, RunID: first03},
		{"TY0003", "TY0003-01"}: {Status: SignOpen},
	}}
	pick := func(date, counter string) string {
		if date == "2026-11-03" && (counter == "TY0001-01" || counter == "TY0002-02") {
			return first03
		}
		return runOf[date]
	}
	current := map[string]string{}
	for _, d := range dates {
		rd, err := st.RunDir(d, runOf[d])
		if err != nil {
			t.Fatal(err)
		}
		current[d] = rd
	}

	out, err := Run(context.Background(), Options{StoreDir: dir, Period: Period{"2026-11-01", "2026-11-05"}, SignOffs: so,
		XLSX: true, PDF: true, Lang: "zh", ToolVersion: "test", Now: func() time.Time { return base.Add(2 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if out.Complete {
		t.Error("2026-11-05 has no run, yet the period is complete")
	}
	pdir := out.Dir

	// Every counter-day's lines, from the run it is expected to use: each date's current
	// run, and for 11-03 also the first run (the pinned counters' lines).
	var files [][2]string
	for _, d := range dates {
		files = append(files, [2]string{d, current[d]})
	}
	rd03, _ := st.RunDir("2026-11-03", first03)
	files = append(files, [2]string{"2026-11-03", rd03})
	for _, tc := range []struct {
		name             string
		keyCols, sumCols []int
	}{
		{"settlement", []int{1, 2, 3, 4, 5}, []int{6, 7, 8, 9}},
		{"variance", []int{1, 2, 3, 4}, []int{5, 6, 7}},
	} {
		want := sumDaily(t, files, pick, tc.name, tc.keyCols, tc.sumCols, "2026-11-01", "2026-11-05")
		rows := readCSV(t, filepath.Join(pdir, "period_"+tc.name+".csv"))
		var got []string
		for _, r := range rows[1:] {
			got = append(got, strings.Join(r, ","))
		}
		if !slices.Equal(got, want) {
			t.Errorf("period_%s.csv:\n got %d lines %q\nwant %d lines %q", tc.name, len(got), got, len(want), want)
		}
		if len(got) < 20 {
			t.Errorf("period_%s.csv: only %d lines", tc.name, len(got))
		}
	}
	shortSeen := false
	for _, r := range readCSV(t, filepath.Join(pdir, "period_variance.csv"))[1:] {
		shortSeen = shortSeen || r[9] != "0"
	}
	if !shortSeen {
		t.Error("no shortfall in the period: the demo's anomalies should make some")
	}

	// Which run each counter-day used.
	days := readCSV(t, filepath.Join(pdir, "period_days.csv"))
	for _, r := range days[1:] {
		if want := pick(r[0], r[3]); r[4] != want {
			t.Errorf("period_days %s %s: run %s, want %s", r[0], r[3], r[4], want)
		}
		if r[0] == "2026-11-03" && r[3] == "TY0001-01" && r[6] != SignApproved {
			t.Errorf("period_days: TY0001-01 on 11-03 is %s, want approved", r[6])
		}
	}
	var m Manifest
	data, err := os.ReadFile(filepath.Join(pdir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want03 := []string{first03, runOf["2026-11-03"]}
	slices.Sort(want03)
	if !slices.Equal(m.RunsUsed["2026-11-03"], want03) || len(m.RunsUsed) != 4 || m.RunsUsed["2026-11-01"][0] != runOf["2026-11-01"] {
		t.Errorf("runs_used = %v", m.RunsUsed)
	}
	if m.Status != store.StatusIncomplete || !slices.Equal(m.MissingDates, []string{"2026-11-05"}) || m.Findings.ByCode[CodeDayMissing] != 1 {
		t.Errorf("manifest status %s missing %v findings %v", m.Status, m.MissingDates, m.Findings.ByCode)
	}
	for rel, o := range m.Outputs {
		b, err := os.ReadFile(filepath.Join(pdir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != o.SHA256 || int64(len(b)) != o.Size {
			t.Errorf("%s: checksum differs from the manifest", rel)
		}
	}
	for _, rel := range []string{"period_settlement.parquet", "period_variance.parquet", "period_findings.parquet", "open_items.csv",
		"reports/city-period.xlsx", "reports/city-period.pdf", "reports/TY0001/outlet-period.xlsx", "reports/TY0002/outlet-period.pdf"} {
		if _, ok := m.Outputs[rel]; !ok {
			t.Errorf("no %s in the manifest", rel)
		}
	}
	if items := readCSV(t, filepath.Join(pdir, "open_items.csv")); len(items) != 1 || strings.Join(items[0], ",") != strings.Join(OpenItemsHeader, ",") {
		t.Errorf("open_items.csv = %q, want its header only (no item store yet)", items)
	}
	// current names the period run.
	ps, _ := store.OpenPeriods(dir)
	if cur, ok, err := ps.Current("2026-11-01_2026-11-05"); err != nil || !ok || filepath.Base(cur) != out.RunID {
		t.Errorf("current = %s %v %v", cur, ok, err)
	}

	// The city PDF's total line shows the period's totals as period_settlement.csv and
	// period_variance.csv add them up: transactions, gross, reversed, net, expected,
	// deposited, variance, in that order.
	sum := func(file string, cols ...int) []int64 {
		out := make([]int64, len(cols))
		for _, r := range readCSV(t, filepath.Join(pdir, file))[1:] {
			for i, c := range cols {
				out[i] += parseNum(t, r[c])
			}
		}
		return out
	}
	stot := sum("period_settlement.csv", 8, 9, 10, 11)
	vt := sum("period_variance.csv", 6, 7, 8)
	net := stot[3]
	text := pdfText(t, filepath.Join(pdir, "reports", "city-period.pdf"))
	want := []string{fmt.Sprint(stot[0])}
	for _, v := range append(stot[1:], vt...) {
		want = append(want, groupThousands(money.Format(v)))
	}
	var totalLine string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "合计") {
			totalLine = line
			break
		}
	}
	if got := strings.Fields(totalLine); len(got) < 2+len(want) || !slices.Equal(got[2:2+len(want)], want) {
		t.Errorf("city-period.pdf: total line %q, want the CSVs' totals %v:\n%s", totalLine, want, text)
	}
	checkXLSX(t, filepath.Join(pdir, "reports", "city-period.xlsx"), net)
	if !strings.Contains(text, "第 1 页 / 共") {
		t.Errorf("city-period.pdf has no page footer:\n%s", text)
	}
}

func parseNum(t *testing.T, s string) int64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var v int64
	var err error
	if strings.Contains(s, ".") {
		v, err = money.Parse(s)
	} else {
		for _, ch := range s {
			v = v*10 + int64(ch-'0')
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if neg {
		v = -v
	}
	return v
}

// groupThousands puts the reports' thousands separators into a money.Format amount.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// pdfText is the text pdftotext extracts; CI installs it (.ci/run), elsewhere the test skips.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not found: CI must install poppler-utils")
		}
		t.Skip("pdftotext not installed")
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// checkXLSX: the city workbook prints A4 landscape fit to one page wide with its heading rows
// repeated, ids are strings, and the by-outlet sheet's total row holds the net total.
func checkXLSX(t *testing.T, path string, net int64) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 3 {
		t.Fatalf("sheets %q, want by outlet, findings, open items", sheets)
	}
	lay, err := f.GetPageLayout(sheets[0])
	if err != nil || lay.Orientation == nil || *lay.Orientation != "landscape" || lay.Size == nil || *lay.Size != 9 ||
		lay.FitToWidth == nil || *lay.FitToWidth != 1 {
		t.Errorf("page layout %+v %v", lay, err)
	}
	titles := false
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" && dn.Scope == sheets[0] {
			titles = true
		}
	}
	if !titles {
		t.Error("no print titles on the first sheet")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if last[0] != "合计" {
		t.Fatalf("last row %q, want the total", last)
	}
	// Net is the 7th column; the cell holds yuan as a number.
	v, err := f.GetCellValue(sheets[0], fmt.Sprintf("G%d", len(rows)), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatFloat(float64(net)/100, 'f', -1, 64); v != want {
		t.Errorf("total net cell %q, want %s", v, want)
	}
	typ, _ := f.GetCellType(sheets[0], "B9")
	if typ == excelize.CellTypeNumber {
		t.Errorf("the outlet id cell B9 is a number")
	}
}
