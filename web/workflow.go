package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"settle/engine"
	"settle/internal/atomicfile"
	"settle/money"
	"settle/report"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

// CertItem is an item as the certified report shows it; SignBlock its sign-off block
// (package report renders them: report.Certified).
type (
	CertItem  = report.CertItem
	SignBlock = report.SignBlock
)

// CertifiedDir is the folder of the store that keeps the certified reports:
// certified/<date>/<outlet>/<counter>-<sha256 prefix>.pdf.
const CertifiedDir = "certified"

func shownName(e workflow.Event) string {
	if e.Display != "" {
		return e.Display
	}
	return e.User
}

// renderCertified renders a counter's certified report from the run and a sign-off event's
// snapshot and sign block alone: the run's findings (numbered as items are), each item's
// state, reason, text, who and when from the snapshot, the options from the run's manifest.
// Rendered again from the same run and event it gives the same bytes.
func (s *Server) renderCertified(rd *runData, outlet, counter string, snap []workflow.Snap, sign SignBlock) ([]byte, error) {
	st, err := store.OpenStored(rd.Dir)
	if err != nil {
		return nil, err
	}
	c, ok := rd.byID[counter]
	if !ok {
		return nil, fmt.Errorf("certified report: counter %s is not in run %s", counter, rd.ID)
	}
	found := workflow.Findings(c.Exceptions, outlet, counter)
	opts := s.cfg.CertOptions
	opts.RunID, opts.Source = rd.Manifest.RunID, rd.Manifest.Source
	opts.GeneratedAt = rd.Manifest.StartedAt.In(engine.Shanghai)
	items := make([]CertItem, 0, len(snap))
	for _, sn := range snap {
		e, ok := found[sn.KeyOf()]
		if !ok {
			return nil, fmt.Errorf("certified report: item %d (%s %s) is not a finding of run %s", sn.ID, sn.Code, sn.TxnID, rd.ID)
		}
		ci := CertItem{Exception: e, State: sn.State, Reason: sn.Reason, Text: sn.Text, By: sn.By, ByName: sn.ByName,
			At: sn.At, Comment: sn.Comment}
		if r, ok := workflow.LookupReason(sn.Code, sn.Reason); ok {
			ci.ReasonLabel = r.Label(opts.Lang)
		}
		items = append(items, ci)
	}
	return s.cfg.Certified(st, outlet, counter, items, sign, opts)
}

// keepCertified writes a certified report into the store (once: the name holds its sum).
func (s *Server) keepCertified(date, outlet, counter string, doc []byte) (sum, rel string, err error) {
	h := sha256.Sum256(doc)
	sum = hex.EncodeToString(h[:])
	rel = filepath.ToSlash(filepath.Join(CertifiedDir, date, outlet, counter+"-"+sum[:16]+".pdf"))
	p := filepath.Join(s.cfg.Store.Dir(), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", "", err
	}
	err = atomicfile.Create(p, 0o640, func(w io.Writer) error { _, err := w.Write(doc); return err })
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", fmt.Errorf("keep certified report %q: %w", p, err)
	}
	return sum, rel, nil
}

// certifiedFile reads the counter-day's certified report and checks its sha256 against the
// log's. A file gone from the store is rendered again from the run and the log.
func (s *Server) certifiedFile(v *counterView) ([]byte, error) {
	day := v.State.Day
	b, err := os.ReadFile(filepath.Join(s.cfg.Store.Dir(), filepath.FromSlash(day.CertFile)))
	if errors.Is(err, fs.ErrNotExist) && s.cfg.Certified != nil {
		b, err = s.rerenderCertified(context.Background(), v)
	}
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != day.CertSHA256 {
		return nil, fmt.Errorf("certified report %s: sha256 %s, the log says %s: %w", day.CertFile, got, day.CertSHA256, errAltered)
	}
	return b, nil
}

