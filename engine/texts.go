package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"settle/connectors"
	"settle/feed"
	"settle/internal/i18n"
)

// The texts of the details and reject reasons the engine writes, in Chinese (the default)
// and English (Config.Lang "en"), are the Detail keys of the translation table (internal/i18n). Codes, amounts, ids, dates and sources inside a detail
// are the same in both languages; the words around them, the names of columns (金额 for
// amount) and of feeds (业务办理日报 for order) follow the language. The one reason kept in
// English whatever the language is FEEDS.md's literal `repeated header`.

// lang is the language of the details: langZh (the default) or langEn.
type lang i18n.Lang

const (
	langZh = lang(i18n.Zh)
	langEn = lang(i18n.En)
)

// langOf maps Config.Lang to a lang; Validate has checked it.
func langOf(s string) lang {
	if s == "en" {
		return langEn
	}
	return langZh
}

// code is the language's Config.Lang value.
func (g lang) code() string {
	if g == langEn {
		return "en"
	}
	return "zh"
}

// f formats text k in the language.
func (g lang) f(k i18n.Key, args ...any) string { return i18n.Lang(g).F(k, args...) }

// s is text k, which takes no arguments.
func (g lang) s(k i18n.Key) string { return i18n.Lang(g).S(k) }

// col names a column of a feed: its Chinese header name in Chinese, else its name.
func (g lang) col(c *feed.Column) string {
	if g == langZh && c.Zh != "" {
		return c.Zh
	}
	return c.Name
}

// colOf names column name of feed f (the name itself when f has no such column).
func (g lang) colOf(f *feed.Feed, name string) string {
	if i := f.Col(name); i >= 0 {
		return g.col(&f.Columns[i])
	}
	return name
}

// feed names a feed: its BOSS report name in Chinese (业务办理日报), else its name (order).
func (g lang) feed(id feed.ID) string {
	if g == langZh {
		return feed.Get(id).Zh
	}
	return id.String()
}

// feedNamed is feed for a feed's name (an orig_feed value); an unknown name is itself.
func (g lang) feedNamed(name string) string {
	if id, ok := feed.ByName(name); ok {
		return g.feed(id)
	}
	return name
}

// missing is the detail of the FEED_MISSING of an input a connector could not deliver. The
// error of a failed pull is said in the language when pullError knows its kind, else its
// own text, cut short.
func (g lang) missing(m connectors.Missing) string {
	w := m.Why
	tries := func() string {
		if w.Tries == 1 {
			return g.s(i18n.DetailOneTry)
		}
		return g.f(i18n.DetailTries, w.Tries)
	}
	switch w.Kind {
	case connectors.WhyNoFile:
		f := feed.Get(m.Feed)
		return g.f(i18n.DetailNoFeedFile, f.Name, f.Zh, w.Dir)
	case connectors.WhyPullFailed:
		return g.f(i18n.DetailPullFailed, w.Request, g.pullError(w.Err), tries())
	case connectors.WhyPullLate:
		return g.f(i18n.DetailPullFailedLate, w.Request, g.pullError(w.Err), tries(), w.Deadline)
	case connectors.WhyPullNotDone:
		return g.f(i18n.DetailPullNotDone, w.Request, w.Deadline)
	}
	return m.Reason
}

// join joins the problems of one row or input: "；" in Chinese, "; " in English.
func (g lang) join(parts []string) string {
	if g == langZh {
		return strings.Join(parts, "；")
	}
	return strings.Join(parts, "; ")
}

// list joins the items of a list: "、" in Chinese, ", " in English.
func (g lang) list(items []string) string {
	if g == langZh {
		return strings.Join(items, "、")
	}
	return strings.Join(items, ", ")
}

// maxErrRunes bounds the transport's or API's own text inside a detail.
const maxErrRunes = 100

// httpStatus is an API's answer as the BOSS connector words it: "503 Service Unavailable".
var httpStatus = regexp.MustCompile(`^[1-5][0-9][0-9] `)

// pullError says why a pull failed, short: in the language for the kinds a clerk meets (a
// timeout, a refused or reset connection, an unknown host, an HTTP status), else the error's
// own text cut to maxErrRunes. The full error is in the log.
func (g lang) pullError(err error) string {
	if err == nil {
		return ""
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return g.s(i18n.DetailErrTimeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return g.s(i18n.DetailErrRefused)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF):
		return g.s(i18n.DetailErrReset)
	case errors.As(err, &dns):
		return g.f(i18n.DetailErrHost, dns.Name)
	}
	text := err.Error()
	if httpStatus.MatchString(text) {
		return g.f(i18n.DetailErrStatus, cut(text, maxErrRunes))
	}
	return cut(text, maxErrRunes)
}

// cut is s cut to n runes, an ellipsis marking the cut.
func cut(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
