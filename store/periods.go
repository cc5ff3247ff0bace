package store

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// PeriodsDir is the directory of the period reports inside a store (PERIOD.md "Outputs").
const PeriodsDir = "periods"

// OpenPeriods opens <storeDir>/periods as a store whose "dates" are periods named
// "<from>_<to>" (two YYYY-MM-DD dates, from ≤ to): Lock, Begin, Publish, Current and Runs
// work on <storeDir>/periods/<from>_<to>/ exactly as on a date's directory, so a period's
// report is published like a day's run (temporary name, rename, current link, lock).
func OpenPeriods(storeDir string) (*Store, error) {
	s, err := Open(filepath.Join(storeDir, PeriodsDir))
	if err != nil {
		return nil, err
	}
	s.check = CheckPeriodName
	return s, nil
}

// CheckPeriodName accepts "<from>_<to>": two YYYY-MM-DD dates with from ≤ to.
func CheckPeriodName(name string) error {
	from, to, ok := strings.Cut(name, "_")
	if !ok || checkDate(from) != nil || checkDate(to) != nil || from > to {
		return fmt.Errorf("invalid period %q: want YYYY-MM-DD_YYYY-MM-DD, from not after to", name)
	}
	return nil
}

// WriteRunFile creates rel in the run and fills it with write, through a buffer; an error
// names the file.
func WriteRunFile(run *Run, rel string, write func(io.Writer) error) error {
	return writeFile(run, rel, write)
}

// Checksums returns the sha256 and size of every file of the run written so far but the
// manifest, keyed by '/'-separated relative path: what WriteManifest records as Outputs, for
// runs with a manifest of their own (the period reports'). Every file must be closed.
func Checksums(run *Run) (map[string]Output, error) {
	run.mu.Lock()
	open := run.open
	run.mu.Unlock()
	if open > 0 {
		return nil, fmt.Errorf("checksums: %d output files still open", open)
	}
	return checksums(run.Dir())
}

// ColumnKind is how a column of a Table written by WriteTableFiles is typed and formatted.
type ColumnKind int

// Column kinds: text (string), a count (int64, decimal) and money (int64 fen, yuan with two
// decimals in CSV, field metadata unit=fen in Parquet).
const (
	ColText ColumnKind = iota
	ColCount
	ColMoney
	ColMoneyNull // ColMoney, or null (empty in CSV): Add it a nil
)

// OutTable is a result table beyond a day's three (the period reports'): its rows are
// written, sorted as text column by column, as CSV (OUTPUTS.md's conventions) and Parquet.
type OutTable struct{ t *table }

// NewOutTable makes an empty table named name with the columns header; kinds names the
// columns that are not text.
func NewOutTable(name string, header []string, kinds map[string]ColumnKind) *OutTable {
	k := map[string]colKind{}
	for n, v := range kinds {
		switch v {
		case ColCount:
			k[n] = kCount
		case ColMoney:
			k[n] = kMoney
		case ColMoneyNull:
			k[n] = kMoneyNull
		}
	}
	cols := columns(header, nil, k)
	return &OutTable{t: &table{name: name, cols: cols, csvCols: len(cols)}}
}

// Add appends a row: a string for each text column, an int64 for each other one, nil for a
// null in a ColMoneyNull column.
func (o *OutTable) Add(vals ...any) {
	row := make([]cell, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			row[i] = text(x)
		case int64:
			row[i] = num(x)
		case int:
			row[i] = num(int64(x))
		case nil:
			row[i] = cell{null: true}
		default:
			panic(fmt.Sprintf("OutTable.Add: column %d: %T", i, v))
		}
	}
	o.t.add(row...)
}

// sort orders the rows as table.sort does (column by column, as text), comparing each
// row's texts joined by NUL: one comparison of two strings instead of up to one per column
// (a province-month's period_days has 750,000 rows). NUL sorts below every other byte, so
// the order is the same; a text holding a NUL falls back to table.sort.
func (o *OutTable) sort() {
	t := o.t
	keys := make([]string, len(t.rows))
	for i, texts := range t.texts {
		for _, s := range texts {
			if strings.IndexByte(s, 0) >= 0 {
				t.sort()
				return
			}
		}
		keys[i] = strings.Join(texts, "\x00")
	}
	idx := make([]int, len(t.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	rows, texts := make([][]cell, len(idx)), make([][]string, len(idx))
	for i, j := range idx {
		rows[i], texts[i] = t.rows[j], t.texts[j]
	}
	t.rows, t.texts = rows, texts
}

// Write sorts the rows and writes <name>.csv and, when parquet, <name>.parquet into the run.
func (o *OutTable) Write(run *Run, parquet bool) error {
	o.sort()
	if err := writeFile(run, o.t.name+".csv", o.t.writeCSV); err != nil {
		return err
	}
	if !parquet {
		return nil
	}
	return writeFile(run, o.t.name+".parquet", o.t.writeParquet)
}
