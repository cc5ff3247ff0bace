package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"settle/connectors"
	"settle/engine"
	"settle/feed"
)

// ManifestName is the manifest's path inside a run directory.
const ManifestName = "manifest.json"

// Values of Manifest.Status.
const (
	StatusComplete   = "complete"
	StatusIncomplete = "incomplete"
)

// Manifest is manifest.json: what a run read, what it found and what it wrote. Its JSON
// keys come in struct order, the feeds in canonical order and maps sorted by key, so the
// file is a function of its values. InputDigest and each feed's SHA256 are the engine's
// checksums of the inputs (engine.Result.InputDigest, FeedDigests): equal for the same
// inputs, so that settle diff can tell a change of inputs from a change of version.
type Manifest struct {
	RunID       string `json:"run_id"`
	BizDate     string `json:"biz_date"`
	Source      string `json:"source"`
	ToolVersion string `json:"tool_version"`
	InputDigest string `json:"input_digest,omitempty"`
	// DetailLang is the language of exceptions.csv's details and rejects.csv's reasons
	// (zh or en); empty in runs written before settle recorded it, whose details were
	// mostly English whatever --lang said.
	DetailLang string    `json:"detail_lang,omitempty"`
	StartedAt  time.Time `json:"started_at"`  // written in UTC, RFC3339, whole seconds
	FinishedAt time.Time `json:"finished_at"` // written in UTC, RFC3339, whole seconds
	Status     string    `json:"status"`      // StatusComplete or StatusIncomplete
	// DayOpen is true when the business day had not ended in Asia/Shanghai when the run
	// started (its reports say so on their face); absent, false, for a day that had ended.
	DayOpen    bool            `json:"day_open,omitempty"`
	Feeds      []FeedManifest  `json:"feeds"`
	Counters   CounterCounts   `json:"counters"`
	Exceptions ExceptionCounts `json:"exceptions"`
	// Outputs holds the sha256 and size of every file of the run directory but the manifest,
	// keyed by '/'-separated relative path. WriteManifest fills it.
	Outputs map[string]Output `json:"outputs"`
	// Reports holds, per report path, the content key it was rendered under and the run
	// that rendered it (that run's id is the one the report shows): an unchanged report is
	// the earlier run's file, hard-linked (issue 17.3). WriteManifest fills it from the run.
	Reports map[string]ReportRecord `json:"reports,omitempty"`
	// FeedFiles is the same for the feeds' Parquet files (feeds/<feed>.parquet): the content
	// key of the feed's rows and the run that wrote the file (store/feedkey.go).
	FeedFiles map[string]ReportRecord `json:"feed_files,omitempty"`
	// SealedAt is when the run's files were all in place (written or linked), just before
	// the manifest: a later run takes one of them unread only when its status change time
	// is not after this (Previous.same). Absent under SOURCE_DATE_EPOCH (the manifest is then
	// a function of the inputs, version and clock alone), in a run that took no part in reuse
	// (Run.ReuseFrom) and in older runs: their files are read again.
	SealedAt *time.Time `json:"sealed_at,omitempty"`
	// Kept names the raw inputs the run read, kept in <store>/<date>/inputs (Store.Keep);
	// absent in runs written before settle kept them.
	Kept *Kept `json:"kept,omitempty"`
}

// FeedManifest is one feed's line of the manifest: what the source did (files, pulls,
// retries, failures, bytes) and what the engine read (SHA256: the checksum of its inputs).
type FeedManifest struct {
	Feed     string `json:"feed"`
	Inputs   int    `json:"inputs"`
	Files    int    `json:"files"`
	Pulls    int    `json:"pulls"`
	Retries  int    `json:"retries"`
	Failures int    `json:"failures"`
	Bytes    int64  `json:"bytes"`
	RowsRead int    `json:"rows_read"`
	Valid    int    `json:"valid"`
	Rejected int    `json:"rejected"`
	SHA256   string `json:"sha256,omitempty"`
}

// CounterCounts counts the counters of the day and those left incomplete.
type CounterCounts struct {
	Total      int `json:"total"`
	Incomplete int `json:"incomplete"`
}

// ExceptionCounts counts the exceptions in total, by code and by severity.
type ExceptionCounts struct {
	Total      int                     `json:"total"`
	ByCode     map[engine.Code]int     `json:"by_code"`
	BySeverity map[engine.Severity]int `json:"by_severity"`
}

