// Package metrics holds settle's Prometheus metrics: the textfile a nightly `settle run`
// leaves for node_exporter's textfile collector (Run, WriteRunFile), and the live registry
// of `settle serve` (Web).
//
// A textfile is rewritten whole by every run, so what must outlive one run (the time of the
// last success, the count of failures) is carried over from the file the previous run left.
// Every series carries a city label, so that the files of several cities' jobs can sit in one
// collector directory without two files exporting the same series.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"settle/engine"
	"settle/internal/atomicfile"
	"settle/store"
)

// Metric names of the run textfile.
const (
	NameLastSuccess   = "settle_run_last_success_timestamp_seconds"
	NameLastRun       = "settle_run_last_run_timestamp_seconds"
	NameSuccess       = "settle_run_success"
	NameFailuresTotal = "settle_run_failures_total"
	NameDuration      = "settle_run_duration_seconds"
	NameRunStatus     = "settle_run_status"
	NamePulls         = "settle_pulls_total"
	NameRows          = "settle_rows_total"
	NameExceptions    = "settle_exceptions"
	NameCounters      = "settle_counters"
	// A refresh (settle run --counters) is told from a full run by these two.
	NameRefresh         = "settle_run_refresh"
	NameRefreshCounters = "settle_run_refreshed_counters"
)

// Run statuses of settle_run_status: every one is written, 1 for the run's own.
const (
	StatusComplete   = "complete"
	StatusIncomplete = "incomplete"
	StatusFailed     = "failed"
)

// Run is what one `settle run` did, for its textfile.
type Run struct {
	City     string    // the city label; "" writes "all"
	Started  time.Time // when the command started
	Finished time.Time // when it ended
	// Published is true when a run was published (complete or not); Manifest is then its
	// manifest. A run that published nothing (any other error) is a failure.
	Published bool
	Manifest  *store.Manifest
	// Stages are the durations of the run's stages (fetch, render, …) that were reached;
	// "total" is added from Started and Finished.
	Stages map[string]time.Duration
	// Refresh is the number of counters a refresh (settle run --counters) read afresh; 0
	// for a full run. A refresh does not move the last success time: that is the night's
	// full run's, which the missing-run alert watches.
	Refresh int
}

// Status is the run's settle_run_status.
func (r *Run) Status() string {
	switch {
	case !r.Published || r.Manifest == nil:
		return StatusFailed
	case r.Manifest.Status == store.StatusComplete:
		return StatusComplete
	}
	return StatusIncomplete
}

// previous is what the last textfile says that must be carried over.
type previous struct {
	lastSuccess float64 // 0: none
	failures    float64
}

// readPrevious reads the carried-over series of city from the textfile at path. A missing
// file gives zeros; a file that does not parse is an error (the caller logs it and starts
// afresh: a broken file must not stop the night's metrics).
func readPrevious(path, city string) (previous, error) {
	var p previous
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read previous metrics %q: %w", path, err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(io.LimitReader(f, 16<<20))
	if err != nil {
		return p, fmt.Errorf("read previous metrics %q: %w", path, err)
	}
	get := func(name string) float64 {
		fam := fams[name]
		if fam == nil {
			return 0
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "city" && l.GetValue() == city {
					switch {
					case m.Gauge != nil:
						return m.GetGauge().GetValue()
					case m.Counter != nil:
						return m.GetCounter().GetValue()
					case m.Untyped != nil:
						return m.GetUntyped().GetValue()
					}
				}
			}
		}
		return 0
	}
	p.lastSuccess = get(NameLastSuccess)
	p.failures = get(NameFailuresTotal)
	return p, nil
}

