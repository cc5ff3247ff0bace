package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/fixtures"
	"settle/fixtures/sim"
)

// hostileBOSS serves a small day through the simulator, but answers the roster and the
// order pull of the first counter with roster and order when they are not nil.
func hostileBOSS(t *testing.T, roster, order http.HandlerFunc) string {
	t.Helper()
	cfg := fixtures.NewConfig()
	cfg.Date, cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), 2, 1, 3, 0
	cfg.Layout = fixtures.LayoutCounter
	d, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sim.New(d, sim.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	first := d.Roster()[0].Counter
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/counters" && roster != nil:
			roster(w, r)
		case r.URL.Path == "/reports/order" && r.URL.Query().Get("counter") == first && order != nil:
			order(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHostileSourceExitCodes: what the report API does wrong is a failed run (exit 1,
// nothing published) or a missing feed (exit 4), never exit 2, whatever its text says;
// --max-pull-bytes is a flag and a config key, checked as usage.
func TestHostileSourceExitCodes(t *testing.T) {
	t.Setenv(envRetries, "0")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(bytes.Repeat([]byte("0"), 8<<20))
	zw.Close()
	bomb := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	}
	cut := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\n") // the second counter and the footer cut off
	}
	// A roster whose text looks like urfave/cli's complaints.
	cliLike := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "invalid value,flag provided but not defined,Required flag\n合计,0\n")
	}
	conf := filepath.Join(t.TempDir(), "settle.conf")
	if err := os.WriteFile(conf, []byte("max-pull-bytes = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		roster, order http.HandlerFunc
		args          []string
		code          int
		stderr        string
	}{
		{"roster cut at a line boundary", cut, nil, nil, exitFailed,
			"GET counters?date=2026-11-21: roster: no 合计 footer after its 1 row (cut short?) (1 try)"},
		{"roster text like a usage error", cliLike, nil, nil, exitFailed, `got "invalid value,flag provided but not defined,Required flag" (1 try)`},
		{"gzip bomb over --max-pull-bytes", nil, bomb, []string{"--max-pull-bytes", "65536"}, exitIncomplete, "incomplete"},
		{"--max-pull-bytes 0", nil, nil, []string{"--max-pull-bytes", "0"}, exitUsage,
			"--max-pull-bytes 0: must be between 1 and 1073741824 bytes"},
		{"max-pull-bytes in the config file", nil, nil, []string{"--config", conf}, exitUsage,
			"--max-pull-bytes 0: must be between 1 and 1073741824 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := hostileBOSS(t, tc.roster, tc.order)
			st := t.TempDir()
			args := append([]string{"run", "--date", "2026-11-21", "--source", base, "--formats", "", "--store", st, "--quiet"}, tc.args...)
			code, _, stderr := settle(t, args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
			_, err := os.Lstat(filepath.Join(st, "2026-11-21", "current"))
			if published := err == nil; published != (tc.code == exitIncomplete) {
				t.Errorf("published: %v", published)
			}
			if tc.code != exitIncomplete {
				return
			}
			exc, err := os.ReadFile(filepath.Join(st, "2026-11-21", "current", "exceptions.csv"))
			if err != nil {
				t.Fatal(err)
			}
			// In Chinese, the default --lang; a failure of no kind the engine words is quoted as is.
			want := "拉取 reports/order?counter=TY0001-01&date=2026-11-21 失败：body over the limit of 64 KiB (--max-pull-bytes) after decompression; not read further（尝试 1 次）"
			if !bytes.Contains(exc, []byte("FEED_MISSING")) || !bytes.Contains(exc, []byte(want)) {
				t.Errorf("exceptions.csv lacks FEED_MISSING %q:\n%s", want, exc)
			}
		})
	}
}
