// Package connectors defines where a day's feeds come from. A Source delivers, for one
// business date, every input it holds (a file, or one pull of one feed for one counter)
// and every input it could not get. Parsing is not the connector's job: inputs are raw
// bytes in the BOSS export dialect or the canonical one, decoded by package dialect.
package connectors

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"settle/feed"
)

// Format of an input's bytes.
type Format int

// Input formats.
const (
	CSV Format = iota
	XLSX
)

// Input is one unit of feed data: a file, or one pull.
type Input struct {
	Feed feed.ID
	// Name identifies the input in rejects.csv and exceptions' source column: a file's path
	// relative to the source root with '/' separators, or "<feed>/<counter_id>" for a pull.
	// Inputs of one feed are processed in Name order (RULES.md canonical order).
	Name string
	// Counter is the counter_id this input covers alone (a per-counter file or pull), or "".
	Counter string
	// Pull is true for an input fetched from the report API: exceptions cite it as Name
	// (feed/counter_id) rather than Name:line.
	Pull   bool
	Format Format
	// Open returns the input's bytes. It may be called more than once and from any
	// goroutine; each call returns a fresh reader that the caller closes.
	Open func() (io.ReadCloser, error)
	// Kept, when not "", is the hex sha256 of the bytes Open returns, which are already
	// kept in the run store (a Keeper kept them as they arrived, or they were taken from the
	// kept inputs); Size is then their length. The store does not read them again to keep
	// them.
	Kept string
	Size int64
}

// SortInputs puts in in canonical order: by feed, then by Name.
func SortInputs(in []Input) {
	slices.SortStableFunc(in, func(a, b Input) int {
		return cmp.Or(cmp.Compare(a.Feed, b.Feed), strings.Compare(a.Name, b.Name))
	})
}

// Missing is an input the source should have had but could not deliver (FEED_MISSING).
type Missing struct {
	Feed feed.ID
	// Counter is set when the missing input covered one counter; "" means the whole city.
	Counter string
	City    string // optional: the counter's city and outlet when known (from a roster)
	Outlet  string
	// Reason says why, in English, for logs: e.g. `no file for feed order (业务办理日报)
	// under "/data/day"` or `GET reports/order?counter=TY0001-01&date=2026-11-21: 503
	// Service Unavailable (6 tries)`.
	Reason string
	// Why is the same in parts, from which the engine writes FEED_MISSING's detail in the
	// run's language. A connector that leaves it zero (WhyOther) has its Reason shown as is.
	Why Why
}

// WhyKind is the closed set of reasons an input is missing.
type WhyKind int

const (
	WhyOther       WhyKind = iota // only Missing.Reason says why
	WhyNoFile                     // no file of the feed under Why.Dir
	WhyPullFailed                 // the pull Why.Request failed (Why.Err) after Why.Tries tries
	WhyPullLate                   // as WhyPullFailed, and then Why.Deadline passed before a retry
	WhyPullNotDone                // the pull Why.Request was not made before Why.Deadline
)

// Why is why an input is missing, in parts.
type Why struct {
	Kind     WhyKind
	Dir      string        // WhyNoFile: the folder scanned
	Request  string        // the pulls: the request as shown, reports/{feed}?counter=…&date=…
	Err      error         // WhyPullFailed, WhyPullLate: the last failure, as the transport or the API said it
	Tries    int           // WhyPullFailed, WhyPullLate
	Deadline time.Duration // WhyPullLate, WhyPullNotDone
}

// FeedStats counts what the source did for one feed, recorded in manifest.json.
type FeedStats struct {
	Files    int   `json:"files"`
	Pulls    int   `json:"pulls"`
	Retries  int   `json:"retries"`
	Failures int   `json:"failures"`
	Bytes    int64 `json:"bytes"`
}

// Day is what a source delivers for one business date.
type Day struct {
	Inputs  []Input
	Missing []Missing
	// Roster lists the counters the source knows were open that day (the API's /counters),
	// or nil when the source has no roster (files: the counters are those seen in the rows).
	Roster []Counter
	Stats  [feed.Count]FeedStats
}

// Counter identifies one counter in its outlet and city.
type Counter struct {
	City, Outlet, Counter string
}

