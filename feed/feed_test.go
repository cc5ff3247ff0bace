package feed

import "testing"

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{"TY0001-03": true, "a_b": true, "": false, "../x": false, "a/b": false,
		"a b": false, "柜台": false, "..": false, `a\b`: false, "a.b": false, "abcdefghijklmnopqrstuvwxyz012345": true, "abcdefghijklmnopqrstuvwxyz0123456": false} {
		if ValidID(s) != want {
			t.Errorf("ValidID(%q) = %v", s, !want)
		}
	}
}