// Gather builds the run's metric families. prevErr reports a previous file that could not
// be read (its values are then not carried over).
func (r *Run) Gather(path string) (fams []*dto.MetricFamily, prevErr error) {
	city := r.City
	if city == "" {
		city = "all"
	}
	prev, prevErr := readPrevious(path, city)
	reg := prometheus.NewRegistry()
	cl := prometheus.Labels{"city": city}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: cl})
		reg.MustRegister(g)
		return g
	}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: cl}, labels)
		reg.MustRegister(g)
		return g
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: cl}, labels)
		reg.MustRegister(c)
		return c
	}
	status := r.Status()
	// Success is a complete run: an incomplete one (a feed missing, the source unreadable)
	// needs the operator as much as one that published nothing.
	ok := status == StatusComplete

	gauge(NameLastRun, "When the last settle run ended (published or not), Unix seconds.").Set(unix(r.Finished))
	lastSuccess := prev.lastSuccess
	if ok && r.Refresh == 0 {
		lastSuccess = unix(r.Finished)
	}
	if lastSuccess > 0 {
		gauge(NameLastSuccess, "When the last full settle run (not a refresh) that published a complete run ended, Unix seconds.").Set(lastSuccess)
	}
	success := gauge(NameSuccess, "1 if the last settle run published a complete run, else 0 (failed or incomplete).")
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: NameFailuresTotal, ConstLabels: cl,
		Help: "Runs that failed or published an incomplete run, carried over from the previous textfile."})
	reg.MustRegister(failures)
	failures.Add(prev.failures)
	if ok {
		success.Set(1)
	} else {
		failures.Inc()
	}
	st := vec(NameRunStatus, "1 for the last run's status (complete, incomplete, failed), 0 for the others.", "status")
	for _, s := range []string{StatusComplete, StatusIncomplete, StatusFailed} {
		st.WithLabelValues(s).Set(b2f(s == status))
	}
	gauge(NameRefresh, "1 if the last run was a refresh of some counters (--counters: the others' inputs taken from the date's current run), 0 for a full run.").Set(b2f(r.Refresh > 0))
	gauge(NameRefreshCounters, "Counters the last run read afresh if it was a refresh, else 0.").Set(float64(r.Refresh))
	dur := vec(NameDuration, "Seconds the last run spent in each stage it reached; total is the whole command.", "stage")
	for stage, d := range r.Stages {
		dur.WithLabelValues(stage).Set(d.Seconds())
	}
	dur.WithLabelValues("total").Set(r.Finished.Sub(r.Started).Seconds())

	if status != StatusFailed {
		m := r.Manifest
		pulls := counterVec(NamePulls, "What the source did for each feed in the last run: pulls ok, retried, failed, and files read.", "feed", "result")
		rows := counterVec(NameRows, "Rows of each feed in the last run: read, valid, rejected.", "feed", "outcome")
		for _, f := range m.Feeds {
			pulls.WithLabelValues(f.Feed, "ok").Add(float64(f.Pulls - f.Failures))
			pulls.WithLabelValues(f.Feed, "retry").Add(float64(f.Retries))
			pulls.WithLabelValues(f.Feed, "failed").Add(float64(f.Failures))
			pulls.WithLabelValues(f.Feed, "file").Add(float64(f.Files))
			rows.WithLabelValues(f.Feed, "read").Add(float64(f.RowsRead))
			rows.WithLabelValues(f.Feed, "valid").Add(float64(f.Valid))
			rows.WithLabelValues(f.Feed, "rejected").Add(float64(f.Rejected))
		}
		// Every known code is written, 0 when absent, so an alert compares a number rather
		// than the absence of a series.
		exc := vec(NameExceptions, "Exceptions of the last run by code and severity.", "code", "severity")
		for _, c := range engine.Codes {
			exc.WithLabelValues(string(c.Code), string(c.Severity)).Set(float64(m.Exceptions.ByCode[c.Code]))
		}
		codes := make([]engine.Code, 0, len(m.Exceptions.ByCode))
		for c := range m.Exceptions.ByCode {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			if _, known := engine.CodeInfo(c); !known { // a code of a newer version
				exc.WithLabelValues(string(c), "").Set(float64(m.Exceptions.ByCode[c]))
			}
		}
		cnt := vec(NameCounters, "Counters of the last run: complete and incomplete.", "status")
		cnt.WithLabelValues(StatusComplete).Set(float64(m.Counters.Total - m.Counters.Incomplete))
		cnt.WithLabelValues(StatusIncomplete).Set(float64(m.Counters.Incomplete))
	}
	fams, err := reg.Gather()
	if err != nil {
		return nil, errors.Join(prevErr, fmt.Errorf("gather run metrics: %w", err))
	}
	return fams, prevErr
}

// WriteRunFile writes r's metrics to path in the Prometheus text format, atomically (a
// temporary file renamed over path, mode 0644 so node_exporter can read it). A previous
// file that cannot be read does not stop the write: its error is returned with a nil write
// error as prevErr, for the caller to log.
func WriteRunFile(path string, r *Run) (prevErr, err error) {
	fams, prevErr := r.Gather(path)
	if fams == nil {
		return nil, prevErr
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return prevErr, fmt.Errorf("write metrics %q: %w", path, err)
	}
	return prevErr, nil
}

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
