package i18n

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verb is a formatting verb of a text, with the argument it takes (explicit or implied).
var verb = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?([a-zA-Z%])`)

// args lists the arguments a format takes as "index:verb", sorted and without repeats: a
// language may reorder them with explicit indexes (%[2]s).
func args(format string) []string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		if m[4] == "%" {
			continue
		}
		n := next
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		next = n + 1
		out = append(out, strconv.Itoa(n)+":"+m[4])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pageMark matches the page placeholders of the footers: fpdf's {nb}, excelize's &P and &N.
var pageMark = regexp.MustCompile(`\{nb\}|&[PN]`)

// TestTable walks every key: both languages are there, the Chinese one is Chinese, the
// English one is not, and both take the same arguments with the same verbs and the same
// page placeholders.
func TestTable(t *testing.T) {
	han := regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`) // Chinese, or its punctuation
	for k := range nKeys {
		zh, en := Zh.S(k), En.S(k)
		if zh == "" || en == "" {
			t.Errorf("key %d: zh %q, en %q: a language is missing", k, zh, en)
			continue
		}
		if !han.MatchString(zh) && zh != en {
			t.Errorf("key %d: zh %q has no Chinese", k, zh)
		}
		if han.MatchString(en) {
			t.Errorf("key %d: en %q has Chinese", k, en)
		}
		if a, b := args(zh), args(en); !slices.Equal(a, b) {
			t.Errorf("key %d: zh %q takes %v, en %q takes %v", k, zh, a, en, b)
		}
		if a, b := pageMark.FindAllString(zh, -1), pageMark.FindAllString(en, -1); !slices.Equal(a, b) {
			t.Errorf("key %d: zh %q has %q, en %q has %q", k, zh, a, en, b)
		}
		if strings.Contains(Zh.F(k), "%!") && !strings.Contains(zh, "%") {
			t.Errorf("key %d: zh %q is malformed", k, zh)
		}
	}
}

func TestArgs(t *testing.T) {
	for _, c := range []struct {
		format string
		want   []string
	}{
		{"no verbs", nil},
		{"%d in all: %d errors", []string{"1:d", "2:d"}},
		{"%[3]s 的%[1]s %[2]s", []string{"1:s", "2:s", "3:s"}},
		{"%.0f s, 100%%", []string{"1:f"}},
		{"%s %[1]s", []string{"1:s"}},
	} {
		if got := args(c.format); !slices.Equal(got, c.want) {
			t.Errorf("args(%q) = %q, want %q", c.format, got, c.want)
		}
	}
}

func TestReportKeys(t *testing.T) {
	var got []Key
	for k := range ReportKeys() {
		got = append(got, k)
	}
	if len(got) != int(lastReport-firstReport+1) || got[0] != ReportTitle || got[len(got)-1] != PeriodShortCount {
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
	for k := firstDetail; k <= lastDetail; k++ {
		if k.Name() != "" {
			t.Errorf("detail key %d is named %q", k, k.Name())
		}
	}
	if len(seen) != int(lastPage-firstPage+1) || firstPage != lastReport+1 || firstDetail != lastPage+1 || lastDetail != nKeys-1 {
		t.Errorf("%d page names; report keys %d to %d, page keys %d to %d, detail keys %d to %d of %d",
			len(seen), firstReport, lastReport, firstPage, lastPage, firstDetail, lastDetail, nKeys)
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
