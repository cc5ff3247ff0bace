package web

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"settle/feed"
	"settle/report"
	"settle/store"
	"settle/web/users"
	"settle/workflow"
)

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
	// The refresh button and the progress of the date's run going on (issue 17.2).
	Refresh    refreshInfo
	Progress   *progress
	StageText  string
	StatusURL  string
	Refreshing string // the counters the run going on refreshes
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
	d := counterPage{base: s.base(r, sess, "counter"), V: v, StatusURL: "/day/" + date + "/status"}
	d.Date = date
	if st := s.runs.state(date); st != nil {
		if p := st.snapshot(time.Now()); p.Running {
			d.Progress, d.StageText = &p, stageText(d.L, p)
			d.Refreshing = strings.Join(st.counters, ", ")
			d.Refresh.Running = true
		}
	}
	if s.canRefresh(sess.user, v) {
		d.Refresh.Can = true
		d.Refresh.Wait = int((s.runs.refreshWait(sess.user.Name, counter, s.now()) + time.Second - 1) / time.Second)
	}
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
	action := r.PathValue("action")
	need := map[string]users.Role{workflow.ActCertify: users.Clerk, workflow.ActApprove: users.Reviewer,
		workflow.ActReturn: users.Reviewer, workflow.ActReopen: users.Reviewer}
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
	if !ok || s.refuseClosed(w, r, sess, date) {
		return
	}
	back := counterPath(date, outlet, counter)
	if b := r.PostFormValue("back"); b == "/day/"+date || b == "/queue" {
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
	ctx := r.Context()
	actor := workflow.Actor{User: sess.user.Name, Display: sess.user.Display, Role: string(sess.user.Role)}
	so := workflow.Signoff{Action: action, Date: date, Outlet: outlet, Counter: counter, RunID: runID, Comment: comment,
		Version: v.State.Version}
	rd := v.rd
	xlsxRel, pdfRel := reportPaths(outlet, counter)
	var err error
	switch action {
	case workflow.ActCertify, workflow.ActApprove:
		switch {
		case v.DayOpen:
			redirect("err=day_open")
			return
		case action == workflow.ActCertify && !v.CanCertify, action == workflow.ActApprove && !v.CanReview:
			redirect("err=state")
			return
		case action == workflow.ActCertify && v.C.Incomplete:
			redirect("err=incomplete")
			return
		case action == workflow.ActCertify && v.ErrorsOpen > 0:
			redirect("err=items_open")
			return
		case action == workflow.ActApprove && v.ErrorsUndecided > 0:
			redirect("err=items_undecided")
			return
		case action == workflow.ActCertify && r.PostFormValue("confirm") != "yes":
			redirect("err=confirm")
			return
		}
		// A run made without reports (--formats '' or one format) has no paper to pin.
		if _, ok := rd.Manifest.Outputs[pdfRel]; !ok && action == workflow.ActCertify {
			redirect("err=no_reports")
			return
		}
		if _, ok := rd.Manifest.Outputs[xlsxRel]; !ok && action == workflow.ActCertify {
			redirect("err=no_reports")
			return
		}
		// What is approved must be what was certified, byte for byte.
		wantPDF, wantXLSX := "", ""
		if action == workflow.ActApprove {
			wantPDF, wantXLSX = v.State.PDFSHA256, v.State.XLSXSHA256
		}
		_, so.PDFSHA256, err = verifiedFile(rd, pdfRel, wantPDF)
		if err == nil {
			_, so.XLSXSHA256, err = verifiedFile(rd, xlsxRel, wantXLSX)
		}
		if err == nil {
			so.Snapshot, err = s.wf.Snapshot(ctx, date, outlet, counter)
		}
		if err != nil {
			s.internal(w, r, sess, err)
			return
		}
		so.Time = s.now().UTC().Round(time.Millisecond)
		if s.cfg.Certified != nil {
			sign := SignBlock{ClerkName: sess.user.Shown(), CertifiedAt: so.Time}
			if action == workflow.ActApprove {
				cert, err := s.wf.SignEvent(ctx, v.State.CertSeq)
				if err != nil {
					s.internal(w, r, sess, err)
					return
				}
				sign = SignBlock{ClerkName: shownName(cert), CertifiedAt: cert.Time, ReviewerName: sess.user.Shown(), ApprovedAt: so.Time}
			}
			doc, err := s.renderCertified(rd, outlet, counter, so.Snapshot, sign)
			if err == nil {
				so.CertSHA256, so.CertFile, err = s.keepCertified(date, outlet, counter, doc)
			}
			if err != nil {
				s.internal(w, r, sess, err)
				return
			}
		}
		if action == workflow.ActCertify {
			// The run certified must still be the current one when the event is written.
			so.Check = func(*workflow.Day) error {
				dir, ok, err := s.cfg.Store.Current(date)
				if err != nil {
					return err
				}
				if !ok || path.Base(dir) != runID {
					return errStale
				}
				return nil
			}
		}
	case workflow.ActReturn, workflow.ActReopen:
		if comment == "" {
			redirect("err=comment_required")
			return
		}
		if (action == workflow.ActReturn && !v.CanReview) || (action == workflow.ActReopen && !v.CanReopen) {
			redirect("err=state")
			return
		}
		so.PDFSHA256, so.XLSXSHA256, so.CertSHA256 = v.State.PDFSHA256, v.State.XLSXSHA256, v.State.CertSHA256
	}
	if _, err := s.wf.Sign(ctx, actor, so); err != nil {
		switch {
		case errors.Is(err, errStale), errors.Is(err, workflow.ErrStale):
			redirect("err=stale")
		case errors.Is(err, workflow.ErrGate):
			redirect("err=items_open")
		case errors.Is(err, workflow.ErrDayOpen):
			redirect("err=day_open")
		case errors.Is(err, workflow.ErrState):
			redirect("err=state")
		default:
			s.internal(w, r, sess, err)
		}
		return
	}
	s.log.Info("sign-off", "action", action, "user", sess.user.Name, "date", date, "outlet", outlet,
		"counter", counter, "run_id", runID, "pdf_sha256", so.PDFSHA256, "cert_sha256", so.CertSHA256)
	redirect("ok=" + action)
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
	// A file of the run a sign-off pinned must still have the sha256 signed for; the PDF of
	// a certified counter-day is its certified report.
	pinned := v != nil && v.State.Pinned() && v.State.RunID == runID
	if pinned && file == "report.pdf" && v.State.CertSHA256 != "" {
		b, err := s.certifiedFile(v)
		if err != nil {
			s.log.Error("certified report", "err", err)
			s.fail(w, r, sess, http.StatusInternalServerError, "report_altered")
			return
		}
		name := counter + "_" + date + "_certified.pdf"
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("X-Settle-Run", runID)
		w.Header().Set("X-Settle-SHA256", v.State.CertSHA256)
		w.Header().Set("X-Settle-Signoff", v.State.Status)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		return
	}
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
		w.Header().Set("X-Settle-Signoff", v.State.Status)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
