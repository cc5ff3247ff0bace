package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"settle/connectors"
	"settle/feed"
)

// Kept inputs (issue 17.1): the raw bytes a run read — files and pulled bodies — are kept in
// <store>/<date>/inputs/<sha256>.zst, zstd-compressed and named by the sha256 of the raw
// bytes, so that the runs of a date share them. The manifest names them per feed and counter
// (Manifest.Kept), and `settle run --source store:DATE` reruns a date from them.

// InputsName is the folder of a date directory that holds its kept inputs.
const InputsName = "inputs"

// KeptInput is one input of a run as kept: what connectors.Input said of it, and the sha256
// and size of its raw bytes (the file inputs/<sha256>.zst holds them compressed).
type KeptInput struct {
	Feed    string `json:"feed"`
	Name    string `json:"name"`
	Counter string `json:"counter,omitempty"`
	Pull    bool   `json:"pull,omitempty"`
	Format  string `json:"format"` // csv or xlsx
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// KeptMissing is one input the source could not deliver, as the run saw it.
type KeptMissing struct {
	Feed     string        `json:"feed"`
	Counter  string        `json:"counter,omitempty"`
	City     string        `json:"city,omitempty"`
	Outlet   string        `json:"outlet,omitempty"`
	Reason   string        `json:"reason"`
	Kind     int           `json:"kind,omitempty"`
	Dir      string        `json:"dir,omitempty"`
	Request  string        `json:"request,omitempty"`
	Err      string        `json:"err,omitempty"`
	Tries    int           `json:"tries,omitempty"`
	Deadline time.Duration `json:"deadline,omitempty"`
}

// Kept is the manifest's record of a run's inputs: enough to give the engine the same day.
type Kept struct {
	Inputs  []KeptInput          `json:"inputs"`
	Missing []KeptMissing        `json:"missing,omitempty"`
	Roster  []connectors.Counter `json:"roster,omitempty"`
	// Refreshed names, in a refresh (settle run --counters, the page's refresh button), the
	// counters whose inputs were read afresh from the source; every other input was taken
	// from the date's current run's kept ones. Absent in a run that read its whole day.
	Refreshed []string `json:"refreshed,omitempty"`
}

var (
	zenc = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	})
	zdec = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
	})
)

// keepParallel bounds the inputs Keep compresses at once.
const keepParallel = 4

// Keep stores every input of day under the date's inputs folder (those already there are
// not written again) and returns the record of them. The caller holds the date's lock.
//
// known names inputs already kept (by Input.Name: a refresh's inputs taken from the kept
// ones, see KeptSubset): their record is taken as it is, without reading them again, when
// their kept file is there.
func (s *Store) Keep(ctx context.Context, date string, day *connectors.Day, known map[string]KeptInput) (*Kept, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dd, InputsName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("keep inputs of %s: %w", date, err)
	}
	// What a killed run left half written (the caller holds the date's lock).
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	enc, err := zenc()
	if err != nil {
		return nil, err
	}
	k := &Kept{Inputs: make([]KeptInput, len(day.Inputs)), Roster: day.Roster}
	idx := make([]int, len(day.Inputs))
	for i := range idx {
		idx[i] = i
	}
	err = parallel(idx, keepParallel, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := day.Inputs[i]
		if ki, ok := known[in.Name]; ok && ki.Feed == in.Feed.String() {
			if _, err := os.Stat(filepath.Join(dir, ki.SHA256+".zst")); err == nil {
				k.Inputs[i] = ki
				return nil
			}
		}
		raw, err := readInput(in)
		if err != nil {
			return fmt.Errorf("keep input %s: %w", in.Name, err)
		}
		sum := sha256.Sum256(raw)
		hexSum := hex.EncodeToString(sum[:])
		format := "csv"
		if in.Format == connectors.XLSX {
			format = "xlsx"
		}
		k.Inputs[i] = KeptInput{Feed: in.Feed.String(), Name: in.Name, Counter: in.Counter, Pull: in.Pull,
			Format: format, SHA256: hexSum, Size: int64(len(raw))}
		p := filepath.Join(dir, hexSum+".zst")
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		z := enc.EncodeAll(raw, make([]byte, 0, len(raw)/4+64))
		if err := writeKept(dir, hexSum, z); err != nil {
			return fmt.Errorf("keep input %s: %w", in.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range day.Missing {
		km := KeptMissing{Feed: m.Feed.String(), Counter: m.Counter, City: m.City, Outlet: m.Outlet, Reason: m.Reason,
			Kind: int(m.Why.Kind), Dir: m.Why.Dir, Request: m.Why.Request, Tries: m.Why.Tries, Deadline: m.Why.Deadline}
		if m.Why.Err != nil {
			km.Err = m.Why.Err.Error()
		}
		k.Missing = append(k.Missing, km)
	}
	return k, nil
}

// writeKept writes z as dir/<sum>.zst unless it is there: a temporary file (mode 0644 less
// the umask, as the runs' files) linked into place. It is made durable with the run: Publish
// syncs the file system the store is on (syncfs), or, where it cannot, it is not fsynced
// (a crash may lose it; the manifest then names an input a rerun from the store reports
// missing).
func writeKept(dir, sum string, z []byte) error {
	final := filepath.Join(dir, sum+".zst")
	tmp := filepath.Join(dir, tmpPrefix+sum+"-"+strconv.FormatInt(keptSeq.Add(1), 10))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(z)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, final)
		switch {
		case errors.Is(err, fs.ErrExist):
			err = nil
		case err != nil: // a file system without hard links: the same bytes by their name
			err = os.Rename(tmp, final)
		}
	}
	os.Remove(tmp)
	return err
}

