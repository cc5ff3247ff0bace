package web

import (
	"net/http"
	"time"

	"settle/connectors"
	"settle/web/users"
	"settle/workflow"
)

// refreshInfo is what a counter page says about its refresh button.
type refreshInfo struct {
	Can     bool // the button shows
	Wait    int  // seconds until the user may refresh the counter again (0: now)
	Running bool // a run of the date is going on (the page shows its progress)
}

// canRefresh reports whether the refresh button may show on v for u: a clerk's own counter
// (the scope was checked), shown from the date's current run, not certified or approved, the
// source able to read single counters, and the date neither in the future, nor before the
// clerk's window, nor in a closed period.
func (s *Server) canRefresh(u *users.User, v *counterView) bool {
	if u.Role != users.Clerk || v == nil || v.C == nil || v.State.Pinned() || v.Newer || !s.refreshSource() {
		return false
	}
	t, ok := parseDate(v.Date)
	if !ok || t.After(s.today()) {
		return false
	}
	earliest, _, _, ok := s.runWindow(u)
	if !ok || t.Before(earliest) {
		return false
	}
	closed, err := s.closedPeriod(v.Date) // a closed period refuses runs
	return err == nil && closed == ""
}

// refreshSource reports whether the runs' source can read single counters.
func (s *Server) refreshSource() bool {
	_, ok := s.cfg.Job.Source.(connectors.CounterFetcher)
	return ok
}

// refresh is the counter page's refresh button (issue 17.2): a clerk re-reads their own
// counter from the source (job.Config.Counters) and the whole day is reconciled and
// published again, through the same runner as the day's run button (one run at a time per
// date, the date's lock, the progress on the page). A certified or approved counter stays
// pinned, a closed period refuses it (409) as it refuses the day's run; at most one refresh a
// minute per user and counter.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request, sess *session) {
	u := sess.user
	if u.Role != users.Clerk {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	date, outlet, counter, ok := s.scoped(w, r, sess)
	if !ok || s.refuseClosed(w, r, sess, date) {
		return
	}
	back := counterPath(date, outlet, counter)
	redirect := func(q string) { http.Redirect(w, r, back+"?"+q, http.StatusSeeOther) }
	t, _ := parseDate(date)
	if t.After(s.today()) {
		s.fail(w, r, sess, http.StatusUnprocessableEntity, "err_future")
		return
	}
	if earliest, days, key, ok := s.runWindow(u); !ok || t.Before(earliest) {
		s.failf(w, r, sess, http.StatusForbidden, key, days, earliest.Format(time.DateOnly), s.today().Format(time.DateOnly))
		return
	}
	v, ok := s.currentView(w, r, sess, date, outlet, counter)
	if !ok {
		return
	}
	if v == nil || v.C == nil {
		s.failf(w, r, sess, http.StatusNotFound, "counter_absent", counter)
		return
	}
	switch {
	case v.State.Pinned():
		s.log.Warn("refresh refused: the counter is pinned", "user", u.Name, "date", date, "counter", counter, "status", v.State.Status)
		redirect("err=refresh_pinned")
		return
	case !s.refreshSource():
		redirect("err=refresh_source")
		return
	}
	wait, busy := s.runs.startRefresh(t, u.Name, counter, s.now())
	switch {
	case busy:
		redirect("err=refresh_busy")
		return
	case wait > 0:
		s.log.Info("refresh refused: rate limit", "user", u.Name, "date", date, "counter", counter, "wait", wait)
		redirect("err=refresh_wait")
		return
	}
	// The trail: a run started from the page, naming the counter it refreshes.
	ev := workflow.Event{User: u.Name, Display: u.Display, Role: string(u.Role), Action: workflow.ActRun, Date: date,
		Outlet: outlet, Counter: counter, RunID: v.RunID}
	if _, err := s.wf.Append(r.Context(), ev); err != nil {
		s.log.Error("record run start", "err", err)
	}
	redirect("ok=refresh")
}
