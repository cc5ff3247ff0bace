package engine

import "testing"

func TestCodeInfo(t *testing.T) {
	for _, c := range Codes {
		if got, ok := CodeInfo(c.Code); !ok || got != c {
			t.Errorf("CodeInfo(%q) = %+v, %v; want %+v", c.Code, got, ok, c)
		}
		if got := severity(c.Code); got != c.Severity || (got != SevError && got != SevWarning) {
			t.Errorf("severity(%q) = %q, want %q", c.Code, got, c.Severity)
		}
	}
	if c, ok := CodeInfo("NO_SUCH_CODE"); ok || c != (Code{}) {
		t.Errorf("CodeInfo of an unknown code = %+v, %v", c, ok)
	}
	if s := severity("NO_SUCH_CODE"); s != "" {
		t.Errorf("severity of an unknown code = %q", s)
	}
}
