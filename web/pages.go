package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"settle/diff"
	"settle/engine"
	"settle/feed"
	"settle/report"
	"settle/store"
	"settle/web/signoff"
	"settle/web/users"
)

// base is what every page's layout needs.
type base struct {
	L        *lang
	User     *users.User
	RoleName string
	CSRF     string
	Page     string
	Path     string // the page's own URL, for the language switch
	Date     string // the business date shown, for the date picker
	Today    string
	Flash    string // a message after an action
	FlashErr bool
}

// panelData is what the counter panel template needs.
type panelData struct {
	L    *lang
	CSRF string
	V    *counterView
	Back string // where a sign-off form returns to
	Open bool   // show the sign-off record unfolded
}

// Panel is the data of a counter's panel on a page.
func (b base) Panel(v *counterView, back string) panelData {
	return panelData{L: b.L, CSRF: b.CSRF, V: v, Back: back}
}

// PanelOpen is Panel with the sign-off record unfolded (the counter's own page).
func (b base) PanelOpen(v *counterView, back string) panelData {
	p := b.Panel(v, back)
	p.Open = true
	return p
}

func (s *Server) base(r *http.Request, sess *session, page string) base {
	b := base{L: s.langOf(r), Page: page, Path: r.URL.RequestURI(), Today: s.today().Format(time.DateOnly), Date: s.yesterday()}
	if d := r.PathValue("date"); d != "" {
		if _, ok := parseDate(d); ok {
			b.Date = d
		}
	}
	if sess != nil {
		b.L, b.User, b.CSRF = sess.l, sess.user, sess.csrf
		b.RoleName = b.L.T("role_" + string(sess.user.Role))
	}
	// Flash messages come from a fixed list: a link cannot make the page say anything else.
	q := r.URL.Query()
	if k := q.Get("ok"); k != "" {
		if _, known := messages["ok_"+k]; known {
			b.Flash = b.L.T("ok_" + k)
		}
	}
	if k := q.Get("err"); k != "" {
		if _, known := messages["err_"+k]; known {
			b.Flash, b.FlashErr = b.L.T("err_"+k), true
		}
	}
	return b
}

// render executes a page into a buffer first, so that a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorData struct {
	base
	Status  int
	Message string
}

// fail shows an error page with a message from the list.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, sess *session, status int, key string) {
	d := errorData{base: s.base(r, sess, "error"), Status: status}
	d.Message = d.L.T(key)
	s.render(w, status, "error", d)
}

// failf shows an error page with a formatted message from the list.
func (s *Server) failf(w http.ResponseWriter, r *http.Request, sess *session, status int, key string, args ...any) {
	d := errorData{base: s.base(r, sess, "error"), Status: status}
	d.Message = d.L.Tf(key, args...)
	s.render(w, status, "error", d)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, sess, http.StatusInternalServerError, "server_error")
}

// parseDate reads a YYYY-MM-DD business date (midnight, Asia/Shanghai).
func parseDate(v string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, v, engine.Shanghai)
	if err != nil || t.Format(time.DateOnly) != v || t.Year() < 2000 {
		return time.Time{}, false
	}
	return t, true
}

