package report

import (
	"settle/money"
)

// formatFen formats integer fen as yuan with thousands separators: 123450 → "1,234.50",
// -1200 → "-12.00". It is money.Grouped, the pages' formatter too.
func formatFen(fen int64) string { return money.Grouped(fen) }

// yuanCell is the value of a money cell: fen converted to yuan only here, for display. For
// |fen| < 2^53 float64(fen) is exact and the division is correctly rounded, so the cell holds
// the double nearest to the exact amount and prints as it.
func yuanCell(fen int64) float64 { return float64(fen) / 100 }
