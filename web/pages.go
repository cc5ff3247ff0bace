package web

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"slices"
	"time"

	"settle/engine"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
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
	return panelData{L: b.L, CSRF: b.CSRF, V: v.withLang(b.L), Back: back}
}

// itemsData is what the items table needs.
type itemsData struct {
	L       *lang
	CSRF    string
	Items   []*itemView
	Back    string
	Compact bool // one counter-day's: no date and counter columns
}

// ItemsOf is the data of an items table on a page; actions return to back.
func (b base) ItemsOf(items []*itemView, back string) itemsData {
	return itemsData{L: b.L, CSRF: b.CSRF, Items: items, Back: back}
}

// ItemsOf is the items table of a panel.
func (p panelData) ItemsOf(items []*itemView, back string) itemsData {
	return itemsData{L: p.L, CSRF: p.CSRF, Items: items, Back: back}
}

// CompactItems is the items table of one counter-day (no date and counter columns).
func (p panelData) CompactItems(items []*itemView, back string) itemsData {
	return itemsData{L: p.L, CSRF: p.CSRF, Items: items, Back: back, Compact: true}
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
	if b.Flash == "" && sess != nil && page != "error" && r.PathValue("date") == b.Date {
		b.Flash, b.FlashErr = s.closedNote(b.L, b.Date) // a date of a closed period says so (pages_period.go)
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

// dayState is a counter-day's sign-off state with its sign-off events, oldest first.
type dayState struct {
	*workflow.Day
	Events []workflow.Event
}

// counterView is a counter's panel: the run to show (the pinned one while certified or
// approved), its figures, its items and what the user may do.
type counterView struct {
	Date            string
	C               *counterData
	RunID           string
	Manifest        *store.Manifest
	CurrentID       string // the date's current run
	Newer           bool   // the current run is not the one shown
	State           dayState
	StateKey        string
	Last            *workflow.Event
	Pivot           pivot
	Base            string // the counter page's URL; actions are Base + "/" + action
	PDF, XLSX       string // download URLs
	Certified       bool   // PDF is the certified report
	CanCertify      bool
	CanReview       bool
	CanReopen       bool
	CanApprove      bool   // CanReview and every ERROR accepted or resolved
	DayOpen         bool   // the business day has not ended: nothing is certified or approved
	Missing         string // the pinned run is gone
	Items           []*itemView
	CityWide        []engine.Exception // findings of no counter shown with the counter (read-only)
	ErrorsOpen      int                // ERROR items open or rejected
	ErrorsUndecided int                // ERROR items not accepted or resolved
	OpenWarnings    int

	rd *runData // the run shown
}

// itemView is an item on a page with what the user may do to it.
type itemView struct {
	*workflow.Item
	Reasons                       []reasonOpt
	ReasonLabel                   string
	CanExplain, CanDecide, CanAck bool
	Place                         string // counter, or outlet, or city
	Link                          string // the counter's page
}

type reasonOpt struct{ Code, Label, Need string }

// itemViews dresses items for u.
func (s *Server) itemViews(l *lang, u *users.User, its []*workflow.Item, dayStatus map[string]string) []*itemView {
	out := make([]*itemView, 0, len(its))
	for _, it := range its {
		iv := &itemView{Item: it, Place: it.Counter}
		if iv.Place == "" {
			iv.Place = it.Outlet
		}
		if iv.Place == "" {
			iv.Place = l.T("wf_city")
		}
		if it.Counter != "" {
			iv.Link = counterPath(it.Date, it.Outlet, it.Counter)
		}
		for _, r := range workflow.ReasonsFor(it.Code) {
			iv.Reasons = append(iv.Reasons, reasonOpt{r.Code, r.Label(l.Lang), r.NeedText})
			if r.Code == it.Reason {
				iv.ReasonLabel = r.Label(l.Lang)
			}
		}
		st := dayStatus[it.Date+"/"+it.Outlet+"/"+it.Counter]
		locked := st == workflow.StatusCertified || st == workflow.StatusApproved
		mayAct := s.mayActOn(u, it)
		// A certified counter-day's rejected items are explained again (WORKFLOW.md).
		iv.CanExplain = mayAct && st != workflow.StatusApproved && it.Present && (it.State == workflow.StateOpen || it.State == workflow.StateRejected) && u.Role != users.Auditor
		iv.CanAck = mayAct && !locked && it.Present && !it.IsError() && it.State == workflow.StateOpen && u.Role != users.Auditor
		iv.CanDecide = mayAct && st != workflow.StatusApproved && u.Role == users.Reviewer && it.State == workflow.StateExplained &&
			it.By != u.Name // four eyes: another reviewer decides on a reviewer's explanation
		out = append(out, iv)
	}
	return out
}

// mayActOn reports whether u's scope holds the item: a clerk their counters' items, a
// reviewer their outlets' (and the outlet's items of no counter), a reviewer of the whole
// city ('*') every item, the city's included.
func (s *Server) mayActOn(u *users.User, it *workflow.Item) bool {
	switch u.Role {
	case users.Clerk:
		return it.Counter != "" && u.SeesCounter(it.Outlet, it.Counter)
	case users.Reviewer:
		if u.WholeCity() {
			return true
		}
		return it.Outlet != "" && slices.Contains(u.Outlets, it.Outlet)
	}
	return false
}

// synced reconciles the date's items with its runs when the date has a newer current run
// than the one last reconciled (a run of `settle run`, or of the pages).
func (s *Server) synced(ctx context.Context, date string) {
	if err := s.wf.Sync(ctx, s.cfg.Store, date); err != nil {
		s.log.Error("workflow sync", "date", date, "err", err)
	}
}

// view builds the panel of a counter the user may see (the caller checked the scope). It
// returns nil, nil when the counter is not in the run to show.
func (s *Server) view(date, outlet, counter string, u *users.User, cur *runData) (*counterView, error) {
	ctx := context.Background()
	s.synced(ctx, date)
	day, err := s.wf.Day(ctx, date, outlet, counter)
	if err != nil {
		return nil, err
	}
	evs, err := s.wf.DayEvents(ctx, date, outlet, counter)
	if err != nil {
		return nil, err
	}
	st := dayState{Day: day, Events: evs}
	v := &counterView{Date: date, State: st, Base: counterPath(date, outlet, counter)}
	if len(evs) > 0 {
		v.Last = &evs[len(evs)-1]
	}
	if t, ok := parseDate(date); ok && !t.Before(s.today()) {
		v.DayOpen = true
	}
	if cur != nil {
		v.CurrentID = cur.ID
	}
	rd := cur
	if day.Pinned() {
		dir, err := s.cfg.Store.RunDir(date, day.RunID)
		if errors.Is(err, fs.ErrNotExist) {
			v.Missing = day.RunID
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
	v.Certified = day.Pinned() && day.CertSHA256 != ""
	for _, e := range c.Exceptions {
		if e.Counter == "" {
			v.CityWide = append(v.CityWide, e)
		}
	}
	its, err := s.wf.Items(ctx, workflow.Filter{From: date, To: date, Outlet: outlet, Counter: counter})
	if err != nil {
		return nil, err
	}
	var present []*workflow.Item
	for _, it := range its {
		if !it.Present {
			continue
		}
		present = append(present, it)
		switch {
		case it.IsError() && (it.State == workflow.StateOpen || it.State == workflow.StateRejected):
			v.ErrorsOpen++
		case !it.IsError() && it.State == workflow.StateOpen:
			v.OpenWarnings++
		}
		if it.IsError() && it.State != workflow.StateAccepted && it.State != workflow.StateResolved {
			v.ErrorsUndecided++
		}
	}
	// Resolved items (a later run no longer raises them) are listed after the others.
	for _, it := range its {
		if !it.Present {
			present = append(present, it)
		}
	}
	l := langs["zh"]
	v.Items = s.itemViews(l, u, present, map[string]string{date + "/" + outlet + "/" + counter: day.Status})
	switch day.Status {
	case workflow.StatusOpen:
		v.StateKey = "state_open"
		if v.Last != nil {
			v.StateKey = map[string]string{workflow.ActReturn: "state_returned", workflow.ActReopen: "state_reopened"}[v.Last.Action]
		}
	case workflow.StatusCertified:
		v.StateKey = "state_certified"
	case workflow.StatusApproved:
		v.StateKey = "state_approved"
	}
	v.CanCertify = u.Role == users.Clerk && day.Status == workflow.StatusOpen && !v.Newer && !v.DayOpen
	v.CanReview = u.Role == users.Reviewer && day.Status == workflow.StatusCertified
	v.CanApprove = v.CanReview && v.ErrorsUndecided == 0 && !v.DayOpen
	v.CanReopen = u.Role == users.Reviewer && day.Status == workflow.StatusApproved
	return v, nil
}

// withLang re-labels the view's reasons in l (view builds them in Chinese).
func (v *counterView) withLang(l *lang) *counterView {
	if v == nil {
		return v
	}
	for _, iv := range v.Items {
		iv.ReasonLabel = ""
		for i, r := range workflow.ReasonsFor(iv.Code) {
			iv.Reasons[i].Label = r.Label(l.Lang)
			if r.Code == iv.Reason {
				iv.ReasonLabel = r.Label(l.Lang)
			}
		}
	}
	return v
}
