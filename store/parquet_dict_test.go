package store

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"settle/feed"
)

// referenceParquet writes rec as writeParquet did before it built the dictionaries itself:
// plain text columns, arrow-go hashing every value, the schema stored by pqarrow.
func referenceParquet(w io.Writer, rec arrow.RecordBatch, mem memory.Allocator) error {
	rec, err := toStorage(rec, mem)
	if err != nil {
		return err
	}
	defer rec.Release()
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))
	fw, err := pqarrow.NewFileWriter(rec.Schema(), nopCloser{w}, writerProperties(rec.Schema(), mem), aprops)
	if err != nil {
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}

// dictRecord is a record with dictionary-encoded text columns of every shape: constant,
// runs, alternating, many distinct values, nulls (first, inside, all), empty strings,
// Chinese text, and plain columns beside them.
func dictRecord(t *testing.T, mem memory.Allocator, n int) arrow.RecordBatch {
	t.Helper()
	fen := arrow.NewMetadata([]string{"unit"}, []string{"fen"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "biz_date", Type: arrow.BinaryTypes.String},
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "counter_id", Type: arrow.BinaryTypes.String},
		{Name: "pay_method", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "model", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "reason", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "approver_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "txn_id", Type: arrow.BinaryTypes.String},
		{Name: "amount", Type: arrow.PrimitiveTypes.Int64, Metadata: fen},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	methods := []string{"CASH", "POS", "WECHAT", "ALIPAY", ""}
	for i := range n {
		str(0).Append("2026-11-21")
		str(1).Append("TY")
		str(2).Append(fmt.Sprintf("TY%04d-%02d", i/97, i/97%5))
		if i%13 == 0 {
			str(3).AppendNull()
		} else {
			str(3).Append(methods[i%len(methods)])
		}
		if i == 0 || i%7 == 3 {
			str(4).AppendNull()
		} else {
			str(4).Append(fmt.Sprintf("型号%d", i%50))
		}
		str(5).AppendNull()
		if i%2 == 0 {
			str(6).Append(fmt.Sprintf("A%06d", i))
		} else {
			str(6).AppendNull()
		}
		str(7).Append(fmt.Sprintf("T261121TY%010d", i))
		b.Field(8).(*array.Int64Builder).Append(int64(i%1000*100 - 5000))
		b.Field(9).(*array.Int64Builder).Append(int64(i + 2))
	}
	return b.NewRecordBatch()
}

// TestParquetDictionaryColumnsSameBytes: handing arrow-go the text columns as dictionaries
// gives the very file it writes from the text when that fits one page a column (same
// dictionary pages, indices, statistics and stored schema), and the file reads back as the
// record written. A column holding "" keeps its text (pay_method here, in some sizes).
func TestParquetDictionaryColumnsSameBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, n := range []int{0, 1, 2, 4, 1000, 20_000} {
		rec := dictRecord(t, mem, n)
		var got, want bytes.Buffer
		if err := writeParquet(&got, rec, mem); err != nil {
			t.Fatal(err)
		}
		if err := referenceParquet(&want, rec, mem); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%d rows: %d bytes, arrow-go's own dictionaries give %d other bytes", n, got.Len(), want.Len())
		}
		back, err := ReadParquetData("mem", got.Bytes(), rec.Schema(), mem)
		if err != nil {
			t.Fatal(err)
		}
		if !array.RecordEqual(back, rec) {
			t.Errorf("%d rows: the file does not read back as the record written", n)
		}
		back.Release()
		rec.Release()
	}
}

// TestParquetDictionaryEmptyString: a column holding "" is written as text, so that its
// minimum is "" (arrow-go's statistics from a dictionary skip empty values).
func TestParquetDictionaryEmptyString(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues([]string{"POS", "", "CASH"}, nil)
	a := b.NewStringArray()
	defer a.Release()
	if d := dictionaryOf(a, mem); d != nil {
		d.Release()
		t.Fatal(`a column with "" made a dictionary`)
	}
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "pay_method", Type: arrow.BinaryTypes.String}}, nil), []arrow.Array{a}, 3)
	defer rec.Release()
	var buf bytes.Buffer
	if err := writeParquet(&buf, rec, mem); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if min, max := chunkMinMax(t, pf, 0); min != "" || max != "POS" {
		t.Errorf("statistics min %q max %q, want \"\" and POS", min, max)
	}
}

