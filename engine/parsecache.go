package engine

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"settle/connectors"
	"settle/feed"
	"settle/internal/buildid"
	"settle/internal/hugepage"
	"settle/internal/writeback"
)

// The parse cache (issue 17): what reading an input gave — its valid rows as an Arrow record,
// its rejects, its own findings, the counters it names — is a function of the input's bytes,
// its name and kind, the loader's settings and the program. A run keeps it per feed in
// Config.CacheDir, and the next run of the date takes every input whose bytes it has already
// read from there instead of parsing them again: a refresh of one counter reads that
// counter's inputs and nothing else, and an unchanged rerun reads no input twice.
//
// One file per feed, named by the set of inputs it holds (pcSetKey): a run whose inputs of a
// feed are those of the file writes nothing for that feed. Each file carries its program and
// settings key, and a CRC-32C of its body; a file that does not match is never used (a cache is
// never a reason for a different result: at worst the inputs are read again). Files the run
// did not use or write are removed once the run has written its own.

const (
	pcMagic  = "settle parse cache 2\n"
	pcAlign  = 64 // the Arrow part starts at a multiple of this (its buffers are read in place)
	pcSuffix = ".pc"
	// pcBatchRows is about how many rows a record batch of a cache file holds (an input's
	// rows are never split): the writer joins that many at a time, not a whole feed, so a
	// city-day's cache costs little memory beside the day.
	pcBatchRows = 1 << 15
	// pcSumSize is the body's CRC-32C (Castagnoli): the cache guards against a file cut short
	// or damaged, not against someone who may write the store (who could change the runs
	// themselves); a sha256 of the ~80 MB of a city-day had been a tenth of a refresh.
	pcSumSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pcInput is one input's entry in a cache file.
type pcInput struct {
	Name, Counter string
	Pull          bool
	Format        connectors.Format
	Digest        [32]byte
	Batch         int   // the record batch of the file that holds its rows
	Off, Rows     int64 // its rows in that batch
	Read          int
	Rejects       []Reject
	Excs          []Exception
	Triples       []triple
}

// pcIndex is the head of a cache file.
type pcIndex struct {
	Version [32]byte // pcVersion of the program and settings that wrote it
	Feed    feed.ID
	Set     [32]byte // pcSetKey of its inputs
	Inputs  []pcInput
}

// parseCache is the cache files of a directory that match this run's program and settings.
type parseCache struct {
	dir     string
	version [32]byte
	// hits are the entries of the files read, by digest: the first of each digest's, and the
	// others (inputs of the same bytes: a header-only report of many counters) after it.
	// Keyed by the digest alone, not by every field an entry is matched on: a city-day's
	// 20,565 entries had cost a refresh ~7 ms to hash in and again to look up.
	hits    map[[32]byte]int32
	entries []pcHit
	files   map[feed.ID][]*pcFile // files read, per feed
}

type pcFile struct {
	name string
	set  [32]byte
	recs []arrow.RecordBatch
}

type pcHit struct {
	file *pcFile
	feed feed.ID
	in   *pcInput
	next int32 // the next entry of the digest, or -1
}

// pcVersion keys the program and the loader's settings: a cache file of another is not used.
func pcVersion(l *loader) ([32]byte, bool) {
	id := buildid.ID()
	if len(id) == 0 {
		return [32]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(pcMagic))
	h.Write(id)
	fmt.Fprintf(h, "\x00%d\x00%d\x00%s\x00%d", l.day, l.ceiling, l.lang.code(), maxInputBytes)
	var out [32]byte
	h.Sum(out[:0])
	return out, true
}

// pcSetKey names the inputs of one feed, in canonical order, as a cache file holds them.
func pcSetKey(version [32]byte, id feed.ID, loads []*loaded) [32]byte {
	h := sha256.New()
	h.Write(version[:])
	b := binary.AppendUvarint(nil, uint64(id))
	for _, ld := range loads {
		// Each input: its name and counter, length first, its pull flag, format and digest.
		b = binary.AppendUvarint(b, uint64(len(ld.in.Name)))
		b = append(b, ld.in.Name...)
		b = binary.AppendUvarint(b, uint64(len(ld.in.Counter)))
		b = append(b, ld.in.Counter...)
		pull := byte(0)
		if ld.in.Pull {
			pull = 1
		}
		b = append(b, pull)
		b = binary.AppendVarint(b, int64(ld.in.Format))
		b = append(b, ld.digest[:]...)
		if len(b) > 1<<16 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// rows is how many rows the plan writes.
func (p *pcPlan) rows() int64 {
	var n int64
	for _, pf := range p.feeds {
		for _, pt := range pf.parts {
			n += pt.n
		}
	}
	return n
}

// openParseCache reads the usable cache files of dir (none when dir is "" or holds none).
// A file that cannot be read or does not check is left out, never an error: the inputs are
// then read as if there were no cache.
func openParseCache(dir string, l *loader) *parseCache {
	if dir == "" {
		return nil
	}
	version, ok := pcVersion(l)
	if !ok {
		return nil
	}
	pc := &parseCache{dir: dir, version: version, files: map[feed.ID][]*pcFile{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return pc
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), pcSuffix) {
			names = append(names, e.Name())
		}
	}
	type got struct {
		f   *pcFile
		idx *pcIndex
	}
	out := make([]got, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, idx, err := readPCFile(filepath.Join(dir, name), version, l)
			if err == nil {
				f.name = name
				out[i] = got{f, idx}
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, g := range out {
		if g.f != nil {
			n += len(g.idx.Inputs)
		}
	}
	pc.hits = make(map[[32]byte]int32, n)
	pc.entries = make([]pcHit, 0, n)
	for _, g := range out {
		if g.f == nil {
			continue
		}
		pc.files[g.idx.Feed] = append(pc.files[g.idx.Feed], g.f)
		for i := range g.idx.Inputs {
			e := &g.idx.Inputs[i]
			next := int32(-1)
			if first, ok := pc.hits[e.Digest]; ok {
				next = first
			}
			pc.hits[e.Digest] = int32(len(pc.entries))
			pc.entries = append(pc.entries, pcHit{g.f, g.idx.Feed, e, next})
		}
	}
	return pc
}

// readPCFile reads and checks one cache file.
func readPCFile(path string, version [32]byte, l *loader) (*pcFile, *pcIndex, error) {
	data, err := hugepage.ReadFile(path) // ~80 MB on a city-day, faulted in by huge pages
	if err != nil {
		return nil, nil, err
	}
	head := len(pcMagic) + pcSumSize + 8
	if len(data) < head || string(data[:len(pcMagic)]) != pcMagic {
		return nil, nil, errors.New("not a parse cache file")
	}
	body := data[len(pcMagic)+pcSumSize:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(pcMagic):]) {
		return nil, nil, errors.New("checksum differs")
	}
	n := binary.LittleEndian.Uint64(body[:8])
	if n > uint64(len(body)-8) {
		return nil, nil, errors.New("index past the end")
	}
	idx, err := decodeIndex(body[8 : 8+n])
	if err != nil {
		return nil, nil, err
	}
	if idx.Version != version || int(idx.Feed) < 0 || int(idx.Feed) >= int(feed.Count) {
		return nil, nil, errors.New("another program or settings")
	}
	start := len(pcMagic) + pcSumSize + 8 + int(n)
	start = (start + pcAlign - 1) / pcAlign * pcAlign
	if start > len(data) {
		return nil, nil, errors.New("record past the end")
	}
	fr, err := ipc.NewMappedFileReader(data[start:], ipc.WithAllocator(l.mem), ipc.WithSchema(schemas()[idx.Feed]))
	if err != nil {
		return nil, nil, err
	}
	defer fr.Close()
	f := &pcFile{set: idx.Set}
	for b := 0; b < fr.NumRecords(); b++ {
		rec, err := fr.RecordBatchAt(b)
		if err != nil {
			f.release()
			return nil, nil, err
		}
		f.recs = append(f.recs, rec)
	}
	for i := range idx.Inputs {
		e := &idx.Inputs[i]
		if e.Rows == 0 {
			continue
		}
		if e.Batch < 0 || e.Batch >= len(f.recs) || e.Off < 0 || e.Rows < 0 || e.Off+e.Rows > f.recs[e.Batch].NumRows() {
			f.release()
			return nil, nil, errors.New("entry past its record")
		}
	}
	return f, idx, nil
}

func (f *pcFile) release() {
	for _, r := range f.recs {
		r.Release()
	}
	f.recs = nil
}

// hit returns the cached reading of in, whose bytes have sha256 digest, or nil.
func (pc *parseCache) hit(in connectors.Input, digest [32]byte) *loaded {
	i, ok := pc.hits[digest]
	if !ok {
		return nil
	}
	var h *pcHit
	for ; i >= 0; i = pc.entries[i].next {
		c := &pc.entries[i]
		if e := c.in; c.feed == in.Feed && e.Name == in.Name && e.Counter == in.Counter && e.Pull == in.Pull && e.Format == in.Format {
			h = c
			break
		}
	}
	if h == nil {
		return nil
	}
	e := h.in
	ld := &loaded{in: in, digest: digest, read: e.Read, rejects: clone(e.Rejects), excs: clone(e.Excs)}
	if e.Rows > 0 {
		ld.rec, ld.off, ld.n = h.file.recs[e.Batch], e.Off, e.Rows
		ld.rec.Retain()
	}
	ld.triples = e.Triples // never changed: the loaded's and the entry's alike
	return ld
}

func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}

// release lets go of the files' records (the inputs served keep their slices).
func (pc *parseCache) release() {
	for _, fs := range pc.files {
		for _, f := range fs {
			f.release()
		}
	}
}

// keptDigest is the sha256 an input's reader already knows (connectors.Input.Kept).
func keptDigest(in connectors.Input) ([32]byte, bool) {
	var d [32]byte
	if len(in.Kept) != 64 {
		return d, false
	}
	if _, err := hex.Decode(d[:], []byte(in.Kept)); err != nil {
		return d, false
	}
	return d, true
}

// pcPlan is what a run writes to the cache: the feeds whose set of inputs no file holds.
type pcPlan struct {
	dir     string
	version [32]byte
	feeds   []pcFeed
	keep    map[string]bool // file names of this run: used or about to be written
}

type pcFeed struct {
	id     feed.ID
	set    [32]byte
	inputs []pcInput // taken when planned: assemble changes the loads after
	parts  []pcPart  // the inputs' rows, in order, their records retained for the writer
}

// pcPart is one input's rows to write: n rows of rec from off, into record batch batch.
type pcPart struct {
	rec    arrow.RecordBatch
	off, n int64
	batch  int
}

// plan decides what to write once the inputs are read: it retains the records it will write
// (assemble releases the loads' own references).
func (pc *parseCache) plan(loads []*loaded) *pcPlan {
	p := &pcPlan{dir: pc.dir, version: pc.version, keep: map[string]bool{}}
	var per [feed.Count][]*loaded
	for _, ld := range loads {
		per[ld.in.Feed] = append(per[ld.in.Feed], ld)
	}
	for _, id := range feed.All {
		set := pcSetKey(pc.version, id, per[id])
		name := pcFileName(id, set)
		found := false
		for _, f := range pc.files[id] {
			if f.set == set && f.name == name {
				found = true
			}
		}
		p.keep[name] = true
		if found {
			continue
		}
		pf := pcFeed{id: id, set: set}
		var off int64
		batch := 0
		for _, ld := range per[id] {
			if ld.unread { // a read that failed (the disk, a limit) is tried again next time
				continue
			}
			e := pcInput{Name: ld.in.Name, Counter: ld.in.Counter, Pull: ld.in.Pull, Format: ld.in.Format, Digest: ld.digest,
				Read: ld.read, Rejects: clone(ld.rejects), Excs: clone(ld.excs)}
			if ld.rec != nil && ld.n > 0 {
				if off >= pcBatchRows {
					batch, off = batch+1, 0
				}
				e.Batch, e.Off, e.Rows = batch, off, ld.n
				ld.rec.Retain()
				pf.parts = append(pf.parts, pcPart{ld.rec, ld.off, ld.n, batch})
				off += e.Rows
			}
			e.Triples = ld.triples
			pf.inputs = append(pf.inputs, e)
		}
		p.feeds = append(p.feeds, pf)
	}
	return p
}

func pcFileName(id feed.ID, set [32]byte) string {
	return fmt.Sprintf("%s-%x%s", id, set[:12], pcSuffix)
}

// beforeCacheWrite runs as the cache's writing begins; the tests slow the writer with it.
var beforeCacheWrite = func() {}

// write writes the planned files, then removes every other cache file of the directory.
// It releases what plan retained, also on an error.
func (p *pcPlan) write(l *loader) error {
	beforeCacheWrite()
	defer func() {
		for _, pf := range p.feeds {
			for _, pt := range pf.parts {
				pt.rec.Release()
			}
		}
	}()
	if len(p.feeds) > 0 {
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return err
		}
	}
	var firstErr error
	for _, pf := range p.feeds {
		if err := p.writeFeed(l, pf); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return firstErr
		}
		return errors.Join(firstErr, err)
	}
	for _, e := range ents {
		if !p.keep[e.Name()] {
			if err := os.Remove(filepath.Join(p.dir, e.Name())); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (p *pcPlan) writeFeed(l *loader, pf pcFeed) error {
	idx := pcIndex{Version: p.version, Feed: pf.id, Set: pf.set, Inputs: pf.inputs}
	var ib bytes.Buffer
	if err := encodeIndex(&ib, &idx); err != nil {
		return err
	}
	// 0644 less the umask, as the store's other files (CreateTemp would make it 0600).
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp, err := os.OpenFile(filepath.Join(p.dir, fmt.Sprintf(".tmp-%x", rnd)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// magic, the CRC (written last), then the body the CRC covers: the index's length, the
	// index, padding to pcAlign, and the Arrow file, streamed a batch at a time.
	bw := bufio.NewWriterSize(tmp, 1<<20)
	crc := crc32.New(castagnoli)
	body := io.MultiWriter(bw, crc)
	bw.WriteString(pcMagic)
	bw.Write(make([]byte, pcSumSize))
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(ib.Len()))
	body.Write(n[:])
	body.Write(ib.Bytes())
	start := len(pcMagic) + pcSumSize + 8 + ib.Len()
	body.Write(make([]byte, (start+pcAlign-1)/pcAlign*pcAlign-start))
	fw, err := ipc.NewFileWriter(body, ipc.WithSchema(schemas()[pf.id]), ipc.WithAllocator(l.mem))
	if err != nil {
		return err
	}
	for i := 0; i < len(pf.parts); {
		j := i
		for j < len(pf.parts) && pf.parts[j].batch == pf.parts[i].batch {
			j++
		}
		// The batch's inputs, runs of consecutive rows of one record joined into one slice.
		var slices []arrow.RecordBatch
		for k := i; k < j; {
			m, end := k+1, pf.parts[k].off+pf.parts[k].n
			for m < j && pf.parts[m].rec == pf.parts[k].rec && pf.parts[m].off == end {
				end += pf.parts[m].n
				m++
			}
			slices = append(slices, pf.parts[k].rec.NewSlice(pf.parts[k].off, end))
			k = m
		}
		var rec arrow.RecordBatch
		if len(slices) == 1 { // one record's rows (a big input's own): written as they are
			rec = slices[0]
		} else {
			rec, err = concatRecs(pf.id, slices, l)
			for _, s := range slices {
				s.Release()
			}
			if err != nil {
				return err
			}
		}
		err = fw.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
		i = j
	}
	if err := fw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var sum [pcSumSize]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := tmp.WriteAt(sum[:], int64(len(pcMagic))); err != nil {
		return err
	}
	// A city-day's cache is ~70 MB, the biggest thing a run writes to the store: left to the
	// run's syncfs, its writing out had been most of the ~0.1 s Publish waited for the disk.
	writeback.Start(tmp)
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(p.dir, pcFileName(pf.id, pf.set)))
}

// concatRecs joins a feed's records into one (an empty one for none), leaving the parts as
// they are.
func concatRecs(id feed.ID, parts []arrow.RecordBatch, l *loader) (arrow.RecordBatch, error) {
	schema := schemas()[id]
	if len(parts) == 0 {
		b := array.NewRecordBuilder(l.mem, schema)
		defer b.Release()
		return b.NewRecordBatch(), nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, p := range parts {
		rows += p.NumRows()
	}
	for c := range cols {
		arrs := make([]arrow.Array, len(parts))
		for i, p := range parts {
			arrs[i] = p.Column(c)
		}
		a, err := array.Concatenate(arrs, l.mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, err
		}
		cols[c] = a
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	for _, a := range cols {
		a.Release()
	}
	return rec, nil
}

// The index of a cache file: its version, feed and set, then each input's entry in binary
// (uvarint lengths and numbers), then, gob-encoded, the findings of the few inputs that have
// any (gob for the whole index had been ~40 ms of a refresh's CPU: 20,565 entries).

// pcFindings are the rejects and findings of entry Input of an index.
type pcFindings struct {
	Input   int
	Rejects []Reject
	Excs    []Exception
}

func encodeIndex(w *bytes.Buffer, idx *pcIndex) error {
	b := make([]byte, 0, 80*len(idx.Inputs)+128)
	b = append(b, idx.Version[:]...)
	b = binary.AppendVarint(b, int64(idx.Feed))
	b = append(b, idx.Set[:]...)
	b = binary.AppendUvarint(b, uint64(len(idx.Inputs)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var finds []pcFindings
	for i := range idx.Inputs {
		e := &idx.Inputs[i]
		str(e.Name)
		str(e.Counter)
		pull := byte(0)
		if e.Pull {
			pull = 1
		}
		b = append(b, pull)
		b = binary.AppendVarint(b, int64(e.Format))
		b = append(b, e.Digest[:]...)
		for _, v := range []int64{int64(e.Batch), e.Off, e.Rows, int64(e.Read)} {
			b = binary.AppendVarint(b, v)
		}
		b = binary.AppendUvarint(b, uint64(len(e.Triples)))
		for _, t := range e.Triples {
			str(t.city)
			str(t.outlet)
			str(t.counter)
		}
		if len(e.Rejects) > 0 || len(e.Excs) > 0 {
			finds = append(finds, pcFindings{i, e.Rejects, e.Excs})
		}
	}
	w.Write(b)
	return gob.NewEncoder(w).Encode(finds)
}

// pcReader reads an index; the first fault stops it (err), and every read after gives zeros.
type pcReader struct {
	b []byte
	// s is b as one string, in step with it: the texts read (names, counters) are parts of
	// it, not a string made each (a city-day's index holds ~80,000), and all of them keep
	// the index's text alive, a few MB for the run.
	s   string
	err error
}

func (r *pcReader) skip(n int) {
	r.b, r.s = r.b[n:], r.s[n:]
}

var errIndex = errors.New("index damaged")

func (r *pcReader) fail() {
	if r.err == nil {
		r.err = errIndex
	}
	r.b, r.s = nil, ""
}

func (r *pcReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.skip(n)
	return v
}

func (r *pcReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.skip(n)
	return v
}

func (r *pcReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.skip(int(n))
	return out
}

func (r *pcReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.fail()
		return ""
	}
	out := r.s[:n]
	r.skip(int(n))
	return out
}

func (r *pcReader) sum(d *[32]byte) { copy(d[:], r.bytes(32)) }

func decodeIndex(data []byte) (*pcIndex, error) {
	r := &pcReader{b: data, s: string(data)}
	idx := &pcIndex{}
	r.sum(&idx.Version)
	idx.Feed = feed.ID(r.varint())
	r.sum(&idx.Set)
	n := r.uvarint()
	if n > uint64(len(r.b))/36 { // an entry takes 36 bytes at least
		r.fail()
		n = 0
	}
	idx.Inputs = make([]pcInput, n)
	for i := range idx.Inputs {
		e := &idx.Inputs[i]
		e.Name, e.Counter = r.str(), r.str()
		if p := r.bytes(1); len(p) == 1 {
			e.Pull = p[0] == 1
		}
		e.Format = connectors.Format(r.varint())
		r.sum(&e.Digest)
		e.Batch, e.Off, e.Rows, e.Read = int(r.varint()), r.varint(), r.varint(), int(r.varint())
		nt := r.uvarint()
		if nt > uint64(len(r.b))/3 { // a triple takes 3 bytes at least
			r.fail()
			nt = 0
		}
		if nt > 0 {
			e.Triples = make([]triple, nt)
			for j := range e.Triples {
				e.Triples[j] = triple{r.str(), r.str(), r.str()}
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	var finds []pcFindings
	if err := gob.NewDecoder(bytes.NewReader(r.b)).Decode(&finds); err != nil {
		return nil, err
	}
	for _, f := range finds {
		if f.Input < 0 || f.Input >= len(idx.Inputs) {
			return nil, errIndex
		}
		idx.Inputs[f.Input].Rejects, idx.Inputs[f.Input].Excs = f.Rejects, f.Excs
	}
	return idx, nil
}

// newLoader is the loader of cfg's day and settings (its cache not yet opened); a Config
// without an allocator has Go's.
func newLoader(cfg Config) *loader {
	date := time.Date(cfg.Date.Year(), cfg.Date.Month(), cfg.Date.Day(), 0, 0, 0, 0, Shanghai)
	mem := cfg.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &loader{date: date, day: dayNumber(date), ceiling: cfg.Ceiling, mem: mem, lang: langOf(cfg.Lang),
		workers: max(1, cfg.Workers)}
}

// CacheAhead is a day's parse cache read before Load (ReadCacheAhead). A refresh reads its
// ~80 MB while the counter's few pulls are on the network, rather than after them.
type CacheAhead struct {
	dir     string
	version [32]byte
	done    chan struct{}
	mu      sync.Mutex
	pc      *parseCache // nil once taken or dropped
}

// ReadCacheAhead starts reading the parse cache of cfg.CacheDir for cfg's day and settings;
// nil when there is none to read. Give it to Load as Config.Ahead, or Drop it.
func ReadCacheAhead(cfg Config) *CacheAhead {
	if cfg.CacheDir == "" {
		return nil
	}
	l := newLoader(cfg)
	version, ok := pcVersion(l)
	if !ok {
		return nil
	}
	a := &CacheAhead{dir: cfg.CacheDir, version: version, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		pc := openParseCache(cfg.CacheDir, l)
		a.mu.Lock()
		a.pc = pc
		a.mu.Unlock()
	}()
	return a
}

// take waits for the cache read ahead and hands it over when it was read from dir for l's
// day and settings; otherwise it drops it and returns nil (Load then opens the cache itself).
func (a *CacheAhead) take(dir string, l *loader) *parseCache {
	if a == nil {
		return nil
	}
	<-a.done
	a.mu.Lock()
	pc := a.pc
	a.pc = nil
	a.mu.Unlock()
	if pc == nil {
		return nil
	}
	if version, ok := pcVersion(l); !ok || version != a.version || dir != a.dir {
		pc.release()
		return nil
	}
	return pc
}

// Drop releases what was read ahead and not taken by Load; it waits for the reading to end.
// It may be called more than once, and after Load.
func (a *CacheAhead) Drop() {
	if a == nil {
		return
	}
	<-a.done
	a.mu.Lock()
	pc := a.pc
	a.pc = nil
	a.mu.Unlock()
	if pc != nil {
		pc.release()
	}
}
