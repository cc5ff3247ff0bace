package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"settle/engine"
	"settle/job"
	"settle/store"
)

// runner runs days in the background for the one-click button, one run per date at a
// time and at most MaxRuns at once, and keeps each date's latest progress for the pages.
type runner struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup

	mu   sync.Mutex
	runs map[string]*runState // by date
	// lastRefresh is when each user last refreshed each counter (user + "\x00" + counter),
	// for the refresh button's rate limit; entries older than a minute are dropped as new
	// ones come.
	lastRefresh map[string]time.Time
}

func newRunner(s *Server) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{s: s, ctx: ctx, cancel: cancel, slots: make(chan struct{}, s.cfg.MaxRuns), runs: map[string]*runState{},
		lastRefresh: map[string]time.Time{}}
}

// runState is the progress of one date's latest run started here. It is the run's
// job.Progress.
type runState struct {
	mu       sync.Mutex
	date     string
	by       string
	counters []string // a refresh of these counters (job.Config.Counters); nil: the whole day
	started  time.Time
	finished time.Time
	stage    string
	done     int
	total    int
	running  bool
	err      error
	runID    string
}

var _ job.Progress = (*runState)(nil)

// Step records what the run is doing: a source's pulls or renders, the engine's reading.
func (p *runState) Step(what string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.done, p.total = what, done, total
}

// Done is called by job.Run when the run is published.
func (p *runState) Done() {}

// progress is a snapshot for the status endpoint.
type progress struct {
	Running  bool    `json:"running"`
	Stage    string  `json:"stage"`
	Done     int     `json:"done"`
	Total    int     `json:"total"`
	Elapsed  float64 `json:"elapsed"`
	Error    string  `json:"error,omitempty"`
	RunID    string  `json:"run_id,omitempty"`
	Finished bool    `json:"finished"`
}

func (p *runState) snapshot(now time.Time) progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := now
	if !p.running {
		end = p.finished
	}
	out := progress{Running: p.running, Stage: p.stage, Done: p.done, Total: p.total,
		Elapsed: end.Sub(p.started).Seconds(), RunID: p.runID, Finished: !p.running}
	if p.err != nil {
		out.Error = p.err.Error()
	}
	return out
}

// state returns the date's latest run started here, or nil.
func (rn *runner) state(date string) *runState {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.runs[date]
}

// start starts a run of date unless one is going on; it returns the date's run state.
func (rn *runner) start(date time.Time, by string) *runState {
	st, _ := rn.startCounters(date, by, nil)
	return st
}

// startCounters starts a run of date, a refresh of counters when there are some, unless a
// run of the date is going on (then started is false and st is that run's state).
func (rn *runner) startCounters(date time.Time, by string, counters []string) (st *runState, started bool) {
	key := date.Format(time.DateOnly)
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if st := rn.runs[key]; st != nil && st.running {
		return st, false
	}
	st = &runState{date: key, by: by, counters: counters, started: time.Now(), stage: "queued", running: true}
	rn.runs[key] = st
	rn.wg.Add(1)
	go rn.run(date, st)
	if len(counters) > 0 {
		rn.s.cfg.Metrics.RefreshStarted()
	} else {
		rn.s.cfg.Metrics.RunStarted()
	}
	return st, true
}

// refreshWait is how long user must still wait before refreshing counter again (0: they
// may now), at most one refresh a minute per user and counter.
func (rn *runner) refreshWait(user, counter string, now time.Time) time.Duration {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	last, ok := rn.lastRefresh[user+"\x00"+counter]
	if !ok {
		return 0
	}
	return max(0, last.Add(refreshEvery).Sub(now))
}

// startRefresh starts a refresh of counter on date for user unless the rate limit or a run
// of the date going on stops it: wait > 0 says how long to wait, busy that a run is going on.
func (rn *runner) startRefresh(date time.Time, user, counter string, now time.Time) (wait time.Duration, busy bool) {
	rn.mu.Lock()
	for k, t := range rn.lastRefresh {
		if now.Sub(t) >= refreshEvery {
			delete(rn.lastRefresh, k)
		}
	}
	// Checked and recorded under the lock: two clicks at once make one refresh.
	last, ok := rn.lastRefresh[user+"\x00"+counter]
	if ok && now.Sub(last) < refreshEvery {
		rn.mu.Unlock()
		return last.Add(refreshEvery).Sub(now), false
	}
	rn.lastRefresh[user+"\x00"+counter] = now
	rn.mu.Unlock()
	if _, started := rn.startCounters(date, user, []string{counter}); !started {
		rn.mu.Lock()
		if rn.lastRefresh[user+"\x00"+counter] == now {
			delete(rn.lastRefresh, user+"\x00"+counter) // nothing was done: no wait
		}
		rn.mu.Unlock()
		return 0, true
	}
	return 0, false
}

// refreshEvery is the refresh button's rate limit per user and counter.
const refreshEvery = time.Minute

func (rn *runner) run(date time.Time, st *runState) {
	defer rn.wg.Done()
	s := rn.s
	log := s.log.With("date", st.date, "by", st.by)
	if len(st.counters) > 0 {
		log = log.With("counters", st.counters)
	}
	var out *job.Outcome
	var err error
	select {
	case rn.slots <- struct{}{}:
		defer func() { <-rn.slots }()
		st.Step("start", 0, 0)
		cfg := s.cfg.Job
		cfg.Date, cfg.Store, cfg.Progress = date, s.cfg.Store, st
		cfg.Counters = st.counters
		if cfg.Log == nil {
			cfg.Log = s.log
		}
		render := cfg.Render
		cfg.Render = func(ctx context.Context, res *engine.Result, run *store.Run, meta store.Meta) error {
			st.Step("reports", 0, 0)
			return render(ctx, res, run, meta)
		}
		log.Info("run started")
		out, err = job.Run(rn.ctx, cfg)
	case <-rn.ctx.Done():
		err = rn.ctx.Err()
	}
	// Published but needing attention: the pages show the state of the run itself.
	if errors.Is(err, job.ErrIncomplete) || errors.Is(err, job.ErrFailOn) {
		err = nil
	}
	st.mu.Lock()
	st.running, st.finished, st.err = false, time.Now(), err
	if out != nil {
		st.runID = out.RunID
	}
	st.mu.Unlock()
	if err != nil {
		log.Error("run failed", "err", err)
		return
	}
	log.Info("run published", "run_id", out.RunID, "complete", out.Complete, "counters", out.Counters, "exceptions", out.Exceptions)
	// The date's items follow the new run at once (resolutions recorded with its id).
	s.synced(context.Background(), st.date)
}

// stop cancels the runs going on and waits for them.
func (rn *runner) stop() {
	rn.cancel()
	rn.wg.Wait()
}

// wait waits until no run is going on, or ctx ends.
func (rn *runner) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { rn.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