// counterPath is the URL of a counter's page.
func counterPath(date, outlet, counter string) string {
	return "/day/" + date + "/c/" + outlet + "/" + counter
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, sess *session) {
	http.Redirect(w, r, "/day/"+s.yesterday(), http.StatusSeeOther)
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

// current returns the date's current run, or nil when it has none.
func (s *Server) current(date string) (*runData, error) {
	dir, ok, err := s.cfg.Store.Current(date)
	if err != nil || !ok {
		return nil, err
	}
	return s.cache.get(dir)
}

// counterView is a counter's panel: the run to show (the pinned one while certified or
// approved), its figures and what the user may do.
type counterView struct {
	Date       string
	C          *counterData
	RunID      string
	Manifest   *store.Manifest
	CurrentID  string // the date's current run
	Newer      bool   // the current run is not the one shown
	State      signoff.State
	StateKey   string
	Last       *signoff.Event
	Pivot      pivot
	Base       string // the counter page's URL; actions are Base + "/" + action
	PDF, XLSX  string // download URLs
	CanCertify bool
	CanReview  bool
	CanReopen  bool
	Missing    string // the pinned run is gone

	rd *runData // the run shown
}

// view builds the panel of a counter the user may see (the caller checked the scope). It
// returns nil, nil when the counter is not in the run to show.
func (s *Server) view(date, outlet, counter string, u *users.User, cur *runData) (*counterView, error) {
	st, err := s.signoff.State(signoff.Key{Date: date, Outlet: outlet, Counter: counter})
	if err != nil {
		return nil, err
	}
	v := &counterView{Date: date, State: st, Last: st.Last(), Base: counterPath(date, outlet, counter)}
	if cur != nil {
		v.CurrentID = cur.ID
	}
	rd := cur
	if st.Pinned() {
		dir, err := s.cfg.Store.RunDir(date, st.RunID)
		if errors.Is(err, fs.ErrNotExist) {
			v.Missing = st.RunID
			return v, nil
		}
		if err != nil {
			return nil, err
		}
		if rd, err = s.cache.get(dir); err != nil {
			return nil, err
		}
	}
	if rd == nil {
		return nil, nil
	}
	c, ok := rd.byID[counter]
	if !ok || c.Outlet != outlet {
		return nil, nil
	}
	v.C, v.RunID, v.Manifest, v.rd = c, rd.ID, rd.Manifest, rd
	v.Newer = cur != nil && cur.ID != rd.ID
	v.Pivot = newPivot(c.Settlement)
	dl := v.Base + "/" + rd.ID + "/report."
	v.PDF, v.XLSX = dl+"pdf", dl+"xlsx"
	switch st.Status {
	case signoff.StatusOpen:
		v.StateKey = "state_open"
		if v.Last != nil {
			v.StateKey = map[signoff.Action]string{signoff.Return: "state_returned", signoff.Reopen: "state_reopened"}[v.Last.Action]
		}
	case signoff.StatusCertified:
		v.StateKey = "state_certified"
	case signoff.StatusApproved:
		v.StateKey = "state_approved"
	}
	v.CanCertify = u.Role == users.Clerk && st.Status == signoff.StatusOpen && !v.Newer
	v.CanReview = u.Role == users.Reviewer && st.Status == signoff.StatusCertified
	v.CanReopen = u.Role == users.Reviewer && st.Status == signoff.StatusApproved
	return v, nil
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
	if u.Role != users.Clerk && u.Role != users.Reviewer {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	back := "/day/" + date
	if t.After(s.today()) {
		s.log.Warn("run refused: a future date", "user", u.Name, "date", date)
		s.fail(w, r, sess, http.StatusUnprocessableEntity, "err_future")
		return
	}
	if earliest, days, key, _ := s.runWindow(u); t.Before(earliest) {
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

// scoped reads the date, outlet and counter of the URL and checks the user's scope before
// anything is looked up: 400 for a malformed id, 403 for a counter the user may not see.
func (s *Server) scoped(w http.ResponseWriter, r *http.Request, sess *session) (date, outlet, counter string, ok bool) {
	date, outlet, counter = r.PathValue("date"), r.PathValue("outlet"), r.PathValue("counter")
	if _, valid := parseDate(date); !valid || !feed.ValidID(outlet) || !feed.ValidID(counter) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return "", "", "", false
	}
	if !sess.user.SeesCounter(outlet, counter) {
		s.log.Warn("out of scope", "user", sess.user.Name, "outlet", outlet, "counter", counter)
		s.fail(w, r, sess, http.StatusForbidden, "forbidden_counter")
		return "", "", "", false
	}
	return date, outlet, counter, true
}

// currentView is the counter's view for the user under the date's current run (nil when
// neither the run nor the sign-off log knows the counter). On an error it has answered with a
// 500 and ok is false.
func (s *Server) currentView(w http.ResponseWriter, r *http.Request, sess *session, date, outlet, counter string) (v *counterView, ok bool) {
	cur, err := s.current(date)
	if err == nil {
		v, err = s.view(date, outlet, counter, sess.user, cur)
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return nil, false
	}
	return v, true
}

type counterPage struct {
	base
	V *counterView
}

func (s *Server) counter(w http.ResponseWriter, r *http.Request, sess *session) {
	date, outlet, counter, ok := s.scoped(w, r, sess)
	if !ok {
		return
	}
	v, ok := s.currentView(w, r, sess, date, outlet, counter)
	if !ok {
		return
	}
	if v == nil {
		s.failf(w, r, sess, http.StatusNotFound, "counter_absent", counter)
		return
	}
	d := counterPage{base: s.base(r, sess, "counter"), V: v}
	d.Date = date
	s.render(w, http.StatusOK, "counter", d)
}

// cleanComment keeps a comment to 2000 characters of printable text and newlines.
func cleanComment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || unicode.IsPrint(r) {
			return r
		}
		if r == '\r' {
			return -1
		}
		return ' '
	}, s)
	s = strings.TrimSpace(s)
	if rs := []rune(s); len(rs) > 2000 {
		s = string(rs[:2000])
	}
	return s
}

