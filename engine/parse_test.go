package engine

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = error
	}{
		{"2026-11-21", "2026-11-21"}, {"2026/11/21", "2026-11-21"}, {"20261121", "2026-11-21"},
		{"2024-02-29", "2024-02-29"}, {"2026-02-29", ""}, {"2026-13-01", ""}, {"2026-11-00", ""},
		{"2026-11/21", ""}, {"2026-1-21", ""}, {"21/11/2026", ""}, {"", ""}, {"2026１121", ""},
		// An XLSX date cell whose serial carries a time of day reads with it: no date.
		{"2026-11-21 12:00:00", ""},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.Format("2006-01-02") != tt.want || got.Location() != Shanghai {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"2026-11-21 09:30:00", "2026-11-21T09:30:00+08:00"},
		{"2026/11/21 23:59:59", "2026-11-21T23:59:59+08:00"},
		{"20261121 093000", "2026-11-21T09:30:00+08:00"},
		{"2026-11-21T09:30", "2026-11-21T09:30:00+08:00"},
		{"2026-11-21 24:00:00", ""}, {"2026-11-21", ""}, {"2026-11-21 9:30:00", ""}, {"x 09:30:00", ""},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestParseWholeAndDigits(t *testing.T) {
	if n, err := ParseWhole("1,234"); err != nil || n != 1234 {
		t.Errorf("ParseWhole(1,234) = %d, %v", n, err)
	}
	for _, bad := range []string{"", "-1", "1.0", ",1", "x"} {
		if _, err := ParseWhole(bad); err == nil {
			t.Errorf("ParseWhole(%q) succeeded", bad)
		}
	}
	if n, err := ParseDigits("000000000000000123"); err != nil || n != 123 {
		t.Errorf("ParseDigits = %d, %v", n, err)
	}
	for _, bad := range []string{"", "1234567890123456789", "12a", "-1"} {
		if _, err := ParseDigits(bad); err == nil {
			t.Errorf("ParseDigits(%q) succeeded", bad)
		}
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2026-11-21", "20261121", "2026/11/21 09:30:00", "2026-11-21 24:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDate(s); err == nil {
			if back, err := ParseDate(d.Format("2006-01-02")); err != nil || !back.Equal(d) {
				t.Fatalf("date %q round trip: %v %v", s, back, err)
			}
			if dateOf(dayNumber(d)) != d {
				t.Fatalf("date32 round trip of %q: %v", s, dateOf(dayNumber(d)))
			}
		}
		if ts, err := ParseTime(s); err == nil {
			if back, err := ParseTime(ts.Format("2006-01-02 15:04:05")); err != nil || !back.Equal(ts) {
				t.Fatalf("time %q round trip: %v %v", s, back, err)
			}
		}
	})
}
