package web

// The month-end close on the page (PERIOD.md, issues 14–15): a city-wide reviewer (scope '*')
// sees a month — the counter-days not approved, the open items by age, the findings of the
// latest period report — downloads the period outputs, builds or rebuilds the period report,
// closes the period (with a comment) and reopens it (with a comment); an auditor sees the
// same page read-only. A close or reopening is an event of the workflow log
// (workflow.PeriodTrail), written before <store>/periods/<from>_<to>/closed.json.
//
// While a period is closed the pages refuse, for every date of it, a run (POST
// /day/D/run), every sign-off change (certify, approve, return, reopen) and every change of
// an item (explain, accept, reject, acknowledge, an uploaded explanation): refuseClosed.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"settle/job"
	"settle/money"
	"settle/period"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

// closedPeriod names the closed period date lies in ("" when none).
func (s *Server) closedPeriod(date string) (string, error) {
	name, closed, err := period.ClosedFor(s.cfg.Store.Dir(), date)
	if err != nil || !closed {
		return "", err
	}
	return name, nil
}

// refuseClosed answers 409 naming the period when date lies in a closed period (or 500 when
// that cannot be told), and reports whether it answered.
func (s *Server) refuseClosed(w http.ResponseWriter, r *http.Request, sess *session, date string) bool {
	name, err := s.closedPeriod(date)
	if err != nil {
		s.internal(w, r, sess, err)
		return true
	}
	if name == "" {
		return false
	}
	s.log.Warn("refused: the period is closed", "user", sess.user.Name, "date", date, "period", name, "path", r.URL.Path)
	s.failf(w, r, sess, http.StatusConflict, "err_period_closed", date, name)
	return true
}

// closedNote is the banner of a page of a date in a closed period ("" when it is not).
func (s *Server) closedNote(l *lang, date string) (string, bool) {
	name, err := s.closedPeriod(date)
	if err != nil || name == "" {
		return "", false
	}
	return l.Tf("err_period_closed", date, name), true
}

// periodBuilds are the period reports being built from the page, by period name.
type periodBuilds struct {
	mu sync.Mutex
	m  map[string]*periodBuild
}

type periodBuild struct {
	started time.Time
	running bool
	err     error
}

// periodOptions are the options of a period report built from the page: both formats, the
// reports in the server's language (serve --lang), the sign-offs and items of the workflow
// database.
func (s *Server) periodOptions(p period.Period) period.Options {
	lang := s.cfg.CertOptions.Lang
	if lang == "" {
		lang = "zh"
	}
	return period.Options{StoreDir: s.cfg.Store.Dir(), Period: p, Lang: lang, XLSX: true, PDF: true,
		ToolVersion: job.Version, Now: s.now, LockTimeout: 5 * time.Second, Log: s.log,
		SignOffs: workflow.PeriodSignOffs{DB: s.wf}, Items: workflow.PeriodItems{DB: s.wf, Store: s.cfg.Store}}
}

// periodOf reads the {month} of the path.
func periodOf(r *http.Request) (period.Period, string, bool) {
	ym := r.PathValue("month")
	p, err := period.Month(ym)
	return p, ym, err == nil
}

// mayClose: a reviewer of the whole city.
func mayClose(u *users.User) bool { return u.Role == users.Reviewer && u.WholeCity() }

// maySeePeriod: a reviewer of the whole city, or an auditor.
func maySeePeriod(u *users.User) bool { return mayClose(u) || u.Role == users.Auditor }

type periodFile struct{ Name, Link string }

type periodFinding struct {
	Code, Severity, Outlet, Counter, Amount, Detail string
	Error                                           bool
}

type unsettledRow struct {
	Outlet string
	N      int
	Dates  string
}

type periodPage struct {
	base
	Month, From, To, Prev, Next string
	Closed                      bool
	Closure                     period.Closure
	ClosedAt                    string
	CanAct                      bool
	Building                    string // when a build from the page is going on: its start
	BuildErr                    string
	HasReport                   bool
	Manifest                    *period.Manifest
	Files, OutletFiles          []periodFile
	Findings                    []periodFinding
	FindingsMore                int
	Unsettled                   []unsettledRow
	UnsettledN                  int
	Buckets                     []string
	ItemRows                    []auditOutlet
	ItemTotal                   auditOutlet
	Trail                       []workflow.Event
}

