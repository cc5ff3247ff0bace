package report

import (
	"settle/engine"
	"settle/feed"
	"settle/internal/i18n"
)

// labels are the words of one report language: the report keys of the translation table,
// and the names of categories, pay methods, feeds, codes and severities.
type labels struct {
	lang string // zh or en
	g    i18n.Lang
}

var (
	zh = &labels{lang: "zh", g: i18n.Zh}
	en = &labels{lang: "en", g: i18n.En}
)

// s is the text of k in the report's language.
func (l *labels) s(k i18n.Key) string { return l.g.S(k) }

func labelsFor(lang string) (*labels, error) {
	g, err := i18n.Parse(lang)
	if err != nil {
		return nil, err
	}
	if g == i18n.En {
		return en, nil
	}
	return zh, nil
}

// Names are the display names the reports of one language give categories, pay methods, feeds,
// exception codes and severities, for anything else that shows them (the web pages) to say
// what the reports say.
type Names struct{ l *labels }

// NamesFor returns the names of lang: "zh" (or empty) or "en".
func NamesFor(lang string) (Names, error) {
	l, err := labelsFor(lang)
	return Names{l}, err
}

// Category is the name of a settlement category; an unknown code shows itself.
func (n Names) Category(code string) string { return n.l.categoryName(code) }

// PayMethod is the name of a pay method; an unknown code shows itself.
func (n Names) PayMethod(code string) string { return n.l.payMethodName(code) }

// Feed is the name of a feed given by its canonical name; an unknown name shows itself.
func (n Names) Feed(name string) string { return n.l.feedName(name) }

// Code is the description of an exception code; empty for an unknown code.
func (n Names) Code(code engine.Code) string { return n.l.codeDescription(code) }

// Severity is the name of a severity; an unknown one shows itself.
func (n Names) Severity(sev engine.Severity) string { return n.l.severityName(sev) }

// categoryName is the display name of a settlement category.
func (l *labels) categoryName(code string) string {
	for _, c := range feed.Categories {
		if c.Code == code {
			if l.lang == "en" {
				return c.En
			}
			return c.Zh
		}
	}
	return code
}

var payMethodEn = map[string]string{
	"CASH": "Cash", "POS": "Bank card (POS)", "WECHAT": "WeChat Pay", "ALIPAY": "Alipay", "CHEQUE": "Cheque",
}

// payMethodName is the display name of a pay method.
func (l *labels) payMethodName(code string) string {
	if l.lang == "en" {
		if n, ok := payMethodEn[code]; ok {
			return n
		}
		return code
	}
	return feed.PayMethods.ZhOf(code)
}

// feedName is the display name of a feed given by its canonical name.
func (l *labels) feedName(name string) string {
	if l.lang == "en" {
		return name
	}
	if id, ok := feed.ByName(name); ok {
		return feed.Get(id).Zh
	}
	return name
}

// codeDescription is the description of an exception code in the report's language.
func (l *labels) codeDescription(code engine.Code) string {
	c, ok := engine.CodeInfo(code)
	if !ok {
		return ""
	}
	if l.lang == "en" {
		return c.En
	}
	return c.Zh
}

// severityName is the display name of a severity.
func (l *labels) severityName(sev engine.Severity) string {
	switch sev {
	case engine.SevError:
		return l.s(i18n.ReportSevError)
	case engine.SevWarning:
		return l.s(i18n.ReportSevWarning)
	}
	return string(sev)
}

// enumName shows an enumeration value of a feed column: its Chinese name in zh, the code in en.
func (l *labels) enumName(e *feed.Enumeration, code string) string {
	if l.lang == "en" || e == nil {
		return code
	}
	return e.ZhOf(code)
}

// columnName is the header of a feed column.
func (l *labels) columnName(c feed.Column) string {
	if l.lang == "en" {
		return c.Name
	}
	return c.Zh
}

// sheetOfFeed is the name of a feed's detail sheet.
func (l *labels) sheetOfFeed(f *feed.Feed) string {
	if l.lang == "en" {
		return f.Name
	}
	return f.Zh
}

// colon appends a colon as the language writes it.
func (l *labels) colon(s string) string {
	if l.lang == "en" {
		return s + ":"
	}
	return s + "："
}

// Hint is the one-line "what to do" about an exception code (i18n.Hint); empty for an unknown code.
func (n Names) Hint(code engine.Code) string { return n.l.hint(code) }

// Region is the name of a city given by its code (太原 for TY); an unknown code shows itself.
func (n Names) Region(code string) string { return n.l.regionName(code) }

// State is the name of an item's state of WORKFLOW.md (open, explained, accepted, rejected,
// resolved, acknowledged); an unknown state shows itself.
func (n Names) State(state string) string { return n.l.stateName(state) }

// Why are the reasons a counter's figures are incomplete, as its reports show them: the
// FEED_MISSING and FEED_TOTAL_MISMATCH findings of excs (a run's) about the whole city, then
// those about counter, each "CODE description (feed): detail" in the language.
func (n Names) Why(excs []engine.Exception, counter string) []string {
	return n.l.whyLines(excs, counter)
}

// hint is what to do about code, in the report's language.
func (l *labels) hint(code engine.Code) string { return i18n.Hint(l.g, string(code)) }

// regionName is the name of a city code in the report's language.
func (l *labels) regionName(code string) string { return i18n.Region(l.g, code) }

// itemStates are the states of WORKFLOW.md's items and their labels.
var itemStates = []struct {
	state string
	key   i18n.Key
}{
	{"open", i18n.ReportStateOpen},
	{"explained", i18n.ReportStateExplained},
	{"accepted", i18n.ReportStateAccepted},
	{"rejected", i18n.ReportStateRejected},
	{"resolved", i18n.ReportStateResolved},
	{"acknowledged", i18n.ReportStateAcknowledged},
}

// stateName is the label of an item's state.
func (l *labels) stateName(state string) string {
	for _, s := range itemStates {
		if s.state == state {
			return l.s(s.key)
		}
	}
	return state
}

// whyLines are the reasons a counter's figures are incomplete, in the report's language:
// the completeness findings of the whole city (no counter) first, then the counter's own, as
// engine.IncompleteWhy collects them.
func (l *labels) whyLines(excs []engine.Exception, counter string) []string {
	var city, own []string
	for _, e := range excs {
		if e.Code != engine.CodeFeedMissing && e.Code != engine.CodeFeedTotalMismatch {
			continue
		}
		line := l.g.F(i18n.ReportWhyLine, string(e.Code), l.codeDescription(e.Code), l.feedName(e.Feed), e.Detail)
		switch e.Counter {
		case "":
			city = append(city, line)
		case counter:
			own = append(own, line)
		}
	}
	if counter == "" {
		return city
	}
	return append(city, own...)
}
