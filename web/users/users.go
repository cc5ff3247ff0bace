// Package users is the users file of `settle serve`: who may log in, with which role, and
// which counters or outlets each may see. Passwords are kept as bcrypt hashes only.
//
// The file is JSON, written whole to a temporary file and renamed into place, mode 0600:
//
//	{"users": [{"name": "zhang", "role": "clerk", "counters": ["TY0001-01"], "password_bcrypt": "$2a$10$..."}]}
//
// A clerk sees the counters listed (counter ids are unique within a day: they are the
// clerk's 工号), a reviewer the counters of the outlets listed, an auditor every counter,
// read-only.
package users

import (
	"settle/feed"

	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"settle/internal/atomicfile"
	"settle/internal/flock"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	Clerk    Role = "clerk"    // runs the day, sees and certifies their counters
	Reviewer Role = "reviewer" // approves or returns the counters of their outlets; reruns a day
	Auditor  Role = "auditor"  // reads every run, manifest, diff and the sign-off log
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Clerk, Reviewer, Auditor:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want clerk, reviewer or auditor", s)
}

// MinPassword is the shortest password Add accepts, in bytes.
const MinPassword = 8

// User is one entry of the users file.
type User struct {
	Name     string   `json:"name"`
	Display  string   `json:"display,omitempty"` // a name to show, e.g. 张三
	Role     Role     `json:"role"`
	Counters []string `json:"counters,omitempty"` // clerk: counter ids
	Outlets  []string `json:"outlets,omitempty"`  // reviewer: outlet ids
	Hash     string   `json:"password_bcrypt"`
	// UnlockedAt is when `settle users unlock` (or a new password) last cleared the user's
	// failed logins, RFC 3339 UTC. A running server re-reads the file and, seeing a value
	// other than the one it counted failures under, forgets them.
	UnlockedAt string `json:"unlocked_at,omitempty"`
}

// validName accepts 1–32 characters of [A-Za-z0-9._-] starting with a letter or digit.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] == '.' || s[0] == '-' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Validate checks a user's name, role, scope and hash; errors name the user and the field.
func (u *User) Validate() error {
	if !validName(u.Name) {
		return invalidf("user name %q: want 1-32 letters, digits, '.', '-' or '_', starting with a letter or digit", u.Name)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return invalidf("user %s: %v", u.Name, err)
	}
	if len(u.Display) > 64 || strings.ContainsAny(u.Display, "\x00\r\n") {
		return invalidf("user %s: display name: at most 64 bytes on one line", u.Name)
	}
	for _, c := range u.Counters {
		if !feed.ValidID(c) {
			return invalidf("user %s: counter %q is not 1-32 characters of [A-Za-z0-9_-]", u.Name, c)
		}
	}
	for _, o := range u.Outlets {
		if o == WholeCity && len(u.Outlets) == 1 && u.Role == Reviewer {
			continue
		}
		if !feed.ValidID(o) {
			return invalidf("user %s: outlet %q is not 1-32 characters of [A-Za-z0-9_-] (or '*' alone, for a reviewer of the whole city)", u.Name, o)
		}
	}
	switch u.Role {
	case Clerk:
		if len(u.Counters) == 0 || len(u.Outlets) > 0 {
			return invalidf("user %s: a clerk needs counters and no outlets", u.Name)
		}
	case Reviewer:
		if len(u.Outlets) == 0 || len(u.Counters) > 0 {
			return invalidf("user %s: a reviewer needs outlets and no counters", u.Name)
		}
	case Auditor:
		if len(u.Outlets) > 0 || len(u.Counters) > 0 {
			return invalidf("user %s: an auditor sees every counter: no counters or outlets", u.Name)
		}
	}
	if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
		return invalidf("user %s: password_bcrypt: %v", u.Name, err)
	}
	if u.UnlockedAt != "" {
		if _, err := time.Parse(time.RFC3339Nano, u.UnlockedAt); err != nil {
			return invalidf("user %s: unlocked_at %q: want an RFC 3339 time", u.Name, u.UnlockedAt)
		}
	}
	return nil
}

// Shown is the name to show: Display, or Name.
func (u *User) Shown() string {
	if u.Display != "" {
		return u.Display
	}
	return u.Name
}

// WholeCity is the outlets of a reviewer of the whole city: every outlet, and the findings of
// no outlet (WORKFLOW.md: somebody's queue always holds them).
const WholeCity = "*"

// WholeCity reports whether u is a reviewer of the whole city.
func (u *User) WholeCity() bool {
	return u.Role == Reviewer && len(u.Outlets) == 1 && u.Outlets[0] == WholeCity
}

// SeesCounter reports whether u may see the counter of outlet: a clerk their counters, a
// reviewer the counters of their outlets, an auditor all.
func (u *User) SeesCounter(outlet, counter string) bool {
	switch u.Role {
	case Clerk:
		return slices.Contains(u.Counters, counter)
	case Reviewer:
		return u.WholeCity() || slices.Contains(u.Outlets, outlet)
	case Auditor:
		return true
	}
	return false
}

