package web

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"settle/engine"
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
		if known("ok_" + k) {
			b.Flash = b.L.T("ok_" + k)
		}
	}
	if k := q.Get("err"); k != "" {
		if known("err_" + k) {
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
