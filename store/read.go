package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
)

// Table is a result table of a run: settlement, variance or exceptions. WriteResult writes
// each as <table>.csv and <table>.parquet; ReadTable reads the Parquet back.
type Table string

// The result tables of a run.
const (
	Settlement Table = "settlement"
	Variance   Table = "variance"
	Exceptions Table = "exceptions"
)

// File is the path of the table's Parquet file inside a run directory.
func (t Table) File() string { return string(t) + ".parquet" }

// Schema is the Arrow schema of the table's Parquet file (nil for an unknown table).
func (t Table) Schema() *arrow.Schema {
	switch t {
	case Settlement:
		return SettlementSchema
	case Variance:
		return VarianceSchema
	case Exceptions:
		return ExceptionsSchema
	}
	return nil
}

// ErrNotRun is wrapped by OpenStored's error when the directory holds no manifest.json.
var ErrNotRun = errors.New("not a published run (no " + ManifestName + ")")

// Stored is a published run opened for reading: its directory and manifest.
type Stored struct {
	dir      string
	manifest *Manifest
}

// OpenStored opens the published run in runDir and reads its manifest. A directory without
// a manifest gives an error wrapping ErrNotRun (and fs.ErrNotExist when the directory itself
// is missing).
func OpenStored(runDir string) (*Stored, error) {
	fi, err := os.Stat(runDir)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", runDir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("run %q: not a directory", runDir)
	}
	mpath := filepath.Join(runDir, ManifestName)
	if _, err := os.Stat(mpath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %q: %w", runDir, ErrNotRun)
	}
	m, err := ReadManifest(mpath)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", runDir, err)
	}
	return &Stored{dir: runDir, manifest: m}, nil
}

// Dir returns the run directory.
func (s *Stored) Dir() string { return s.dir }

// Manifest returns the run's manifest.
func (s *Stored) Manifest() *Manifest { return s.manifest }

// ReadTable reads table t into one record with t.Schema(), allocated from mem; the caller
// releases it. The file must have the size and sha256 the manifest records for it, and
// what is parsed is the bytes checked, so a reader only ever sees what the run published.
func (s *Stored) ReadTable(t Table, mem memory.Allocator) (arrow.RecordBatch, error) {
	schema := t.Schema()
	if schema == nil {
		return nil, fmt.Errorf("run %q: unknown table %q", s.dir, string(t))
	}
	name := t.File()
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run %q: %w", s.dir, err)
	}
	want, ok := s.manifest.Outputs[name]
	if !ok {
		return nil, fmt.Errorf("run %q: %s is not in the manifest", s.dir, name)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want.SHA256 || int64(len(data)) != want.Size {
		return nil, fmt.Errorf("run %q: %s has sha256 %s and %d bytes, the manifest says %s and %d",
			s.dir, name, got, len(data), want.SHA256, want.Size)
	}
	return ReadParquetData(path, data, schema, mem)
}

// Tables are the result tables of a stored run, decoded: the rows WriteResult wrote, in the
// files' order.
type Tables struct {
	Settlement []engine.SettlementLine
	Variance   []engine.VarianceLine
	Exceptions []engine.Exception
}

