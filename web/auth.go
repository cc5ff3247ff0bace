package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"settle/internal/atomicfile"
	"settle/web/users"
	"settle/workflow"
)

// Cookie names.
const (
	sessionCookie = "settle_session"
	loginCookie   = "settle_login" // binds the login form's CSRF token before there is a session
	langCookie    = "settle_lang"
)

// secretSize is the size of the HMAC key in bytes.
const secretSize = 32

// loadSecret reads the key at path, or makes one (mode 0600) when there is none. A key that
// others may read is refused: whoever reads it can forge any session.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := makeSecret(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %q: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read secret %q: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret %q has mode %04o: others may read it; chmod 600 it", path, fi.Mode().Perm())
	}
	if len(b) < secretSize {
		return nil, fmt.Errorf("secret %q: %d bytes, want at least %d", path, len(b), secretSize)
	}
	return b, nil
}

// makeSecret writes a new random key to path unless it is there already
// (atomicfile.Create), so that two servers starting at once agree on one key.
func makeSecret(path string) error {
	key := make([]byte, secretSize)
	rand.Read(key)
	err := atomicfile.Create(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(key)
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("make secret %q: %w", path, err)
	}
	return nil
}

// mac is the HMAC-SHA256 of the parts under the server's key, base64url.
func (s *Server) mac(parts ...string) string {
	h := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fileStamp tells whether a file changed.
type fileStamp struct {
	size int64
	mod  time.Time
}

// userSource is the users file, read again when its size or modification time changes.
type userSource struct {
	path  string
	mu    sync.Mutex
	stamp fileStamp
	file  *users.File
	// loaded, when set, is told of each reading of the file (the trail records its changes
	// against the snapshot it last recorded: Server.recordUsers).
	loaded func(*users.File)
}

func newUserSource(path string) (*userSource, error) {
	us := &userSource{path: path}
	if _, err := us.get(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("users file %q does not exist: add a user with `settle users add NAME --role ...`", path)
		}
		return nil, err
	}
	return us, nil
}

// get returns the users, reading the file again if it changed. A file that became
// unreadable or invalid keeps the last good content (and the error is returned with it).
func (us *userSource) get() (*users.File, error) {
	us.mu.Lock()
	defer us.mu.Unlock()
	fi, err := os.Stat(us.path)
	if err != nil {
		if us.file != nil {
			return us.file, nil
		}
		return nil, fmt.Errorf("read users %q: %w", us.path, err)
	}
	st := fileStamp{fi.Size(), fi.ModTime()}
	if us.file != nil && st == us.stamp {
		return us.file, nil
	}
	f, err := users.Load(us.path)
	if err != nil {
		if us.file != nil {
			return us.file, err
		}
		return nil, err
	}
	if us.loaded != nil {
		us.loaded(f)
	}
	us.file, us.stamp = f, st
	return f, nil
}

// diffUsers calls changed for each user added, removed, or with another role, scope,
// display name, password or unlock time.
func diffUsers(old, cur *users.File, changed func(name, what string)) {
	for _, u := range cur.Users {
		o, ok := old.Get(u.Name)
		switch {
		case !ok:
			changed(u.Name, "added: role "+string(u.Role)+" counters "+strings.Join(u.Counters, ",")+" outlets "+strings.Join(u.Outlets, ","))
		case o.Role != u.Role || strings.Join(o.Counters, ",") != strings.Join(u.Counters, ",") || strings.Join(o.Outlets, ",") != strings.Join(u.Outlets, ","):
			changed(u.Name, "changed: role "+string(u.Role)+" counters "+strings.Join(u.Counters, ",")+" outlets "+strings.Join(u.Outlets, ","))
		case o.Hash != u.Hash:
			changed(u.Name, "password changed")
		case o.UnlockedAt != u.UnlockedAt:
			changed(u.Name, "unlocked")
		case o.Display != u.Display:
			changed(u.Name, "display name changed")
		}
	}
	for _, o := range old.Users {
		if _, ok := cur.Get(o.Name); !ok {
			changed(o.Name, "removed")
		}
	}
}

// session is a logged-in request.
type session struct {
	user  *users.User
	nonce string
	exp   time.Time
	csrf  string
	l     *lang
}

// newSessionCookie signs name|nonce|expiry|password fingerprint.
func (s *Server) newSessionCookie(u *users.User) *http.Cookie {
	exp := s.now().Add(s.cfg.SessionTTL)
	payload := strings.Join([]string{u.Name, randomToken(), strconv.FormatInt(exp.Unix(), 10), u.Fingerprint()}, "|")
	val := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + s.mac("session", payload)
	return s.cookie(sessionCookie, val, int(s.cfg.SessionTTL.Seconds()))
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode}
}

// session returns the request's session, or nil: no cookie, a bad signature, expired,
// logged out, or a user removed or with another password since.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	enc, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil
	}
	payload := string(raw)
	if !hmac.Equal([]byte(sig), []byte(s.mac("session", payload))) {
		return nil
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 4 {
		return nil
	}
	secs, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return nil
	}
	exp := time.Unix(secs, 0)
	if !s.now().Before(exp) || s.revoked.has(parts[1]) {
		return nil
	}
	f, err := s.users.get()
	if f == nil {
		if err != nil {
			s.log.Error("users file", "err", err)
		}
		return nil
	}
	u, ok := f.Get(parts[0])
	if !ok || u.Fingerprint() != parts[3] {
		return nil
	}
	return &session{user: u, nonce: parts[1], exp: exp, csrf: s.mac("csrf", parts[1]), l: s.langOf(r)}
}

