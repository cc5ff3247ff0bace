package store

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestParquetHighCardinalityIsByteIdentical writes columns whose distinct values outgrow a
// Parquet dictionary page (a city-day's txn ids, msisdns, account ids, line numbers) again
// and again: every file must be the same bytes. arrow-go lists a column chunk's page
// encodings from a map, so a column that fell back from dictionary to plain encoding part
// way came out with its encoding stats in random order (feeds/local_payment.parquet of two
// reruns of the demo city differed in 4 bytes).
func TestParquetHighCardinalityIsByteIdentical(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "txn_id", Type: arrow.BinaryTypes.String},
		{Name: "msisdn", Type: arrow.BinaryTypes.String},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "city", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 200_000
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("T261121TY%010d", i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("138%08d", i*7919%100_000_000))
		b.Field(2).(*array.Int64Builder).Append(int64(i + 2))
		b.Field(3).(*array.StringBuilder).Append("TY")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var first []byte
	for i := range 8 {
		var buf bytes.Buffer
		if err := writeParquet(&buf, rec, mem); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = buf.Bytes()
			continue
		}
		if !bytes.Equal(buf.Bytes(), first) {
			t.Fatalf("write %d of the same record differs from the first (%d and %d bytes)", i+1, buf.Len(), len(first))
		}
	}
	got, err := readParquet(bytes.NewReader(first), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if !array.RecordEqual(got, rec) {
		t.Error("the file does not read back as the record written")
	}
}
