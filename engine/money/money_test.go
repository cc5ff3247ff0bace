package money

import (
	"errors"
	"math"
	"testing"
)

func TestFormatFen(t *testing.T) {
	tests := []struct {
		fen  int64
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{-1, "-0.01"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{-100, "-1.00"},
		{-1200, "-12.00"},
		{-12345, "-123.45"},
		{123450, "1234.50"},
		{100000000, "1000000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
		{math.MinInt64 + 1, "-92233720368547758.07"},
	}
	for _, tt := range tests {
		if got := FormatFen(tt.fen); got != tt.want {
			t.Errorf("FormatFen(%d) = %q, want %q", tt.fen, got, tt.want)
		}
		back, err := ParseFen(tt.want)
		if err != nil || back != tt.fen {
			t.Errorf("ParseFen(%q) = %d, %v, want %d", tt.want, back, err, tt.fen)
		}
	}
}

func TestParseFen(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"-0", 0, nil},
		{"1234", 123400, nil},
		{"1234.5", 123450, nil},
		{"1234.50", 123450, nil},
		{"1,234.50", 123450, nil},
		{"12,345,678", 1234567800, nil},
		{"-12.00", -1200, nil},
		{"007.01", 701, nil},
		{"92233720368547758.07", math.MaxInt64, nil},
		{"-92233720368547758.08", math.MinInt64, nil},
		{"92233720368547758.08", 0, ErrRange},
		{"-92233720368547758.09", 0, ErrRange},
		{"99999999999999999999", 0, ErrRange},
		{"", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{"+1", 0, ErrSyntax},
		{" 1", 0, ErrSyntax},
		{"1 ", 0, ErrSyntax},
		{".5", 0, ErrSyntax},
		{"1.", 0, ErrSyntax},
		{"1.234", 0, ErrSyntax},
		{"1.2a", 0, ErrSyntax},
		{"12,34", 0, ErrSyntax},
		{"1234,567", 0, ErrSyntax},
		{",123", 0, ErrSyntax},
		{"1,,234", 0, ErrSyntax},
		{"1,234,", 0, ErrSyntax},
		{"1e3", 0, ErrSyntax},
		{"--1", 0, ErrSyntax},
		{"１", 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := ParseFen(tt.in)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("ParseFen(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseFen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	_, err := ParseFen("1.234")
	if want := `parse amount "1.234": not an amount`; err == nil || err.Error() != want {
		t.Errorf("error text = %v, want %q", err, want)
	}
}

func FuzzParseFen(f *testing.F) {
	for _, s := range []string{"0", "1,234.50", "-12.00", "92233720368547758.07", "1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fen, err := ParseFen(s)
		if err != nil {
			return
		}
		back, err := ParseFen(FormatFen(fen))
		if err != nil || back != fen {
			t.Fatalf("round trip of %q: %d → %q → %d, %v", s, fen, FormatFen(fen), back, err)
		}
	})
}

func BenchmarkFormatFen(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendFen(buf[:0], int64(i)*37-1000)
	}
}
