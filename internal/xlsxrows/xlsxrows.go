// Package xlsxrows streams the rows of an XLSX sheet and remembers the first error, so a sheet
// is written as a list of rows with one check at the end (the Go blog's "Errors are values"
// errWriter). The reports and the diff build their sheets with it.
package xlsxrows

import (
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Sink is what a sheet's rows are written into: excelize's StreamWriter, or a writer with
// its methods.
type Sink interface {
	SetRow(cell string, values []any, opts ...excelize.RowOpts) error
	MergeCell(topLeftCell, bottomRightCell string) error
	Flush() error
}

// Writer writes rows one after another into a stream writer. After the first error every
// call does nothing, and Err and Flush return that error.
type Writer struct {
	sw  Sink
	row int // last row written
	err error
}

// New writes into sw after its first written rows (0 for an empty sheet, 1 after a header).
func New(sw Sink, written int) *Writer {
	return &Writer{sw: sw, row: written}
}

// Add writes the next row, at the default height.
func (w *Writer) Add(cells ...any) { w.AddHeight(0, cells...) }

// AddHeight writes the next row, height points high (0: the default height).
func (w *Writer) AddHeight(height float64, cells ...any) {
	if w.err != nil {
		return
	}
	w.row++
	if height > 0 {
		w.err = w.sw.SetRow("A"+strconv.Itoa(w.row), cells, excelize.RowOpts{Height: height})
		return
	}
	w.err = w.sw.SetRow("A"+strconv.Itoa(w.row), cells)
}

// Skip leaves the next row empty.
func (w *Writer) Skip() {
	if w.err == nil {
		w.row++
	}
}

// Row is the number of the last row written or skipped (1-based).
func (w *Writer) Row() int { return w.row }

// Merge merges columns c1..c2 of rows r1..r2 (1-based).
func (w *Writer) Merge(c1, r1, c2, r2 int) {
	if w.err != nil {
		return
	}
	a, err := excelize.CoordinatesToCellName(c1, r1)
	if err != nil {
		w.err = err
		return
	}
	b, err := excelize.CoordinatesToCellName(c2, r2)
	if err != nil {
		w.err = err
		return
	}
	w.err = w.sw.MergeCell(a, b)
}

// Err is the first error, or nil.
func (w *Writer) Err() error { return w.err }

// Flush ends the sheet: the first error if there was one, else the stream writer's Flush.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.sw.Flush()
}
