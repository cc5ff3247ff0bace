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
	"settle/web/signoff"
	"settle/web/users"
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
