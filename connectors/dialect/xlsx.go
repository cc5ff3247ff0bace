package dialect

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Unpacking limits of an XLSX input: a workbook that declares more is refused before
// anything is inflated (a zip bomb), and archive/zip refuses an entry that inflates to
// more than it declares.
const (
	xlsxUnzipLimit    = 512 << 20 // all entries together
	xlsxUnzipXMLLimit = 128 << 20 // a worksheet larger than this is unpacked to a temp file
)

// readXLSX feeds the rows of the first sheet of an XLSX workbook to b: formatted cell
// values, line = sheet row number, raw = the cells joined as a CSV line.
func readXLSX(name string, data []byte, b *builder) (err error) {
	defer func() {
		// excelize parses untrusted XML; a panic in it must not take the run down.
		if r := recover(); r != nil {
			err = &Error{Name: name, Err: fmt.Errorf("read xlsx: %v", r)}
		}
	}()
	if err := checkZip(data); err != nil {
		return &Error{Name: name, Err: err}
	}
	xf, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    xlsxUnzipLimit,
		UnzipXMLSizeLimit: xlsxUnzipXMLLimit,
	})
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// What excelize says when a part it needs is absent or cut short.
			err = fmt.Errorf("missing or damaged workbook part: %w", err)
		}
		return &Error{Name: name, Err: fmt.Errorf("open xlsx: %w", err)}
	}
	defer xf.Close()
	sheets := xf.GetSheetList()
	if len(sheets) == 0 {
		return &Error{Name: name, Err: errors.New("xlsx has no sheet")}
	}
	rows, err := xf.Rows(sheets[0])
	if err != nil {
		return &Error{Name: name, Err: fmt.Errorf("read sheet %q: %w", sheets[0], err)}
	}
	defer rows.Close()
	var sb strings.Builder
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns()
		if err != nil {
			return &Error{Name: name, Line: line, Err: fmt.Errorf("read sheet %q: %w", sheets[0], err)}
		}
		last := -1 // the last non-empty cell
		for i := len(cells) - 1; i >= 0; i-- {
			if trim(cells[i]) != "" {
				last = i
				break
			}
		}
		if last < 0 {
			continue // blank
		}
		raw := joinCSV(&sb, cells)
		for i, c := range cells {
			cells[i] = trim(c)
		}
		if !b.found {
			if !b.header(line, cells, last+1) {
				b.pre = append(b.pre, pending{line, raw})
			}
			continue
		}
		b.row(line, raw, cells)
	}
	if err := rows.Error(); err != nil {
		return &Error{Name: name, Err: fmt.Errorf("read sheet %q: %w", sheets[0], err)}
	}
	return nil
}

// checkZip refuses data that is not a zip archive or that declares more than
// xlsxUnzipLimit bytes unpacked, before anything is inflated.
func checkZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not an xlsx workbook: %w", err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > xlsxUnzipLimit || total > xlsxUnzipLimit {
			return fmt.Errorf("xlsx refused: it unpacks to more than %d MiB (zip bomb?)", xlsxUnzipLimit>>20)
		}
	}
	return nil
}

// joinCSV joins cells as one CSV line, quoting a cell that holds a comma, a quote or a
// line end.
func joinCSV(sb *strings.Builder, cells []string) string {
	sb.Reset()
	for i, c := range cells {
		if i > 0 {
			sb.WriteByte(',')
		}
		if !strings.ContainsAny(c, ",\"\r\n") {
			sb.WriteString(c)
			continue
		}
		sb.WriteByte('"')
		sb.WriteString(strings.ReplaceAll(c, `"`, `""`))
		sb.WriteByte('"')
	}
	return sb.String()
}