// Output is the checksum of one file of the run.
type Output struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Meta is what the manifest says about a run beyond its result.
type Meta struct {
	RunID       string
	Source      string // connectors.Source.Describe(): never a secret
	ToolVersion string
	StartedAt   time.Time
	FinishedAt  time.Time
	// DayOpen: the business day had not ended when the run started (job.DayOpen).
	DayOpen bool
}

// NewManifest builds the manifest of a run from its result, the source's day (nil when
// there is none: its figures are then 0) and meta. Outputs is left for WriteManifest.
func NewManifest(res *engine.Result, day *connectors.Day, meta Meta) *Manifest {
	m := &Manifest{
		RunID:       meta.RunID,
		BizDate:     res.BizDate(),
		Source:      meta.Source,
		ToolVersion: meta.ToolVersion,
		InputDigest: res.InputDigest,
		DetailLang:  res.Lang,
		StartedAt:   meta.StartedAt,
		FinishedAt:  meta.FinishedAt,
		Status:      StatusIncomplete,
		DayOpen:     meta.DayOpen,
		Feeds:       make([]FeedManifest, 0, feed.Count),
		Exceptions:  ExceptionCounts{ByCode: map[engine.Code]int{}, BySeverity: map[engine.Severity]int{}},
	}
	if res.Complete {
		m.Status = StatusComplete
	}
	for _, id := range feed.All {
		c := res.Counts[id]
		fm := FeedManifest{Feed: id.String(), Inputs: c.Inputs, RowsRead: c.Read, Valid: c.Valid, Rejected: c.Rejected, SHA256: res.FeedDigests[id]}
		if day != nil {
			s := day.Stats[id]
			fm.Files, fm.Pulls, fm.Retries, fm.Failures, fm.Bytes = s.Files, s.Pulls, s.Retries, s.Failures, s.Bytes
		}
		m.Feeds = append(m.Feeds, fm)
	}
	m.Counters.Total = len(res.Counters)
	for _, c := range res.Counters {
		if c.Incomplete {
			m.Counters.Incomplete++
		}
	}
	for _, e := range res.Exceptions {
		m.Exceptions.Total++
		m.Exceptions.ByCode[e.Code]++
		m.Exceptions.BySeverity[e.Severity]++
	}
	return m
}

// listed is a kept-inputs listing being written: once done is closed, its sha256, or why it
// could not be written.
type listed struct {
	k    *Kept
	done chan struct{}
	sum  string
	err  error
}

// wait returns the listing's sha256 once it is written.
func (l *listed) wait() (string, error) {
	<-l.done
	return l.sum, l.err
}

// ListKept begins writing the listing of k's inputs, missing inputs and roster (listing.go)
// in the background, for WriteManifest to name when the manifest's Kept is k: ~30 ms of
// compressing a city-day's 20,000 lines had been at the very end of a run, when nothing else
// is left to do. k's Inputs, Missing and Roster must not change after.
func (r *Run) ListKept(k *Kept) {
	r.listKept(k)
}

// listKept is the listing of k being written: ListKept's, or one begun now.
func (r *Run) listKept(k *Kept) *listed {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listing != nil && r.listing.k == k {
		return r.listing
	}
	l := &listed{k: k, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.sum, l.err = writeListing(r.dateDir, k)
	}()
	if r.listing == nil {
		r.listing = l
	}
	return l
}