var errStale = errors.New("stale")

// signoffAction records a certification, approval, return or reopening.
func (s *Server) signoffAction(w http.ResponseWriter, r *http.Request, sess *session) {
	action := signoff.Action(r.PathValue("action"))
	need := map[signoff.Action]users.Role{signoff.Certify: users.Clerk, signoff.Approve: users.Reviewer,
		signoff.Return: users.Reviewer, signoff.Reopen: users.Reviewer}
	role, known := need[action]
	if !known {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	if sess.user.Role != role {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	date, outlet, counter, ok := s.scoped(w, r, sess)
	if !ok {
		return
	}
	back := counterPath(date, outlet, counter)
	if b := r.PostFormValue("back"); b == "/day/"+date {
		back = b
	}
	redirect := func(q string) { http.Redirect(w, r, back+"?"+q, http.StatusSeeOther) }
	runID := r.PostFormValue("run")
	comment := cleanComment(r.PostFormValue("comment"))
	if !store.ValidRunID(runID) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
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
	if v.RunID != runID {
		redirect("err=stale")
		return
	}
	ev := signoff.Event{Time: s.now(), User: sess.user.Name, Display: sess.user.Display, Role: string(sess.user.Role), Action: action,
		Date: date, Outlet: outlet, Counter: counter, RunID: runID, Comment: comment}
	rd := v.rd
	xlsxRel, pdfRel := reportPaths(outlet, counter)
	var (
		check func(signoff.State) error
		err   error
	)
	switch action {
	case signoff.Certify:
		switch {
		case !v.CanCertify:
			redirect("err=state")
			return
		case v.C.Incomplete:
			redirect("err=incomplete")
			return
		case v.C.Errors > 0 && comment == "":
			redirect("err=errors_need_note")
			return
		case r.PostFormValue("confirm") != "yes":
			redirect("err=confirm")
			return
		}
		_, ev.PDFSHA256, err = verifiedFile(rd, pdfRel, "")
		if err == nil {
			_, ev.XLSXSHA256, err = verifiedFile(rd, xlsxRel, "")
		}
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
		// The run certified must still be the current one when the line is written.
		check = func(signoff.State) error {
			dir, ok, err := s.cfg.Store.Current(date)
			if err != nil {
				return err
			}
			if !ok || path.Base(dir) != runID {
				return errStale
			}
			return nil
		}
	case signoff.Approve:
		if !v.CanReview {
			redirect("err=state")
			return
		}
		// What is approved must be what was certified, byte for byte.
		_, ev.PDFSHA256, err = verifiedFile(rd, pdfRel, v.State.PDFSHA256)
		if err == nil {
			_, ev.XLSXSHA256, err = verifiedFile(rd, xlsxRel, v.State.XLSXSHA256)
		}
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
	case signoff.Return, signoff.Reopen:
		if comment == "" {
			redirect("err=comment_required")
			return
		}
		if (action == signoff.Return && !v.CanReview) || (action == signoff.Reopen && !v.CanReopen) {
			redirect("err=state")
			return
		}
		ev.PDFSHA256, ev.XLSXSHA256 = v.State.PDFSHA256, v.State.XLSXSHA256
	}
	if _, err := s.signoff.Append(ev, check); err != nil {
		switch {
		case errors.Is(err, errStale):
			redirect("err=stale")
		case errors.Is(err, signoff.ErrTransition):
			redirect("err=state")
		default:
			s.internal(w, r, sess, err)
		}
		return
	}
	s.log.Info("sign-off", "action", string(action), "user", sess.user.Name, "date", date, "outlet", outlet,
		"counter", counter, "run_id", runID, "pdf_sha256", ev.PDFSHA256)
	redirect("ok=" + string(action))
}

// reportPaths are a counter's report files as the manifest names them ('/'-separated);
// the ids were checked by the caller.
func reportPaths(outlet, counter string) (xlsx, pdf string) {
	x, p, _ := report.CounterPaths(outlet, counter)
	return filepath.ToSlash(x), filepath.ToSlash(p)
}

// download serves a counter's PDF or XLSX from the store: ids checked, scope checked, and
// for a clerk or reviewer only the run on file for the counter (the signed one when pinned).
// The file must have the sha256 its manifest records, and the signed one when pinned.
func (s *Server) download(w http.ResponseWriter, r *http.Request, sess *session) {
	date, outlet, counter, ok := s.scoped(w, r, sess)
	if !ok {
		return
	}
	runID, file := r.PathValue("run"), r.PathValue("file")
	var ctype string
	switch file {
	case "report.pdf":
		ctype = "application/pdf"
	case "report.xlsx":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	default:
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	if !store.ValidRunID(runID) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	v, ok := s.currentView(w, r, sess, date, outlet, counter)
	if !ok {
		return
	}
	if sess.user.Role != users.Auditor && (v == nil || v.RunID != runID) {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	dir, err := s.cfg.Store.RunDir(date, runID)
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	rd, err := s.cache.get(dir)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if c, ok := rd.byID[counter]; !ok || c.Outlet != outlet {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	// A file of the run a sign-off pinned must still have the sha256 signed for.
	pinned := v != nil && v.State.Pinned() && v.State.RunID == runID
	xlsxRel, pdfRel := reportPaths(outlet, counter)
	rel, want := pdfRel, ""
	if file == "report.xlsx" {
		rel = xlsxRel
	}
	if pinned {
		want = v.State.PDFSHA256
		if file == "report.xlsx" {
			want = v.State.XLSXSHA256
		}
	}
	b, sum, err := verifiedFile(rd, rel, want)
	if errors.Is(err, errAltered) {
		s.log.Error("report altered", "err", err)
		s.fail(w, r, sess, http.StatusInternalServerError, "report_altered")
		return
	}
	if errors.Is(err, fs.ErrNotExist) {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	name := counter + "_" + date + path.Ext(file)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Settle-Run", runID)
	w.Header().Set("X-Settle-SHA256", sum)
	if pinned {
		w.Header().Set("X-Settle-Signoff", string(v.State.Status))
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// auditorOnly refuses anyone but an auditor.
func (s *Server) auditorOnly(w http.ResponseWriter, r *http.Request, sess *session) bool {
	if sess.user.Role != users.Auditor {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return false
	}
	return true
}

type runPage struct {
	base
	ID        string
	Current   bool
	M         *store.Manifest
	Outputs   []outputRow
	Codes     []codeCount
	Incompl   int
	Completed bool
}

type outputRow struct {
	Path   string
	SHA256 string
	Size   int64
}

type codeCount struct {
	Code engine.Code
	N    int
}

// auditRun shows a run's manifest.
func (s *Server) auditRun(w http.ResponseWriter, r *http.Request, sess *session) {
	if !s.auditorOnly(w, r, sess) {
		return
	}
	date, id := r.PathValue("date"), r.PathValue("run")
	if _, ok := parseDate(date); !ok || !store.ValidRunID(id) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	dir, err := s.cfg.Store.RunDir(date, id)
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	m, err := store.ReadManifest(dir + "/" + store.ManifestName)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	d := runPage{base: s.base(r, sess, "run"), ID: id, M: m, Completed: m.Status == store.StatusComplete}
	d.Date = date
	if cd, ok, _ := s.cfg.Store.Current(date); ok && path.Base(cd) == id {
		d.Current = true
	}
	for p, o := range m.Outputs {
		d.Outputs = append(d.Outputs, outputRow{p, o.SHA256, o.Size})
	}
	slices.SortFunc(d.Outputs, func(a, b outputRow) int { return strings.Compare(a.Path, b.Path) })
	for c, n := range m.Exceptions.ByCode {
		d.Codes = append(d.Codes, codeCount{c, n})
	}
	slices.SortFunc(d.Codes, func(a, b codeCount) int { return strings.Compare(string(a.Code), string(b.Code)) })
	s.render(w, http.StatusOK, "run", d)
}

type diffPage struct {
	base
	D        *diff.Diff
	Feeds    []feedChange
	Counters []diffCounter
	Rows     []diff.Row
	CauseKey string
	Totals   string
	XLSX     string
}

// feedChange is a feed whose manifest figures differ, in words.
type feedChange struct {
	Feed  string
	Parts []string
}

func feedChanges(l *lang, d *diff.Diff) []feedChange {
	var out []feedChange
	for _, f := range d.Cause.Feeds {
		fc := feedChange{Feed: f.Feed}
		for _, name := range f.Fields {
			var a, b int64
			switch name {
			case "inputs":
				a, b = int64(f.A.Inputs), int64(f.B.Inputs)
			case "files":
				a, b = int64(f.A.Files), int64(f.B.Files)
			case "pulls":
				a, b = int64(f.A.Pulls), int64(f.B.Pulls)
			case "bytes":
				a, b = f.A.Bytes, f.B.Bytes
			case "rows_read":
				a, b = int64(f.A.RowsRead), int64(f.B.RowsRead)
			case "valid":
				a, b = int64(f.A.Valid), int64(f.B.Valid)
			case "rejected":
				a, b = int64(f.A.Rejected), int64(f.B.Rejected)
			default: // checksums
				fc.Parts = append(fc.Parts, l.Field(name)+" "+l.T("differs"))
				continue
			}
			fc.Parts = append(fc.Parts, fmt.Sprintf("%s %d → %d", l.Field(name), a, b))
		}
		out = append(out, fc)
	}
	return out
}

// diffCounter is one counter's line of the diff's summary.
type diffCounter struct {
	Outlet, Counter          string
	Settlement, Variance     int
	Added, Resolved, Changed int
	NetDelta, VarianceDelta  int64
	NewShort                 bool // the counter is short in B
}

func diffCounters(d *diff.Diff) []diffCounter {
	out := make([]diffCounter, 0, len(d.Counters))
	for _, c := range d.Counters {
		dc := diffCounter{Outlet: c.Outlet, Counter: c.Counter, Settlement: len(c.Settlement), Variance: len(c.Variance),
			Added: len(c.Added), Resolved: len(c.Resolved), Changed: len(c.Changed)}
		for _, l := range c.Settlement {
			dc.NetDelta += l.New.Net - l.Old.Net
		}
		for _, l := range c.Variance {
			dc.VarianceDelta += l.New.Variance - l.Old.Variance
			if l.New.Variance < 0 {
				dc.NewShort = true
			}
		}
		out = append(out, dc)
	}
	return out
}

// loadPair reads runs a and b of the URL's date for the diff pages.
func (s *Server) loadPair(w http.ResponseWriter, r *http.Request, sess *session) (*diff.Diff, string, bool) {
	if !s.auditorOnly(w, r, sess) {
		return nil, "", false
	}
	date := r.PathValue("date")
	q := r.URL.Query()
	a, b := q.Get("a"), q.Get("b")
	if _, ok := parseDate(date); !ok || !store.ValidRunID(a) || !store.ValidRunID(b) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return nil, "", false
	}
	var runs [2]*diff.Run
	for i, id := range []string{a, b} {
		dir, err := s.cfg.Store.RunDir(date, id)
		if err != nil {
			s.fail(w, r, sess, http.StatusNotFound, "not_found")
			return nil, "", false
		}
		if runs[i], err = diff.Load(dir); err != nil {
			s.internal(w, r, sess, err)
			return nil, "", false
		}
	}
	// The page names runs by id, never by the server's directories.
	runs[0].Info.Dir, runs[1].Info.Dir = "", ""
	return diff.Compare(runs[0], runs[1]), date, true
}

// auditDiff renders `settle diff DATE@A DATE@B` as a page.
func (s *Server) auditDiff(w http.ResponseWriter, r *http.Request, sess *session) {
	d, date, ok := s.loadPair(w, r, sess)
	if !ok {
		return
	}
	p := diffPage{base: s.base(r, sess, "diff"), D: d, Counters: diffCounters(d), Rows: d.Rows(), CauseKey: "cause_" + d.Cause.Kind()}
	p.Date = date
	p.Feeds = feedChanges(p.L, d)
	t := d.Totals
	p.Totals = p.L.Tf("diff_totals", t.Counters, t.Settlement.Changed, t.Settlement.Added, t.Settlement.Removed,
		signedYuan(t.NetDelta), t.Variance.Changed, t.Variance.Added, t.Variance.Removed, signedYuan(t.VarianceDelta),
		t.Exceptions.Added, t.Exceptions.Resolved, t.Exceptions.Changed)
	p.XLSX = "/audit/" + date + "/diff.xlsx?" + url.Values{"a": {d.A.RunID}, "b": {d.B.RunID}}.Encode()
	s.render(w, http.StatusOK, "diff", p)
}

// auditDiffXLSX is the diff as the command's XLSX.
func (s *Server) auditDiffXLSX(w http.ResponseWriter, r *http.Request, sess *session) {
	d, date, ok := s.loadPair(w, r, sess)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := diff.WriteXLSX(&buf, d); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="diff_`+date+`.xlsx"`)
	http.ServeContent(w, r, "diff.xlsx", time.Time{}, bytes.NewReader(buf.Bytes()))
}

type logPage struct {
	base
	Events []signoff.Event
	Filter string
}

// auditLog shows the sign-off log, of one date or all.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, sess *session) {
	if !s.auditorOnly(w, r, sess) {
		return
	}
	date := r.URL.Query().Get("date")
	if _, ok := parseDate(date); date != "" && !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	evs, err := s.signoff.Events(date)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	slices.Reverse(evs)
	p := logPage{base: s.base(r, sess, "log"), Events: evs, Filter: date}
	p.Date = date
	if p.Date == "" {
		p.Date = s.yesterday()
	}
	s.render(w, http.StatusOK, "log", p)
}