// ReadTables reads the run's settlement, variance and exceptions tables (each checked by
// ReadTable) and decodes their rows; mem allocates the Arrow records, released before it
// returns. Every string is copied out of the Arrow buffers, and repeated ones (cities,
// counters, codes) share their storage.
func (s *Stored) ReadTables(mem memory.Allocator) (*Tables, error) {
	var t Tables
	in := newInterner()
	read := func(tb Table, rows func(arrow.RecordBatch) error) error {
		rec, err := s.ReadTable(tb, mem)
		if err != nil {
			return err
		}
		defer rec.Release()
		if err := rows(rec); err != nil {
			return fmt.Errorf("run %q: %s: %w", s.dir, tb.File(), err)
		}
		return nil
	}
	var err error
	if err := read(Settlement, func(rec arrow.RecordBatch) error {
		t.Settlement, err = decodeSettlement(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	if err := read(Variance, func(rec arrow.RecordBatch) error {
		t.Variance, err = decodeVariance(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	if err := read(Exceptions, func(rec arrow.RecordBatch) error {
		t.Exceptions, err = decodeExceptions(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	return &t, nil
}

// interner shares the storage of repeated strings (cities, counters, codes) and copies
// every string out of the Arrow buffers.
type interner map[string]string

func newInterner() *interner { m := interner{}; return &m }

func (in *interner) get(s string) string {
	if v, ok := (*in)[s]; ok {
		return v
	}
	v := strings.Clone(s)
	(*in)[v] = v
	return v
}

// colReader looks the named columns up in rec, remembering the first that is missing or of another type.
type colReader struct {
	rec arrow.RecordBatch
	err error
}

func (c *colReader) str(name string) *array.String {
	a, _ := c.col(name).(*array.String)
	if a == nil && c.err == nil {
		c.err = fmt.Errorf("column %q is not text", name)
	}
	return a
}

func (c *colReader) int64(name string) *array.Int64 {
	a, _ := c.col(name).(*array.Int64)
	if a == nil && c.err == nil {
		c.err = fmt.Errorf("column %q is not int64", name)
	}
	return a
}

func (c *colReader) col(name string) arrow.Array {
	idx := c.rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		if c.err == nil {
			c.err = fmt.Errorf("no column %q", name)
		}
		return nil
	}
	return c.rec.Column(idx[0])
}

// noNulls reports an error for a null in a column that must have none.
func noNulls(arrs ...arrow.Array) error {
	for _, a := range arrs {
		if a.NullN() > 0 {
			return errors.New("null in a required column")
		}
	}
	return nil
}

func decodeSettlement(rec arrow.RecordBatch, in *interner) ([]engine.SettlementLine, error) {
	c := colReader{rec: rec}
	city, outlet, counter, cat, pay := c.str("city"), c.str("outlet_id"), c.str("counter_id"), c.str("category"), c.str("pay_method")
	n, gross, rev, net := c.int64("txn_count"), c.int64("gross"), c.int64("reversed"), c.int64("net")
	if c.err != nil {
		return nil, c.err
	}
	if err := noNulls(city, outlet, counter, cat, pay, n, gross, rev, net); err != nil {
		return nil, err
	}
	out := make([]engine.SettlementLine, rec.NumRows())
	for i := range out {
		out[i] = engine.SettlementLine{
			City: in.get(city.Value(i)), Outlet: in.get(outlet.Value(i)), Counter: in.get(counter.Value(i)),
			Category: in.get(cat.Value(i)), PayMethod: in.get(pay.Value(i)),
			TxnCount: n.Value(i), Gross: gross.Value(i), Reversed: rev.Value(i), Net: net.Value(i),
		}
	}
	return out, nil
}

func decodeVariance(rec arrow.RecordBatch, in *interner) ([]engine.VarianceLine, error) {
	c := colReader{rec: rec}
	city, outlet, counter, pay := c.str("city"), c.str("outlet_id"), c.str("counter_id"), c.str("pay_method")
	exp, dep, v := c.int64("expected"), c.int64("deposited"), c.int64("variance")
	if c.err != nil {
		return nil, c.err
	}
	if err := noNulls(city, outlet, counter, pay, exp, dep, v); err != nil {
		return nil, err
	}
	out := make([]engine.VarianceLine, rec.NumRows())
	for i := range out {
		out[i] = engine.VarianceLine{
			City: in.get(city.Value(i)), Outlet: in.get(outlet.Value(i)), Counter: in.get(counter.Value(i)),
			PayMethod: in.get(pay.Value(i)), Expected: exp.Value(i), Deposited: dep.Value(i), Variance: v.Value(i),
		}
	}
	return out, nil
}

func decodeExceptions(rec arrow.RecordBatch, in *interner) ([]engine.Exception, error) {
	c := colReader{rec: rec}
	code, sev, city, outlet, counter := c.str("code"), c.str("severity"), c.str("city"), c.str("outlet_id"), c.str("counter_id")
	fd, txn, detail, src, key := c.str("feed"), c.str("txn_id"), c.str("detail"), c.str("source"), c.str(KeyColumn)
	amount := c.int64("amount")
	if c.err != nil {
		return nil, c.err
	}
	if err := noNulls(code, sev, city, outlet, counter, fd, txn, detail, src, key); err != nil {
		return nil, err
	}
	out := make([]engine.Exception, rec.NumRows())
	for i := range out {
		e := engine.Exception{
			Code: engine.Code(in.get(code.Value(i))), Severity: engine.Severity(in.get(sev.Value(i))),
			City: in.get(city.Value(i)), Outlet: in.get(outlet.Value(i)), Counter: in.get(counter.Value(i)),
			Feed: in.get(fd.Value(i)), TxnID: strings.Clone(txn.Value(i)), Key: in.get(key.Value(i)),
			Detail: strings.Clone(detail.Value(i)), Source: strings.Clone(src.Value(i)),
		}
		if amount.IsValid(i) {
			e.Amount, e.HasAmount = amount.Value(i), true
		}
		out[i] = e
	}
	return out, nil
}