var keptSeq atomic.Int64

func readInput(in connectors.Input) ([]byte, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if b, ok := rc.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil
	}
	return io.ReadAll(rc)
}

// KeptDay is the day a run read, rebuilt from its kept inputs: the run of the date that
// runDir is (its manifest's Kept). Each input's bytes are checked against their sha256 when
// opened; a kept input that is missing or altered fails the open, naming it.
func (s *Store) KeptDay(date, runDir string) (*connectors.Day, *Manifest, error) {
	return s.KeptSubset(date, runDir, nil, nil)
}

// Taken returns the kept inputs of m that input selects, by name (for Keep's known).
func (m *Manifest) Taken(input func(KeptInput) bool) map[string]KeptInput {
	out := map[string]KeptInput{}
	if m.Kept == nil {
		return out
	}
	for _, ki := range m.Kept.Inputs {
		if input == nil || input(ki) {
			out[ki.Name] = ki
		}
	}
	return out
}

// KeptSubset is KeptDay with only the kept inputs for which input returns true and the
// missing inputs for which missing returns true (nil: all), for a refresh that reads some
// counters afresh. Stats count the inputs taken.
func (s *Store) KeptSubset(date, runDir string, input func(KeptInput) bool, missing func(KeptMissing) bool) (*connectors.Day, *Manifest, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, nil, err
	}
	m, err := ReadManifest(filepath.Join(runDir, ManifestName))
	if err != nil {
		return nil, nil, err
	}
	if m.Kept == nil {
		return nil, nil, fmt.Errorf("run %s of %s kept no inputs (it was written before settle kept them)", m.RunID, date)
	}
	dir := filepath.Join(dd, InputsName)
	day := &connectors.Day{Roster: m.Kept.Roster}
	for _, ki := range m.Kept.Inputs {
		if input != nil && !input(ki) {
			continue
		}
		id, ok := feed.ByName(ki.Feed)
		if !ok {
			return nil, nil, fmt.Errorf("run %s of %s: kept input %s: unknown feed %q", m.RunID, date, ki.Name, ki.Feed)
		}
		if !validSum(ki.SHA256) {
			return nil, nil, fmt.Errorf("run %s of %s: kept input %s: bad sha256 %q", m.RunID, date, ki.Name, ki.SHA256)
		}
		format := connectors.CSV
		if ki.Format == "xlsx" {
			format = connectors.XLSX
		}
		ki := ki
		day.Inputs = append(day.Inputs, connectors.Input{Feed: id, Name: ki.Name, Counter: ki.Counter, Pull: ki.Pull, Format: format,
			Open: func() (io.ReadCloser, error) { return openKept(dir, ki) }})
		st := &day.Stats[id]
		if ki.Pull {
			st.Pulls++
		} else {
			st.Files++
		}
		st.Bytes += ki.Size
	}
	for _, km := range m.Kept.Missing {
		if missing != nil && !missing(km) {
			continue
		}
		id, ok := feed.ByName(km.Feed)
		if !ok {
			return nil, nil, fmt.Errorf("run %s of %s: kept missing input: unknown feed %q", m.RunID, date, km.Feed)
		}
		mi := connectors.Missing{Feed: id, Counter: km.Counter, City: km.City, Outlet: km.Outlet, Reason: km.Reason,
			Why: connectors.Why{Kind: connectors.WhyKind(km.Kind), Dir: km.Dir, Request: km.Request, Tries: km.Tries, Deadline: km.Deadline}}
		if km.Err != "" {
			mi.Why.Err = errors.New(km.Err)
		}
		day.Missing = append(day.Missing, mi)
	}
	connectors.SortInputs(day.Inputs)
	return day, m, nil
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// openKept reads one kept input, checked against its sha256 and size.
func openKept(dir string, ki KeptInput) (io.ReadCloser, error) {
	z, err := os.ReadFile(filepath.Join(dir, ki.SHA256+".zst"))
	if err != nil {
		return nil, fmt.Errorf("kept input %s: %w", ki.Name, err)
	}
	dec, err := zdec()
	if err != nil {
		return nil, err
	}
	raw, err := dec.DecodeAll(z, make([]byte, 0, ki.Size))
	if err != nil {
		return nil, fmt.Errorf("kept input %s (%s.zst): %w", ki.Name, ki.SHA256, err)
	}
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != ki.SHA256 || int64(len(raw)) != ki.Size {
		return nil, fmt.Errorf("kept input %s (%s.zst): its bytes are not those the manifest names", ki.Name, ki.SHA256)
	}
	return connectors.Bytes(raw)()
}
