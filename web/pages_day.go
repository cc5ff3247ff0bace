package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

// home is what waits for the user: a clerk's or reviewer's queue, the auditor's city view.
func (s *Server) home(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess.user.Role == users.Auditor {
		http.Redirect(w, r, "/audit/items", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}

// pickDate is the date picker's GET form.
func (s *Server) pickDate(w http.ResponseWriter, r *http.Request, sess *session) {
	d := r.URL.Query().Get("date")
	if _, ok := parseDate(d); !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	http.Redirect(w, r, "/day/"+d, http.StatusSeeOther)
}

type dayData struct {
	base
	Run       *runData
	Progress  *progress
	StageText string
	StatusURL string
	CanRun    bool
	CanRerun  bool
	Panels    []*counterView
	Absent    []string
	Rows      []*counterView // reviewer and auditor: the counters of the day
	Runs      []runRow       // auditor
	A, B      string         // auditor: the default pair to compare
	Future    bool
	TooOld    string // why the user may not run the date: it is before their window
}

type runRow struct {
	ID       string
	Current  bool
	Manifest *store.Manifest
	Err      string
}

// day is the page of a business date, by role: a clerk's counters, a reviewer's outlets'
// counters, or an auditor's runs.
func (s *Server) day(w http.ResponseWriter, r *http.Request, sess *session) {
	date := r.PathValue("date")
	t, ok := parseDate(date)
	if !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	cur, err := s.current(date)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	u := sess.user
	d := dayData{base: s.base(r, sess, string(u.Role)), Run: cur, Future: t.After(s.today())}
	if earliest, days, key, ok := s.runWindow(u); ok && t.Before(earliest) {
		d.TooOld = d.L.Tf(key, days, earliest.Format(time.DateOnly), s.today().Format(time.DateOnly))
	}
	d.Date = date
	d.StatusURL = "/day/" + date + "/status"
	if st := s.runs.state(date); st != nil {
		p := st.snapshot(time.Now())
		// A failure older than the current run is no news.
		stale := cur != nil && !st.started.After(cur.Manifest.FinishedAt)
		if p.Running || (p.Error != "" && !stale) {
			d.Progress = &p
			d.StageText = stageText(d.L, p)
		}
	}
	running := d.Progress != nil && d.Progress.Running
	switch u.Role {
	case users.Clerk:
		d.CanRun = !running && !d.Future && d.TooOld == "" && (cur == nil || cur.Manifest.Status != store.StatusComplete)
		if cur != nil {
			for _, id := range u.Counters {
				c, ok := cur.byID[id]
				if !ok {
					d.Absent = append(d.Absent, id)
					continue
				}
				v, err := s.view(date, c.Outlet, id, u, cur)
				if err != nil {
					s.internal(w, r, sess, err)
					return
				}
				if v != nil {
					d.Panels = append(d.Panels, v)
				}
			}
		}
	case users.Reviewer, users.Auditor:
		d.CanRun = u.Role == users.Reviewer && !running && !d.Future && d.TooOld == ""
		if cur != nil {
			for _, c := range cur.counters {
				if !u.SeesCounter(c.Outlet, c.Counter) {
					continue
				}
				v, err := s.view(date, c.Outlet, c.Counter, u, cur)
				if err != nil {
					s.internal(w, r, sess, err)
					return
				}
				if v != nil {
					d.Rows = append(d.Rows, v)
				}
			}
		}
		if u.Role == users.Auditor {
			ids, err := s.cfg.Store.Runs(date)
			if err != nil {
				s.internal(w, r, sess, err)
				return
			}
			for i := len(ids) - 1; i >= 0; i-- {
				row := runRow{ID: ids[i], Current: cur != nil && cur.ID == ids[i]}
				dir, err := s.cfg.Store.RunDir(date, ids[i])
				if err == nil {
					row.Manifest, err = store.ReadManifest(dir + "/" + store.ManifestName)
				}
				if err != nil {
					row.Err = err.Error()
				}
				d.Runs = append(d.Runs, row)
			}
			if len(ids) >= 2 {
				d.A, d.B = ids[len(ids)-2], ids[len(ids)-1]
			}
		}
	}
	d.CanRerun = d.CanRun && cur != nil
	s.render(w, http.StatusOK, string(u.Role), d)
}

// stageText says in words what a run is doing.
func stageText(l *lang, p progress) string {
	name := l.T("stage_" + p.Stage)
	if strings.HasPrefix(name, "stage_") {
		name = p.Stage
	}
	if p.Total > 0 {
		name += fmt.Sprintf(" %d/%d", p.Done, p.Total)
	}
	return name + " · " + l.Tf("elapsed", p.Elapsed)
}

// startRun is the one-click button: a clerk runs a day that has no complete run, a
// reviewer runs any day again.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, sess *session) {
	date := r.PathValue("date")
	t, ok := parseDate(date)
	if !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	u := sess.user
	earliest, days, key, ok := s.runWindow(u) // ok only for the roles that start runs
	if !ok {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	back := "/day/" + date
	if s.refuseClosed(w, r, sess, date) {
		return
	}
	if t.After(s.today()) {
		s.log.Warn("run refused: a future date", "user", u.Name, "date", date)
		s.fail(w, r, sess, http.StatusUnprocessableEntity, "err_future")
		return
	}
	if t.Before(earliest) {
		s.log.Warn("run refused: before the role's window", "user", u.Name, "role", string(u.Role), "date", date,
			"earliest", earliest.Format(time.DateOnly))
		s.failf(w, r, sess, http.StatusForbidden, key, days, earliest.Format(time.DateOnly), s.today().Format(time.DateOnly))
		return
	}
	if u.Role == users.Clerk {
		cur, err := s.current(date)
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
		if cur != nil && cur.Manifest.Status == store.StatusComplete {
			http.Redirect(w, r, back, http.StatusSeeOther) // nothing to do: show it
			return
		}
	}
	s.runs.start(t, u.Name)
	if _, err := s.wf.Append(r.Context(), workflow.Event{User: u.Name, Display: u.Display, Role: string(u.Role), Action: workflow.ActRun, Date: date}); err != nil {
		s.log.Error("record run start", "err", err)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// runStatus is the progress of the date's run, as JSON for the page's polling.
func (s *Server) runStatus(w http.ResponseWriter, r *http.Request, sess *session) {
	date := r.PathValue("date")
	if _, ok := parseDate(date); !ok {
		http.Error(w, "bad date", http.StatusBadRequest)
		return
	}
	out := struct {
		progress
		Text string `json:"text"`
	}{}
	if st := s.runs.state(date); st != nil {
		out.progress = st.snapshot(time.Now())
		out.Text = stageText(sess.l, out.progress)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