// langOf is the request's page language: its cookie, else Chinese.
func (s *Server) langOf(r *http.Request) *lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := langs[c.Value]; ok {
			return l
		}
	}
	return langs["zh"]
}

// page wraps a handler of a page: without a session a GET goes to the login page and any
// other method gets 401; a POST must carry the session's CSRF token (403 otherwise).
func (s *Server) page(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.authed(h, true, 64<<10)
}

// upload wraps a handler of a file upload: as page, with a body of up to 8 MiB.
func (s *Server) upload(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.authed(h, true, 8<<20)
}

// api wraps a handler of data (downloads, progress): 401 without a session.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return s.authed(h, false, 64<<10)
}

func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *session), redirect bool, limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		sess := s.session(r)
		if sess == nil {
			if redirect && r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusUnauthorized, "login_expired")
			return
		}
		infoOf(r).user = sess.user.Name
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			parse := r.ParseForm
			if limit > 64<<10 && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				// An upload: its fields (the CSRF token too) are in the multipart body.
				parse = func() error { return r.ParseMultipartForm(limit) }
			}
			if err := parse(); err != nil {
				s.fail(w, r, sess, http.StatusBadRequest, "bad_request")
				return
			}
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) {
				s.fail(w, r, sess, http.StatusForbidden, "login_expired")
				return
			}
		}
		h(w, r, sess)
	}
}

// safeNext returns next when it is a path of this site, else "/".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2048 {
		return "/"
	}
	// Browsers drop tabs and newlines from URLs and read '\' as '/': "/\t/evil" would be "//evil".
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

type loginData struct {
	base
	Next, Token, Name, Error string
}

// loginPage shows the login form, with a CSRF token bound to a cookie of its own.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	if sess := s.session(r); sess != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, next, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, next, name, msg string) {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = randomToken()
		http.SetCookie(w, s.cookie(loginCookie, nonce, 3600))
	}
	d := loginData{base: s.base(r, nil, "login"), Next: next, Token: s.mac("login", nonce), Name: name, Error: msg}
	s.render(w, status, "login", d)
}

// loginSlots bounds the bcrypt comparisons going on at once.
var loginSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// login checks the form's token, the attempt limits (see limiter) and the password, then
// sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, nil, http.StatusBadRequest, "bad_request")
		return
	}
	l := s.langOf(r)
	next := safeNext(r.PostFormValue("next"))
	name := strings.TrimSpace(r.PostFormValue("username"))
	c, err := r.Cookie(loginCookie)
	if err != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.mac("login", c.Value))) {
		s.showLogin(w, r, http.StatusForbidden, next, name, l.T("login_expired"))
		return
	}
	if len(name) > 64 {
		name = name[:64]
	}
	ip := s.clientIP(r)
	f, err := s.users.get()
	if f == nil {
		s.log.Error("users file", "err", err)
		s.fail(w, r, nil, http.StatusInternalServerError, "server_error")
		return
	}
	unlocked := ""
	if u, ok := f.Get(name); ok {
		unlocked = u.UnlockedAt
	}
	// The attempt is counted before the password is checked, under one lock with the check of
	// both limits: attempts sent at once cannot all be evaluated.
	wait, attempt := s.limiter.reserve(
		limitKey{name: "user:" + name, free: s.cfg.LoginFailures, unlocked: unlocked, clearOnSuccess: true},
		limitKey{name: "ip:" + limitAddr(ip), free: 4 * s.cfg.LoginFailures})
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		s.log.Warn("login slowed down: too many failures", "user", name, "remote", ip, "retry_after_s", secs)
		s.record(r, workflow.Event{User: name, Action: workflow.ActLockout, Comment: "remote " + ip + ", retry after " + strconv.Itoa(secs) + "s"})
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.showLogin(w, r, http.StatusTooManyRequests, next, name, l.Tf("login_limited", secs))
		return
	}
	loginSlots <- struct{}{}
	u, ok := f.Check(name, []byte(r.PostFormValue("password")))
	<-loginSlots
	attempt.done(ok)
	if !ok {
		s.log.Warn("login failed", "user", name, "remote", ip)
		s.record(r, workflow.Event{User: name, Action: workflow.ActLoginFailed, Comment: "remote " + ip})
		s.showLogin(w, r, http.StatusUnauthorized, next, name, l.T("login_failed"))
		return
	}
	infoOf(r).user = u.Name
	s.log.Info("login", "user", u.Name, "role", string(u.Role), "remote", ip)
	s.record(r, workflow.Event{User: u.Name, Display: u.Display, Role: string(u.Role), Action: workflow.ActLogin, Comment: "remote " + ip})
	http.SetCookie(w, s.cookie(loginCookie, "", -1))
	http.SetCookie(w, s.newSessionCookie(u))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// record appends an event of the log; a failure is logged, not shown (the login goes on).
func (s *Server) record(r *http.Request, e workflow.Event) {
	if e.User == "" {
		e.User = "-"
	}
	if _, err := s.wf.Append(r.Context(), e); err != nil {
		s.log.Error("record event", "action", e.Action, "err", err)
	}
}

// logout ends the session: its nonce is refused until it would have expired anyway, by
// every server over the store and after a restart (RevokedName).
func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := s.revoked.add(sess.nonce, sess.exp); err != nil {
		// Refused here all the same; another server, or this one restarted, would take it.
		s.log.Error("logout not recorded in the store", "user", sess.user.Name, "err", err)
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	s.log.Info("logout", "user", sess.user.Name)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang switches the page language and goes back to next.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("lang")
	if _, ok := langs[code]; !ok {
		s.fail(w, r, nil, http.StatusNotFound, "not_found")
		return
	}
	http.SetCookie(w, s.cookie(langCookie, code, 365*24*3600))
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
