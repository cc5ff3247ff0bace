package report

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// formatFen formats integer fen as yuan with thousands separators: 123450 → "1,234.50",
// -1200 → "-12.00". Exact for every int64.
func formatFen(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	yuan, cents := u/100, u%100
	digits := strconv.FormatUint(yuan, 10)
	var b strings.Builder
	b.Grow(len(digits) + len(digits)/3 + 4)
	if neg {
		b.WriteByte('-')
	}
	for i, d := range []byte(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(d)
	}
	b.WriteByte('.')
	b.WriteByte(byte('0' + cents/10))
	b.WriteByte(byte('0' + cents%10))
	return b.String()
}

// yuanCell is the value of a money cell: fen converted to yuan only here, for display. For
// |fen| < 2^53 float64(fen) is exact and the division is correctly rounded, so the cell holds
// the double nearest to the exact amount and prints as it.
func yuanCell(fen int64) float64 { return float64(fen) / 100 }

// maxCellChars is Excel's limit on the characters of one cell.
const maxCellChars = 32767

// xmlSafe returns s with what XML 1.0 cannot hold (C0 controls other than tab, newline and
// carriage return, U+FFFE/U+FFFF, invalid UTF-8) replaced by U+FFFD, cut to what one Excel cell
// holds.
func xmlSafe(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !xmlRune(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean && len(s) <= maxCellChars {
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
		if count++; count > maxCellChars-1 && i < len(s) {
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
	case r >= 0xD800 && r <= 0xDFFF:
		return false
	}
	return true
}

// displayWidth is the width of s in columns of a fixed-pitch font: East Asian wide and
// fullwidth characters count 2, others 1. For multi-line text, the widest line.
func displayWidth(s string) int {
	w, best := 0, 0
	for _, r := range s {
		if r == '\n' {
			best, w = max(best, w), 0
			continue
		}
		w += runeWidth(r)
	}
	return max(best, w)
}

func runeWidth(r rune) int {
	if r < 0x1100 {
		return 1
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
