package diff

import (
	"path/filepath"

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
// Stored.ReadTables): its manifest and its settlement, variance and exceptions tables. Each
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
	t, err := st.ReadTables(mem)
	if err != nil {
		return nil, err
	}
	m := st.Manifest()
	r := &Run{
		Manifest: m,
		Info: RunInfo{Dir: runDir, RunID: m.RunID, BizDate: m.BizDate, ToolVersion: m.ToolVersion,
			Source: m.Source, Status: m.Status, InputDigest: m.InputDigest},
		Settlement: t.Settlement, Variance: t.Variance, Exceptions: t.Exceptions,
	}
	if r.Info.RunID == "" {
		r.Info.RunID = filepath.Base(runDir)
	}
	return r, nil
}
