package report

import (
	"strconv"
	"strings"
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
