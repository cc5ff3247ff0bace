package main

import (
	"strings"
	"testing"
)

// TestUsersAddWarnsUnseenIDs: `settle users add` says when the store has no runs to check
// against, warns (in Chinese by default) about counter and outlet ids no run has seen, reading
// a run without reports from its tables and one with reports from its manifest, and is quiet
// about ids the runs know; the user is saved in every case.
func TestUsersAddWarnsUnseenIDs(t *testing.T) {
	st := t.TempDir()
	add := func(args ...string) (string, string) {
		t.Helper()
		var code int
		var stdout, stderr string
		withStdin(t, "a-good-password\n", func() {
			code, stdout, stderr = settle(t, append([]string{"users", "add", "--store", st, "--replace"}, args...)...)
		})
		if code != 0 || !strings.Contains(stdout, "saved") {
			t.Fatalf("users add %v: %d %q %q", args, code, stdout, stderr)
		}
		return stdout, stderr
	}
	if _, stderr := add("zhang", "--role", "clerk", "--counters", "TY0001-01"); !strings.Contains(stderr, "还没有运行") {
		t.Errorf("an empty store: stderr %q, want the note that nothing was checked", stderr)
	}
	src := "demo?outlets=2&counters=2&seed=6"
	// A run without reports: the ids come from its tables.
	if code, _, stderr := settle(t, "run", "--date", "2026-11-20", "--source", src, "--store", st, "--formats", "", "--quiet"); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	if _, stderr := add("zhang", "--role", "clerk", "--counters", "TY0001-01,TY0001-09"); !strings.Contains(stderr, "TY0001-09") ||
		strings.Contains(stderr, "TY0001-01") || !strings.Contains(stderr, "警告") {
		t.Errorf("a typo in the counters: stderr %q, want a Chinese warning naming TY0001-09 alone", stderr)
	}
	if _, stderr := add("wang", "--role", "reviewer", "--outlets", "TY0002,TY0099", "--lang", "en"); !strings.Contains(stderr, "outlets: TY0099 ") ||
		strings.Contains(stderr, "TY0002") {
		t.Errorf("a typo in the outlets: stderr %q, want an English warning naming TY0099 alone", stderr)
	}
	if _, stderr := add("sun", "--role", "reviewer", "--outlets", "*"); stderr != "" {
		t.Errorf("a reviewer of the whole city ('*'): stderr %q, want nothing", stderr)
	}
	if _, stderr := add("li", "--role", "clerk", "--counters", "TY0002-02"); stderr != "" {
		t.Errorf("known ids: stderr %q, want nothing", stderr)
	}
	// A later date with reports: its manifest names the counters (TY0002-02 is there too).
	if code, _, stderr := settle(t, "run", "--date", "2026-11-21", "--source", src, "--store", st, "--quiet"); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	seen, err := storeSeen(st)
	if err != nil || seen.dates != 2 || !seen.counters["TY0002-02"] || !seen.outlets["TY0001"] || len(seen.counters) != 4 {
		t.Fatalf("storeSeen: %+v %v, want 2 dates, 4 counters", seen, err)
	}
	if _, stderr := add("li", "--role", "clerk", "--counters", "TY0002-02,X-1"); !strings.Contains(stderr, "X-1") || strings.Contains(stderr, "TY0002-02") {
		t.Errorf("stderr %q, want a warning naming X-1 alone", stderr)
	}
}
