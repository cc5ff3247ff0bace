package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"settle/web/users"
)

// withStdin runs f with os.Stdin reading text (urfave/cli reads the password from it).
func withStdin(t *testing.T, text string, f func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { io.WriteString(w, text); w.Close() }()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	f()
}

func TestUsersCommand(t *testing.T) {
	store := t.TempDir()
	var code int
	var stdout, stderr string
	withStdin(t, "zhang-password\n", func() {
		code, stdout, stderr = settle(t, "users", "add", "zhang", "--role", "clerk", "--counters", "TY0001-01,TY0001-02", "--display", "张三", "--store", store)
	})
	if code != 0 || !strings.Contains(stdout, "user zhang (clerk) saved") {
		t.Fatalf("users add: %d %q %q", code, stdout, stderr)
	}
	f, err := users.Load(filepath.Join(store, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := f.Check("zhang", []byte("zhang-password"))
	if !ok || strings.Join(u.Counters, ",") != "TY0001-01,TY0001-02" || u.Display != "张三" {
		t.Fatalf("stored user: %+v %v", u, ok)
	}
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		stderr      string
	}{
		{"exists", "another-password\n", []string{"users", "add", "zhang", "--role", "clerk", "--counters", "A"}, exitUsage, "user exists (use --replace"},
		{"no role", "password1\n", []string{"users", "add", "li"}, exitUsage, "--role is required"},
		{"bad role", "password1\n", []string{"users", "add", "li", "--role", "admin"}, exitUsage, `role "admin"`},
		{"clerk without counters", "password1\n", []string{"users", "add", "li", "--role", "clerk"}, exitUsage, "a clerk needs counters"},
		{"short password", "short\n", []string{"users", "add", "li", "--role", "auditor"}, exitUsage, "at least 8 characters"},
		{"no password", "", []string{"users", "add", "li", "--role", "auditor"}, exitUsage, "no password on stdin"},
		{"two names", "password1\n", []string{"users", "add", "li", "wang", "--role", "auditor"}, exitUsage, "want one NAME"},
		{"unknown flag", "password1\n", []string{"users", "add", "li", "--colour", "x"}, exitUsage, "flag provided but not defined"},
		{"replace", "another-password\n", []string{"users", "add", "zhang", "--role", "clerk", "--counters", "A", "--replace"}, 0, ""},
		{"reviewer", "wang-password\n", []string{"users", "add", "wang", "--role", "reviewer", "--outlets", "TY0001"}, 0, ""},
		{"remove unknown", "", []string{"users", "remove", "nobody"}, exitUsage, `no user "nobody"`},
		{"unlock unknown", "", []string{"users", "unlock", "nobody"}, exitUsage, `users unlock: no user "nobody" in ` + filepath.Join(store, "users.json")},
		{"unlock without a name", "", []string{"users", "unlock"}, exitUsage, "want one NAME, got 0 arguments"},
		{"unlock", "", []string{"users", "unlock", "wang"}, 0, ""},
		{"remove", "", []string{"users", "remove", "wang"}, 0, ""},
	}
	for _, tt := range tests {
		withStdin(t, tt.stdin, func() {
			code, _, stderr = settle(t, append(tt.args, "--store", store)...)
		})
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d %q, want %d %q", tt.name, code, stderr, tt.code, tt.stderr)
		}
	}
	// unlock and a new password (the replace above) record when the user was unlocked; the
	// users file stays valid.
	f, err = users.Load(filepath.Join(store, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	zhang, _ := f.Get("zhang")
	if at, err := time.Parse(time.RFC3339Nano, zhang.UnlockedAt); err != nil || time.Since(at) > time.Minute {
		t.Errorf("zhang's unlocked_at after --replace: %q", zhang.UnlockedAt)
	}
	code, stdout, _ = settle(t, "users", "unlock", "zhang", "--store", store)
	if code != 0 || stdout != "user zhang unlocked in "+filepath.Join(store, "users.json")+"\n" {
		t.Errorf("users unlock zhang: %d %q", code, stdout)
	}
	code, stdout, _ = settle(t, "users", "list", "--store", store)
	if code != 0 || !strings.Contains(stdout, "zhang") || !strings.Contains(stdout, "clerk") || strings.Contains(stdout, "wang") {
		t.Errorf("users list: %d %q", code, stdout)
	}
}

func TestServeCommand(t *testing.T) {
	store := t.TempDir()
	if code, _, stderr := settle(t, "serve", "--addr", "127.0.0.1:0", "--store", store); code != exitUsage || !strings.Contains(stderr, "settle users add") {
		t.Errorf("serve without users: exit %d %q, want 2 and a hint", code, stderr)
	}
	if code, _, stderr := settle(t, "serve", "--store", store, "--lang", "fr"); code != exitUsage || !strings.Contains(stderr, "--lang") {
		t.Errorf("serve --lang fr: exit %d %q", code, stderr)
	}
	if code, _, stderr := settle(t, "serve", "--store", store, "--trusted-proxy", "10.0.0.0/33"); code != exitUsage ||
		!strings.Contains(stderr, `--trusted-proxy "10.0.0.0/33"`) {
		t.Errorf("serve --trusted-proxy 10.0.0.0/33: exit %d %q", code, stderr)
	}
	if code, _, stderr := settle(t, "serve", "--store", store, "--clerk-run-days", "-1"); code != exitUsage ||
		!strings.Contains(stderr, "clerk-run-days -1: 0 (today only) or more") {
		t.Errorf("serve --clerk-run-days -1: exit %d %q", code, stderr)
	}
	conf := filepath.Join(t.TempDir(), "serve.conf")
	os.WriteFile(conf, []byte("# the pages\nreviewer-run-days = -2\n"), 0o644)
	if code, _, stderr := settle(t, "serve", "--store", store, "--config", conf); code != exitUsage ||
		!strings.Contains(stderr, "reviewer-run-days -2: 0 (today only) or more") {
		t.Errorf("serve --config with reviewer-run-days = -2: exit %d %q", code, stderr)
	}
	withStdin(t, "auditor-password\n", func() {
		if code, _, stderr := settle(t, "users", "add", "zhao", "--role", "auditor", "--store", store); code != 0 {
			t.Fatalf("users add: %s", stderr)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"settle", "serve", "--addr", "127.0.0.1:0", "--store", store,
			"--source", "demo?outlets=1&counters=1", "--log-format", "json"}, &out, &errb)
	}()
	addr := regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address on stdout: %q %q", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("/ without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// SIGINT or SIGTERM cancel the context: the server stops cleanly.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if logs := errb.String(); !strings.Contains(logs, `"msg":"http"`) || !strings.Contains(logs, `"path":"/healthz"`) {
		t.Errorf("no structured access log: %q", logs)
	}
	for _, name := range []string{"web.secret", "signoff.key"} {
		if fi, err := os.Stat(filepath.Join(store, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", name, err)
		}
	}
}
