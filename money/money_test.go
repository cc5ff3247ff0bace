package money

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"0.00", 0, nil},
		{"1234", 123400, nil},
		{"1234.5", 123450, nil},
		{"1234.50", 123450, nil},
		{"1,234.50", 123450, nil},
		{"12,345,678.09", 1234567809, nil},
		{"0.01", 1, nil},
		{"999999999999999.99", 99999999999999999, nil},
		{"", 0, ErrEmpty},
		{"-12.00", 0, ErrNegative},
		{"-", 0, ErrNotMoney},
		{"12.345", 0, ErrDecimals},
		{"12.", 0, ErrNotMoney},
		{".5", 0, ErrNotMoney},
		{"1,23.00", 0, ErrNotMoney},
		{"1234,567.00", 0, ErrNotMoney},
		{",123", 0, ErrNotMoney},
		{"1,2345", 0, ErrNotMoney},
		{"12a", 0, ErrNotMoney},
		{"+12", 0, ErrNotMoney},
		{"1e3", 0, ErrNotMoney},
		{"12.3x", 0, ErrNotMoney},
		{"1234567890123456", 0, ErrTooLarge},
		{"１２", 0, ErrNotMoney},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0.00"}, {1, "0.01"}, {-1, "-0.01"}, {10, "0.10"}, {100, "1.00"}, {-1200, "-12.00"},
		{123450, "1234.50"}, {-12345, "-123.45"},
		{math.MaxInt64, "92233720368547758.07"}, {math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1234.50", "1,234.50", "-1", "12.345", "", "0.1", "99,999,999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fen, err := Parse(s)
		if err != nil {
			return
		}
		if fen < 0 {
			t.Fatalf("Parse(%q) = %d < 0", s, fen)
		}
		// A parsed amount formats back to a string that parses to the same fen.
		back, err := Parse(Format(fen))
		if err != nil || back != fen {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, fen, Format(fen), back, err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("12,345.67"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGrouped(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0.00"}, {5, "0.05"}, {-5, "-0.05"}, {99999, "999.99"}, {100000, "1,000.00"},
		{123450, "1,234.50"}, {-123450, "-1,234.50"}, {-99999, "-999.99"},
		{123456789, "1,234,567.89"}, {-12345678901, "-123,456,789.01"},
		{math.MaxInt64, "92,233,720,368,547,758.07"}, {math.MinInt64, "-92,233,720,368,547,758.08"},
	}
	for _, tc := range tests {
		if got := Grouped(tc.in); got != tc.want {
			t.Errorf("Grouped(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
