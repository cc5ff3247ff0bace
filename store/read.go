package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
