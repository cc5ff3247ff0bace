package sheettext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestXMLSafe(t *testing.T) {
	const formula = `=HYPERLINK("http://x","y")`
	for _, tc := range []struct{ in, want string }{
		{"plain 中文 𠮷 😀", "plain 中文 𠮷 😀"},
		{"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
		{"bell\x07 nul\x00 esc\x1b", "bell\uFFFD nul\uFFFD esc\uFFFD"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"\uFFFE\uFFFF", "\uFFFD\uFFFD"},
		{formula, formula},
	} {
		if got := XMLSafe(tc.in); got != tc.want {
			t.Errorf("XMLSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("中", MaxCellChars+10)
	if got := XMLSafe(long); utf8.RuneCountInString(got) != MaxCellChars || !strings.HasSuffix(got, "…") {
		t.Errorf("XMLSafe(long): %d characters", utf8.RuneCountInString(got))
	}
	exact := strings.Repeat("a", MaxCellChars)
	if got := XMLSafe(exact); got != exact {
		t.Errorf("XMLSafe cut a text of exactly %d characters", MaxCellChars)
	}
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{
		"": 0, "TY0001-01": 9, "营业员": 6, "太原": 4, "异地缴费(代收)": 14, "ab\n营业员x": 7,
		"😀": 2, "ｆ": 2, "CASH：应解": 10, "ＡＢ": 4, "ｶﾀ": 2, "e\u0301": 1, "…": 1,
	} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
}
