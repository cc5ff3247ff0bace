package report

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"unicode/utf8"

	"settle/engine"
	"settle/feed"
	"settle/internal/i18n"
)

// missingGlyph stands in, visibly, for a character the font cannot draw (beyond U+FFFF, no
// glyph, a control character): fpdf would panic or draw nothing.
const missingGlyph = '□'

// pdfPunct are the characters the PDF code itself writes besides labels and data.
const pdfPunct = "□…•·：（）×→–—"

// runFont is the font every PDF of one run is drawn with: the embedded face cut down to the
// characters the run's reports can contain.
type runFont struct {
	data []byte
	has  []bool // BMP rune → in data
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
	f := &runFont{data: base.subset(runes), has: make([]bool, 0x10000)}
	for _, r := range runes {
		f.has[r] = true
	}
	return f, nil
}

// clean makes s safe for fpdf and the font: every character the font lacks, beyond U+FFFF or
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

// fontFamily is the font's name inside fpdf; fpdf writes it into the PDF as the font's
// BaseFont "utf8wqymicrohei", which subsetTag renames.
const fontFamily = "wqymicrohei"

// The embedded font's name as fpdf writes it, and the subset name subsetTag gives it: a slash,
// six capitals and subsetSuffix.
const (
	fpdfFontName = "/utf8" + fontFamily
	subsetSuffix = "+MicroHei"
)

// The subset name has fpdf's name's length, so renaming in place moves no offset in the file;
// the compiler checks it (a negative uint constant does not compile).
const _ = uint(len(fpdfFontName)-(1+6+len(subsetSuffix))) + uint((1+6+len(subsetSuffix))-len(fpdfFontName))

// subsetTag renames the embedded font in place from fpdf's "utf8wqymicrohei" to
// "XXXXXX+MicroHei", the PDF convention for a subset font (six capitals and a plus; pdffonts
// then lists it as subset). The tag is taken from a hash of the document, so it is the same
// on every render.
func subsetTag(pdf []byte) {
	sum := sha256.Sum256(pdf)
	tag := make([]byte, 0, len(fpdfFontName))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	tag = append(tag, subsetSuffix...)
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte(fpdfFontName))
		if i < 0 {
			return
		}
		copy(rest[i:], tag)
		rest = rest[i+len(tag):]
	}
}