// Fingerprint is a short digest of the password hash: sessions carry it, so that a new
// password ends the sessions of the old one.
func (u *User) Fingerprint() string {
	sum := sha256.Sum256([]byte(u.Hash))
	return hex.EncodeToString(sum[:8])
}

// File is the content of a users file.
type File struct {
	Users []User `json:"users"`
}

// Load reads and validates a users file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read users %q: %w", path, err)
	}
	return parse(path, data)
}

func parse(path string, data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read users %q: %w", path, err)
	}
	seen := map[string]bool{}
	for i := range f.Users {
		u := &f.Users[i]
		if err := u.Validate(); err != nil {
			return nil, fmt.Errorf("read users %q: %w", path, err)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("read users %q: user %s is listed twice", path, u.Name)
		}
		seen[u.Name] = true
	}
	return &f, nil
}

// Get returns the user named name.
func (f *File) Get(name string) (*User, bool) {
	for i := range f.Users {
		if f.Users[i].Name == name {
			return &f.Users[i], true
		}
	}
	return nil, false
}

// ErrExists is returned by Add for a name already in the file.
var ErrExists = errors.New("user exists")

// ErrInvalid is wrapped by the errors of a bad name, role, scope, hash or password.
var ErrInvalid = errors.New("invalid user")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{fmt.Sprintf(format, args...)}
}

// Add hashes password with bcrypt at cost (bcrypt.DefaultCost when 0) and adds u, or
// replaces the user of the same name when replace is set.
func (f *File) Add(u User, password []byte, cost int, replace bool) error {
	if len(password) < MinPassword {
		return invalidf("user %s: password: at least %d characters", u.Name, MinPassword)
	}
	if len(password) > 72 {
		return invalidf("user %s: password: at most 72 bytes (bcrypt)", u.Name)
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return fmt.Errorf("user %s: hash password: %w", u.Name, err)
	}
	u.Hash = string(h)
	u.Counters, u.Outlets = sortedSet(u.Counters), sortedSet(u.Outlets)
	if err := u.Validate(); err != nil {
		return err
	}
	for i := range f.Users {
		if f.Users[i].Name == u.Name {
			if !replace {
				return fmt.Errorf("user %s: %w (use --replace to change it)", u.Name, ErrExists)
			}
			f.Users[i] = u
			return nil
		}
	}
	f.Users = append(f.Users, u)
	slices.SortFunc(f.Users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// Unlock marks the user named name unlocked at at: a server forgets their failed logins.
// It reports whether there is such a user.
func (f *File) Unlock(name string, at time.Time) bool {
	u, ok := f.Get(name)
	if ok {
		u.UnlockedAt = at.UTC().Format(time.RFC3339Nano)
	}
	return ok
}

// Remove removes the user named name and reports whether there was one.
func (f *File) Remove(name string) bool {
	n := len(f.Users)
	f.Users = slices.DeleteFunc(f.Users, func(u User) bool { return u.Name == name })
	return len(f.Users) != n
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// Save writes f to path, mode 0600, atomically (internal/atomicfile).
func (f *File) Save(path string) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("write users %q: %w", path, err)
	}
	data = append(data, '\n')
	err = atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("write users %q: %w", path, err)
	}
	return nil
}

// Update loads the users file at path (an empty file when there is none), calls change and
// saves the result, holding an exclusive lock (path + ".lock") so that two commands do not
// lose each other's change.
func Update(path string, change func(*File) error) error {
	lf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock users %q: %w", path, err)
	}
	defer lf.Close()
	if err := flock.Flock(lf, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock users %q: %w", path, err)
	}
	f, err := Load(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err = &File{}, nil
	}
	if err != nil {
		return err
	}
	if err := change(f); err != nil {
		return err
	}
	return f.Save(path)
}

// dummyHashes are compared against when a name is unknown, so that a wrong name takes as
// long as a wrong password: one per bcrypt cost, made on first use.
var dummyHashes sync.Map // cost → []byte

func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("settle-no-such-user"), cost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword([]byte("settle-no-such-user"), bcrypt.DefaultCost)
	}
	dummyHashes.Store(cost, h)
	return h
}

// Check returns the user whose name and password match, taking about as long whether or
// not the name exists (an unknown name is checked against a hash of the first user's cost).
func (f *File) Check(name string, password []byte) (*User, bool) {
	u, ok := f.Get(name)
	if !ok {
		cost := bcrypt.DefaultCost
		if len(f.Users) > 0 {
			if c, err := bcrypt.Cost([]byte(f.Users[0].Hash)); err == nil {
				cost = c
			}
		}
		bcrypt.CompareHashAndPassword(dummyHash(cost), password)
		return nil, false
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), password) != nil {
		return nil, false
	}
	return u, true
}
