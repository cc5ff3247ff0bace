package feed

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Names of the two trailing columns every normalized record carries: where the row was read.
const (
	SourceColumn = "source" // path relative to the source root, or "<feed>/<counter_id>" for a pull
	LineColumn   = "line"   // 1-based line of the row in that source
)

// TimestampType is the Arrow type of txn_time: seconds since the epoch, Asia/Shanghai.
var TimestampType = &arrow.TimestampType{Unit: arrow.Second, TimeZone: "Asia/Shanghai"}

// ArrowType is the normalized Arrow type of a column kind: money and counts are int64
// (money in fen), dates date32, times TimestampType, everything else a UTF-8 string
// (enumerations as their canonical English code).
func ArrowType(k Kind) arrow.DataType {
	switch k {
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Time:
		return TimestampType
	case Money, Whole:
		return arrow.PrimitiveTypes.Int64
	default:
		return arrow.BinaryTypes.String
	}
}

// Schema is the Arrow schema of a feed's normalized rows: its columns in Feed.Columns order,
// then SourceColumn and LineColumn. Optional columns are nullable (null when empty); a
// zero-amount order's empty pay_method is null too.
func Schema(id ID) *arrow.Schema {
	f := feeds[id]
	fields := make([]arrow.Field, 0, len(f.Columns)+2)
	for _, c := range f.Columns {
		md := arrow.Metadata{}
		if c.Kind == Money {
			md = arrow.NewMetadata([]string{"unit"}, []string{"fen"})
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: ArrowType(c.Kind), Nullable: c.Optional || c.Name == "pay_method", Metadata: md})
	}
	fields = append(fields,
		arrow.Field{Name: SourceColumn, Type: arrow.BinaryTypes.String},
		arrow.Field{Name: LineColumn, Type: arrow.PrimitiveTypes.Int64})
	return arrow.NewSchema(fields, nil)
}
