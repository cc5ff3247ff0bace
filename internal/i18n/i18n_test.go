package i18n

import (
	"regexp"
	"slices"
	"testing"
)

// placeholder matches what a text is filled with: fmt verbs, fpdf's {nb}, excelize's &P and &N.
var placeholder = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]|\{nb\}|&[PN]`)

// TestTable walks every key: both languages are present and carry the same placeholders in
// the same order.
func TestTable(t *testing.T) {
	for k := range nKeys {
		zh, en := Zh.S(k), En.S(k)
		if zh == "" || en == "" {
			t.Errorf("key %d: zh %q, en %q: want both", k, zh, en)
			continue
		}
		pz, pe := placeholder.FindAllString(zh, -1), placeholder.FindAllString(en, -1)
		if !slices.Equal(pz, pe) {
			t.Errorf("key %d: placeholders zh %q, en %q", k, pz, pe)
		}
	}
}

func TestReportKeys(t *testing.T) {
	var got []Key
	for k := range ReportKeys() {
		got = append(got, k)
	}
	if len(got) != int(lastReport-firstReport+1) || got[0] != ReportTitle || got[len(got)-1] != ReportTotalOf {
		t.Errorf("ReportKeys: %d keys from %d to %d", len(got), got[0], got[len(got)-1])
	}
}

// Every page text has a name of its own, and nothing else has one.
func TestPageNames(t *testing.T) {
	seen := map[string]Key{}
	for k := range PageKeys() {
		n := k.Name()
		if n == "" {
			t.Errorf("page key %d has no name", k)
			continue
		}
		if j, dup := seen[n]; dup {
			t.Errorf("keys %d and %d are both named %q", j, k, n)
		}
		seen[n] = k
		if got, ok := PageKey(n); !ok || got != k {
			t.Errorf("PageKey(%q) = %d, %v; want %d", n, got, ok, k)
		}
	}
	for k := range ReportKeys() {
		if k.Name() != "" {
			t.Errorf("report key %d is named %q", k, k.Name())
		}
	}
	if len(seen) != int(lastPage-firstPage+1) || lastPage != nKeys-1 {
		t.Errorf("%d page names; page keys %d to %d of %d", len(seen), firstPage, lastPage, nKeys)
	}
	if k, ok := PageKey("no_such_text"); ok {
		t.Errorf("PageKey(no_such_text) = %d", k)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		code string
		want Lang
		err  string
	}{
		{"", Zh, ""},
		{"zh", Zh, ""},
		{"en", En, ""},
		{"fr", Zh, `lang "fr": want zh or en`},
		{"EN", Zh, `lang "EN": want zh or en`},
	} {
		g, err := Parse(c.code)
		var msg string
		if err != nil {
			msg = err.Error()
		}
		if g != c.want || msg != c.err {
			t.Errorf("Parse(%q) = %v, %q; want %v, %q", c.code, g, msg, c.want, c.err)
		}
		if err == nil && c.code != "" && g.String() != c.code {
			t.Errorf("Parse(%q).String() = %q", c.code, g.String())
		}
	}
}
