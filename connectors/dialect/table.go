// Package dialect reads the two dialects of FEEDS.md — canonical CSV and the BOSS export
// (GBK or UTF-8, BOM, title lines, Chinese headers, XLSX, 合计 footer) — into a Table of
// text cells mapped to a feed's columns. It does not parse values; package engine does.
package dialect

import (
	"fmt"
)

// Table is one input's rows as text, with every data row's line and raw text kept for
// rejects.csv. Cells of a row are indexed by the feed's column index (feed.Feed.Columns):
// Cell(i, c) is the text under the header that maps to column c, trimmed of surrounding
// white space, "" when that column is absent or the row is short.
type Table struct {
	Name       string   // the input's name (as given to Read)
	HeaderLine int      // 1-based line of the header
	Missing    []string // required columns (canonical names) absent from the header
	Footer     *Footer  // nil when the input has no 合计/TOTAL line

	ncol  int      // number of feed columns
	lines []int    // line of each data row
	cells []string // len(lines)*ncol cells, row-major
	raws  []string // raw text of each data row, decoded to UTF-8, without its line end
}

// Footer is the 合计/TOTAL line: the row count in its second cell and the sum of amounts
// under the amount header.
type Footer struct {
	Line   int
	Count  string // second cell, trimmed
	Amount string // cell under the amount column, trimmed ("" when absent)
	Raw    string
}

// Len returns the number of data rows.
func (t *Table) Len() int { return len(t.lines) }

// Line returns the 1-based line (CSV: physical line where the record starts; XLSX: sheet row).
func (t *Table) Line(i int) int { return t.lines[i] }

// Cell returns row i's text for feed column c.
func (t *Table) Cell(i, c int) string { return t.cells[i*t.ncol+c] }

// Raw returns row i as read (CSV: the record's text; XLSX: cells joined as a CSV line).
func (t *Table) Raw(i int) string { return t.raws[i] }

// Error is a problem with a whole input, naming where it happened.
type Error struct {
	Name string // input name
	Line int    // 0 when not tied to a line
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