// TestParquetDictionaryLargeColumn: a dictionary column of more than 1 MiB of text is one
// data page (arrow-go cuts the text into pages of 1 MiB) whose statistics are the column's,
// the column chunk's statistics are those arrow-go writes from the text, and it reads back.
func TestParquetDictionaryLargeColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	const n = 400_000 // 40,000 distinct values, 2.4 MB of text
	for i := range n {
		if i%11 == 5 {
			b.AppendNull()
			continue
		}
		b.Append(fmt.Sprintf("C%05d", i*7919%40_000+1))
	}
	a := b.NewStringArray()
	defer a.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "counter_id", Type: arrow.BinaryTypes.String, Nullable: true}}, nil), []arrow.Array{a}, n)
	defer rec.Release()
	var got, want bytes.Buffer
	if err := writeParquet(&got, rec, mem); err != nil {
		t.Fatal(err)
	}
	if err := referenceParquet(&want, rec, mem); err != nil {
		t.Fatal(err)
	}
	gf, err := file.NewParquetReader(bytes.NewReader(got.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer gf.Close()
	wf, err := file.NewParquetReader(bytes.NewReader(want.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	pages := dataPages(t, gf, 0)
	if len(pages) != 1 {
		t.Fatalf("%d data pages, want 1", len(pages))
	}
	if len(dataPages(t, wf, 0)) < 2 {
		t.Fatal("arrow-go wrote the text in one page: the case is not tested")
	}
	if g, w := chunkStats(t, gf, 0), chunkStats(t, wf, 0); g != w {
		t.Errorf("column chunk statistics %s, arrow-go's from the text %s", g, w)
	}
	if g, w := pages[0], chunkStats(t, wf, 0); g != w {
		t.Errorf("the page's statistics %s, the column's %s", g, w)
	}
	back, err := ReadParquetData("mem", got.Bytes(), rec.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Release()
	if !array.RecordEqual(back, rec) {
		t.Error("the file does not read back as the record written")
	}
}

// chunkStats describes column c's chunk statistics in row group 0.
func chunkStats(t *testing.T, pf *file.Reader, c int) string {
	t.Helper()
	return statsString(chunkEncoded(t, pf, c))
}

// chunkEncoded is column c's chunk statistics in row group 0, encoded.
func chunkEncoded(t *testing.T, pf *file.Reader, c int) metadata.EncodedStatistics {
	t.Helper()
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cc.Statistics()
	if err != nil || st == nil {
		t.Fatalf("column %d: no statistics (%v)", c, err)
	}
	enc, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func statsString(enc metadata.EncodedStatistics) string {
	return fmt.Sprintf("min %q max %q nulls %d (set %v/%v)", enc.Min, enc.Max, enc.NullCount, enc.HasMin, enc.HasMax)
}

func chunkMinMax(t *testing.T, pf *file.Reader, c int) (string, string) {
	t.Helper()
	enc := chunkEncoded(t, pf, c)
	return string(enc.Min), string(enc.Max)
}

// dataPages returns the statistics of each data page of column c in row group 0.
func dataPages(t *testing.T, pf *file.Reader, c int) []string {
	t.Helper()
	pr, err := pf.RowGroup(0).GetColumnPageReader(c)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for pr.Next() {
		if p, ok := pr.Page().(*file.DataPageV1); ok {
			out = append(out, statsString(p.Statistics()))
		}
	}
	if err := pr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFeedsCityDay: the nine feeds of the demo city-day read back as their records, and
// each column chunk's statistics are those arrow-go writes from the text.
func TestFeedsCityDay(t *testing.T) {
	loaded := cityDayFeeds(t)
	defer loaded.Release()
	mem := memory.NewGoAllocator()
	for _, id := range feed.All {
		rec := loaded.Feeds[id]
		var got, want bytes.Buffer
		if err := writeFeed(&got, id, rec); err != nil {
			t.Fatal(err)
		}
		if err := referenceParquet(&want, rec, mem); err != nil {
			t.Fatal(err)
		}
		back, err := ReadParquetData(string(id.String()), got.Bytes(), feed.Schema(id), mem)
		if err != nil {
			t.Fatal(err)
		}
		if !array.RecordEqual(back, rec) {
			t.Errorf("feed %s does not read back as its record", id)
		}
		back.Release()
		gf, err := file.NewParquetReader(bytes.NewReader(got.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		wf, err := file.NewParquetReader(bytes.NewReader(want.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for c := range gf.MetaData().Schema.NumColumns() {
			if g, w := chunkStats(t, gf, c), chunkStats(t, wf, c); g != w {
				t.Errorf("feed %s column %d: statistics %s, arrow-go's from the text %s", id, c, g, w)
			}
		}
		gf.Close()
		wf.Close()
	}
}
