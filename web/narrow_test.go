package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"settle/connectors/file"
)

// TestPagesFitNarrowScreens opens every page of the workflow in a real headless Chromium at
// 1280 and at 390 px wide (a phone) and checks that none scrolls sideways: neither the page
// nor any of its tables (lists, items, history, period: cards on a phone), whose long details
// must wrap. With
// SETTLE_E2E_SCREENSHOTS=DIR it saves each page there as polish-<page>-<width>.png.
func TestPagesFitNarrowScreens(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short")
	}
	chromium := need(t, "chromium", "chromium-browser", "google-chrome")
	ts := newTestServer(t, file.New(perCounterDay(t)))
	run := ts.runNow(t)
	// A sign-off history on the other counter (certify, return, certify, approve): its
	// page's history table has run ids and sha256 sums.
	li, wang := ts.client(t), ts.client(t)
	li.login("li")
	wang.login("wang")
	explainAll(t, ts, li, otherCounter)
	for _, step := range []struct {
		c               *client
		action, comment string
	}{{li, "certify", ""}, {wang, "return", "please check the slips again"}, {li, "certify", ""}} {
		if r := signOff(step.c, step.action, otherCounter, run, step.comment); !strings.HasSuffix(r.header.Get("Location"), "ok="+step.action) {
			t.Fatalf("%s: %q", step.action, r.header.Get("Location"))
		}
	}
	decideAll(t, ts, wang, otherCounter, "accept")
	if r := signOff(wang, "approve", otherCounter, run, ""); !strings.HasSuffix(r.header.Get("Location"), "ok=approve") {
		t.Fatalf("approve: %q", r.header.Get("Location"))
	}
	// Explanations on the clerk's errors: the reviewer's queue has items to decide, the
	// counter page's items their reasons.
	c := ts.client(t)
	c.login("zhang")
	explainAll(t, ts, c, shortCounter)
	shots := os.Getenv("SETTLE_E2E_SCREENSHOTS")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromium), chromedp.Flag("headless", true),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	base := ts.ts.URL
	// check opens path at both widths, checks the widths and saves the screenshots.
	check := func(name, path string) {
		t.Helper()
		for _, width := range []int64{1280, 390} {
			do(name, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("footer, main")))
			// The page's width, and the widest list or items table against its box.
			got, err := chromedp.Run(bctx, chromedp.Evaluate[[]int](`(function () {
				var widest = 0;
				document.querySelectorAll(".scroll").forEach(function (s) {
					// The lists (the counter's revenue and deposit figures are not) read as cards.
					if (s.querySelector("table.list, table.cards")) { widest = Math.max(widest, s.scrollWidth - s.clientWidth); }
				});
				return [document.documentElement.scrollWidth, document.documentElement.clientWidth, widest,
					document.querySelectorAll("table.cards").length];
			})()`))
			if err != nil {
				t.Fatalf("%s at %d px: %v", name, width, err)
			}
			if got[0] > got[1] {
				t.Errorf("%s at %d px: the page is %d px wide in a %d px window", name, width, got[0], got[1])
			}
			if got[2] > 0 {
				t.Errorf("%s at %d px: a table scrolls %d px sideways", name, width, got[2])
			}
			if shots != "" {
				top, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
				if err == nil {
					err = os.WriteFile(filepath.Join(shots, fmt.Sprintf("polish-%s-%d-top.png", name, width)), top, 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
				png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("polish-%s-%d.png", name, width)), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	login := func(name string) {
		t.Helper()
		do("log in as "+name, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), passwordOf(name)),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)))
	}
	logout := func() {
		t.Helper()
		do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#username")))
	}
	check("login", "/login")
	login("zhang")
	check("clerk-queue", "/queue")
	check("clerk-day", "/day/"+testDate)
	check("counter", "/day/"+testDate+"/c/TY0001/"+shortCounter)
	logout()
	login("wang")
	check("reviewer-queue", "/queue")
	check("reviewer-day", "/day/"+testDate)
	check("counter-history", "/day/"+testDate+"/c/TY0001/"+otherCounter)
	check("period", "/period")
	check("period-month", "/period/"+testDate[:7])
	logout()
	login("zhao")
	check("auditor-city", "/audit/items")
	check("trail", "/audit/log")
	check("auditor-period", "/period/"+testDate[:7])
}
