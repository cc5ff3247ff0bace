package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/semaphore"

	"settle/connectors"
	"settle/feed"
	"settle/internal/hugepage"
	"settle/internal/writeback"
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
//
// manifest.json holds Listing, Count and Refreshed; Inputs, Missing and Roster are in the
// listing Listing names (listing.go), read back with the manifest. A manifest written before
// the listing holds them itself (and no Listing).
type Kept struct {
	Inputs  []KeptInput          `json:"inputs,omitempty"`
	Missing []KeptMissing        `json:"missing,omitempty"`
	Roster  []connectors.Counter `json:"roster,omitempty"`
	// Refreshed names, in a refresh (settle run --counters, the page's refresh button), the
	// counters whose inputs were read afresh from the source; every other input was taken
	// from the date's current run's kept ones. Absent in a run that read its whole day.
	Refreshed []string `json:"refreshed,omitempty"`
	// Listing is the sha256 of the listing of Inputs, Missing and Roster, kept as
	// <date>/inputs/<Listing>.zst; Count is len(Inputs). WriteManifest sets both.
	Listing string `json:"listing,omitempty"`
	Count   int    `json:"count,omitempty"`
	// err is why the listing could not be read back (ReadManifest): Inputs, Missing and
	// Roster are then empty, and what needs them (KeptSubset, prune) fails with it.
	err error
}

// Err returns why the kept-inputs listing the manifest names could not be read (nil when it
// was, or when the manifest holds the record itself).
func (k *Kept) Err() error { return k.err }

var (
	// zenc compresses kept inputs. EncodeAll takes one of its encoders for a call, so it
	// has one per CPU: the pulls' workers keep bodies through it all at once (Keeper).
	zenc = sync.OnceValues(func() (*zstd.Encoder, error) {
		// SpeedFastest: on a city-day's CSVs a quarter less time than SpeedDefault, and
		// 3% smaller (9.9 against 10.2 MB for 56 MB).
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	})
	zdec = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<30))
	})
)

// keepParallel bounds the inputs Keep reads and hashes at once.
const keepParallel = 4

// keepBatch is what one Keep call is still compressing and writing.
type keepBatch struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error // the first write that failed
	// start is closed when the batch's writes may begin: once Keep has read and hashed every
	// input (so that they do not slow that), or sooner when keepQueued bytes wait.
	start     chan struct{}
	startOnce sync.Once
}

func newKeepBatch() *keepBatch { return &keepBatch{start: make(chan struct{})} }

// begin lets the batch's writes start.
func (b *keepBatch) begin() { b.startOnce.Do(func() { close(b.start) }) }

// keepWriters bounds the kept inputs compressed and written at once, over all Keep calls.
var keepWriters = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// keepQueued bounds the raw bytes waiting to be compressed, over all Keep calls: Keep's
// readers wait past it (a province-day's inputs are 618 MB).
const keepQueued = 64 << 20

var keepQueue = semaphore.NewWeighted(keepQueued)

// writeKeptLater is writeKept, for keepLater (a test makes it fail).
var writeKeptLater = writeKept

// keptWritten waits until every input Keep began to write for date is written, and returns
// the writes that failed (each again at every call, until the date's lock is released:
// forgetKept).
func (s *Store) keptWritten(date string) error {
	s.mu.Lock()
	batches := slices.Clone(s.keeping[date])
	s.mu.Unlock()
	var errs []error
	for _, b := range batches {
		b.wg.Wait()
		errs = append(errs, b.err)
	}
	return errors.Join(errs...)
}

// forgetKept waits for date's kept inputs being written and forgets them (the date's lock is
// being released: what failed was reported to Publish, or the run was not published).
func (s *Store) forgetKept(date string) {
	s.keptWritten(date)
	s.mu.Lock()
	delete(s.keeping, date)
	s.mu.Unlock()
}

// keepLater compresses raw and writes it as dir/<sum>.zst in the background, in batch b,
// once fewer than keepQueued bytes wait (ctx ends the wait with its error).
func keepLater(ctx context.Context, b *keepBatch, enc *zstd.Encoder, dir, sum, name string, raw []byte) error {
	weight := min(int64(len(raw)), keepQueued)
	if !keepQueue.TryAcquire(weight) {
		b.begin() // the queue is full: write what waits
		if err := keepQueue.Acquire(ctx, weight); err != nil {
			return err
		}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer keepQueue.Release(weight)
		<-b.start
		keepWriters <- struct{}{}
		defer func() { <-keepWriters }()
		z := enc.EncodeAll(raw, make([]byte, 0, len(raw)/4+64))
		if err := writeKeptLater(dir, sum, z); err != nil {
			b.mu.Lock()
			if b.err == nil {
				b.err = fmt.Errorf("keep input %s: %w", name, err)
			}
			b.mu.Unlock()
		}
	}()
	return nil
}

