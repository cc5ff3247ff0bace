package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFixturesServeFlags: fixtures serve refuses what it cannot serve, naming the flag.
func TestFixturesServeFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--fail-rate", "2"}, "--fail-rate: must be a probability between 0 and 1, got 2"},
		{[]string{"--layout", "city", "--feed-faults"}, "--layout city: the report API serves one report per counter"},
		{[]string{"--addr", "256.0.0.1:1"}, "--addr 256.0.0.1:1:"},
		{[]string{"--counters", "0"}, "--counters: must be between 1 and"},
		{[]string{"--hostile", "order=endless"}, `--hostile "order=endless": want FEED/COUNTER=KIND[:OTHER]`},
		{[]string{"--hostile", "order/TY0001-01=bomb"}, "--hostile order/TY0001-01=bomb: want other-feed:FEED, other-counter:COUNTER, endless or gzip-bomb"},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		err := run(context.Background(), append([]string{"settle", "fixtures", "serve", "--date", "2026-11-21", "--outlets", "2", "--quiet"}, tc.args...), io.Discard, &stderr)
		if code := exitCode(err, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want usage error %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestFixturesServe: the simulator answers the API and stops on its context.
func TestFixturesServe(t *testing.T) {
	base, _ := startServe(t, "--date", "2026-11-21", "--outlets", "2", "--counters", "1")
	resp, err := http.Get(base + "/counters?date=2026-11-21")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "city,outlet_id,counter_id\nTY,TY0001,TY0001-01\nTY,TY0002,TY0002-01\n合计,2\n"; string(body) != want {
		t.Errorf("roster %q", body)
	}
	resp, err = http.Get(base + "/reports/order?date=2026-11-21&counter=TY0001-01")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=GBK" {
		t.Errorf("pull: %d %v", resp.StatusCode, resp.Header)
	}
}
