package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/s2"

	"settle/feed"
)

// CreatedBy is the created_by of every Parquet file settle writes: a fixed string, so that
// the files depend on their rows alone.
const CreatedBy = "settle"

// maxDictionaryPage bounds a column's dictionary page. It is far above the default (1 MiB)
// because a column whose dictionary outgrows the limit falls back to plain encoding part way,
// and arrow-go then lists the chunk's page encodings from a map, in random order: the same
// rows would give different bytes. A column of a city-day (unique txn ids included) stays
// far below it.
const maxDictionaryPage = 1 << 30

// plainColumns are written with plain encoding, never a dictionary: nearly every value is
// distinct (ids, times, serials, line numbers), so a dictionary only repeats the column after
// hashing every value (a third of the time of writing a city-day's feeds). Plain encoding
// never falls back, so the bytes stay reproducible. The amounts too: a city-day's are tens
// of thousands of distinct values, whose dictionary saved 1.3% of the feeds' bytes for 7% of
// the time of writing them (BenchmarkWriteFeedsCityDay).
var plainColumns = map[string]bool{
	"txn_id": true, "orig_txn_id": true, "order_id": true, "msisdn": true, "imei": true, "account_id": true,
	"txn_time": true, "invoice_no": true, "serial_from": true, "serial_to": true, "clearing_ref": true,
	"slip_no": true, "line": true, "amount": true, "face_value": true,
}

// writeParquet writes rec as one Parquet file with deterministic properties: fixed
// created_by, Snappy, statistics, no timestamps, dictionaries that never fall back to plain
// encoding part way (maxDictionaryPage), and the Arrow schema stored (so field metadata such
// as unit=fen and txn_time's time zone come back on reading).
//
// The text columns that are dictionary-encoded are handed to the writer already as
// dictionaries (dictionaryColumns): arrow-go would otherwise hash every value through an
// interface (an allocation per value, a third of the time of writing a city-day's feeds).
// The file is the one arrow-go writes from the plain text columns, byte for byte
// (TestParquetDictionaryColumnsSameBytes): the same dictionary in the same order (first
// appearance), the same indices, the same statistics, and the stored Arrow schema says text.
func writeParquet(w io.Writer, rec arrow.RecordBatch, mem memory.Allocator) error {
	rec, err := toStorage(rec, mem)
	if err != nil {
		return err
	}
	defer rec.Release()
	props := writerProperties(rec.Schema(), mem)
	enc, err := dictionaryColumns(rec, props, mem)
	if err != nil {
		return err
	}
	defer enc.Release()
	// The Arrow schema is stored by hand, as pqarrow.WithStoreSchema stores it, but the
	// schema of the text columns, not of their dictionaries: readers get text back.
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))
	fw, err := pqarrow.NewFileWriter(enc.Schema(), nopCloser{w}, props, aprops)
	if err != nil {
		return err
	}
	if err := fw.AppendKeyValueMetadata("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(rec.Schema(), mem))); err != nil {
		fw.Close()
		return err
	}
	if err := fw.Write(enc); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}

// fastSnappy is arrow-go's Snappy codec with klauspost's fastest Snappy encoder: arrow-go
// encodes with klauspost/compress/snappy, whose Encode is s2's "better" mode (a fifth of
// the time of writing a city-day's feeds, for files ~7% smaller). The output is Snappy all
// the same, and decoding is arrow-go's. Registered for the process (the store writes all
// of settle's Parquet).
type fastSnappy struct{ compress.Codec }

func (fastSnappy) Encode(dst, src []byte) []byte             { return s2.EncodeSnappy(dst, src) }
func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func init() {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		panic(err) // arrow-go registers Snappy in its init
	}
	compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{c})
}

