package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/store"
)

// settle runs the command line in process and returns its exit code and output.
func settle(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"settle"}, args...), &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	small := "demo?outlets=3&counters=2&seed=4"
	cfgFile := filepath.Join(t.TempDir(), "settle.conf")
	if err := os.WriteFile(cfgFile, []byte("# nightly\nformats = \"\"\nlang = en\ncolour = blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	faults := t.TempDir()
	if code, _, errs := settle(t, "fixtures", "generate", "--date", "2026-11-21", "--out", faults, "--outlets", "4",
		"--counters", "2", "--anomalies", "1", "--feed-faults", "--layout", "counter"); code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown flag", []string{"run", "--colour", "x"}, exitUsage, "flag provided but not defined"},
		{"bad date", []string{"run", "--date", "21/11/2026", "--formats", ""}, exitUsage, `--date "21/11/2026"`},
		{"missing date", []string{"run", "--formats", ""}, exitUsage, "--date is required"},
		{"bad lang", []string{"run", "--date", "2026-11-21", "--lang", "fr"}, exitUsage, `--lang "fr"`},
		{"bad fail-on", []string{"run", "--date", "2026-11-21", "--fail-on", "sometimes"}, exitUsage, "--fail-on"},
		{"missing source dir", []string{"run", "--date", "2026-11-21", "--source", "/nonexistent/x"}, exitUsage, "--source"},
		{"config with unknown key", []string{"run", "--date", "2026-11-21", "--config", cfgFile}, exitUsage, cfgFile + ":4: unknown key \"colour\""},
		{"clean demo", []string{"run", "--date", "2026-11-21", "--source", small, "--formats", ""}, exitOK, ""},
		{"fail-on error", []string{"run", "--date", "2026-11-21", "--source", small + "&anomalies=1", "--formats", "", "--fail-on", "error"}, exitFailOn, "--fail-on"},
		{"fail-on never", []string{"run", "--date", "2026-11-21", "--source", small + "&anomalies=1", "--formats", ""}, exitOK, ""},
		{"incomplete wins over fail-on", []string{"run", "--date", "2026-11-21", "--source", faults, "--formats", "", "--fail-on", "warning"}, exitIncomplete, "incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--store", t.TempDir(), "--quiet")
			code, _, stderr := settle(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestConfigFileFlagsWin(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "from-config")
	cfgFile := filepath.Join(dir, "settle.conf")
	text := "store = " + st + "\nsource = \"demo?outlets=2&counters=1\"\nformats = \"\"\ndate = 2026-11-01\n"
	if err := os.WriteFile(cfgFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := settle(t, "run", "--config", cfgFile, "--date", "2026-11-21", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(st, "2026-11-21", "current", "manifest.json")); err != nil {
		t.Errorf("the flag's date and the config's store were not both used: %v", err)
	}
}

func TestLockTimeoutFailsWithHolder(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock(context.Background(), "2026-11-21", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	code, _, stderr := settle(t, "run", "--date", "2026-11-21", "--source", "demo?outlets=1&counters=1",
		"--formats", "", "--store", dir, "--lock-timeout", "300ms", "--quiet")
	if code != exitFailed || !strings.Contains(stderr, "pid=") {
		t.Errorf("exit %d, stderr %q; want 1 naming the holder", code, stderr)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("did not wait for the lock")
	}
	if _, ok, _ := st.Current("2026-11-21"); ok {
		t.Error("a run was published without the lock")
	}
}

// TestIsTerminal: a character device that is no terminal (/dev/null) is a redirection, so
// `settle diff --format xlsx >/dev/null` writes the workbook there instead of refusing.
func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Errorf("isTerminal(%s) = true", os.DevNull)
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("isTerminal(a buffer) = true")
	}
}
