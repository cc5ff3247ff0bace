package engine

import (
	"errors"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
)

// TestTextsSay checks a few texts in full, in both languages.
func TestTextsSay(t *testing.T) {
	amount := &feed.Get(feed.Order).Columns[feed.Get(feed.Order).Col("amount")]
	for _, tt := range []struct {
		name   string
		say    func(g lang) string
		zh, en string
	}{
		{"field", func(g lang) string { return g.field(amount, "12.345", errors.Join(errors.New("x"))) },
			`金额 "12.345" x`, `amount "12.345" x`},
		{"no file", func(g lang) string {
			return g.missing(connectors.Missing{Feed: feed.Order, Reason: "r", Why: connectors.Why{Kind: connectors.WhyNoFile, Dir: "/d"}})
		}, `"/d" 下没有报表 order（业务办理日报）的文件`, `no file for feed order (业务办理日报) under "/d"`},
		{"pull late", func(g lang) string {
			return g.missing(connectors.Missing{Reason: "r", Why: connectors.Why{Kind: connectors.WhyPullLate, Request: "reports/order?x",
				Err: errors.New("503 Service Unavailable"), Tries: 6, Deadline: time.Minute}})
		}, `GET reports/order?x：503 Service Unavailable（尝试 6 次；随后已过 1m0s 的截止时限）`,
			`GET reports/order?x: 503 Service Unavailable (6 tries; then the deadline of 1m0s passed)`},
		{"pull one try", func(g lang) string {
			return g.missing(connectors.Missing{Reason: "r", Why: connectors.Why{Kind: connectors.WhyPullFailed, Request: "q", Err: errors.New("e"), Tries: 1}})
		}, `GET q：e（尝试 1 次）`, `GET q: e (1 try)`},
		{"other", func(g lang) string { return g.missing(connectors.Missing{Reason: "as the connector said"}) },
			"as the connector said", "as the connector said"},
	} {
		if got := tt.say(langZh); got != tt.zh {
			t.Errorf("%s zh: got %q, want %q", tt.name, got, tt.zh)
		}
		if got := tt.say(langEn); got != tt.en {
			t.Errorf("%s en: got %q, want %q", tt.name, got, tt.en)
		}
	}
}