// WriteManifest checksums every file of the run (all must be closed), stores the sums in
// m.Outputs and writes m as manifest.json: indented JSON, times in UTC to the second. It
// is the last file of a run; an empty m.RunID is taken from run, a different one is an error.
func WriteManifest(run *Run, m *Manifest) error {
	if m.RunID == "" {
		m.RunID = run.ID()
	}
	if m.RunID != run.ID() {
		return fmt.Errorf("write manifest: run id %q is not the run's %q", m.RunID, run.ID())
	}
	run.mu.Lock()
	open := run.open
	run.mu.Unlock()
	if open > 0 {
		return fmt.Errorf("write manifest: %d output files still open", open)
	}
	// The kept inputs' listing (listing.go): begun by ListKept, or written now while the
	// run's files are summed.
	var listing *listed
	if m.Kept != nil {
		listing = run.listKept(m.Kept)
		defer listing.wait() // nothing of the run's outlives WriteManifest
	}
	if err := run.dropPrelinked(); err != nil { // the previous run's reports no Reuse took
		return fmt.Errorf("write manifest: %w", err)
	}
	run.mu.Lock()
	known := run.reuse.known
	run.mu.Unlock()
	outputs, err := checksumsKnown(run.Dir(), known)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := run.linkSame(outputs); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	run.mu.Lock()
	seal := run.reuse.seal
	run.mu.Unlock()
	if seal {
		now := sealTime(run.tmp)
		m.SealedAt = &now
	}
	m.Outputs = outputs
	for rel, rec := range run.Reports() {
		dst := &m.Reports
		if strings.HasPrefix(rel, feedsDir+"/") {
			dst = &m.FeedFiles
		}
		if *dst == nil {
			*dst = map[string]ReportRecord{}
		}
		(*dst)[rel] = rec
	}
	m.StartedAt = m.StartedAt.UTC().Truncate(time.Second)
	m.FinishedAt = m.FinishedAt.UTC().Truncate(time.Second)
	onDisk := *m
	if m.Kept != nil {
		// The kept inputs go to their listing; the manifest names it.
		sum, err := listing.wait()
		if err != nil {
			return fmt.Errorf("write manifest: kept inputs listing: %w", err)
		}
		m.Kept.Listing, m.Kept.Count = sum, len(m.Kept.Inputs)
		onDisk.Kept = &Kept{Refreshed: m.Kept.Refreshed, Listing: sum, Count: len(m.Kept.Inputs)}
	}
	data, err := marshalManifest(&onDisk)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return writeFile(run, ManifestName, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func marshalManifest(m *Manifest) ([]byte, error) {
	if m.Outputs == nil {
		return encodeIndented(m)
	}
	// The three maps of files (~5,500 entries each on a city-day, most of the manifest's
	// 1.8 MB) are written here, the rest by encoding/json: through reflection and its
	// indenting pass, they had been ~35 ms at the end of every run, where nothing else runs.
	// The bytes are those encoding/json writes (TestMarshalManifestIsEncodingJSON).
	rest := *m
	rest.Outputs, rest.Reports, rest.FeedFiles = nil, nil, nil
	head, err := encodeIndented(&rest)
	if err != nil {
		return nil, err
	}
	const hole = "\n  \"outputs\": null"
	i := bytes.Index(head, []byte(hole))
	if i < 0 || bytes.Count(head, []byte(hole)) != 1 {
		return nil, errors.New("manifest: no place for its outputs")
	}
	i += len(hole) - len("null")
	b := make([]byte, 0, len(head)+len(m.Outputs)*(len(`    "": {\n      "sha256": "",\n      "size": 0\n    },\n`)+100)+
		(len(m.Reports)+len(m.FeedFiles))*200)
	b = append(b, head[:i]...)
	b = appendFileMap(b, m.Outputs, func(b []byte, o Output) []byte {
		b = append(b, "{\n      \"sha256\": "...)
		b = appendJSONString(b, o.SHA256)
		b = append(b, ",\n      \"size\": "...)
		b = strconv.AppendInt(b, o.Size, 10)
		return append(b, "\n    }"...)
	})
	for _, f := range []struct {
		name string
		recs map[string]ReportRecord
	}{{"reports", m.Reports}, {"feed_files", m.FeedFiles}} {
		if len(f.recs) == 0 { // omitempty
			continue
		}
		b = append(b, ",\n  \""+f.name+"\": "...)
		b = appendFileMap(b, f.recs, func(b []byte, r ReportRecord) []byte {
			b = append(b, "{\n      \"key\": "...)
			b = appendJSONString(b, r.Key)
			b = append(b, ",\n      \"rendered_in\": "...)
			b = appendJSONString(b, r.RenderedIn)
			return append(b, "\n    }"...)
		})
	}
	return append(b, head[i+len("null"):]...), nil
}

// encodeIndented is v as the manifest is written: indented by two spaces, HTML not escaped.
func encodeIndented(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appendFileMap appends a map of the manifest's top level, keys sorted, as encoding/json
// indents it; each value by value.
func appendFileMap[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = value(b, m[k])
	}
	return append(b, "\n  }"...)
}

// appendJSONString appends s quoted as encoding/json writes it with HTML left alone: plain
// ASCII as it is, anything else (a quote, a control character, non-ASCII text, which it
// escapes in part) through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, err := encodeIndented(s)
			if err != nil { // a string always encodes
				panic(err)
			}
			return append(b, q[:len(q)-1]...) // without the Encoder's newline
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ReadManifest reads a manifest.json, and the kept-inputs listing it names (into m.Kept). A
// listing that cannot be read is not an error of the manifest (its figures and outputs are
// still right): m.Kept.Err says why, and what needs the kept inputs fails with it.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := unmarshalManifest(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest %q: %w", path, err)
	}
	if m.Kept != nil && m.Kept.Listing != "" {
		if err := loadListing(path, m.Kept); err != nil {
			m.Kept.Inputs, m.Kept.Missing, m.Kept.Roster = nil, nil, nil
			m.Kept.err = fmt.Errorf("manifest %q: %w", path, err)
		}
	}
	return &m, nil
}

