package users

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestAddValidate(t *testing.T) {
	tests := []struct {
		name string
		u    User
		pw   string
		err  string
	}{
		{"clerk", User{Name: "zhang", Role: Clerk, Counters: []string{"TY0001-02", "TY0001-01", "TY0001-02"}}, "password1", ""},
		{"reviewer", User{Name: "wang.w", Role: Reviewer, Outlets: []string{"TY0001"}}, "password1", ""},
		{"auditor", User{Name: "zhao", Role: Auditor}, "password1", ""},
		{"short password", User{Name: "a", Role: Auditor}, "short", "user a: password: at least 8 characters"},
		{"clerk without counters", User{Name: "a", Role: Clerk}, "password1", "user a: a clerk needs counters and no outlets"},
		{"reviewer with counters", User{Name: "a", Role: Reviewer, Outlets: []string{"O"}, Counters: []string{"C"}}, "password1", "user a: a reviewer needs outlets and no counters"},
		{"auditor with scope", User{Name: "a", Role: Auditor, Outlets: []string{"O"}}, "password1", "user a: an auditor sees every counter: no counters or outlets"},
		{"path-like counter", User{Name: "a", Role: Clerk, Counters: []string{"../x"}}, "password1", `user a: counter "../x" is not 1-32 characters of [A-Za-z0-9_-]`},
		{"bad name", User{Name: "a/b", Role: Auditor}, "password1", `user name "a/b": want 1-32 letters, digits, '.', '-' or '_', starting with a letter or digit`},
		{"bad role", User{Name: "a", Role: "admin"}, "password1", `user a: role "admin": want clerk, reviewer or auditor`},
		{"unlocked at", User{Name: "a", Role: Auditor, UnlockedAt: "2026-12-05T14:00:00.5Z"}, "password1", ""},
		{"unlocked at no time", User{Name: "a", Role: Auditor, UnlockedAt: "yesterday"}, "password1", `user a: unlocked_at "yesterday": want an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f File
			err := f.Add(tt.u, []byte(tt.pw), bcrypt.MinCost, false)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
		})
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	add := func(u User, pw string, replace bool) error {
		return Update(path, func(f *File) error { return f.Add(u, []byte(pw), bcrypt.MinCost, replace) })
	}
	if err := add(User{Name: "zhang", Role: Clerk, Counters: []string{"B", "A", "B"}}, "password1", false); err != nil {
		t.Fatal(err)
	}
	if err := add(User{Name: "zhang", Role: Clerk, Counters: []string{"A"}}, "password2", false); !errors.Is(err, ErrExists) {
		t.Fatalf("adding twice: %v", err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := f.Get("zhang")
	if strings.Join(u.Counters, ",") != "A,B" || !strings.HasPrefix(u.Hash, "$2a$") {
		t.Errorf("stored %+v", u)
	}
	fp := u.Fingerprint()
	if _, ok := f.Check("zhang", []byte("password1")); !ok {
		t.Error("right password refused")
	}
	for _, c := range [][2]string{{"zhang", "password2"}, {"nobody", "password1"}, {"zhang", ""}} {
		if _, ok := f.Check(c[0], []byte(c[1])); ok {
			t.Errorf("%s/%s accepted", c[0], c[1])
		}
	}
	if !u.SeesCounter("any", "A") || u.SeesCounter("any", "C") {
		t.Error("clerk scope")
	}
	if err := add(User{Name: "zhang", Role: Clerk, Counters: []string{"A"}}, "password2", true); err != nil {
		t.Fatal(err)
	}
	f, _ = Load(path)
	u, _ = f.Get("zhang")
	if u.Fingerprint() == fp {
		t.Error("a new password keeps the fingerprint: old sessions would survive")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	// Hand edits are checked.
	os.WriteFile(path, []byte(`{"users":[{"name":"x","role":"clerk","counters":["A"],"password_bcrypt":"plain"}]}`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "password_bcrypt") {
		t.Errorf("plain password: %v", err)
	}
	os.WriteFile(path, []byte(`{"users":[],"admins":[]}`), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestUnlock(t *testing.T) {
	var f File
	if err := f.Add(User{Name: "zhang", Role: Auditor}, []byte("password1"), bcrypt.MinCost, false); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 22, 0, 0, 500_000_000, time.FixedZone("CST", 8*3600))
	if !f.Unlock("zhang", at) || f.Unlock("nobody", at) {
		t.Fatal("Unlock: want true for zhang, false for nobody")
	}
	path := filepath.Join(t.TempDir(), "users.json")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := g.Get("zhang"); u.UnlockedAt != "2026-12-05T14:00:00.5Z" {
		t.Errorf("unlocked_at read back: %q", u.UnlockedAt)
	}
}
