// Package dialect reads the two dialects of FEEDS.md — canonical CSV and the BOSS export
// (GBK or UTF-8, BOM, title lines, Chinese headers, XLSX, 合计 footer) — into a Table of
// text cells mapped to a feed's columns. It does not parse values; package engine does.
package dialect

import (
	"fmt"
	"math"
)

// Table is one input's rows as text, with every data row's line and raw text kept for
// rejects.csv. Cells of a row are indexed by the feed's column index (feed.Feed.Columns):
// Cell(i, c) is the text under the header that maps to column c, trimmed of surrounding
// white space, "" when that column is absent or the row is short.
type Table struct {
	Name        string // the input's name (as given to Read)
	HeaderLine  int    // 1-based line of the (first) header; 0 when there is none
	HeaderSheet int32  // the part (XLSX sheet) of HeaderLine, for Source
	// Missing, when the input has no header, lists the required columns (canonical names)
	// absent from Near, the line that held the most of the feed's columns (at least four),
	// or every required column when no line came near. Empty when the header was found.
	Missing []string
	Near    int
	// WrongFeed names the feed whose report the input is when its header also holds every
	// column of another feed that has columns this feed lacks (FEEDS.md): the header is at
	// HeaderLine and every non-blank line is a data row whose cells are all "".
	WrongFeed string
	Footer    *Footer // nil when the input has no 合计/TOTAL line
	// Repeated lists the lines after the header that are the header or a title line again
	// (BOSS repeats them at page breaks): not data, not counted by the footer.
	Repeated []Aside

	ncol  int      // number of feed columns
	lines []int    // line of each data row
	raws  []string // raw text of each data row, decoded to UTF-8, without its line end
	// cells holds len(lines)*ncol cells, row-major, as spans of their row's raw text: a
	// city-day holds millions of cells, and as strings they were 16 bytes each to zero, to
	// write with a barrier and for the collector to scan; a span is 8 bytes, no pointer.
	cells []span
	side  string   // the text of the few cells that are not substrings of their raw text
	parts []string // names of the input's parts (XLSX sheets) when it has several, else nil
	part  []int32  // part of each data row when parts is set
}

// span is a cell of row i: raws[i][from:to] when from <= to, else side[to:from]. Marking a
// cell of side by the reversed order costs no bit of either offset, and a cell of side is
// never empty: the empty cell is {0, 0}.
type span struct{ from, to uint32 }

// maxText bounds a row's raw text and the side text: a span counts in uint32. The engine
// reads at most 1 GiB an input, which decodes to at most 3 GiB of text (an undecodable
// byte becomes U+FFFD), and the side text holds less than the text it comes from: no
// input the engine reads comes near.
const maxText = math.MaxUint32

// cell returns the text of row i's span s.
func (t *Table) cell(i int, s span) string {
	if s.from <= s.to {
		return t.raws[i][s.from:s.to]
	}
	return t.side[s.to:s.from]
}

// Aside is a line that is not data (a repeated header or title).
type Aside struct {
	Line int
	Part int32
	Raw  string
}

// Source names the input a row comes from as its citations give it: the input's name,
// or name[Sheet] for a workbook of several sheets (FEEDS.md: name.xlsx[Sheet]:row).
func (t *Table) Source(i int) string {
	if t.parts == nil {
		return t.Name
	}
	return t.PartSource(t.part[i])
}

// PartSource is Source for a line of the given part (Footer.Part, Aside.Part,
// HeaderSheet).
func (t *Table) PartSource(part int32) string {
	if t.parts == nil || int(part) >= len(t.parts) {
		return t.Name
	}
	return t.Name + "[" + t.parts[part] + "]"
}

// Footer is the 合计/TOTAL line: the row count in its second cell and the sum of amounts
// under the amount header.
type Footer struct {
	Line   int
	Part   int32  // the part (XLSX sheet) of Line: Table.PartSource
	Count  string // second cell, trimmed
	Amount string // cell under the amount column, trimmed ("" when absent)
	Raw    string
}

// Len returns the number of data rows.
func (t *Table) Len() int { return len(t.lines) }

// Line returns the 1-based line (CSV: physical line where the record starts; XLSX: sheet row).
func (t *Table) Line(i int) int { return t.lines[i] }

// Cell returns row i's text for feed column c.
func (t *Table) Cell(i, c int) string { return t.cell(i, t.cells[i*t.ncol+c]) }

// TextLen returns the length of column c's text summed over every row (the sum of
// len(Cell(i, c))): what a caller sizing a buffer for the column needs, read from the
// spans alone without touching the text.
func (t *Table) TextLen(c int) int {
	n := 0
	if t.ncol == 0 {
		return 0
	}
	for k := c; k < len(t.cells); k += t.ncol {
		if s := t.cells[k]; s.from <= s.to {
			n += int(s.to - s.from)
		} else {
			n += int(s.from - s.to)
		}
	}
	return n
}

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