// rerenderCertified renders the counter-day's certified report again from its run and the
// log's events (the certification, and the approval when it pinned the report).
func (s *Server) rerenderCertified(ctx context.Context, v *counterView) ([]byte, error) {
	day := v.State.Day
	ev, err := s.wf.SignEvent(ctx, day.CertSeq)
	if err != nil {
		return nil, err
	}
	sign := SignBlock{ClerkName: shownName(ev), CertifiedAt: ev.Time}
	if ev.Action == workflow.ActApprove {
		// The approval's report: the certification before it names the clerk.
		var cert workflow.Event
		for _, e := range v.State.Events {
			if e.Seq < ev.Seq && e.Action == workflow.ActCertify {
				cert = e
			}
		}
		sign = SignBlock{ClerkName: shownName(cert), CertifiedAt: cert.Time, ReviewerName: shownName(ev), ApprovedAt: ev.Time}
	}
	return s.renderCertified(v.rd, day.Outlet, day.Counter, ev.Snapshot, sign)
}

// errNoComment: a rejection without its comment (why).
var errNoComment = errors.New("a rejection needs a comment")

// itemAction explains, accepts, rejects or acknowledges one item.
func (s *Server) itemAction(w http.ResponseWriter, r *http.Request, sess *session) {
	action := r.PathValue("action")
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	if !workflow.Allowed(string(sess.user.Role), action) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	it, err := s.wf.Item(r.Context(), id)
	if errors.Is(err, workflow.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	if !s.mayActOn(sess.user, it) {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden_counter")
		return
	}
	if s.refuseClosed(w, r, sess, it.Date) {
		return
	}
	back := safeNext(r.PostFormValue("back"))
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if version <= 0 {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	if action == workflow.ActReject && cleanComment(r.PostFormValue("comment")) == "" {
		s.afterChange(w, r, sess, back, action, errNoComment)
		return
	}
	c := workflow.Change{ID: id, Version: version, Action: action, Reason: r.PostFormValue("reason"),
		Text: cleanComment(r.PostFormValue("text")), Comment: cleanComment(r.PostFormValue("comment"))}
	_, err = s.wf.Apply(r.Context(), s.actor(sess), []workflow.Change{c}, func(it *workflow.Item) bool { return s.mayActOn(sess.user, it) })
	if err == nil {
		s.cfg.Metrics.ItemChanged(action)
	}
	s.afterChange(w, r, sess, back, action, err)
}

func (s *Server) actor(sess *session) workflow.Actor {
	return workflow.Actor{User: sess.user.Name, Display: sess.user.Display, Role: string(sess.user.Role)}
}

// afterChange redirects to back with the outcome of a change.
func (s *Server) afterChange(w http.ResponseWriter, r *http.Request, sess *session, back, action string, err error) {
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	q := "ok=" + action
	switch {
	case err == nil:
	case errors.Is(err, workflow.ErrStale):
		q = "err=reload"
	case errors.Is(err, errNoComment):
		q = "err=comment_required"
	case errors.Is(err, workflow.ErrReason):
		q = "err=reason"
	case errors.Is(err, workflow.ErrOwn):
		q = "err=own_explanation"
	case errors.Is(err, workflow.ErrState):
		q = "err=item_state"
	case errors.Is(err, workflow.ErrNotFound):
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	default:
		s.internal(w, r, sess, err)
		return
	}
	http.Redirect(w, r, back+sep+q, http.StatusSeeOther)
}

// ackAll acknowledges every open warning of a counter-day at once.
func (s *Server) ackAll(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess.user.Role != users.Clerk && sess.user.Role != users.Reviewer {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	date, outlet, counter, ok := s.scoped(w, r, sess)
	if !ok || s.refuseClosed(w, r, sess, date) {
		return
	}
	its, err := s.wf.Items(r.Context(), workflow.Filter{From: date, To: date, Outlet: outlet, Counter: counter, States: []string{workflow.StateOpen}})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	var cs []workflow.Change
	for _, it := range its {
		if !it.IsError() && it.Present {
			cs = append(cs, workflow.Change{ID: it.ID, Version: it.Version, Action: workflow.ActAcknowledge})
		}
	}
	if len(cs) > 0 {
		_, err = s.wf.Apply(r.Context(), s.actor(sess), cs, func(it *workflow.Item) bool { return s.mayActOn(sess.user, it) })
		if err == nil {
			for range cs {
				s.cfg.Metrics.ItemChanged(workflow.ActAcknowledge)
			}
		}
	}
	s.afterChange(w, r, sess, counterPath(date, outlet, counter), workflow.ActAcknowledge, err)
}

// window is the first and last date of the queues: QueueDays back from yesterday.
func (s *Server) window() (from, to string) {
	t := s.today()
	return t.AddDate(0, 0, -s.cfg.QueueDays).Format(time.DateOnly), t.AddDate(0, 0, -1).Format(time.DateOnly)
}

// syncWindow reconciles the items of every date of the window that has a newer run.
func (s *Server) syncWindow(ctx context.Context) {
	t := s.today()
	for i := 1; i <= s.cfg.QueueDays; i++ {
		s.synced(ctx, t.AddDate(0, 0, -i).Format(time.DateOnly))
	}
}

// syncAll reconciles every date of the store (older than the queues' window too): the
// auditor's city view counts every open, explained or rejected item of the city, whatever its
// age. A date already reconciled with its current run costs one look-up.
func (s *Server) syncAll(ctx context.Context) {
	ents, err := os.ReadDir(s.cfg.Store.Dir())
	if err != nil {
		s.log.Error("workflow sync: list the store", "err", err)
		return
	}
	for _, e := range ents {
		if _, ok := parseDate(e.Name()); ok && e.IsDir() {
			s.synced(ctx, e.Name())
		}
	}
}

type queueRow struct {
	*workflow.DayRow
	Link     string
	StateKey string
	Run      string // the row's own run: the pinned one, else the date's current run ("" none)
}

type queuePage struct {
	base
	SLA      int
	Days     []queueRow  // clerk: their counter-days needing them; reviewer: awaiting approval
	Items    []*itemView // clerk: open and rejected items; reviewer: awaiting a decision
	Overdue  []*itemView // reviewer: overdue items
	Back     string
	Problems []string // an upload refused: every bad row
}

// scopeFilter is the items a user's queue holds.
func scopeFilter(u *users.User) workflow.Filter {
	switch u.Role {
	case users.Clerk:
		return workflow.Filter{Counters: slices.Clone(u.Counters)}
	case users.Reviewer:
		if u.WholeCity() {
			return workflow.Filter{}
		}
		return workflow.Filter{Outlets: slices.Clone(u.Outlets)}
	}
	return workflow.Filter{}
}

// queueData gathers a clerk's or reviewer's queue.
func (s *Server) queueData(ctx context.Context, l *lang, u *users.User) (*queuePage, error) {
	from, to := s.window()
	p := &queuePage{SLA: s.wf.SLADays(), Back: "/queue"}
	df := workflow.DayFilter{From: from, To: to}
	f := scopeFilter(u)
	df.Counters, df.Outlets = f.Counters, f.Outlets
	rows, err := s.wf.CounterDays(ctx, df)
	if err != nil {
		return nil, err
	}
	status := map[string]string{}
	currentRun := map[string]string{} // by date
	runOf := func(r *workflow.DayRow) (string, error) {
		if r.Pinned() {
			return r.RunID, nil
		}
		id, seen := currentRun[r.Date]
		if !seen {
			dir, ok, err := s.cfg.Store.Current(r.Date)
			if err != nil {
				return "", err
			}
			if ok {
				id = path.Base(dir)
			}
			currentRun[r.Date] = id
		}
		return id, nil
	}
	for _, r := range rows {
		status[r.Date+"/"+r.Outlet+"/"+r.Counter] = r.Status
		need := false
		switch u.Role {
		case users.Clerk:
			need = r.Status == workflow.StatusOpen || r.ErrorsOpen > 0 || r.Items[workflow.StateRejected] > 0
		case users.Reviewer:
			need = r.Status == workflow.StatusCertified
		}
		if !need {
			continue
		}
		q := queueRow{DayRow: r, Link: counterPath(r.Date, r.Outlet, r.Counter), StateKey: "state_" + r.Status}
		if q.Run, err = runOf(r); err != nil {
			return nil, err
		}
		if r.Status == workflow.StatusOpen && r.LastAction == workflow.ActReturn {
			q.StateKey = "state_returned"
		}
		p.Days = append(p.Days, q)
	}
	f.From, f.To = from, to
	switch u.Role {
	case users.Clerk:
		f.States = []string{workflow.StateOpen, workflow.StateRejected}
	case users.Reviewer:
		f.States = []string{workflow.StateOpen, workflow.StateRejected, workflow.StateExplained}
	}
	its, err := s.wf.Items(ctx, f)
	if err != nil {
		return nil, err
	}
	var mine, overdue []*workflow.Item
	for _, it := range its {
		if !it.Present {
			continue
		}
		if u.Role == users.Reviewer && it.Counter == "" && !u.WholeCity() && it.Outlet == "" {
			continue
		}
		switch {
		case u.Role == users.Clerk:
			mine = append(mine, it)
		case it.State == workflow.StateExplained:
			mine = append(mine, it)
		case it.Overdue:
			overdue = append(overdue, it)
		}
	}
	// Rejected items first (they came back), then oldest first.
	slices.SortStableFunc(mine, func(a, b *workflow.Item) int {
		ra, rb := a.State == workflow.StateRejected, b.State == workflow.StateRejected
		if ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Date, b.Date)
	})
	p.Items = s.itemViews(l, u, mine, status)
	p.Overdue = s.itemViews(l, u, overdue, status)
	return p, nil
}

// queue is the home page of a clerk or a reviewer: what waits for them, oldest first.
func (s *Server) queue(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess.user.Role == users.Auditor {
		http.Redirect(w, r, "/audit/items", http.StatusSeeOther)
		return
	}
	s.syncWindow(r.Context())
	b := s.base(r, sess, "queue")
	p, err := s.queueData(r.Context(), b.L, sess.user)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	p.base = b
	s.render(w, http.StatusOK, "queue", p)
}

// itemColumns are the columns of an items table (download, upload, settle items).
var itemColumns = []string{"wf_col_id", "wf_col_version", "date", "outlet", "counter", "code", "feed", "txn", "wf_col_key",
	"severity", "amount", "detail", "state", "wf_col_age", "wf_col_overdue", "wf_col_reason", "wf_col_text", "comment", "who", "when"}

// ItemRecord is an item as one row of the downloads and of `settle items`.
func ItemRecord(l *lang, it *workflow.Item) []string {
	amount := ""
	if it.HasAmount {
		amount = money.Format(it.Amount)
	}
	overdue := ""
	if it.Overdue {
		overdue = l.T("wf_overdue")
	}
	return []string{strconv.FormatInt(it.ID, 10), strconv.FormatInt(it.Version, 10), it.Date, it.Outlet, it.Counter, it.Code,
		it.Feed, it.TxnID, it.Key, it.Severity, amount, it.Detail, it.State, strconv.Itoa(it.Age), overdue, it.Reason, it.Text,
		it.Comment, it.By, l.Time(it.At)}
}

// WriteItems writes items as CSV or XLSX (every data cell a string: never a formula).
func WriteItems(w io.Writer, langCode, format string, its []*workflow.Item) error {
	l, ok := langs[langCode]
	if !ok {
		l = langs["zh"]
	}
	header := make([]string, len(itemColumns))
	for i, k := range itemColumns {
		header[i] = l.T(k)
	}
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, it := range its {
			rec := ItemRecord(l, it)
			for i, v := range rec {
				rec[i] = csvSafe(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "xlsx":
		f := excelize.NewFile()
		defer f.Close()
		sheet := "items"
		f.SetSheetName("Sheet1", sheet)
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		row := func(n int, vals []string) error {
			cells := make([]any, len(vals))
			for i, v := range vals {
				cells[i] = excelize.Cell{Value: v} // a string cell, never a formula
			}
			cell, _ := excelize.CoordinatesToCellName(1, n)
			return sw.SetRow(cell, cells)
		}
		if err := row(1, header); err != nil {
			return err
		}
		for i, it := range its {
			if err := row(i+2, ItemRecord(l, it)); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		return f.Write(w)
	}
	return fmt.Errorf("format %q: want csv or xlsx", format)
}

// csvSafe keeps a spreadsheet from taking a cell for a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

func (s *Server) serveItems(w http.ResponseWriter, r *http.Request, sess *session, name string, its []*workflow.Item) {
	ext := r.PathValue("ext")
	ctype := map[string]string{"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[ext]
	if ctype == "" {
		s.fail(w, r, sess, http.StatusNotFound, "not_found")
		return
	}
	var buf bytes.Buffer
	if err := WriteItems(&buf, sess.l.Lang, ext, its); err != nil {
		s.internal(w, r, sess, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"_"+s.today().Format(time.DateOnly)+"."+ext+`"`)
	http.ServeContent(w, r, name+"."+ext, time.Time{}, bytes.NewReader(buf.Bytes()))
}

// queueDownload is the queue's items as CSV or XLSX.
func (s *Server) queueDownload(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess.user.Role == users.Auditor {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	s.syncWindow(r.Context())
	p, err := s.queueData(r.Context(), sess.l, sess.user)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	var its []*workflow.Item
	for _, iv := range append(p.Items, p.Overdue...) {
		its = append(its, iv.Item)
	}
	s.serveItems(w, r, sess, "queue", its)
}

// queueUpload applies an XLSX of the queue with reasons and texts filled in: every row with
// a reason is checked (identity, scope, state, reason, version) and one bad row refuses the
// whole file, naming every bad row; nothing is applied then.
func (s *Server) queueUpload(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess.user.Role != users.Clerk && sess.user.Role != users.Reviewer {
		s.fail(w, r, sess, http.StatusForbidden, "forbidden")
		return
	}
	l := sess.l
	file, _, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
		return
	}
	defer file.Close()
	changes, problems := s.checkUpload(r.Context(), l, sess.user, file)
	if len(problems) == 0 && len(changes) == 0 {
		problems = []string{l.T("wf_upload_empty")}
	}
	if len(problems) == 0 {
		_, err = s.wf.Apply(r.Context(), s.actor(sess), changes, func(it *workflow.Item) bool { return s.mayActOn(sess.user, it) })
		if err != nil {
			problems = []string{l.Tf("wf_upload_failed", err.Error())}
		} else {
			for range changes {
				s.cfg.Metrics.ItemChanged(workflow.ActExplain)
			}
		}
	}
	if len(problems) > 0 {
		qp, err := s.queueData(r.Context(), l, sess.user)
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
		qp.base = s.base(r, sess, "queue")
		qp.Flash, qp.FlashErr = l.Tf("wf_upload_refused", len(problems)), true
		qp.Problems = problems
		s.render(w, http.StatusUnprocessableEntity, "queue", qp)
		return
	}
	http.Redirect(w, r, "/queue?ok=upload", http.StatusSeeOther)
}

// checkUpload reads an uploaded queue and returns its changes, or every bad row.
func (s *Server) checkUpload(ctx context.Context, l *lang, u *users.User, r io.Reader) ([]workflow.Change, []string) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return nil, []string{l.T("wf_upload_not_xlsx")}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, []string{l.T("wf_upload_not_xlsx")}
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil || len(rows) < 1 {
		return nil, []string{l.T("wf_upload_not_xlsx")}
	}
	col := func(row []string, i int) string {
		if i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var changes []workflow.Change
	var problems []string
	bad := func(n int, msg string) { problems = append(problems, l.Tf("wf_upload_row", n, msg)) }
	if len(rows[0]) < len(itemColumns) {
		return nil, []string{l.T("wf_upload_columns")}
	}
	for i, row := range rows[1:] {
		n := i + 2
		reason, text := col(row, 15), col(row, 16)
		if reason == "" && text == "" {
			continue // a row left as it was
		}
		id, err1 := strconv.ParseInt(col(row, 0), 10, 64)
		ver, err2 := strconv.ParseInt(col(row, 1), 10, 64)
		if err1 != nil || err2 != nil {
			bad(n, l.T("wf_bad_id"))
			continue
		}
		it, err := s.wf.Item(ctx, id)
		if err != nil {
			bad(n, l.T("wf_bad_id"))
			continue
		}
		if it.Date != col(row, 2) || it.Outlet != col(row, 3) || it.Counter != col(row, 4) || it.Code != col(row, 5) ||
			it.Feed != col(row, 6) || it.TxnID != col(row, 7) || it.Key != col(row, 8) {
			bad(n, l.T("wf_bad_identity"))
			continue
		}
		if !s.mayActOn(u, it) {
			bad(n, l.T("wf_bad_scope"))
			continue
		}
		if name, err := s.closedPeriod(it.Date); err != nil || name != "" {
			bad(n, l.Tf("err_period_closed", it.Date, name))
			continue
		}
		if it.Version != ver {
			bad(n, l.T("err_reload"))
			continue
		}
		if (it.State != workflow.StateOpen && it.State != workflow.StateRejected) || !it.Present {
			bad(n, l.Tf("wf_bad_state", l.T("wf_st_"+it.State)))
			continue
		}
		if day, err := s.wf.Day(ctx, it.Date, it.Outlet, it.Counter); err == nil && day.Status == workflow.StatusApproved {
			bad(n, l.Tf("wf_bad_state", l.T("state_"+day.Status)))
			continue
		}
		if err := workflow.CheckReason(it.Code, reason, text); err != nil {
			bad(n, l.Tf("wf_bad_reason", reason))
			continue
		}
		changes = append(changes, workflow.Change{ID: id, Version: ver, Action: workflow.ActExplain, Reason: reason, Text: cleanComment(text)})
	}
	return changes, problems
}

// ageBuckets are the auditor's age buckets (WORKFLOW.md).
var ageBuckets = []struct {
	Name     string
	Min, Max int
}{{"0-1", 0, 1}, {"2-3", 2, 3}, {"4-7", 4, 7}, {"8-30", 8, 30}, {">30", 31, 1 << 30}}

func bucketOf(age int) int {
	for i, b := range ageBuckets {
		if age >= b.Min && age <= b.Max {
			return i
		}
	}
	return 0
}

type bucketCell struct {
	N      int
	Amount int64
	Link   string
}

type auditOutlet struct {
	Outlet string
	Cells  []bucketCell
	Total  bucketCell
}

type auditItemsPage struct {
	base
	Buckets []string
	Outlets []auditOutlet
	Total   auditOutlet
	Items   []*itemView
	Filter  string
	CSV     string
	XLSX    string
}

// openStates are the states the auditor's view counts.
var openStates = []string{workflow.StateOpen, workflow.StateExplained, workflow.StateRejected}

// auditSelection reads the auditor's filter, outlet ("-": the city's) and bucket, and
// returns its items (none without a filter: the view is then the table alone).
func (s *Server) auditSelection(ctx context.Context, r *http.Request, all bool) ([]*workflow.Item, string, int, error) {
	outlet, bucket := r.URL.Query().Get("outlet"), -1
	if b := r.URL.Query().Get("bucket"); b != "" {
		for i, ab := range ageBuckets {
			if ab.Name == b {
				bucket = i
			}
		}
	}
	if outlet == "" && bucket < 0 && !all {
		return nil, "", -1, nil
	}
	f := workflow.Filter{States: openStates, PresentOnly: true}
	switch outlet {
	case "":
	case "-":
		f.NoOutlet = true
	default:
		f.Outlet = outlet
	}
	if bucket >= 0 {
		max := ageBuckets[bucket].Max
		if bucket == len(ageBuckets)-1 {
			max = -1
		}
		f.From, f.To = s.wf.AgeRange(ageBuckets[bucket].Min, max)
	}
	its, err := s.wf.Items(ctx, f)
	return its, outlet, bucket, err
}

func outletLabel(o string) string {
	if o == "" {
		return "-"
	}
	return o
}

// auditItems is the auditor's city view: open, explained and rejected items by outlet and
// age bucket with the amounts at stake; a cell lists its items.
func (s *Server) auditItems(w http.ResponseWriter, r *http.Request, sess *session) {
	if !s.auditorOnly(w, r, sess) {
		return
	}
	s.syncAll(r.Context())
	its, outlet, bucket, err := s.auditSelection(r.Context(), r, false)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	p := auditItemsPage{base: s.base(r, sess, "audititems")}
	for _, b := range ageBuckets {
		p.Buckets = append(p.Buckets, b.Name)
	}
	link := func(o string, b int) string {
		q := "/audit/items?outlet=" + o
		if b >= 0 {
			q += "&bucket=" + ageBuckets[b].Name
		}
		return q
	}
	byOutlet := map[string]*auditOutlet{}
	p.Total = auditOutlet{Cells: make([]bucketCell, len(ageBuckets))}
	mins := make([]int, len(ageBuckets))
	for i, b := range ageBuckets {
		mins[i] = b.Min
	}
	counts, err := s.wf.AgeBuckets(r.Context(), openStates, mins)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	for _, c := range counts {
		o := outletLabel(c.Outlet)
		ao := byOutlet[o]
		if ao == nil {
			ao = &auditOutlet{Outlet: o, Cells: make([]bucketCell, len(ageBuckets))}
			for i := range ao.Cells {
				ao.Cells[i].Link = link(o, i)
			}
			ao.Total.Link = link(o, -1)
			byOutlet[o] = ao
		}
		ao.Cells[c.Bucket].N += c.N
		ao.Cells[c.Bucket].Amount += c.Amount
		ao.Total.N += c.N
		ao.Total.Amount += c.Amount
		p.Total.Cells[c.Bucket].N += c.N
		p.Total.Cells[c.Bucket].Amount += c.Amount
		p.Total.Total.N += c.N
		p.Total.Total.Amount += c.Amount
	}
	for _, ao := range byOutlet {
		p.Outlets = append(p.Outlets, *ao)
	}
	slices.SortFunc(p.Outlets, func(a, b auditOutlet) int { return strings.Compare(a.Outlet, b.Outlet) })
	if outlet != "" || bucket >= 0 {
		p.Items = s.itemViews(p.L, sess.user, its, nil)
		p.Filter = outlet
		if bucket >= 0 {
			p.Filter += " · " + ageBuckets[bucket].Name
		}
	}
	q := r.URL.RawQuery
	if q != "" {
		q = "?" + q
	}
	p.CSV, p.XLSX = "/audit/items/export/csv"+q, "/audit/items/export/xlsx"+q
	s.render(w, http.StatusOK, "audititems", p)
}

// auditItemsDownload is the auditor's selection (the whole view without one) as CSV or XLSX.
func (s *Server) auditItemsDownload(w http.ResponseWriter, r *http.Request, sess *session) {
	if !s.auditorOnly(w, r, sess) {
		return
	}
	s.syncAll(r.Context())
	its, _, _, err := s.auditSelection(r.Context(), r, true)
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	s.serveItems(w, r, sess, "items", its)
}

// ItemRecordIn is ItemRecord in the language named by code (zh or en).
func ItemRecordIn(code string, it *workflow.Item) []string {
	l, ok := langs[code]
	if !ok {
		l = langs["zh"]
	}
	return ItemRecord(l, it)
}
