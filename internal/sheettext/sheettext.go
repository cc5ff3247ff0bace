// Package sheettext makes text fit where the reports and the diff put it: an XLSX cell (XML
// 1.0, Excel's length limit) and a column of a fixed-pitch layout (a terminal table, an
// Excel column width).
package sheettext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// MaxCellChars is Excel's limit on the characters of one cell.
const MaxCellChars = 32767

// XMLSafe returns s with what XML 1.0 cannot hold (C0 controls other than tab, newline and
// carriage return, U+FFFE/U+FFFF, invalid UTF-8) replaced by U+FFFD, cut with "…" to
// MaxCellChars characters. s itself is returned when it needs nothing.
func XMLSafe(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !xmlRune(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean && len(s) <= MaxCellChars {
		return s
	}
	var b strings.Builder
	count := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !xmlRune(r, n) {
			r = utf8.RuneError
		}
		if count++; count > MaxCellChars-1 && i < len(s) {
			b.WriteRune('…')
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func xmlRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1:
		return false
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}

// Width is the width of s in columns of a fixed-pitch font, the widest line for multi-line
// text (see RuneWidth).
func Width(s string) int {
	w, best := 0, 0
	for _, r := range s {
		if r == '\n' {
			best, w = max(best, w), 0
			continue
		}
		w += RuneWidth(r)
	}
	return max(best, w)
}

// RuneWidth is the columns r takes: 2 for East Asian wide and fullwidth characters and for
// emoji, 0 for combining marks, 1 otherwise.
func RuneWidth(r rune) int {
	if r < 0x300 {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	if r >= 0x1F300 && r <= 0x1FAFF { // emoji are drawn wide
		return 2
	}
	return 1
}