// keepHeld bounds the raw bytes Keep hands on to the engine (Keep): a city-day's files are
// 56 MB, a province-day's 618 MB (those past the bound are read again from the source).
const keepHeld = 64 << 20

// Keep stores every input of day under the date's inputs folder (those already there are
// not written again) and returns the record of them. The caller holds the date's lock.
//
// Keep returns once every input is read and hashed; their compression and writing go on in
// the background (while the engine reads them), and the run's Publish waits for them: a
// write that failed fails the publication. Releasing the date's lock waits for them too.
//
// known names inputs already kept (by Input.Name: a refresh's inputs taken from the kept
// ones, see KeptSubset): their record is taken as it is, without reading them again, when
// their kept file is there.
//
// An input Keep reads (up to keepHeld bytes in all) is handed on: its Open then gives, the
// first time, the bytes just kept with their sha256 (connectors.CheckedBytes: the engine
// neither reads the source again nor hashes them again: it parses the very bytes kept), and
// after that reads the source again, as it did before.
func (s *Store) Keep(ctx context.Context, date string, day *connectors.Day, known map[string]KeptInput) (*Kept, error) {
	wait, err := s.KeepAsync(ctx, date, day, known)
	if err != nil {
		return nil, err
	}
	return wait()
}

// KeepAsync is Keep with the inputs read and hashed in the background: it returns once
// every input's Open waits for its own (the engine starts parsing the day's biggest input as
// soon as it is read and hashed, not once the last one is: on a city-day ~50 ms of one
// core's work had come before any parse). wait returns what Keep returns, and must be
// called: an error there fails the run whatever was read meanwhile. The inputs are read
// biggest feed first (feed.Share), the order the engine parses them in.
func (s *Store) KeepAsync(ctx context.Context, date string, day *connectors.Day, known map[string]KeptInput) (wait func() (*Kept, error), err error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dd, InputsName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("keep inputs of %s: %w", date, err)
	}
	if err := s.keptWritten(date); err != nil { // an earlier Keep's, never waited for
		return nil, fmt.Errorf("keep inputs of %s: %w", date, err)
	}
	// What a killed run left half written is removed by the date's Keeper, which a run
	// makes before it fetches (one listing of a folder that may hold 20,000 files).
	enc, err := zenc()
	if err != nil {
		return nil, err
	}
	batch := newKeepBatch()
	s.mu.Lock()
	if s.keeping == nil {
		s.keeping = map[string][]*keepBatch{}
	}
	s.keeping[date] = append(s.keeping[date], batch)
	s.mu.Unlock()
	k := &Kept{Inputs: make([]KeptInput, len(day.Inputs)), Roster: day.Roster}
	var held atomic.Int64 // raw bytes handed on
	idx := make([]int, len(day.Inputs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(feed.Share[day.Inputs[b].Feed], feed.Share[day.Inputs[a].Feed])
	})
	// Each input's Open waits until its turn here is done, then opens what it left: the
	// bytes read and hashed (handOn), or the source's own Open.
	opens := make([]func() (io.ReadCloser, error), len(day.Inputs))
	ready := make([]chan struct{}, len(day.Inputs))
	for i := range day.Inputs {
		opens[i], ready[i] = day.Inputs[i].Open, make(chan struct{})
		day.Inputs[i].Open = func() (io.ReadCloser, error) {
			<-ready[i]
			return opens[i]()
		}
	}
	done := make(chan error, 1)
	go func() {
		defer batch.begin()
		done <- parallel(idx, keepParallel, func(i int) error {
			defer close(ready[i])
			return s.keepOne(ctx, dir, enc, batch, day.Inputs[i], &k.Inputs[i], &opens[i], &held, known)
		})
	}()
	return func() (*Kept, error) {
		if err := <-done; err != nil {
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
	}, nil
}

