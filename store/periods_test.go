package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOutTableSortAsTable: OutTable's sort by joined texts orders rows as table.sort does
// (column by column), with texts that are prefixes of one another, empty ones, numbers of
// different lengths and signs, and a NUL (which falls back to table.sort).
func TestOutTableSortAsTable(t *testing.T) {
	vals := []string{"", "a", "ab", "a b", "b", "-", "A", "é", "a\x01"}
	for _, withNul := range []bool{false, true} {
		mk := func() (*OutTable, *OutTable) {
			rng := rand.New(rand.NewPCG(3, 4))
			a := NewOutTable("t", []string{"x", "y", "n"}, map[string]ColumnKind{"n": ColMoney})
			b := NewOutTable("t", []string{"x", "y", "n"}, map[string]ColumnKind{"n": ColMoney})
			for i := range 2000 {
				x, y := vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
				if withNul && i == 7 {
					x = "a\x00"
				}
				n := rng.Int64N(200000) - 100000
				a.Add(x, y, n)
				b.Add(x, y, n)
			}
			return a, b
		}
		a, b := mk()
		a.sort()
		b.t.sort()
		if len(a.t.texts) != 2000 || !slices.EqualFunc(a.t.texts, b.t.texts, slices.Equal) {
			t.Fatalf("nul %v: the joined-key sort orders rows differently from table.sort", withNul)
		}
		for i := range a.t.rows {
			if !slices.Equal(a.t.rows[i], b.t.rows[i]) {
				t.Fatalf("nul %v: row %d: cells differ", withNul, i)
			}
		}
	}
}
