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