// keepOne keeps one input of KeepAsync: its record goes to *rec, and the Open of what was
// read (handed on, up to keepHeld bytes in all) to *open.
func (s *Store) keepOne(ctx context.Context, dir string, enc *zstd.Encoder, batch *keepBatch, in connectors.Input,
	rec *KeptInput, open *func() (io.ReadCloser, error), held *atomic.Int64, known map[string]KeptInput) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in.Open = *open // the source's, not KeepAsync's that waits for this
	format := "csv"
	if in.Format == connectors.XLSX {
		format = "xlsx"
	}
	if in.Kept != "" { // kept as it arrived (Keeper), or taken from the kept inputs
		*rec = KeptInput{Feed: in.Feed.String(), Name: in.Name, Counter: in.Counter, Pull: in.Pull,
			Format: format, SHA256: in.Kept, Size: in.Size}
		return nil
	}
	if ki, ok := known[in.Name]; ok && ki.Feed == in.Feed.String() {
		if keptThere(filepath.Join(dir, ki.SHA256+".zst")) {
			*rec = ki
			return nil
		}
	}
	raw, err := readInput(in)
	if err != nil {
		return fmt.Errorf("keep input %s: %w", in.Name, err)
	}
	sum := sha256.Sum256(raw)
	hexSum := hex.EncodeToString(sum[:])
	ki := KeptInput{Feed: in.Feed.String(), Name: in.Name, Counter: in.Counter, Pull: in.Pull,
		Format: format, SHA256: hexSum, Size: int64(len(raw))}
	*rec = ki
	p := filepath.Join(dir, hexSum+".zst")
	if !keptThere(p) {
		if err := keepLater(ctx, batch, enc, dir, hexSum, in.Name, raw); err != nil {
			return err
		}
	}
	if held.Add(int64(len(raw))) <= keepHeld {
		*open = handOn(raw, sum, in.Open)
	}
	return nil
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
	if err == nil && len(z) >= writebackAt {
		writeback.Start(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, final)
		switch {
		case errors.Is(err, fs.ErrExist) && !keptThere(final): // left empty by a crash: replaced
			err = os.Rename(tmp, final)
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

// keptThere reports whether the kept file p is there to be named by a run. A file of no bytes
// is not: kept files are written without an fsync of their own (the run's syncfs makes them
// durable at publication), so a crash before that may leave one cut to nothing, and a later
// run that took its name for the bytes would name a loss. (No kept file is empty: zstd
// writes a frame header even for an empty input.)
func keptThere(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Size() > 0
}

// handOn is the Open of an input Keep has read: raw (of sha256 sum) once, then the source's
// own Open again (as before Keep handed inputs on: the engine reads an input again only for
// the raw text of a few lines).
func handOn(raw []byte, sum [32]byte, open func() (io.ReadCloser, error)) func() (io.ReadCloser, error) {
	var once atomic.Pointer[[]byte]
	once.Store(&raw)
	return func() (io.ReadCloser, error) {
		if b := once.Swap(nil); b != nil {
			return connectors.CheckedBytes(*b, sum)()
		}
		return open()
	}
}

func readInput(in connectors.Input) ([]byte, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if b, ok := rc.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil
	}
	if f, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok { // a file: one allocation
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return hugepage.ReadSized(rc, fi.Size()) // a city-day's whole-city files: tens of MB
		}
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
	if m.Kept == nil || m.Kept.err != nil {
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
	s.keptWritten(date) // a write that failed fails the open of its input, naming it
	m, err := ReadManifest(filepath.Join(runDir, ManifestName))
	if err != nil {
		return nil, nil, err
	}
	return s.keptSubset(date, m, input, missing, false)
}

// KeptSubsetOf is KeptSubset of the run whose manifest m the caller has read already, for a
// refresh: each input also carries its sha256 (connectors.Input.Kept), so that the engine
// may take what it read of those bytes before (its parse cache) without reading them again.
// A rerun from the kept inputs (KeptDay) carries none: it reads and checks every one.
func (s *Store) KeptSubsetOf(date string, m *Manifest, input func(KeptInput) bool, missing func(KeptMissing) bool) (*connectors.Day, *Manifest, error) {
	s.keptWritten(date) // a write that failed fails the open of its input, naming it
	return s.keptSubset(date, m, input, missing, true)
}

func (s *Store) keptSubset(date string, m *Manifest, input func(KeptInput) bool, missing func(KeptMissing) bool, sums bool) (*connectors.Day, *Manifest, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, nil, err
	}
	if m.Kept == nil {
		return nil, nil, fmt.Errorf("run %s of %s kept no inputs (it was written before settle kept them)", m.RunID, date)
	}
	if m.Kept.err != nil {
		return nil, nil, fmt.Errorf("run %s of %s: %w", m.RunID, date, m.Kept.err)
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
		if sums {
			in := &day.Inputs[len(day.Inputs)-1]
			in.Kept, in.Size = ki.SHA256, ki.Size
		}
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
	return connectors.CheckedBytes(raw, sum)()
}

// Keeper is the connectors.Keeper of a date's kept inputs: a source given it (through
// connectors.WithKeeper) keeps each body as it arrives, compressed into inputs/<sha256>.zst,
// and holds only the Open that reads it back. The caller holds the date's lock from Keeper
// to Keep, and calls Flush once the source is done, before the inputs are read.
//
// The source's workers hash and compress (in parallel); the files are written by
// keeperWriters goroutines from a queue bounded by keeperQueued bytes: 64 workers creating
// files in one folder at once spent most of their time in the kernel, contending for it.
// The folder is listed once, so a body kept before (a rerun, a refresh) is not written or
// looked up again. Up to keeperHeld bytes of compressed bodies are also held in memory, so
// that the engine reads them without going back to the disk: their Open decompresses them
// (zstd checks its frame checksum) and gives the sha256 computed as they were kept; the
// others are read from their file and checked against their sha256 (openKept).
type Keeper struct {
	dir  string
	enc  *zstd.Encoder
	bufs sync.Pool    // buffers for compressed bytes, reused from one body to the next
	held atomic.Int64 // compressed bytes held in memory
	// heldMax bounds held: keeperHeld (tests lower it).
	heldMax int64

	mu      sync.Mutex
	have    map[string]bool // sums in the folder or queued, once scanned is closed
	scanned chan struct{}   // closed when the folder's listing is in have
	scanErr error           // why it could not be listed

	queue  chan keptWrite
	queued *semaphore.Weighted // compressed bytes queued
	wg     sync.WaitGroup
	flush  sync.Once
	errMu  sync.Mutex
	err    error // the first write that failed
}

type keptWrite struct {
	sum string
	z   []byte
	buf *[]byte // to give back to bufs once written, or nil
}

const (
	// keeperHeld bounds the compressed bytes a Keeper holds in memory: a city-day's pulls
	// are ~10 MB of zstd (59 MB of text), a province-day's ten times as much.
	keeperHeld = 64 << 20
	// keeperQueued bounds the compressed bytes waiting to be written.
	keeperQueued = 32 << 20
	// keeperWriters write the kept files.
	keeperWriters = 2
)

var _ connectors.Keeper = (*Keeper)(nil)

// entryHasBytes reports whether the folder entry e is a regular file with bytes (keptThere
// of a listed file), looked at by its path.
func entryHasBytes(e os.DirEntry) bool {
	fi, err := e.Info()
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// listStatters is how many goroutines a Keeper's listing stats its files with.
const listStatters = 4

// listDir lists a folder, in the order the file system gives (os.ReadDir also sorts the
// names: ~20,000 of them in a kept-inputs folder); the tests make it fail.
var listDir = func(dir string) ([]os.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// Keeper returns the Keeper of date's kept inputs, its folder made; the folder is listed, and
// cleared of what a killed run left half written, in the background (Listed).
func (s *Store) Keeper(date string) (*Keeper, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dd, InputsName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("keep inputs of %s: %w", date, err)
	}
	if err := s.keptWritten(date); err != nil {
		return nil, fmt.Errorf("keep inputs of %s: %w", date, err)
	}
	enc, err := zenc()
	if err != nil {
		return nil, err
	}
	k := &Keeper{dir: dir, enc: enc, heldMax: keeperHeld, have: map[string]bool{}, queue: make(chan keptWrite, 1024),
		queued: semaphore.NewWeighted(keeperQueued), scanned: make(chan struct{})}
	// One listing of the folder (a pulled city-day keeps ~20,000 files: ~60 ms), made while
	// the source is asked for the roster: what a killed run left half written goes, what is
	// kept already is not written again. Keep and Has wait for it; nothing is written before.
	go func() {
		defer close(k.scanned)
		ents, err := listDir(dir)
		if err != nil {
			k.scanErr = fmt.Errorf("keep inputs of %s: %w", date, err)
			return
		}
		var (
			kept []os.DirEntry
			sums []string
		)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				os.Remove(filepath.Join(dir, e.Name()))
			} else if sum, ok := strings.CutSuffix(e.Name(), ".zst"); ok && validSum(sum) && e.Type().IsRegular() {
				kept, sums = append(kept, e), append(sums, sum)
			}
		}
		// An empty file is not there (keptThere): one stat a file, ~20,000 on a pulled
		// city-day, made by a few goroutines side by side (a refresh waits for the listing
		// before it reconciles, while its fetch mostly waits on the network).
		// Each is looked at by its name in the folder (fstatat), not by its whole path.
		there := make([]bool, len(kept))
		df, _ := os.Open(dir) // nil: by path (hasBytes)
		var wg sync.WaitGroup
		for w := range listStatters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(kept); i += listStatters {
					there[i] = hasBytes(df, kept[i])
				}
			}()
		}
		wg.Wait()
		if df != nil {
			df.Close()
		}
		for i, sum := range sums {
			if there[i] {
				k.have[sum] = true
			}
		}
	}()
	for range keeperWriters {
		k.wg.Add(1)
		go k.write()
	}
	return k, nil
}