// periodHome sends to the page of last month.
func (s *Server) periodHome(w http.ResponseWriter, r *http.Request, sess *session) {
	if !maySeePeriod(sess.user) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	t := s.today()
	last := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()).AddDate(0, -1, 0)
	http.Redirect(w, r, "/period/"+last.Format("2006-01"), http.StatusSeeOther)
}

// periodPageView is GET /period/{month}.
func (s *Server) periodPageView(w http.ResponseWriter, r *http.Request, sess *session) {
	if !maySeePeriod(sess.user) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	p, ym, ok := periodOf(r)
	if !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	ctx := r.Context()
	pg := periodPage{base: s.base(r, sess, "period"), Month: ym, From: p.From, To: p.To, CanAct: mayClose(sess.user)}
	pg.Date = p.To
	if pg.Date > pg.Today {
		pg.Date = pg.Today
	}
	first, _ := time.Parse("2006-01", ym)
	pg.Prev, pg.Next = first.AddDate(0, -1, 0).Format("2006-01"), first.AddDate(0, 1, 0).Format("2006-01")
	c, closed, err := period.ReadClosure(s.cfg.Store.Dir(), p)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	pg.Closed, pg.Closure = closed && c.Closed, c
	if closed {
		pg.ClosedAt = pg.L.Time(c.At)
	}
	pb := s.pbuilds
	pb.mu.Lock()
	if b := pb.m[p.Name()]; b != nil {
		if b.running {
			pg.Building = pg.L.Time(b.started)
		} else if b.err != nil {
			pg.BuildErr = b.err.Error()
		}
	}
	pb.mu.Unlock()
	if pg.Trail, err = s.wf.PeriodEvents(ctx, p.Name()); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if err := s.periodReport(ctx, &pg, p); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if err := s.periodItems(ctx, &pg, p); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.render(w, http.StatusOK, "period", pg)
}

// maxFindingsShown bounds the findings the page lists (the CSV has them all).
const maxFindingsShown = 300

// periodReport fills the page from the period's current report: its manifest, files,
// findings and counter-days (their sign-off as the workflow has it now).
func (s *Server) periodReport(ctx context.Context, pg *periodPage, p period.Period) error {
	dir, ok, err := s.periodRun(p)
	if err != nil || !ok {
		return err
	}
	m, err := readPeriodManifest(dir)
	if err != nil {
		return err
	}
	pg.HasReport, pg.Manifest = true, m
	names := make([]string, 0, len(m.Outputs))
	for n := range m.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := periodFile{Name: n, Link: "/period/" + pg.Month + "/file/" + m.RunID + "/" + n}
		if strings.HasPrefix(n, "reports/") && strings.Count(n, "/") > 1 {
			pg.OutletFiles = append(pg.OutletFiles, f)
		} else {
			pg.Files = append(pg.Files, f)
		}
	}
	rows, err := readCSVFile(filepath.Join(dir, period.FindingsName+".csv"))
	if err != nil {
		return err
	}
	// from,to,code,severity,city,outlet_id,counter_id,amount,detail
	for _, r := range rows {
		if len(r) < 9 {
			continue
		}
		if len(pg.Findings) >= maxFindingsShown {
			pg.FindingsMore++
			continue
		}
		pg.Findings = append(pg.Findings, periodFinding{Code: r[2], Severity: r[3], Outlet: r[5], Counter: r[6], Amount: yuanText(r[7]), Detail: r[8], Error: r[3] == period.SevError})
	}
	slices.SortStableFunc(pg.Findings, func(a, b periodFinding) int {
		if a.Error != b.Error {
			if a.Error {
				return -1
			}
			return 1
		}
		return 0
	})
	// Counter-days not approved: the report's counter-days, with the sign-off as it stands.
	days, err := readCSVFile(filepath.Join(dir, period.DaysName+".csv"))
	if err != nil {
		return err
	}
	live, err := s.wf.Days(ctx, p.From, p.To)
	if err != nil {
		return err
	}
	approved := map[string]bool{}
	for _, y := range live {
		if y.Status == workflow.StatusApproved {
			approved[y.Date+"|"+y.Outlet+"|"+y.Counter] = true
		}
	}
	type acc struct {
		n     int
		dates map[string]bool
	}
	by := map[string]*acc{}
	for _, r := range days { // biz_date,city,outlet_id,counter_id,...
		if len(r) < 4 || approved[r[0]+"|"+r[2]+"|"+r[3]] {
			continue
		}
		a := by[r[2]]
		if a == nil {
			a = &acc{dates: map[string]bool{}}
			by[r[2]] = a
		}
		a.n++
		a.dates[r[0][5:]] = true
		pg.UnsettledN++
	}
	for o, a := range by {
		ds := make([]string, 0, len(a.dates))
		for d := range a.dates {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		pg.Unsettled = append(pg.Unsettled, unsettledRow{Outlet: o, N: a.n, Dates: strings.Join(ds, " ")})
	}
	slices.SortFunc(pg.Unsettled, func(a, b unsettledRow) int { return strings.Compare(a.Outlet, b.Outlet) })
	return nil
}

