package report

import (
	"slices"
	"strings"
	"unicode/utf8"

	"settle/engine"
	"settle/feed"
	"settle/internal/i18n"
)

// missingGlyph stands in, visibly, for a character the font cannot draw (beyond U+FFFF, no
// glyph, a control character): it would draw nothing.
const missingGlyph = '□'

// pdfPunct are the characters the PDF code itself writes besides labels and data.
const pdfPunct = "□…•·：（）×→–—"

// runFont is the font every PDF of one run is drawn with: the embedded face cut down to the
// characters the run's reports can contain.
type runFont struct {
	data []byte
	has  []bool   // BMP rune → in data
	pdf  *pdfFont // data, ready for the PDF writer (nil in a period report's cut)
}

// newRunFont cuts the embedded face to the characters of the labels, names and descriptions
// of lang and of every string of res a PDF shows.
func newRunFont(res *engine.Result, l *labels, o *Options) (*runFont, error) {
	return cutFont(l, o, res.BizDate(), func(add func(ss ...string)) {
		for _, s := range res.Settlement {
			add(l.categoryName(s.Category), l.payMethodName(s.PayMethod))
		}
		for _, v := range res.Variance {
			add(l.payMethodName(v.PayMethod))
		}
		for _, c := range res.Counters {
			add(c.City, l.regionName(c.City), c.Outlet, c.Counter)
		}
		addExceptions(l, add, res.Exceptions)
	})
}

// addExceptions adds the strings the PDF shows of excs (the reasons of an incomplete counter,
// whyLines, are made of these, the names and a report label).
func addExceptions(l *labels, add func(ss ...string), excs []engine.Exception) {
	for _, e := range excs {
		add(string(e.Code), string(e.Severity), l.severityName(e.Severity), l.feedName(e.Feed), e.TxnID, e.Detail, e.Source)
	}
}

// cutFont cuts the embedded face to the characters of the labels, names, descriptions and
// hints of l's language, the header values of o and date, and whatever data adds.
func cutFont(l *labels, o *Options, date string, data func(add func(ss ...string))) (*runFont, error) {
	base, err := wqyFont()
	if err != nil {
		return nil, err
	}
	set := map[rune]bool{}
	for r := rune(0x20); r < 0x7F; r++ {
		set[r] = true
	}
	for _, r := range pdfPunct {
		set[r] = true
	}
	add := func(ss ...string) {
		for _, s := range ss {
			for _, r := range s {
				set[r] = true
			}
		}
	}
	for k := range i18n.ReportKeys() {
		add(l.s(k))
	}
	for _, c := range feed.Categories {
		add(l.categoryName(c.Code))
	}
	for _, m := range feed.PayMethods.Values {
		add(l.payMethodName(m))
	}
	for _, id := range feed.All {
		add(l.feedName(feed.Get(id).Name))
	}
	for _, c := range engine.Codes {
		add(string(c.Code), l.codeDescription(c.Code), l.hint(c.Code))
	}
	for _, c := range i18n.RegionCodes() {
		add(l.regionName(c))
	}
	add(l.severityName(engine.SevError), l.severityName(engine.SevWarning))
	data(add)
	add(o.RunID, o.Source, formatTime(o.GeneratedAt), date)
	runes := make([]rune, 0, len(set))
	for r := range set {
		if base.has(r) {
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	return newCut(base, runes)
}

// newCut cuts base to runes (sorted, distinct, all in base), ready for the PDF writer.
func newCut(base *ttfFont, runes []rune) (*runFont, error) {
	f := &runFont{data: base.subset(runes), has: make([]bool, 0x10000)}
	for _, r := range runes {
		f.has[r] = true
	}
	var err error
	if f.pdf, err = newPDFFont(base, runes, f); err != nil {
		return nil, err
	}
	return f, nil
}

// clean makes s safe for the font: every character the font lacks, beyond U+FFFF or
// a control character becomes missingGlyph; tabs become spaces; newlines are kept only when
// multiline (else spaces).
func (f *runFont) clean(s string, multiline bool) string {
	ok := true
	for _, r := range s {
		if r >= 0x10000 || !f.has[r] {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\r':
			continue
		case r == '\n' && multiline:
		case r == '\n' || r == '\t':
			r = ' '
		case r == utf8.RuneError && n <= 1, r >= 0x10000, !f.has[r]:
			r = missingGlyph
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fontFamily is the name the layout code gives the font (SetFont); there is only the one.
const fontFamily = "wqymicrohei"

// subsetSuffix follows the six capitals of an embedded cut's name, the PDF convention for a
// subset font (pdffonts then lists it as subset).
const subsetSuffix = "+MicroHei"