// Listed waits for the folder's listing and returns why it failed (then nothing can be kept).
func (k *Keeper) Listed() error {
	<-k.scanned
	return k.scanErr
}

// Has reports whether the kept input of hex sha256 sum is in the folder (or queued to it).
func (k *Keeper) Has(sum string) bool {
	if <-k.scanned; k.scanErr != nil {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.have[sum]
}

// write writes the queued files until Flush.
func (k *Keeper) write() {
	defer k.wg.Done()
	for w := range k.queue {
		if err := writeKept(k.dir, w.sum, w.z); err != nil {
			k.errMu.Lock()
			if k.err == nil {
				k.err = fmt.Errorf("keep input %s.zst: %w", w.sum, err)
			}
			k.errMu.Unlock()
		}
		k.queued.Release(queuedWeight(w.z))
		if w.buf != nil && cap(w.z) <= 1<<20 {
			*w.buf = w.z[:0]
			k.bufs.Put(w.buf)
		}
	}
}

func queuedWeight(z []byte) int64 { return min(int64(len(z)), keeperQueued) }

// Flush waits until every kept body is written and returns the first write that failed. Keep
// must not be called after it; a second Flush returns the same.
func (k *Keeper) Flush() error {
	if err := k.Listed(); err != nil { // nothing of the store is touched after Flush returns
		k.flush.Do(func() {
			close(k.queue)
			k.wg.Wait()
		})
		return err
	}
	k.flush.Do(func() {
		close(k.queue)
		k.wg.Wait()
	})
	k.errMu.Lock()
	defer k.errMu.Unlock()
	return k.err
}

// Keep keeps b as the input name (connectors.Keeper); a body kept before (the same bytes)
// is not written again. A failed write is reported by Flush (the body's Open then fails too,
// unless it is held in memory).
func (k *Keeper) Keep(name string, b []byte) (string, func() (io.ReadCloser, error), error) {
	sum := sha256.Sum256(b)
	hexSum := hex.EncodeToString(sum[:])
	ki := KeptInput{Name: name, SHA256: hexSum, Size: int64(len(b))}
	if <-k.scanned; k.scanErr != nil {
		return "", nil, k.scanErr
	}
	k.mu.Lock()
	had := k.have[hexSum]
	k.have[hexSum] = true
	k.mu.Unlock()
	if had && k.held.Load() >= k.heldMax {
		return hexSum, func() (io.ReadCloser, error) { return openKept(k.dir, ki) }, nil
	}
	buf, _ := k.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	z := k.enc.EncodeAll(b, (*buf)[:0])
	open := func() (io.ReadCloser, error) { return openKept(k.dir, ki) }
	if k.held.Add(int64(len(z))) <= k.heldMax {
		held := bytes.Clone(z)
		open = func() (io.ReadCloser, error) { return openHeld(held, ki, sum) }
	} else {
		k.held.Add(-int64(len(z)))
	}
	if had {
		*buf = z[:0]
		k.bufs.Put(buf)
		return hexSum, open, nil
	}
	if err := k.queued.Acquire(context.Background(), queuedWeight(z)); err != nil {
		return "", nil, err
	}
	k.queue <- keptWrite{sum: hexSum, z: z, buf: buf}
	return hexSum, open, nil
}

// openHeld reads a kept input from its compressed bytes held in memory.
func openHeld(z []byte, ki KeptInput, sum [32]byte) (io.ReadCloser, error) {
	dec, err := zdec()
	if err != nil {
		return nil, err
	}
	raw, err := dec.DecodeAll(z, make([]byte, 0, ki.Size))
	if err != nil || int64(len(raw)) != ki.Size {
		return nil, fmt.Errorf("kept input %s (%s, held in memory): %d bytes decoded, want %d: %v", ki.Name, ki.SHA256, len(raw), ki.Size, err)
	}
	return connectors.CheckedBytes(raw, sum)()
}