// periodItems fills the open items of the period's dates by outlet and age bucket (as the
// auditor's city view counts them: present, open, explained or rejected; amounts absolute).
func (s *Server) periodItems(ctx context.Context, pg *periodPage, p period.Period) error {
	today := pg.Today
	for _, d := range p.Dates() {
		if d < today {
			s.synced(ctx, d)
		}
	}
	its, err := s.wf.Items(ctx, workflow.Filter{From: p.From, To: p.To, States: openStates, PresentOnly: true})
	if err != nil {
		return err
	}
	for _, b := range ageBuckets {
		pg.Buckets = append(pg.Buckets, b.Name)
	}
	by := map[string]*auditOutlet{}
	pg.ItemTotal = auditOutlet{Cells: make([]bucketCell, len(ageBuckets))}
	for _, it := range its {
		o := outletLabel(it.Outlet)
		ao := by[o]
		if ao == nil {
			ao = &auditOutlet{Outlet: o, Cells: make([]bucketCell, len(ageBuckets))}
			by[o] = ao
		}
		b, amt := bucketOf(it.Age), it.Amount
		if amt < 0 {
			amt = -amt
		}
		for _, c := range []*bucketCell{&ao.Cells[b], &ao.Total, &pg.ItemTotal.Cells[b], &pg.ItemTotal.Total} {
			c.N++
			c.Amount += amt
		}
	}
	for _, ao := range by {
		pg.ItemRows = append(pg.ItemRows, *ao)
	}
	slices.SortFunc(pg.ItemRows, func(a, b auditOutlet) int { return strings.Compare(a.Outlet, b.Outlet) })
	return nil
}

// periodRun is the directory of the period's current report.
func (s *Server) periodRun(p period.Period) (string, bool, error) {
	ps, err := store.OpenPeriods(s.cfg.Store.Dir())
	if err != nil {
		return "", false, err
	}
	return ps.Current(p.Name())
}

func readPeriodManifest(dir string) (*period.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, store.ManifestName))
	if err != nil {
		return nil, fmt.Errorf("period report: %w", err)
	}
	var m period.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("period report %s: %w", filepath.Join(dir, store.ManifestName), err)
	}
	return &m, nil
}

// readCSVFile reads a CSV of a period report without its header.
func readCSVFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("period report: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("period report %s: %w", path, err)
	}
	if len(rows) > 0 {
		rows = rows[1:]
	}
	return rows, nil
}

