package store

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestDecimalScale: money stored as DECIMAL(18,2) reads back as fen, negatives and the
// largest values included; a decimal of another scale (3 places would read 1000× too much)
// is refused, never read as fen.
func TestDecimalScale(t *testing.T) {
	mem := memory.NewGoAllocator()
	want := arrow.Field{Name: "amount", Type: arrow.PrimitiveTypes.Int64}
	build := func(scale int32, vs ...int64) arrow.Array {
		b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 18, Scale: scale})
		defer b.Release()
		for _, v := range vs {
			b.Append(decimal128.FromI64(v))
		}
		return b.NewArray()
	}
	col := build(2, -1, 123450, -999999999999999999, 999999999999999999)
	defer col.Release()
	got, err := fromStorage(col, want, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	fen := got.(*array.Int64)
	for i, w := range []int64{-1, 123450, -999999999999999999, 999999999999999999} {
		if fen.Value(i) != w {
			t.Errorf("row %d: %d fen, want %d", i+1, fen.Value(i), w)
		}
	}
	other := build(3, 1000)
	defer other.Release()
	if _, err := fromStorage(other, want, mem); err == nil || !strings.Contains(err.Error(), "DECIMAL(18,2)") {
		t.Errorf("a DECIMAL(18,3) column: err %v, want a refusal naming DECIMAL(18,2)", err)
	}
}
