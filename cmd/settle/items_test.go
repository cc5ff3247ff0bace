package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"settle/engine"
	"settle/job"
	"settle/store"
	"settle/web"
	"settle/web/users"
	"settle/workflow"
)

// TestItemsAgreesWithAuditorPage: `settle items --state open,explained,rejected --format csv`
// lists item for item what the auditor's city view downloads, also after an item moved, and
// the view's grand total counts them all: items older than the queues' 90 days included.
func TestItemsAgreesWithAuditorPage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1795311000") // 2026-11-22 09:30 Asia/Shanghai
	dir := t.TempDir()
	src := "demo?outlets=2&counters=2&seed=3&anomalies=0.5"
	for _, d := range []string{"2026-08-01", "2026-11-20", "2026-11-21"} { // 2026-08-01: 113 days old
		if code, _, stderr := settle(t, "run", "--date", d, "--source", src, "--store", dir, "--formats", "", "--quiet"); code != 0 && code != exitFailOn {
			t.Fatalf("run %s: %d %s", d, code, stderr)
		}
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var f users.File
	if err := f.Add(users.User{Name: "zhao", Role: users.Auditor}, []byte("zhao-password"), bcrypt.MinCost, false); err != nil {
		t.Fatal(err)
	}
	uf := filepath.Join(dir, "users.json")
	if err := f.Save(uf); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1795311000, 0)
	cfg := web.NewConfig()
	cfg.Store, cfg.UsersFile, cfg.Now = st, uf, func() time.Time { return now }
	cfg.Job = job.Config{Source: nil, Engine: engine.NewConfig(), Render: func(context.Context, *engine.Result, *store.Run, store.Meta) error { return nil }}
	cfg.Job.Source, _ = sourceFrom(src, pullOptions{}, nil)
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(p string) string {
		t.Helper()
		r, err := hc.Get(hs.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/login"))[1]
	if r, err := hc.PostForm(hs.URL+"/login", url.Values{"csrf": {tok}, "username": {"zhao"}, "password": {"zhao-password"}, "next": {"/"}}); err != nil || r.StatusCode != 200 {
		t.Fatalf("login: %v", err)
	}
	compare := func(step string) {
		t.Helper()
		view := get("/audit/items")
		page := get("/audit/items/export/csv")
		code, cli, stderr := settle(t, "items", "--from", "2026-08-01", "--to", "2026-11-21", "--state", "open,explained,rejected", "--format", "csv", "--store", dir)
		if code != 0 {
			t.Fatalf("settle items: %d %s", code, stderr)
		}
		if !strings.Contains(cli, ",2026-08-01,") {
			t.Fatalf("%s: settle items lists no item of 2026-08-01", step)
		}
		m := regexp.MustCompile(`class="tot grand"[^>]*>(\d+) ·`).FindStringSubmatch(view)
		if rows := strings.Count(cli, "\n") - 1; m == nil || m[1] != strconv.Itoa(rows) {
			t.Errorf("%s: the city view's total %v, settle items lists %d items", step, m, rows)
		}
		if strings.Count(page, "\n") < 10 || page != cli {
			t.Errorf("%s: the page's %d lines and settle items' %d lines differ:\n%s\n---\n%s", step, strings.Count(page, "\n"), strings.Count(cli, "\n"), page, cli)
		}
	}
	compare("first")
	// An item explained (by the workflow API, as a page would) leaves both lists in step.
	db, err := workflow.Open(dir, workflow.Options{Now: cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	its, _ := db.Items(context.Background(), workflow.Filter{Severity: "ERROR", States: []string{"open"}})
	if len(its) == 0 {
		t.Fatal("no open ERROR item")
	}
	r := workflow.ReasonsFor(its[0].Code)[len(workflow.ReasonsFor(its[0].Code))-1] // OTHER: free text
	if _, err := db.Apply(context.Background(), workflow.Actor{User: "wang", Role: "reviewer"},
		[]workflow.Change{{ID: its[0].ID, Version: its[0].Version, Action: workflow.ActExplain, Reason: r.Code, Text: "checked"}}, nil); err != nil {
		t.Fatal(err)
	}
	compare("after an explanation")
	if code, out, _ := settle(t, "items", "--store", dir, "--state", "explained", its[0].Date); code != 0 || !strings.Contains(out, "explained") {
		t.Errorf("table: %d\n%s", code, out)
	}
	if code, _, stderr := settle(t, "items", "--store", dir); code != exitUsage {
		t.Errorf("no date: %d %s", code, stderr)
	}
}