// periodAction is POST /period/{month}/{action}: build, close or reopen, by a reviewer of
// the whole city.
func (s *Server) periodAction(w http.ResponseWriter, r *http.Request, sess *session) {
	if !mayClose(sess.user) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	p, ym, ok := periodOf(r)
	if !ok {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	back := "/period/" + ym
	redirect := func(q string) { http.Redirect(w, r, back+"?"+q, http.StatusSeeOther) }
	u := sess.user
	switch action := r.PathValue("action"); action {
	case "build":
		if c, closed, err := period.ReadClosure(s.cfg.Store.Dir(), p); err != nil {
			s.internal(w, r, sess, err)
			return
		} else if closed && c.Closed {
			redirect("err=period_is_closed")
			return
		}
		s.startPeriodBuild(p, u.Name)
		redirect("ok=period_build")
	case "close", "reopen":
		comment := cleanComment(r.PostFormValue("comment"))
		if strings.TrimSpace(comment) == "" {
			redirect("err=period_comment")
			return
		}
		o := period.CloseOptions{By: u.Name, Comment: comment, Now: s.now(), Trail: workflow.PeriodTrail{DB: s.wf}, LockTimeout: 2 * time.Second}
		var err error
		if action == "close" {
			_, err = period.Close(r.Context(), s.cfg.Store.Dir(), p, o)
		} else {
			_, err = period.Reopen(r.Context(), s.cfg.Store.Dir(), p, o)
		}
		switch {
		case err == nil:
			s.log.Info("period "+action, "period", p.Name(), "by", u.Name)
			redirect("ok=period_" + action)
		case errors.Is(err, period.ErrClosed):
			redirect("err=period_is_closed")
		case errors.Is(err, period.ErrNotClosed):
			redirect("err=period_not_closed")
		case errors.Is(err, period.ErrNoReport):
			redirect("err=period_no_report")
		case errors.Is(err, store.ErrLocked) || errors.Is(err, context.DeadlineExceeded):
			redirect("err=period_busy")
		default:
			s.internal(w, r, sess, err)
		}
	default:
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
	}
}

// startPeriodBuild builds the period report in the background (one build per period at a
// time); the server's Close waits for it.
func (s *Server) startPeriodBuild(p period.Period, by string) {
	pb := s.pbuilds
	pb.mu.Lock()
	if b := pb.m[p.Name()]; b != nil && b.running {
		pb.mu.Unlock()
		return
	}
	b := &periodBuild{started: s.now(), running: true}
	pb.m[p.Name()] = b
	pb.mu.Unlock()
	s.runs.wg.Add(1)
	go func() {
		defer s.runs.wg.Done()
		log := s.log.With("period", p.Name(), "by", by)
		log.Info("period report started")
		o := s.periodOptions(p)
		o.LockTimeout = time.Minute
		out, err := period.Run(s.runs.ctx, o)
		pb.mu.Lock()
		b.running, b.err = false, err
		pb.mu.Unlock()
		if err != nil {
			log.Error("period report failed", "err", err)
			return
		}
		log.Info("period report published", "run_id", out.RunID, "complete", out.Complete, "findings", out.Manifest.Findings.Total)
	}()
}

// periodFileDownload is GET /period/{month}/file/{run}/{file...}: a file of a period report,
// served only when its manifest lists it and its sha256 still is the manifest's.
func (s *Server) periodFileDownload(w http.ResponseWriter, r *http.Request, sess *session) {
	if !maySeePeriod(sess.user) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	p, _, ok := periodOf(r)
	runID, rel := r.PathValue("run"), r.PathValue("file")
	if !ok || !store.ValidRunID(runID) || rel == "" || path.Clean(rel) != rel || strings.HasPrefix(rel, "/") || strings.Contains(rel, "..") {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	ps, err := store.OpenPeriods(s.cfg.Store.Dir())
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	dir, err := ps.RunDir(p.Name(), runID)
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	m, err := readPeriodManifest(dir)
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	out, listed := m.Outputs[rel]
	if !listed {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, out.Size+1))
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != out.SHA256 || int64(len(b)) != out.Size {
		s.log.Error("period report altered", "period", p.Name(), "run", runID, "file", rel)
		s.fail(w, r, sess, http.StatusInternalServerError, "report_altered")
		return
	}
	name := p.Name() + "_" + strings.ReplaceAll(rel, "/", "_")
	ctype := map[string]string{".csv": "text/csv; charset=utf-8", ".pdf": "application/pdf", ".json": "application/json",
		".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".parquet": "application/vnd.apache.parquet"}[path.Ext(rel)]
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Settle-Run", runID)
	w.Header().Set("X-Settle-SHA256", out.SHA256)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// yuanText shows a CSV amount (yuan, two decimals) with thousands separators.
func yuanText(v string) string {
	if v == "" {
		return ""
	}
	neg := strings.HasPrefix(v, "-")
	f, err := money.Parse(strings.TrimPrefix(v, "-"))
	if err != nil {
		return v
	}
	if neg {
		f = -f
	}
	return money.Format(f)
}
