package web

import (
	"strings"
	"testing"

	"settle/internal/i18n"
)

// TestCounterPageNamesAndHints: the counter page names the city (太原, not TY), gives each
// item's code its one-line "what to do" in the page's language, and says why an incomplete
// counter is incomplete in that language too.
func TestCounterPageNamesAndHints(t *testing.T) {
	ts := newTestServer(t, demoSource(0.5))
	ts.runNow(t)
	c := ts.client(t)
	c.login("zhang")
	page := "/day/" + testDate + "/c/TY0001/" + shortCounter
	r := c.get(page)
	if r.status != 200 {
		t.Fatalf("counter page: %d", r.status)
	}
	if !strings.Contains(r.body, "地市 太原") {
		t.Errorf("the counter page does not name the city 太原")
	}
	items := counterItems(t, ts, shortCounter)
	if len(items) == 0 {
		t.Fatal("the test counter has no items")
	}
	for _, it := range items {
		h := i18n.Hint(i18n.Zh, string(it.Code))
		if h == "" || !strings.Contains(r.body, h) {
			t.Errorf("no hint %q for %s on the page", h, it.Code)
		}
	}
	c.get("/lang/en")
	r = c.get(page)
	for _, it := range items {
		if h := i18n.Hint(i18n.En, string(it.Code)); !strings.Contains(r.body, templateEscape(h)) {
			t.Errorf("no English hint %q for %s on the page", h, it.Code)
		}
	}
	if !strings.Contains(r.body, "Taiyuan") {
		t.Errorf("the English page does not name the city Taiyuan")
	}
}

// templateEscape is s as html/template writes it in text.
func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}
