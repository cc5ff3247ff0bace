package i18n_test

import (
	"testing"
	"unicode"

	"settle/engine"
	"settle/fixtures"
	"settle/internal/i18n"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestHints: every exception code of RULES.md (engine.Codes) has a one-line hint in Chinese
// and in English, each its own.
func TestHints(t *testing.T) {
	if len(engine.Codes) != 30 {
		t.Fatalf("%d codes, RULES.md has 30", len(engine.Codes))
	}
	seen := map[string]engine.Code{}
	for _, c := range engine.Codes {
		zh, en := i18n.Hint(i18n.Zh, string(c.Code)), i18n.Hint(i18n.En, string(c.Code))
		if zh == "" || en == "" {
			t.Errorf("%s: hint zh %q en %q", c.Code, zh, en)
			continue
		}
		if !hasHan(zh) || hasHan(en) {
			t.Errorf("%s: the Chinese hint %q or the English %q is in the wrong language", c.Code, zh, en)
		}
		for _, h := range []string{zh, en} {
			if prev, dup := seen[h]; dup {
				t.Errorf("%s has the hint of %s: %q", c.Code, prev, h)
			}
			seen[h] = c.Code
			for _, r := range h {
				if r == '\n' {
					t.Errorf("%s: hint %q is more than one line", c.Code, h)
				}
			}
		}
	}
	if h := i18n.Hint(i18n.Zh, "NO_SUCH_CODE"); h != "" {
		t.Errorf("an unknown code has the hint %q", h)
	}
}

// TestRegion: Shanxi's city codes by name, unknown codes as they are; the generator names its
// files by the same table.
func TestRegion(t *testing.T) {
	for _, c := range []struct{ code, zh, en string }{
		{"TY", "太原", "Taiyuan"}, {"DT", "大同", "Datong"}, {"LL", "吕梁", "Lüliang"}, {"YC", "运城", "Yuncheng"},
		{"XX", "XX", "XX"}, {"", "", ""}, {"ty", "ty", "ty"},
	} {
		if zh, en := i18n.Region(i18n.Zh, c.code), i18n.Region(i18n.En, c.code); zh != c.zh || en != c.en {
			t.Errorf("Region(%q) = %q, %q; want %q, %q", c.code, zh, en, c.zh, c.en)
		}
	}
	codes := i18n.RegionCodes()
	if len(codes) != 11 {
		t.Errorf("%d cities, Shanxi has 11", len(codes))
	}
	for _, c := range codes {
		if got := fixtures.CityName(c); got != i18n.Region(i18n.Zh, c) || !hasHan(got) {
			t.Errorf("fixtures.CityName(%q) = %q", c, got)
		}
	}
}
