package store

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/feed"
)

// depositRecord builds a deposit feed record of rows start..start+n-1: row i's amounts are
// base+i, its dates and times follow i, and its optional strings are null when i%3 == 0.
func depositRecord(t *testing.T, start, n int, base int64, slip string) arrow.RecordBatch {
	t.Helper()
	return depositRecordNulls(t, start, n, base, slip, false)
}

// depositRecordNulls is depositRecord, with the nulls empty strings when empty.
func depositRecordNulls(t *testing.T, start, n int, base int64, slip string, empty bool) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, feed.Schema(feed.Deposit))
	defer b.Release()
	for i := start; i < start+n; i++ {
		for c, f := range b.Schema().Fields() {
			fb := b.Field(c)
			switch fb := fb.(type) {
			case *array.StringBuilder:
				if f.Nullable && i%3 == 0 && empty {
					fb.Append("")
				} else if f.Nullable && i%3 == 0 {
					fb.AppendNull()
				} else {
					fb.Append(slip + f.Name + string(rune('a'+i)))
				}
			case *array.Int64Builder:
				fb.Append(base + int64(i))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(20000 + i))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(1_700_000_000 + i))
			default:
				t.Fatalf("column %s: builder %T", f.Name, fb)
			}
		}
	}
	return b.NewRecordBatch()
}

// TestFeedKey: the key follows the rows, not where they sit in memory: a slice of a larger
// record with the same rows has the same key; one changed value, a value moved between two
// strings, a null made an empty string, or one row fewer gives another.
func TestFeedKey(t *testing.T) {
	a := depositRecord(t, 2, 5, 100, "S")
	defer a.Release()
	k := feedKey(feed.Deposit, a)
	if k == "" {
		t.Fatal("no key for a deposit record")
	}
	big := depositRecord(t, 0, 7, 100, "S")
	defer big.Release()
	sl := big.NewSlice(2, 7)
	defer sl.Release()
	if got := feedKey(feed.Deposit, sl); got != k {
		t.Errorf("a slice with the same rows keys %s, want %s", got, k)
	}
	for name, other := range map[string]arrow.RecordBatch{
		"an amount":             depositRecord(t, 2, 5, 101, "S"),
		"the strings":           depositRecord(t, 2, 5, 100, "SS"),
		"a string, same length": depositRecord(t, 2, 5, 100, "T"),
		"one row fewer":         depositRecord(t, 2, 4, 100, "S"),
		"a null made empty":     depositRecordNulls(t, 2, 5, 100, "S", true),
	} {
		if feedKey(feed.Deposit, other) == k {
			t.Errorf("changing %s keeps the key", name)
		}
		other.Release()
	}
	if feedKey(feed.Invoice, a) == k {
		t.Error("the same record under another feed has the same key")
	}
}
