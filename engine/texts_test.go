package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
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
		}, `拉取 reports/order?x 失败：接口返回 503 Service Unavailable（尝试 6 次；随后已过 1m0s 的截止时限）`,
			`pull of reports/order?x failed: the API answered 503 Service Unavailable (6 tries; then the deadline of 1m0s passed)`},
		{"pull one try", func(g lang) string {
			return g.missing(connectors.Missing{Reason: "r", Why: connectors.Why{Kind: connectors.WhyPullFailed, Request: "q", Err: errors.New("e"), Tries: 1}})
		}, `拉取 q 失败：e（尝试 1 次）`, `pull of q failed: e (1 try)`},
		{"pull not done", func(g lang) string {
			return g.missing(connectors.Missing{Reason: "r", Why: connectors.Why{Kind: connectors.WhyPullNotDone, Request: "q", Deadline: time.Minute}})
		}, `截止时限 1m0s 前未能拉取 q`, `q not pulled before the deadline of 1m0s`},
		// The transport's errors, as net/http gives them, said short in the language.
		{"refused", func(g lang) string {
			return g.pullError(&url.Error{Op: "Get", URL: "http://boss:8080/reports/order?counter=TY0001-01&date=2026-11-21",
				Err: &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}})
		}, `连接被拒绝（接口服务未启动？）`, `connection refused (is the API up?)`},
		{"timeout", func(g lang) string {
			return g.pullError(fmt.Errorf("read body: %w", context.DeadlineExceeded))
		}, `连接超时`, `timed out`},
		{"unknown host", func(g lang) string {
			return g.pullError(&url.Error{Op: "Get", URL: "http://boss/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "boss"}}})
		}, `无法解析主机名 boss`, `host boss not found`},
		{"reset", func(g lang) string {
			return g.pullError(&url.Error{Op: "Get", URL: "http://boss/x", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}})
		}, `连接中断`, `connection reset`},
		{"long", func(g lang) string { return g.pullError(errors.New(strings.Repeat("x", 150))) },
			strings.Repeat("x", 100) + "…", strings.Repeat("x", 100) + "…"},
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
