package engine

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
)

// verb is a formatting verb of a text, with the argument it takes (explicit or implied).
var verb = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?([a-zA-Z%])`)

// args lists the arguments a format takes as "index:verb", sorted and without repeats.
func args(t *testing.T, format string) []string {
	t.Helper()
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		if m[4] == "%" {
			continue
		}
		n := next
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		next = n + 1
		out = append(out, strconv.Itoa(n)+":"+m[4])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestTexts walks every text: both languages are there, the Chinese one is Chinese, and both
// take the same arguments with the same verbs.
func TestTexts(t *testing.T) {
	han := regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`) // Chinese, or its punctuation
	for k := text(0); k < nTexts; k++ {
		zh, en := texts[k][langZh], texts[k][langEn]
		if zh == "" || en == "" {
			t.Errorf("text %d: zh %q, en %q: a language is missing", k, zh, en)
			continue
		}
		if !han.MatchString(zh) && zh != en {
			t.Errorf("text %d: zh %q has no Chinese", k, zh)
		}
		if han.MatchString(en) {
			t.Errorf("text %d: en %q has Chinese", k, en)
		}
		if a, b := args(t, zh), args(t, en); !slices.Equal(a, b) {
			t.Errorf("text %d: zh %q takes %v, en %q takes %v", k, zh, a, en, b)
		}
		if strings.Contains(langZh.f(k), "%!") && !strings.Contains(zh, "%") {
			t.Errorf("text %d: zh %q is malformed", k, zh)
		}
	}
}

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
