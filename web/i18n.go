package web

import (
	"fmt"
	"time"

	"settle/engine"
	"settle/internal/i18n"
	"settle/report"
	"settle/web/signoff"
	"settle/workflow"
)

// lang is the words of one page language: Chinese (the default) or English. The texts are
// the page texts of the translation table, which the templates name (see i18n.PageKey).
type lang struct {
	Lang  string // zh or en
	g     i18n.Lang
	names report.Names // categories, pay methods, feeds, codes, severities
}

var langs = func() map[string]*lang {
	out := map[string]*lang{}
	for _, g := range []i18n.Lang{i18n.Zh, i18n.En} {
		names, err := report.NamesFor(g.String())
		if err != nil {
			panic(err) // a page language the reports do not have
		}
		out[g.String()] = &lang{Lang: g.String(), g: g, names: names}
	}
	return out
}()

// known reports whether the table has a page text named key.
func known(key string) bool {
	_, ok := i18n.PageKey(key)
	return ok
}

// T returns the message key in the language; an unknown key shows itself (a test catches it).
func (l *lang) T(key string) string {
	if k, ok := i18n.PageKey(key); ok {
		return l.g.S(k)
	}
	return key
}

// Tf formats the message key with args.
func (l *lang) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Comment is an event's comment as the page shows it: a Repair event's, which the log writes
// in English, said in the page's language; any other as written.
func (l *lang) Comment(e workflow.Event) string {
	if after, n, sum, ok := (signoff.Event{Action: signoff.Action(e.Action), Comment: e.Comment}).RepairFacts(); ok {
		return l.Tf("repair_comment", after, n, sum)
	}
	return e.Comment
}

// Other is the other language's code, for the switch.
func (l *lang) Other() string {
	if l.Lang == "en" {
		return "zh"
	}
	return "en"
}

// OtherName is the other language's name, in itself.
func (l *lang) OtherName() string {
	if l.Lang == "en" {
		return "中文"
	}
	return "English"
}

// Cat is the name of a settlement category, as the reports give it.
func (l *lang) Cat(code string) string { return l.names.Category(code) }

// Pay is the name of a pay method, as the reports give it.
func (l *lang) Pay(code string) string { return l.names.PayMethod(code) }

// Feed is the name of a feed given by its canonical name, as the reports give it.
func (l *lang) Feed(name string) string { return l.names.Feed(name) }

// Code is the description of an exception code, as the reports give it.
func (l *lang) Code(code engine.Code) string { return l.names.Code(code) }

// Hint is the one-line "what to do" about an exception code, as the reports give it.
func (l *lang) Hint(code engine.Code) string { return l.names.Hint(code) }

// Region is a city's name by its code (太原 for TY), as the reports give it; an unknown code
// shows itself.
func (l *lang) Region(code string) string { return l.names.Region(code) }

// Why are the reasons a counter's figures are incomplete, in the page's language, as its
// reports print them (excs: the counter's findings with the city-wide ones).
func (l *lang) Why(excs []engine.Exception, counter string) []string {
	return l.names.Why(excs, counter)
}

// Sev is the name of a severity, as the reports give it.
func (l *lang) Sev(s engine.Severity) string { return l.names.Severity(s) }

// Field is the name of a figure, field or manifest figure of the diff.
func (l *lang) Field(name string) string {
	if k, ok := i18n.PageKey("f_" + name); ok {
		return l.g.S(k)
	}
	return name
}

// Status is the name of a run's status.
func (l *lang) Status(s string) string {
	switch s {
	case "complete":
		return l.T("complete_short")
	case "incomplete":
		return l.T("incomplete_short")
	}
	return s
}

// Time shows a time in Asia/Shanghai to the second.
func (l *lang) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(engine.Shanghai).Format("2006-01-02 15:04:05")
}
