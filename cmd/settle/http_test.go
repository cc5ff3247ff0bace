package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"settle/connectors/conformance"
)

// syncBuffer is a bytes.Buffer safe for a command writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingLine = regexp.MustCompile(`serving \S+ \((\d+) counters, (\d+) pulls\) on (http://\S+)\n`)

// startServe runs `settle fixtures serve` with args until the test ends and returns its
// base URL and its output.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"settle", "fixtures", "serve", "--addr", "127.0.0.1:0", "--quiet"}, args...), out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fixtures serve: %v", err)
		}
		if !strings.Contains(out.String(), "served ") {
			t.Errorf("fixtures serve did not report on shutdown:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingLine.FindStringSubmatch(out.String()); m != nil {
			return m[3], out
		}
		select {
		case err := <-done:
			t.Fatalf("fixtures serve ended: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("fixtures serve did not start:\n%s", out.String())
	return "", nil
}

// TestPullEqualsFiles is issue 4's check: a day of 100 counters served with 5% 503s, 2%
// 429s, 2% bodies cut short and 5 ms of latency is pulled by `settle run --source
// http://…`, which exits 0, and its settlement, variance and exceptions equal those of
// the run over the same day as files — but for where the exceptions cite their rows
// (their source column, and the sources their detail names).
func TestPullEqualsFiles(t *testing.T) {
	t.Setenv(envToken, "t0ken")
	gen := []string{"--date", "2026-11-21", "--outlets", "20", "--counters", "5", "--seed", "9", "--anomalies", "0.3", "--dialect", "boss"}
	base, _ := startServe(t, append(gen, "--latency", "5ms", "--fail-rate", "0.05", "--throttle-rate", "0.02",
		"--truncate-rate", "0.02", "--retry-after", "0s", "--token", "t0ken")...)

	pulled := t.TempDir()
	code, _, stderr := settle(t, "run", "--date", "2026-11-21", "--source", base, "--store", pulled, "--formats", "", "--quiet")
	if code != 0 {
		t.Fatalf("settle run --source %s: exit %d\n%s", base, code, stderr)
	}
	if strings.Contains(stderr, "t0ken") {
		t.Errorf("the token is in the log:\n%s", stderr)
	}

	dir := t.TempDir()
	if code, _, stderr := settle(t, append([]string{"fixtures", "generate", "--out", dir, "--layout", "counter"}, gen...)...); code != 0 {
		t.Fatalf("fixtures generate: exit %d\n%s", code, stderr)
	}
	files := t.TempDir()
	if code, _, stderr := settle(t, "run", "--date", "2026-11-21", "--source", dir, "--store", files, "--formats", "", "--quiet"); code != 0 {
		t.Fatalf("settle run --source DIR: exit %d\n%s", code, stderr)
	}

	a := filepath.Join(pulled, "2026-11-21", "current")
	b := filepath.Join(files, "2026-11-21", "current")
	for _, name := range []string{"settlement.csv", "variance.csv"} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between the pulled run and the file run (%d and %d bytes)", name, len(x), len(y))
		}
	}
	// exceptions.csv: biz_date,code,severity,city,outlet_id,counter_id,feed,txn_id,amount,detail,source
	project := func(rows [][]string) []string {
		var out []string
		for _, r := range rows[1:] {
			r[9] = conformance.NormalizeDetail(r[9])
			out = append(out, strings.Join(r[:10], ","))
		}
		slices.Sort(out)
		return out
	}
	x, y := readCSV(t, filepath.Join(a, "exceptions.csv")), readCSV(t, filepath.Join(b, "exceptions.csv"))
	if len(x) < 10 {
		t.Errorf("only %d exceptions: the day proves little", len(x)-1)
	}
	if d := conformance.Diff(project(x), project(y)); d != "" {
		t.Errorf("exceptions differ (unexpected: only the pulled run has them):\n%s", d)
	}
	for _, r := range x[1:] {
		if !strings.Contains(r[10], "/") || strings.Contains(r[10], ":") {
			t.Errorf("a pulled exception cites %q, want feed/counter_id", r[10])
			break
		}
	}

	// The manifest records the pulls.
	var m struct {
		Source, Status string
		Feeds          []struct {
			Feed                             string
			Pulls, Retries, Failures, Inputs int
			Bytes                            int64
		}
	}
	raw, err := os.ReadFile(filepath.Join(a, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	retries := 0
	for _, f := range m.Feeds {
		if f.Pulls != 100 || f.Inputs != 100 || f.Failures != 0 || f.Bytes <= 0 {
			t.Errorf("manifest feed %+v", f)
		}
		retries += f.Retries
	}
	if m.Source != base || m.Status != "complete" || retries == 0 {
		t.Errorf("manifest: source %q, status %q, %d retries", m.Source, m.Status, retries)
	}
}

// TestPullIncomplete: a withheld report (FEED_MISSING) publishes the run as incomplete,
// exit 4; a wrong token is an error before anything is pulled, exit 1.
func TestPullIncomplete(t *testing.T) {
	t.Setenv(envToken, "t0ken")
	base, _ := startServe(t, "--date", "2026-11-21", "--outlets", "3", "--counters", "2", "--anomalies", "0.5",
		"--feed-faults", "--token", "t0ken")
	code, _, stderr := settle(t, "run", "--date", "2026-11-21", "--source", base, "--store", t.TempDir(), "--formats", "")
	if code != exitIncomplete || !strings.Contains(stderr, "feed missing") {
		t.Errorf("exit %d, want %d\n%s", code, exitIncomplete, stderr)
	}
	t.Setenv(envToken, "wrong")
	code, _, stderr = settle(t, "run", "--date", "2026-11-21", "--source", base, "--store", t.TempDir(), "--formats", "", "--quiet")
	if code != exitFailed || !strings.Contains(stderr, "401 Unauthorized") || strings.Contains(stderr, "wrong") {
		t.Errorf("wrong token: exit %d\n%s", code, stderr)
	}
}

func TestHTTPSourceConfig(t *testing.T) {
	cases := []struct {
		env, val, want string
	}{
		{envPullTimeout, "soon", `SETTLE_BOSS_PULL_TIMEOUT="soon": want a duration like 90s or 2h`},
		{envDeadline, "-1s", "--source: deadline: must not be negative (0: none), got -1s"},
		{envRetries, "many", `SETTLE_BOSS_RETRIES="many": want a whole number`},
		{envCAFile, "/nonexistent/ca.pem", "--source: ca_file: open /nonexistent/ca.pem: no such file or directory"},
		{envToken, "bad token", "--source: token: may hold only visible ASCII characters (its value is not shown)"},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.val)
			_, err := httpSource("http://127.0.0.1:1", pullOptions{concurrency: 32, maxPullBytes: 1 << 20}, nil)
			if err == nil || err.Error() != tc.want || exitCode(err, io.Discard) != exitUsage {
				t.Errorf("httpSource: %v, want %q (usage)", err, tc.want)
			}
		})
	}
	if _, err := httpSource("http://127.0.0.1:1", pullOptions{concurrency: 0, maxPullBytes: 1 << 20}, nil); err == nil || exitCode(err, io.Discard) != exitUsage {
		t.Errorf("concurrency 0: %v", err)
	}
}

// TestStepRetries: the progress line shows retries and failures once there are any.
func TestStepRetries(t *testing.T) {
	var b bytes.Buffer
	p := &termProgress{w: &b, start: time.Now()}
	p.StepRetries("pull", 10, 10, 0, 0)
	p.StepRetries("pull", 20, 20, 3, 1)
	got := b.String()
	if !strings.Contains(got, "pull ") || !strings.Contains(got, "10/10") ||
		!strings.Contains(got, "pull (3 retried, 1 failed)") || !strings.Contains(got, "20/20") {
		t.Errorf("progress line %q", got)
	}
	var nilp *termProgress
	nilp.StepRetries("pull", 1, 2, 3, 4) // quiet: no panic
}
