package web

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPeriodBrowser: a city-wide reviewer opens the month in a real headless Chromium at
// 1280 px, sees the period report (findings, counter-days not approved, open items by age,
// downloads), closes the period with a comment through the form and sees it closed with its
// record. With SETTLE_E2E_SCREENSHOTS=DIR it saves period.png and period-closed.png there.
func TestPeriodBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short")
	}
	chromium := need(t, "chromium", "chromium-browser", "google-chrome")
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	liu := addCityReviewer(t, ts)
	buildPeriod(t, ts, liu)
	base := ts.ts.URL
	shots := os.Getenv("SETTLE_E2E_SCREENSHOTS")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	run := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("log in as liu",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css("#username")),
		chromedp.SendKeys(css("#username"), "liu"),
		chromedp.SendKeys(css("#password"), "liu-password"),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`form[action="/logout"]`)),
	)
	run("open the month from the nav",
		chromedp.Click(css("#nav-period")),
		chromedp.WaitVisible(css("#period-state")),
		chromedp.Navigate(base+"/period/2026-11"),
		chromedp.WaitVisible(css("#period-findings")),
		chromedp.WaitVisible(css("#period-unsettled")),
		chromedp.WaitVisible(css("#period-items")),
		chromedp.WaitVisible(css("#period-files")),
	)
	shot("period")
	run("close the period",
		chromedp.SendKeys(css("#period-close-comment"), "十一月月结"),
		chromedp.Click(css("#period-close")),
		chromedp.WaitVisible(css("#period-reopen-form")),
		chromedp.WaitVisible(css("#period-trail")),
	)
	shot("period-closed")
}
