package engine

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"settle/feed"
)

// SettlementLine is one row of settlement.csv: a counter × category × pay method.
type SettlementLine struct {
	City, Outlet, Counter string
	Category              string // ORDER_FEE, TERMINAL, LOCAL_BILL, REMOTE_BILL, CARD
	PayMethod             string
	TxnCount              int64
	Gross, Reversed, Net  int64 // fen
}

// VarianceLine is one row of variance.csv: the deposit check of a counter × pay method.
type VarianceLine struct {
	City, Outlet, Counter         string
	PayMethod                     string
	Expected, Deposited, Variance int64 // fen; Variance = Deposited − Expected
}

// Exception is one row of exceptions.csv.
type Exception struct {
	Code                  Code
	Severity              Severity
	City, Outlet, Counter string
	Feed                  string
	TxnID                 string
	Amount                int64 // fen; meaningful only when HasAmount
	HasAmount             bool
	Detail                string
	Source                string // "path:line" for a file row, "feed/counter_id" for a pull
	// Key is the pay method or category a counter-level exception is about
	// (DEPOSIT_*: pay method; SUMMARY_MISMATCH: "LOCAL/CASH"; INVOICE_GAP: invoice code and
	// range; DUPLICATE_INPUT: the input's name), so diff can tell two counter-level findings
	// apart. Not written to CSV.
	Key string
}

// Reject is one row of rejects.csv: a row set aside, as read.
type Reject struct {
	Feed   string
	Source string // input name
	Line   int
	Reason string
	Raw    string
}

// CounterInfo is one counter of the day with its completeness.
type CounterInfo struct {
	City, Outlet, Counter string
	Incomplete            bool
	// Why lists the FEED_MISSING / FEED_TOTAL_MISMATCH findings that made it incomplete.
	Why []string
}

// FeedCounts are the per-feed figures of manifest.json.
type FeedCounts struct {
	Inputs   int `json:"inputs"` // files or pulls read
	Read     int `json:"rows_read"`
	Valid    int `json:"valid"`
	Rejected int `json:"rejected"`
}

// Result is everything one reconciliation produced; the store writes it and the renderers
// draw the reports from it. Slices are sorted as OUTPUTS.md requires for the CSV files.
type Result struct {
	Date       time.Time // business date (midnight, Asia/Shanghai)
	Settlement []SettlementLine
	Variance   []VarianceLine
	Exceptions []Exception
	Rejects    []Reject
	Counters   []CounterInfo // sorted by city, outlet, counter
	Complete   bool          // false when any FEED_MISSING / FEED_TOTAL_MISMATCH was raised
	Counts     [feed.Count]FeedCounts
	// Lang is the language of the exception details and reject reasons: "zh" or "en"
	// (Config.Lang).
	Lang string
	// InputDigest is a sha256 over every input's name and bytes, in canonical order: equal
	// digests mean the same inputs. FeedDigests is the same per feed.
	InputDigest string
	FeedDigests [feed.Count]string
	// Feeds holds each feed's valid rows, normalized (schema feed.Schema(id)), in canonical
	// order. Owned by the Result: Release frees them.
	Feeds [feed.Count]arrow.RecordBatch

	cacheDone chan error // Config.CacheDir's writer
}

// CacheWritten waits until the run's parse cache is written (Config.CacheDir) and says
// whether it could be; a failed cache costs the next run time, never a figure. Only the
// first call waits; later calls return nil.
func (r *Result) CacheWritten() error {
	if r.cacheDone == nil {
		return nil
	}
	err := <-r.cacheDone
	r.cacheDone = nil
	return err
}

// Release frees the Arrow records, once the parse cache is written: nothing of the run
// goes on after it (a caller may then remove the store).
func (r *Result) Release() {
	r.CacheWritten()
	for i, rec := range r.Feeds {
		if rec != nil {
			rec.Release()
			r.Feeds[i] = nil
		}
	}
}

// BizDate formats the business date as YYYY-MM-DD.
func (r *Result) BizDate() string { return r.Date.Format("2006-01-02") }
