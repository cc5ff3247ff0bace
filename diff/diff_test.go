package diff

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"

	"settle/diff/difftest"
	"settle/engine"
	"settle/internal/sheettext"
)

func TestLoadReleasesRecords(t *testing.T) {
	_, dirA, _ := publishPair(t, goldenCases[0])
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := load(dirA, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Settlement) != 4 || len(r.Variance) != 4 || len(r.Exceptions) != 3 {
		t.Errorf("loaded %d settlement, %d variance, %d exception lines; want 4, 4, 3", len(r.Settlement), len(r.Variance), len(r.Exceptions))
	}
	want := engine.Exception{Code: engine.CodeInvoiceGap, Severity: engine.SevWarning, City: "太原", Outlet: "TY0001", Counter: "TY0001-02", Feed: "invoice",
		Detail: "invoice code 0351: 00000008-00000009 missing", Source: "invoice.csv", Key: "0351/00000008-00000009"}
	if !slices.Contains(r.Exceptions, want) {
		t.Errorf("exceptions %+v lack %+v", r.Exceptions, want)
	}
	if r.Info.Name() != "2026-11-21@"+idA || r.Info.ToolVersion != "0.1.0" || r.Info.InputDigest != "inputs-1" {
		t.Errorf("info %+v", r.Info)
	}
}