// Source delivers a day's inputs.
type Source interface {
	// Fetch collects every input of date. It returns an error only when nothing sensible
	// can be published (the source does not exist, the roster cannot be read); a feed that
	// cannot be had is reported in Day.Missing and the run goes on.
	Fetch(ctx context.Context, date time.Time, progress Progress) (*Day, error)
	// Describe names the source for the manifest (a path or URL, never a secret).
	Describe() string
}

// CounterFetcher is a Source that can fetch the inputs of some counters only, for a refresh
// (`settle run --counters`). The Day it returns holds the inputs that cover one of counters
// alone (Input.Counter among them), the inputs that cover the whole city (Counter "": they
// cannot be split, so they are read afresh whole), the missing inputs of those counters or of
// the whole city, and the roster (nil when the source has none). Counters it does not know
// are an error naming them.
type CounterFetcher interface {
	FetchCounters(ctx context.Context, date time.Time, counters []string, progress Progress) (*Day, error)
}

// Progress receives optional progress reports; implementations must be safe for
// concurrent use. A nil Progress is allowed and ignored by sources.
type Progress interface {
	Step(what string, done, total int)
}

// Keeper keeps raw bodies as a source receives them (the store's kept inputs: package store,
// Store.Keeper), so that the source need not hold them in memory until the engine reads them.
// It is safe for concurrent use.
type Keeper interface {
	// Keep stores b, the bytes of the input called name, and returns their hex sha256 and an
	// Open that reads them back (checked against the sum). b may be reused once Keep returns.
	Keep(name string, b []byte) (sum string, open func() (io.ReadCloser, error), err error)
}

type keeperKey struct{}

// WithKeeper returns ctx carrying k: a source's Fetch given it may keep what it receives
// through k instead of holding it (package boss does, for pulled bodies).
func WithKeeper(ctx context.Context, k Keeper) context.Context {
	return context.WithValue(ctx, keeperKey{}, k)
}

// KeeperFrom returns the Keeper ctx carries, or nil.
func KeeperFrom(ctx context.Context) Keeper {
	k, _ := ctx.Value(keeperKey{}).(Keeper)
	return k
}

// Bytes returns an Input.Open over b. Readers built by it also expose the whole buffer
// (Bytes), so a consumer can use it without a copy; nobody may modify b afterwards.
func Bytes(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return &bytesReader{Reader: bytes.NewReader(b), b: b}, nil }
}

type bytesReader struct {
	*bytes.Reader
	b []byte
}

func (r *bytesReader) Close() error { return nil }

// Bytes returns the whole buffer, whatever has been read.
func (r *bytesReader) Bytes() []byte { return r.b }

// CheckedBytes is Bytes for bytes whose sha256 the caller has just checked to be sum (a kept
// input read back): its readers also give the sum (SHA256), so that a consumer that needs
// it (the engine's input digest) does not compute it again.
func CheckedBytes(b []byte, sum [32]byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		return &checkedReader{bytesReader: bytesReader{Reader: bytes.NewReader(b), b: b}, sum: sum}, nil
	}
}

type checkedReader struct {
	bytesReader
	sum [32]byte
}

// SHA256 returns the sha256 of the whole buffer.
func (r *checkedReader) SHA256() [32]byte { return r.sum }

// OnlyCounters keeps of day the inputs and missing inputs of counters and those of the
// whole city (Counter ""); its Stats count the files and pulls kept (their bytes are not
// known here and are left 0).
func OnlyCounters(day *Day, counters []string) *Day {
	want := make(map[string]bool, len(counters))
	for _, c := range counters {
		want[c] = true
	}
	out := &Day{Roster: day.Roster}
	for _, in := range day.Inputs {
		if in.Counter == "" || want[in.Counter] {
			out.Inputs = append(out.Inputs, in)
			if in.Pull {
				out.Stats[in.Feed].Pulls++
			} else {
				out.Stats[in.Feed].Files++
			}
		}
	}
	for _, m := range day.Missing {
		if m.Counter == "" || want[m.Counter] {
			out.Missing = append(out.Missing, m)
		}
	}
	return out
}