// Verify checks that runDir holds exactly the files of m.Outputs, with their sizes and
// checksums.
func (m *Manifest) Verify(runDir string) error {
	got, err := checksums(runDir)
	if err != nil {
		return fmt.Errorf("verify %q: %w", runDir, err)
	}
	var paths []string
	for p := range m.Outputs {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := m.Outputs[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		want, inManifest := m.Outputs[p]
		have, onDisk := got[p]
		switch {
		case !onDisk:
			return fmt.Errorf("verify %q: %s is missing", runDir, p)
		case !inManifest:
			return fmt.Errorf("verify %q: %s is not in the manifest", runDir, p)
		case want != have:
			return fmt.Errorf("verify %q: %s has sha256 %s and %d bytes, the manifest says %s and %d", runDir, p, have.SHA256, have.Size, want.SHA256, want.Size)
		}
	}
	return nil
}

// checksums hashes every regular file under dir except the top-level manifest, a few files
// at a time: a city-day's run has 5,000 of them, and one after the other the opens and reads
// left the CPUs idle.
func checksums(dir string) (map[string]Output, error) { return checksumsKnown(dir, nil) }

// checksumsKnown is checksums taking the sums of the files in known as given (files taken
// from an earlier run, checked against its manifest as they were taken).
func checksumsKnown(dir string, known map[string]Output) (map[string]Output, error) {
	rels, err := runFiles(dir)
	if err != nil {
		return nil, err
	}
	outs := make([]Output, len(rels))
	idx := make([]int, len(rels))
	for i := range idx {
		idx[i] = i
	}
	if err := parallel(idx, hashParallel, func(i int) (err error) {
		if o, ok := known[rels[i]]; ok {
			outs[i] = o
			return nil
		}
		outs[i], err = hashFile(filepath.Join(dir, filepath.FromSlash(rels[i])))
		return err
	}); err != nil {
		return nil, err
	}
	out := make(map[string]Output, len(rels))
	for i, rel := range rels {
		out[rel] = outs[i]
	}
	return out, nil
}

// runFiles lists the files of the run directory dir but its manifest, as '/'-separated paths
// in no set order; anything but a regular file or a directory is an error.
func runFiles(dir string) ([]string, error) {
	var (
		mu   sync.Mutex
		rels []string
	)
	err := walkTree(dir, func(rel string, e fs.DirEntry) error {
		switch {
		case e.IsDir():
			return nil
		case !e.Type().IsRegular():
			return fmt.Errorf("%q is not a regular file", filepath.Join(dir, filepath.FromSlash(rel)))
		case rel == ManifestName:
			return nil
		}
		mu.Lock()
		rels = append(rels, rel)
		mu.Unlock()
		return nil
	})
	return rels, err
}

// walkTree calls visit for every file and folder under dir (not dir itself), by its
// '/'-separated path, from hashParallel goroutines at once, in no set order; it returns the
// first error a folder's reading or visit gave (the walk goes on: it is not stopped short).
// A run's ~460 report folders, read one by one as filepath.WalkDir reads them (each sorted),
// had been ~20 ms at the end of a run, twice: for the manifest and for the publication.
func walkTree(dir string, visit func(rel string, e fs.DirEntry) error) error {
	var (
		mu      sync.Mutex
		first   error
		pending sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	queue := make(chan string, 64)
	var read func(rel string)
	read = func(rel string) {
		defer pending.Done()
		ents, err := listDir(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			fail(err)
		}
		for _, e := range ents {
			r := path.Join(rel, e.Name())
			if err := visit(r, e); err != nil {
				fail(err)
				continue
			}
			if e.IsDir() {
				pending.Add(1)
				select {
				case queue <- r:
				default: // the queue is full: this goroutine reads the folder itself
					read(r)
				}
			}
		}
	}
	var workers sync.WaitGroup
	for range hashParallel {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for rel := range queue {
				read(rel)
			}
		}()
	}
	pending.Add(1)
	queue <- "."
	pending.Wait()
	close(queue)
	workers.Wait()
	return first
}

// hashParallel bounds the files checksums reads at once.
const hashParallel = 4

func hashFile(p string) (Output, error) {
	f, err := os.Open(p)
	if err != nil {
		return Output{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Output{}, fmt.Errorf("hash %q: %w", p, err)
	}
	return Output{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
