package web

import (
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"settle/connectors/file"
	"settle/fixtures"
	"settle/money"
	"settle/store"
	"settle/workflow"
)

// perCounterDay writes the known test day as per-counter files (a source that can refresh
// single counters) and returns the folder.
func perCounterDay(t *testing.T) string {
	t.Helper()
	cfg := fixtures.NewConfig()
	cfg.Outlets, cfg.Counters, cfg.Seed, cfg.Anomalies = 2, 2, 6, 0.5
	cfg.Date, _ = parseDate(testDate)
	cfg.Layout = fixtures.LayoutCounter
	day, err := fixtures.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := fixtures.WriteDir(day, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bumpDeposit adds 100.00 to the first deposit of a counter's deposit file and to its TOTAL
// footer, as a correction in BOSS would; it returns the file's name as the run keeps it.
func bumpDeposit(t *testing.T, dir, outlet, counter string) string {
	t.Helper()
	rel := outlet + "/" + counter + "_deposit.csv"
	p := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	bumped := 0
	for i, ln := range lines {
		f := strings.Split(ln, ",")
		if len(f) < 6 || (i != 1 && f[0] != "TOTAL") {
			continue
		}
		v, err := money.Parse(f[5])
		if err != nil {
			t.Fatalf("%s line %d: %v", rel, i+1, err)
		}
		f[5] = money.Format(v + 10000)
		lines[i] = strings.Join(f, ",")
		bumped++
	}
	if bumped != 2 {
		t.Fatalf("%s: bumped %d lines, want the first deposit and the TOTAL", rel, bumped)
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return rel
}

// currentRun is the id and manifest of the test day's current run.
func currentRun(t *testing.T, ts *testServer) (string, *store.Manifest) {
	t.Helper()
	dir, ok, err := ts.cfg.Store.Current(testDate)
	if err != nil || !ok {
		t.Fatalf("current run: %v %v", ok, err)
	}
	m, err := store.ReadManifest(filepath.Join(dir, store.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	return path.Base(dir), m
}

func keptSums(m *store.Manifest) map[string]string {
	out := map[string]string{}
	for _, ki := range m.Kept.Inputs {
		out[ki.Name] = ki.SHA256
	}
	return out
}

// TestRefreshOwnCounter: a clerk refreshes their own counter from its page once the day is
// complete: the run goes through the runner (the page then shows its progress), re-reads
// that counter's files alone (the other counter's corrected file is not read: its kept bytes
// are the first run's), is named in the trail, and publishes the corrected figures. Another
// clerk's counter and a reviewer are refused, a second click within the minute is refused
// (the page says how long to wait), and a certified counter has no button and refuses.
func TestRefreshOwnCounter(t *testing.T) {
	dir := perCounterDay(t)
	ts := newTestServer(t, file.New(dir))
	first := ts.runNow(t)
	firstID, m1 := currentRun(t, ts)
	if firstID != first || m1.Status != store.StatusComplete {
		t.Fatalf("first run %s %s, want %s complete", firstID, m1.Status, first)
	}
	mine := "/day/" + testDate + "/c/TY0001/" + shortCounter
	theirs := "/day/" + testDate + "/c/TY0001/" + otherCounter
	mineFile := bumpDeposit(t, dir, "TY0001", shortCounter)
	theirFile := bumpDeposit(t, dir, "TY0001", otherCounter)

	clerk, reviewer := ts.client(t), ts.client(t)
	clerk.login("zhang")
	reviewer.login("wang")
	page := clerk.get(mine)
	if page.status != 200 || !strings.Contains(page.body, `id="refresh-button"`) || strings.Contains(page.body, `id="refresh-wait"`) {
		t.Fatalf("the clerk's counter page has no enabled refresh button: %d", page.status)
	}
	if strings.Contains(reviewer.get(mine).body, `id="refresh-button"`) {
		t.Error("a reviewer sees the refresh button")
	}
	tok := clerk.csrf(mine)
	if r := clerk.post(theirs+"/refresh", url.Values{"csrf": {tok}}); r.status != 403 {
		t.Errorf("refresh of another clerk's counter: %d, want 403", r.status)
	}
	if r := reviewer.post(mine+"/refresh", url.Values{"csrf": {reviewer.csrf(mine)}}); r.status != 403 {
		t.Errorf("refresh by a reviewer: %d, want 403", r.status)
	}
	if r := clerk.post(mine+"/refresh", url.Values{"csrf": {"forged"}}); r.status != 403 {
		t.Errorf("refresh with a forged token: %d, want 403", r.status)
	}
	if ts.runs.state(testDate).counters != nil {
		t.Fatal("a refused refresh started a run")
	}

	r := clerk.post(mine+"/refresh", url.Values{"csrf": {tok}})
	if r.status != 303 || !strings.HasSuffix(r.header.Get("Location"), mine+"?ok=refresh") {
		t.Fatalf("refresh: %d %q", r.status, r.header.Get("Location"))
	}
	st := ts.runs.state(testDate)
	if st == nil || len(st.counters) != 1 || st.counters[0] != shortCounter || st.by != "zhang" {
		t.Fatalf("the refresh's run state: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.WaitRuns(ctx); err != nil {
		t.Fatal(err)
	}
	if p := st.snapshot(time.Now()); p.Error != "" || p.RunID == "" {
		t.Fatalf("the refresh failed: %+v", p)
	}
	newID, m2 := currentRun(t, ts)
	if newID == first || newID != st.snapshot(time.Now()).RunID {
		t.Fatalf("current run %s after the refresh (first %s)", newID, first)
	}
	if got := m2.Kept.Refreshed; len(got) != 1 || got[0] != shortCounter {
		t.Errorf("the manifest's kept.refreshed is %v, want %s alone", got, shortCounter)
	}
	// Both deposit files changed on disk; only the refreshed counter's was read.
	s1, s2 := keptSums(m1), keptSums(m2)
	if s2[theirFile] == "" || s2[theirFile] != s1[theirFile] || s2[mineFile] == s1[mineFile] {
		t.Errorf("deposit files kept: %s %q→%q, %s %q→%q", mineFile, s1[mineFile], s2[mineFile], theirFile, s1[theirFile], s2[theirFile])
	}
	// The figures: the refreshed counter's deposit is 100.00 more, the other's unchanged.
	dep := func(m *store.Manifest, runID, counter string) int64 {
		rd, err := ts.cfg.Store.RunDir(testDate, runID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := ts.cache.get(rd)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, v := range data.byID[counter].Variance {
			sum += v.Deposited
		}
		return sum
	}
	if d1, d2 := dep(m1, first, shortCounter), dep(m2, newID, shortCounter); d2-d1 != 10000 {
		t.Errorf("%s deposited %d then %d fen, want 10000 more", shortCounter, d1, d2)
	}
	if d1, d2 := dep(m1, first, otherCounter), dep(m2, newID, otherCounter); d2 != d1 {
		t.Errorf("%s deposited %d then %d fen: its corrected file was read", otherCounter, d1, d2)
	}
	// The trail names the counter refreshed.
	evs, err := ts.wf.Events(context.Background(), workflow.EventFilter{Action: workflow.ActRun})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].User != "zhang" || evs[0].Counter != shortCounter || evs[0].Outlet != "TY0001" || evs[0].RunID != first {
		t.Errorf("run events: %+v, want zhang's refresh of %s from %s", evs, shortCounter, first)
	}

	// The rate limit: a second click within the minute is refused and the page says so.
	if r := clerk.post(mine+"/refresh", url.Values{"csrf": {tok}}); !strings.HasSuffix(r.header.Get("Location"), "err=refresh_wait") {
		t.Errorf("a second refresh within the minute: %d %q", r.status, r.header.Get("Location"))
	}
	if id, _ := currentRun(t, ts); id != newID || ts.runs.state(testDate) != st {
		t.Error("the refused refresh ran")
	}
	page = clerk.get(mine)
	if !strings.Contains(page.body, `id="refresh-wait"`) || !strings.Contains(page.body, `id="refresh-button" disabled`) {
		t.Error("the page does not say the clerk must wait")
	}
	if w := ts.runs.refreshWait("zhang", shortCounter, testNow.Add(refreshEvery)); w != 0 {
		t.Errorf("a minute later the clerk still waits %v", w)
	}
	if w := ts.runs.refreshWait("li", otherCounter, testNow); w != 0 {
		t.Errorf("another clerk's counter waits %v", w)
	}

	// A certified counter stays pinned: no button, the POST refused.
	explainAll(t, ts, clerk, shortCounter)
	if r := signOff(clerk, "certify", shortCounter, newID, "checked"); !strings.HasSuffix(r.header.Get("Location"), "ok=certify") {
		t.Fatalf("certify: %q", r.header.Get("Location"))
	}
	if strings.Contains(clerk.get(mine).body, `id="refresh-button"`) {
		t.Error("a certified counter shows the refresh button")
	}
	ts.runs.mu.Lock()
	clear(ts.runs.lastRefresh) // not the rate limit: the pin refuses
	ts.runs.mu.Unlock()
	if r := clerk.post(mine+"/refresh", url.Values{"csrf": {tok}}); !strings.HasSuffix(r.header.Get("Location"), "err=refresh_pinned") {
		t.Errorf("refresh of a certified counter: %d %q", r.status, r.header.Get("Location"))
	}
	if id, _ := currentRun(t, ts); id != newID || ts.runs.state(testDate) != st {
		t.Error("the refused refresh of a certified counter ran")
	}
}

// TestRefreshNeedsACounterSource: with a source that cannot read single counters (the demo)
// the button does not show and the POST is refused without a run.
func TestRefreshNeedsACounterSource(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	clerk := ts.client(t)
	clerk.login("zhang")
	mine := "/day/" + testDate + "/c/TY0001/" + shortCounter
	if strings.Contains(clerk.get(mine).body, `id="refresh-button"`) {
		t.Error("the refresh button shows for a source that cannot refresh")
	}
	st := ts.runs.state(testDate)
	if r := clerk.post(mine+"/refresh", url.Values{"csrf": {clerk.csrf(mine)}}); !strings.HasSuffix(r.header.Get("Location"), "err=refresh_source") {
		t.Errorf("refresh: %d %q", r.status, r.header.Get("Location"))
	}
	if ts.runs.state(testDate) != st {
		t.Error("a run started")
	}
}
