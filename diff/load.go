package diff

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/engine"
	"settle/store"
)

// Run is what Compare needs of a published run: its manifest and its three result tables.
type Run struct {
	Info       RunInfo
	Manifest   *store.Manifest
	Settlement []engine.SettlementLine
	Variance   []engine.VarianceLine
	Exceptions []engine.Exception
}

// ErrNotRun is wrapped by Load's error when runDir holds no manifest.json.
var ErrNotRun = store.ErrNotRun

// Load reads the published run in runDir through the store (store.OpenStored and
// Stored.ReadTable): its manifest and its settlement, variance and exceptions tables. Each
// table must have the sha256 the manifest records for it, so a diff only ever speaks of what
// the run published. A directory without a manifest gives an error wrapping ErrNotRun (and
// fs.ErrNotExist when the directory itself is missing).
func Load(runDir string) (*Run, error) {
	return load(runDir, memory.NewGoAllocator())
}

// load is Load with the allocator of the Arrow records (released before it returns).
func load(runDir string, mem memory.Allocator) (*Run, error) {
	st, err := store.OpenStored(runDir)
	if err != nil {
		return nil, err
	}
	m := st.Manifest()
	r := &Run{
		Manifest: m,
		Info: RunInfo{Dir: runDir, RunID: m.RunID, BizDate: m.BizDate, ToolVersion: m.ToolVersion,
			Source: m.Source, Status: m.Status, InputDigest: m.InputDigest},
	}
	if r.Info.RunID == "" {
		r.Info.RunID = filepath.Base(runDir)
	}
	in := newInterner()
	read := func(t store.Table, rows func(arrow.RecordBatch, *interner) error) error {
		rec, err := st.ReadTable(t, mem)
		if err != nil {
			return err
		}
		defer rec.Release()
		if err := rows(rec, in); err != nil {
			return fmt.Errorf("run %q: %s: %w", runDir, t.File(), err)
		}
		return nil
	}
	if err := read(store.Settlement, func(rec arrow.RecordBatch, in *interner) error {
		r.Settlement, err = settlementRows(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	if err := read(store.Variance, func(rec arrow.RecordBatch, in *interner) error {
		r.Variance, err = varianceRows(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	if err := read(store.Exceptions, func(rec arrow.RecordBatch, in *interner) error {
		r.Exceptions, err = exceptionRows(rec, in)
		return err
	}); err != nil {
		return nil, err
	}
	return r, nil
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

// columns looks the named columns up in rec, in order.
type columns struct {
	rec arrow.RecordBatch
	err error
}

func (c *columns) str(name string) *array.String {
	a, _ := c.col(name).(*array.String)
	if a == nil && c.err == nil {
		c.err = fmt.Errorf("column %q is not text", name)
	}
	return a
}

func (c *columns) int64(name string) *array.Int64 {
	a, _ := c.col(name).(*array.Int64)
	if a == nil && c.err == nil {
		c.err = fmt.Errorf("column %q is not int64", name)
	}
	return a
}

func (c *columns) col(name string) arrow.Array {
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

func settlementRows(rec arrow.RecordBatch, in *interner) ([]engine.SettlementLine, error) {
	c := columns{rec: rec}
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

func varianceRows(rec arrow.RecordBatch, in *interner) ([]engine.VarianceLine, error) {
	c := columns{rec: rec}
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

func exceptionRows(rec arrow.RecordBatch, in *interner) ([]engine.Exception, error) {
	c := columns{rec: rec}
	code, sev, city, outlet, counter := c.str("code"), c.str("severity"), c.str("city"), c.str("outlet_id"), c.str("counter_id")
	fd, txn, detail, src, key := c.str("feed"), c.str("txn_id"), c.str("detail"), c.str("source"), c.str(store.KeyColumn)
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