// writerProperties are the Parquet properties of every file the store writes with schema.
func writerProperties(schema *arrow.Schema, mem memory.Allocator) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCreatedBy(CreatedBy),
		parquet.WithStoreDecimalAsInteger(true), // DECIMAL(18,2) on INT64, not a fixed-length array
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryPageSizeLimit(maxDictionaryPage),
		parquet.WithAllocator(mem),
	}
	for _, f := range schema.Fields() {
		if plainColumns[f.Name] {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// dictionaryColumns returns rec with each text column that is dictionary-encoded (not in
// plainColumns) as a dictionary of its distinct values in order of first appearance with
// int32 indices: what arrow-go's encoder would build from it. The caller releases it.
//
// arrow-go writes a dictionary array's indices as one data page (it cuts pages by the raw
// bytes of the values it has hashed, and hashes none here), with the statistics of the
// whole column: right, as the page is the whole column. From the text it cuts a page at
// every 1 MiB of raw values: a bigger column (a city-day's counter ids) is then the same
// dictionary, indices and statistics in fewer pages. A column holding the empty string keeps
// its text: arrow-go's statistics from a dictionary skip empty values (the minimum would be
// wrong).
func dictionaryColumns(rec arrow.RecordBatch, props *parquet.WriterProperties, mem memory.Allocator) (arrow.RecordBatch, error) {
	fields := rec.Schema().Fields()
	cols := make([]arrow.Array, len(fields))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range fields {
		col := rec.Column(i)
		a, ok := col.(*array.String)
		if !ok || plainColumns[f.Name] || !props.DictionaryEnabledFor(f.Name) {
			col.Retain()
			cols[i] = col
			continue
		}
		d := dictionaryOf(a, mem)
		if d == nil {
			col.Retain()
			cols[i] = col
			continue
		}
		cols[i] = d
		fields[i].Type = d.DataType()
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()), nil
}

// dictType is the type of the dictionaries dictionaryColumns builds.
var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// dictionaryOf returns a as a dictionary array, or nil when a holds the empty string.
// Values equal to the one before take its index without a look-up (ids, cities, outlets
// come in runs); a few distinct values are searched in turn, more through a map.
func dictionaryOf(a *array.String, mem memory.Allocator) arrow.Array {
	const scan = 8 // distinct values searched in turn before a map is built
	var (
		ids    map[string]int32
		values []string
	)
	n := a.Len()
	idxBuf := memory.NewResizableBuffer(mem)
	defer idxBuf.Release()
	idxBuf.Resize(arrow.Int32Traits.BytesRequired(n))
	idx := arrow.Int32Traits.CastFromBytes(idxBuf.Bytes())
	offsets, data := a.ValueOffsets(), a.ValueBytes()
	nulls := a.NullN() > 0
	var last []byte
	lastID := int32(-1)
	for j := range n {
		if nulls && a.IsNull(j) {
			idx[j] = 0
			continue
		}
		v := data[offsets[j]:offsets[j+1]]
		if lastID >= 0 && string(v) == string(last) {
			idx[j] = lastID
			continue
		}
		if len(v) == 0 {
			return nil
		}
		id := int32(-1)
		if ids == nil {
			for k, w := range values {
				if w == string(v) {
					id = int32(k)
					break
				}
			}
		} else if k, ok := ids[string(v)]; ok {
			id = k
		}
		if id < 0 {
			id = int32(len(values))
			values = append(values, string(v))
			if ids != nil {
				ids[values[id]] = id
			} else if len(values) > scan {
				ids = make(map[string]int32, 64)
				for k, w := range values {
					ids[w] = int32(k)
				}
			}
		}
		idx[j], last, lastID = id, v, id
	}
	var validity *memory.Buffer
	if a.NullN() > 0 {
		validity = memory.NewResizableBuffer(mem)
		defer validity.Release()
		validity.Resize(int(bitutil.BytesForBits(int64(n))))
		bits := validity.Bytes()
		for j := range n {
			bitutil.SetBitTo(bits, j, a.IsValid(j))
		}
	}
	idata := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{validity, idxBuf}, nil, a.NullN(), 0)
	defer idata.Release()
	indices := array.MakeFromData(idata)
	defer indices.Release()
	vb := array.NewStringBuilder(mem)
	defer vb.Release()
	vb.AppendValues(values, nil)
	dict := vb.NewArray()
	defer dict.Release()
	return array.NewDictionaryArray(dictType, indices, dict)
}

// Storage types (docs/PARQUET.md). In memory money is int64 fen (field metadata unit=fen)
// and the result tables' biz_date is text; the Parquet files say what they hold: money as
// DECIMAL(18,2) yuan on INT64 (the fen are its unscaled values, exactly; field metadata
// unit=yuan) and every date as DATE. Files written before (money int64 fen, biz_date text)
// read as well: conform accepts either form of each column.
// maxMoney is the largest amount DECIMAL(18,2) holds: 9,999,999,999,999,999.99 yuan, in fen
// (amounts are at most 1,000,000.00 a row, so no sum of a day comes near it).
const maxMoney = 999_999_999_999_999_999

var (
	moneyType       = &arrow.Decimal128Type{Precision: 18, Scale: 2}
	yuanMetadataKey = "unit"
)

// storedField returns how the Parquet files of today store a field of an in-memory
// schema, and whether that differs from the field.
func storedField(f arrow.Field) (arrow.Field, bool) {
	switch {
	case f.Type.ID() == arrow.INT64 && f.Metadata.FindKey(yuanMetadataKey) >= 0 && f.Metadata.Values()[f.Metadata.FindKey(yuanMetadataKey)] == "fen":
		md := withoutKey(f.Metadata, yuanMetadataKey)
		keys, values := append(md.Keys(), yuanMetadataKey), append(md.Values(), "yuan")
		return arrow.Field{Name: f.Name, Type: moneyType, Nullable: f.Nullable, Metadata: arrow.NewMetadata(keys, values)}, true
	case f.Type.ID() == arrow.STRING && f.Name == "biz_date":
		return arrow.Field{Name: f.Name, Type: arrow.FixedWidthTypes.Date32, Nullable: f.Nullable, Metadata: f.Metadata}, true
	}
	return f, false
}

// toStorage returns rec with the storage types of storedField (a new reference to rec
// when nothing changes); the caller releases it.
func toStorage(rec arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	schema := rec.Schema()
	fields := schema.Fields()
	cols := make([]arrow.Array, len(fields))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range fields {
		sf, changed := storedField(f)
		col := rec.Column(i)
		if !changed {
			col.Retain()
			cols[i] = col
			continue
		}
		fields[i] = sf
		switch sf.Type.ID() {
		case arrow.DECIMAL128:
			a := col.(*array.Int64)
			b := array.NewDecimal128Builder(mem, moneyType)
			b.Reserve(a.Len())
			for j := range a.Len() {
				if a.IsNull(j) {
					b.AppendNull()
					continue
				}
				if v := a.Value(j); v > maxMoney || v < -maxMoney {
					b.Release()
					return nil, fmt.Errorf("column %q row %d: %d fen does not fit DECIMAL(18,2)", f.Name, j+1, v)
				}
				b.Append(decimal128.FromI64(a.Value(j)))
			}
			cols[i] = b.NewArray()
			b.Release()
		case arrow.DATE32:
			a := col.(*array.String)
			b := array.NewDate32Builder(mem)
			b.Reserve(a.Len())
			for j := range a.Len() {
				if a.IsNull(j) {
					b.AppendNull()
					continue
				}
				d, err := time.Parse("2006-01-02", a.Value(j))
				if err != nil {
					b.Release()
					return nil, fmt.Errorf("column %q row %d: date %q: %w", f.Name, j+1, a.Value(j), err)
				}
				b.Append(arrow.Date32FromTime(d))
			}
			cols[i] = b.NewArray()
			b.Release()
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()), nil
}

// fromStorage converts a column stored as storedField says back to the in-memory type of
// want: DECIMAL(18,2) to int64 fen, DATE to YYYY-MM-DD text.
func fromStorage(col arrow.Array, want arrow.Field, mem memory.Allocator) (arrow.Array, error) {
	switch a := col.(type) {
	case *array.Decimal128:
		if dt, ok := a.DataType().(*arrow.Decimal128Type); !ok || dt.Scale != 2 {
			return nil, fmt.Errorf("%v: money must be DECIMAL(18,2): yuan with 2 places, read as fen", a.DataType())
		}
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.Reserve(a.Len())
		for j := range a.Len() {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			v := a.Value(j)
			if !v.FitsInPrecision(18) {
				return nil, fmt.Errorf("row %d: %s does not fit DECIMAL(18,2)", j+1, v.ToString(2))
			}
			b.Append(int64(v.LowBits()))
		}
		return b.NewArray(), nil
	case *array.Date32:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(a.Len())
		for j := range a.Len() {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			b.Append(a.Value(j).FormattedString())
		}
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("cannot read %v as %v", col.DataType(), want.Type)
}

// nopCloser keeps pqarrow from closing the caller's writer.
type nopCloser struct{ io.Writer }

// writeFeed writes a feed's normalized rows; a nil rec is an empty table.
func writeFeed(w io.Writer, id feed.ID, rec arrow.RecordBatch) error {
	want := feed.Schema(id)
	mem := memory.NewGoAllocator()
	if rec == nil {
		b := array.NewRecordBuilder(mem, want)
		rec = b.NewRecordBatch()
		b.Release()
		defer rec.Release()
	} else if !rec.Schema().Equal(want) {
		return fmt.Errorf("feed %s: record schema %v differs from the feed's %v", id, rec.Schema(), want)
	}
	return writeParquet(w, rec, mem)
}

// ReadParquet reads a whole Parquet file written by the store into one record (its row
// groups concatenated), allocated from mem; the caller releases it. With want set, the
// record is given exactly that schema, which must match the file's column for column; this
// restores what Parquet cannot hold, such as a timestamp's unit of seconds and time zone.
// Without it, the file's schema is taken as read (minus Parquet's field ids). A missing file
// gives an error wrapping fs.ErrNotExist.
func ReadParquet(path string, want *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	defer f.Close()
	return readConformed(path, f, want, mem)
}

// ReadParquetData is ReadParquet over the file's bytes, already read (and, say, checked
// against the manifest: what is parsed is then what was checked); path names it in errors.
func ReadParquetData(path string, data []byte, want *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	return readConformed(path, bytes.NewReader(data), want, mem)
}

func readConformed(path string, r parquet.ReaderAtSeeker, want *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	rec, err := readParquet(r, mem)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	defer rec.Release()
	if want == nil {
		want = stripFieldIDs(rec.Schema())
	}
	out, err := conform(rec, want, mem)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	return out, nil
}

func readParquet(r parquet.ReaderAtSeeker, mem memory.Allocator) (arrow.RecordBatch, error) {
	pf, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		return nil, err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	schema := tbl.Schema()
	cols := make([]arrow.Array, 0, schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i := range schema.NumFields() {
		chunks := tbl.Column(i).Data().Chunks()
		var col arrow.Array
		switch len(chunks) {
		case 0:
			col = array.MakeArrayOfNull(mem, schema.Field(i).Type, 0)
		case 1:
			col = chunks[0]
			col.Retain()
		default:
			col, err = array.Concatenate(chunks, mem)
			if err != nil {
				return nil, err
			}
		}
		cols = append(cols, col)
	}
	return array.NewRecordBatch(schema, cols, tbl.NumRows()), nil
}

// fieldIDKey is the field metadata pqarrow adds on reading.
const fieldIDKey = "PARQUET:field_id"

// stripFieldIDs returns schema without Parquet's field ids in its fields' metadata.
func stripFieldIDs(schema *arrow.Schema) *arrow.Schema {
	fields := schema.Fields()
	for i, f := range fields {
		fields[i].Metadata = withoutKey(f.Metadata, fieldIDKey)
	}
	return arrow.NewSchema(fields, nil)
}

func withoutKey(md arrow.Metadata, key string) arrow.Metadata {
	if md.FindKey(key) < 0 {
		return md
	}
	var keys, values []string
	for i, k := range md.Keys() {
		if k != key {
			keys, values = append(keys, k), append(values, md.Values()[i])
		}
	}
	if len(keys) == 0 {
		return arrow.Metadata{}
	}
	return arrow.NewMetadata(keys, values)
}

// conform gives rec the schema want: same names, nullability and field metadata (Parquet's
// field ids aside), the same types except that timestamps may differ in unit and time zone
// (converted exactly: a value that does not fit the wanted unit is an error).
func conform(rec arrow.RecordBatch, want *arrow.Schema, mem memory.Allocator) (arrow.RecordBatch, error) {
	got := rec.Schema()
	if got.NumFields() != want.NumFields() {
		return nil, fmt.Errorf("%d columns, want %d", got.NumFields(), want.NumFields())
	}
	cols := make([]arrow.Array, 0, want.NumFields())
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for i, wf := range want.Fields() {
		gf := got.Field(i)
		sf, stored := storedField(wf)
		stored = stored && arrow.TypeEqual(gf.Type, sf.Type)
		md := wf.Metadata
		if stored {
			md = sf.Metadata
		}
		if gf.Name != wf.Name || gf.Nullable != wf.Nullable || !withoutKey(gf.Metadata, fieldIDKey).Equal(md) {
			release()
			return nil, fmt.Errorf("column %d is %v, want %v", i+1, fieldString(gf), fieldString(wf))
		}
		col := rec.Column(i)
		switch {
		case stored:
			var err error
			if col, err = fromStorage(col, wf, mem); err != nil {
				release()
				return nil, fmt.Errorf("column %q: %w", wf.Name, err)
			}
		case arrow.TypeEqual(gf.Type, wf.Type):
			col.Retain()
		case gf.Type.ID() == arrow.TIMESTAMP && wf.Type.ID() == arrow.TIMESTAMP:
			var err error
			if col, err = convertTimestamps(col.(*array.Timestamp), wf.Type.(*arrow.TimestampType), mem); err != nil {
				release()
				return nil, fmt.Errorf("column %q: %w", wf.Name, err)
			}
		default:
			release()
			return nil, fmt.Errorf("column %q is %v, want %v", wf.Name, gf.Type, wf.Type)
		}
		cols = append(cols, col)
	}
	defer release()
	return array.NewRecordBatch(want, cols, rec.NumRows()), nil
}

func fieldString(f arrow.Field) string {
	s := f.Name + " " + f.Type.String()
	if f.Nullable {
		s += " nullable"
	}
	if md := withoutKey(f.Metadata, fieldIDKey); md.Len() > 0 {
		s += " " + md.String()
	}
	return s
}

// convertTimestamps converts timestamps to another unit and time zone, exactly.
func convertTimestamps(a *array.Timestamp, to *arrow.TimestampType, mem memory.Allocator) (arrow.Array, error) {
	from := a.DataType().(*arrow.TimestampType).Unit.Multiplier()
	into := to.Unit.Multiplier()
	b := array.NewTimestampBuilder(mem, to)
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(a.Value(i))
		switch {
		case from > into:
			f := int64(from / into)
			if v > math.MaxInt64/f || v < math.MinInt64/f {
				return nil, fmt.Errorf("timestamp %d overflows unit %s", v, to.Unit)
			}
			v *= f
		case from < into:
			f := int64(into / from)
			if v%f != 0 {
				return nil, fmt.Errorf("timestamp %d is not a whole number of %s", v, to.Unit)
			}
			v /= f
		}
		b.Append(arrow.Timestamp(v))
	}
	return b.NewArray(), nil
}

// ReadFeed reads feeds/<feed>.parquet of a run directory back into one record with the
// schema feed.Schema(id), allocated from mem; the caller releases it. A run without the
// file gives an error wrapping fs.ErrNotExist; a file of another schema is an error.
func ReadFeed(runDir string, id feed.ID, mem memory.Allocator) (arrow.RecordBatch, error) {
	return ReadParquet(filepath.Join(runDir, filepath.FromSlash(FeedPath(id))), feed.Schema(id), mem)
}
