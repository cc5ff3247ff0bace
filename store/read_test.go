package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
)

// TestReadTablesRoundTrip: ReadTables gives back the rows WriteResult wrote and releases
// every Arrow record.
func TestReadTablesRoundTrip(t *testing.T) {
	res := testResult()
	dir := publishResult(t, res, testMeta.RunID, &testMeta)
	st, err := OpenStored(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dir() != dir || st.Manifest().RunID != testMeta.RunID {
		t.Errorf("OpenStored = %q, run %q", st.Dir(), st.Manifest().RunID)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got, err := st.ReadTables(mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Settlement) != len(res.Settlement) || len(got.Variance) != len(res.Variance) || len(got.Exceptions) != len(res.Exceptions) {
		t.Fatalf("read %d/%d/%d rows, wrote %d/%d/%d", len(got.Settlement), len(got.Variance), len(got.Exceptions),
			len(res.Settlement), len(res.Variance), len(res.Exceptions))
	}
	// WriteResult sorts the rows, so compare what sorting keeps: counts and totals.
	sum := func(f func(i int) int64, n int) (s int64) {
		for i := range n {
			s += f(i)
		}
		return s
	}
	if g, w := sum(func(i int) int64 { return got.Settlement[i].Net }, len(got.Settlement)),
		sum(func(i int) int64 { return res.Settlement[i].Net }, len(res.Settlement)); g != w {
		t.Errorf("settlement net %d, wrote %d", g, w)
	}
	if g, w := sum(func(i int) int64 { return got.Variance[i].Variance }, len(got.Variance)),
		sum(func(i int) int64 { return res.Variance[i].Variance }, len(res.Variance)); g != w {
		t.Errorf("variance %d, wrote %d", g, w)
	}
	amounts := func(exs []engine.Exception) (n int, s int64) {
		for _, e := range exs {
			if e.HasAmount {
				n, s = n+1, s+e.Amount
			}
		}
		return n, s
	}
	gn, gs := amounts(got.Exceptions)
	if wn, ws := amounts(res.Exceptions); gn != wn || gs != ws {
		t.Errorf("exceptions: %d amounts summing %d, wrote %d summing %d", gn, gs, wn, ws)
	}
}

func TestOpenStoredAndReadTableErrors(t *testing.T) {
	dir := publishResult(t, testResult(), testMeta.RunID, &testMeta)
	tampered := filepath.Join(t.TempDir(), "tampered")
	if err := os.CopyFS(tampered, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(tampered, Variance.File()), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	f.Close()
	noManifest := t.TempDir()
	missing := filepath.Join(noManifest, "missing")

	for _, tc := range []struct {
		dir     string
		table   Table
		wantIs  error
		wantErr string // prefix
	}{
		{missing, "", fs.ErrNotExist, fmt.Sprintf("run %q: stat %s: no such file or directory", missing, missing)},
		{noManifest, "", ErrNotRun, fmt.Sprintf("run %q: not a published run (no manifest.json)", noManifest)},
		{tampered, Variance, nil, fmt.Sprintf("run %q: variance.parquet has sha256 ", tampered)},
		{dir, Table("rejects"), nil, fmt.Sprintf("run %q: unknown table \"rejects\"", dir)},
	} {
		st, err := OpenStored(tc.dir)
		if err == nil {
			_, err = st.ReadTable(tc.table, memory.NewGoAllocator())
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) || (tc.wantIs != nil && !errors.Is(err, tc.wantIs)) {
			t.Errorf("%s %q: err = %v, want %s (is %v)", tc.dir, tc.table, err, tc.wantErr, tc.wantIs)
		}
	}
}