func TestLoadErrors(t *testing.T) {
	_, dirA, _ := publishPair(t, goldenCases[0])
	tampered := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(tampered, os.DirFS(dirA)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(tampered, "variance.parquet"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	f.Close()
	noManifest := t.TempDir()
	missing := filepath.Join(noManifest, "missing")

	tests := []struct {
		dir    string
		is     error
		prefix string
	}{
		{missing, fs.ErrNotExist, fmt.Sprintf("run %q: stat ", missing)},
		{noManifest, ErrNotRun, fmt.Sprintf("run %q: not a published run (no manifest.json)", noManifest)},
		{tampered, nil, fmt.Sprintf("run %q: variance.parquet has sha256 ", tampered)},
	}
	for _, tt := range tests {
		_, err := Load(tt.dir)
		if err == nil || !strings.HasPrefix(err.Error(), tt.prefix) || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("Load(%q) = %v, want %q… wrapping %v", tt.dir, err, tt.prefix, tt.is)
		}
	}
}

func TestTermSafeAndTruncate(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain 太原", "plain 太原"},
		{"a\tb\nc\rd", "a b c d"},
		{"\x1b[31mred\x1b[0m", "\uFFFD[31mred\uFFFD[0m"},
		{"rtl\u202Eevil", "rtl\uFFFDevil"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		{"\u0085next", "\uFFFDnext"},
	} {
		if got := termSafe(tt.in); got != tt.want {
			t.Errorf("termSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"太原太原", 8, "太原太原"},
		{"太原太原", 7, "太原太…"},
		{"太原太原", 6, "太原…"},
	} {
		if got := truncate(tt.in, tt.max); got != tt.want || sheettext.Width(got) > tt.max {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestTableAlignsWideText checks that every line of a table has its columns at the same
// display offsets when cells mix Chinese and ASCII.
func TestTableAlignsWideText(t *testing.T) {
	var tb table
	tb.header = []string{"A", "B", "C"}
	tb.add([]string{"太原", "x", "1.00"}, 2)
	tb.add([]string{"TY", "大同大同", "-100.00"}, 2)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	tb.write(w)
	w.Flush()
	want := "A     B         C\n" +
		"太原  x            1.00\n" +
		"TY    大同大同  -100.00\n"
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestExceptionsOfOneIdentity(t *testing.T) {
	mk := func(detail, source string) engine.Exception {
		return engine.Exception{Code: engine.CodeDuplicateTxn, Severity: engine.SevError, Counter: "C1", Feed: "order", TxnID: "T1", Detail: detail, Source: source}
	}
	tests := []struct {
		name                     string
		a, b                     []engine.Exception
		added, resolved, changed []string // details (changed: new detail)
	}{
		{"identical twins, one goes", []engine.Exception{mk("d", "s:1"), mk("d", "s:1")}, []engine.Exception{mk("d", "s:1")}, nil, []string{"d"}, nil},
		{"identical twins, one comes", []engine.Exception{mk("d", "s:1")}, []engine.Exception{mk("d", "s:1"), mk("d", "s:1")}, []string{"d"}, nil, nil},
		{"equal content pairs first", []engine.Exception{mk("x", "s:1"), mk("y", "s:2")}, []engine.Exception{mk("y", "s:9")}, nil, []string{"x"}, nil},
		{"then the same source", []engine.Exception{mk("x", "s:1"), mk("y", "s:2")}, []engine.Exception{mk("z", "s:2")}, nil, []string{"x"}, []string{"z"}},
		{"then in order", []engine.Exception{mk("x", "s:1"), mk("y", "s:2")}, []engine.Exception{mk("w", "s:7"), mk("z", "s:8")}, nil, nil, []string{"w", "z"}},
		{"moved row, same content", []engine.Exception{mk("x", "s:1")}, []engine.Exception{mk("x", "s:4")}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var added, resolved, changed []string
			compareExceptions(tt.a, tt.b, exceptionSink{
				added:    func(e engine.Exception) { added = append(added, e.Detail) },
				resolved: func(e engine.Exception) { resolved = append(resolved, e.Detail) },
				changed:  func(ec ExceptionChange) { changed = append(changed, ec.New.Detail) },
			})
			if !slices.Equal(added, tt.added) || !slices.Equal(resolved, tt.resolved) || !slices.Equal(changed, tt.changed) {
				t.Errorf("added %q resolved %q changed %q; want %q %q %q", added, resolved, changed, tt.added, tt.resolved, tt.changed)
			}
		})
	}
}

// TestXLSXTextIsNeverAFormula writes exception texts that a spreadsheet would take for
// formulas or that XML cannot hold, and reads them back as strings.
func TestXLSXTextIsNeverAFormula(t *testing.T) {
	texts := []string{`=HYPERLINK("http://evil.example","x")`, "+1+2", "-3", "@SUM(A1)", "bell\x07", "bad\xffbyte"}
	d := &Diff{A: RunInfo{RunID: "a"}, B: RunInfo{RunID: "b"}}
	c := Counter{City: "=1+1", Outlet: "O", Counter: "C"}
	for i, s := range texts {
		c.Added = append(c.Added, engine.Exception{Code: "X", Severity: "ERROR", City: "=1+1", Outlet: "O", Counter: "C",
			TxnID: fmt.Sprint(i), Detail: s, Source: s, Amount: 1234567, HasAmount: true})
	}
	d.Counters = []Counter{c}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, d); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{`=HYPERLINK("http://evil.example","x")`, "+1+2", "-3", "@SUM(A1)", "bell\uFFFD", "bad\uFFFDbyte"}
	for i, w := range want {
		row := i + 2
		for _, col := range []string{"A", "J", "K"} {
			ref := fmt.Sprintf("%s%d", col, row)
			typ, _ := f.GetCellType(SheetExceptionsAdded, ref)
			formula, _ := f.GetCellFormula(SheetExceptionsAdded, ref)
			v, _ := f.GetCellValue(SheetExceptionsAdded, ref)
			wantV := w
			if col == "A" {
				wantV = "=1+1"
			}
			if formula != "" || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) || v != wantV {
				t.Errorf("%s = %q (type %v, formula %q), want the string %q", ref, v, typ, formula, wantV)
			}
		}
		ref := fmt.Sprintf("I%d", row)
		v, _ := f.GetCellValue(SheetExceptionsAdded, ref, excelize.Options{RawCellValue: true})
		style, _ := f.GetCellStyle(SheetExceptionsAdded, ref)
		st, _ := f.GetStyle(style)
		if v != "12345.67" || st == nil || st.CustomNumFmt == nil || *st.CustomNumFmt != MoneyFormat {
			t.Errorf("%s = %q in style %+v, want the number 12345.67 formatted %s", ref, v, st, MoneyFormat)
		}
	}
}

func TestSingleRunComparedWithItselfIsEqual(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	runDir, err := difftest.Publish(dir, baseResult(), difftest.Meta{RunID: idA, ToolVersion: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := loadPair(t, runDir, runDir)
	if d := Compare(a, b); !d.Equal() || d.Cause.Kind() != CauseNeither {
		t.Errorf("a run against itself: equal %v, cause %s", d.Equal(), d.Cause.Kind())
	}
}
