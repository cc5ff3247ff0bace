package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"settle/diff"
	"settle/engine"
	"settle/money"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

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
	p := diffPage{base: s.base(r, sess, "diff"), D: d, Counters: diffCounters(d), Rows: groupedRows(d.Rows()), CauseKey: "cause_" + d.Cause.Kind()}
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
	Events                   []workflow.Event
	Filter                   string
	FUser, FCounter, FAction string
	Actions                  []string
}

// trailActions are the actions the trail's filter offers.
var trailActions = []string{workflow.ActCertify, workflow.ActApprove, workflow.ActReturn, workflow.ActReopen,
	workflow.ActExplain, workflow.ActAccept, workflow.ActReject, workflow.ActAcknowledge, workflow.ActResolve,
	workflow.ActReraise, workflow.ActRun, workflow.ActLogin, workflow.ActLoginFailed, workflow.ActLockout,
	workflow.ActUserChange, workflow.ActRepair, workflow.ActMigrate, workflow.ActPeriodClose, workflow.ActPeriodReopen}

// auditLog is the trail: every event of the log, newest first, filtered by user, counter,
// date and action.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, sess *session) {
	if !s.auditorOnly(w, r, sess) {
		return
	}
	q := r.URL.Query()
	date := q.Get("date")
	if _, ok := parseDate(date); date != "" && !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	f := workflow.EventFilter{Date: date, User: q.Get("user"), Counter: q.Get("counter"), Action: q.Get("action"), Limit: 2000}
	if len(f.User) > 64 || len(f.Counter) > 64 || (f.Action != "" && !slices.Contains(trailActions, f.Action)) {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	evs, err := s.wf.Events(r.Context(), f)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	p := logPage{base: s.base(r, sess, "log"), Events: evs, Filter: date, FUser: f.User, FCounter: f.Counter, FAction: f.Action, Actions: trailActions}
	p.Date = date
	if p.Date == "" {
		p.Date = s.yesterday()
	}
	s.render(w, http.StatusOK, "log", p)
}

// groupedRows shows the money of diff rows as the pages show money, with thousands
// separators: the rows whose delta is an amount (counts have no decimals, texts no delta).
func groupedRows(rows []diff.Row) []diff.Row {
	group := func(v string) string {
		if !strings.Contains(v, ".") {
			return v
		}
		digits, neg := strings.CutPrefix(v, "-")
		fen, err := money.Parse(digits)
		if err != nil || strings.HasPrefix(digits, "+") {
			return v
		}
		if neg {
			fen = -fen
		}
		return money.Grouped(fen)
	}
	for i := range rows {
		if r := &rows[i]; strings.Contains(r.Delta, ".") {
			r.Old, r.New, r.Delta = group(r.Old), group(r.New), group(r.Delta)
		}
	}
	return rows
}
