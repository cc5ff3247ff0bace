// Package money parses and formats amounts: integer fen (分) inside, yuan with two decimals
// outside. Nothing here goes through a float.
package money

import "errors"

// Errors of Parse.
var (
	ErrEmpty    = errors.New("is empty")
	ErrNegative = errors.New("is negative")
	ErrDecimals = errors.New("has more than two decimals")
	ErrNotMoney = errors.New("is not an amount in yuan")
	ErrTooLarge = errors.New("is too large")
)

// maxYuanDigits bounds the digits of the integer part so that fen never overflow int64.
const maxYuanDigits = 15

// Parse parses an amount in yuan — "1234", "1234.5", "1234.50", "1,234.50" — into fen.
// A sign, more than two decimals, misplaced thousands separators or anything else is an
// error. It never goes through a float.
func Parse(s string) (int64, error) {
	if s == "" {
		return 0, ErrEmpty
	}
	if s[0] == '-' {
		if _, err := Parse(s[1:]); err == nil {
			return 0, ErrNegative
		}
		return 0, ErrNotMoney
	}
	intPart, frac := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if intPart == "" {
		return 0, ErrNotMoney
	}
	var yuan int64
	digits, group, sawComma := 0, 0, false
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		switch {
		case c >= '0' && c <= '9':
			yuan = yuan*10 + int64(c-'0')
			digits++
			group++
			if digits > maxYuanDigits {
				return 0, ErrTooLarge
			}
		case c == ',':
			// The first group has 1-3 digits, every later one exactly 3.
			if group == 0 || group > 3 || (sawComma && group != 3) {
				return 0, ErrNotMoney
			}
			sawComma, group = true, 0
		default:
			return 0, ErrNotMoney
		}
	}
	if sawComma && group != 3 {
		return 0, ErrNotMoney
	}
	var fen int64
	switch len(frac) {
	case 0:
		if len(s) > len(intPart) { // "12." has a point and nothing after it
			return 0, ErrNotMoney
		}
	case 1, 2:
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, ErrNotMoney
			}
			fen = fen*10 + int64(frac[i]-'0')
		}
		if len(frac) == 1 {
			fen *= 10
		}
	default:
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, ErrNotMoney
			}
		}
		return 0, ErrDecimals
	}
	return yuan*100 + fen, nil
}

// Format formats fen as yuan with two decimals: 123450 → "1234.50", -1200 → "-12.00".
func Format(fen int64) string {
	var buf [24]byte
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u
	}
	i := len(buf)
	cents := u % 100
	u /= 100
	i--
	buf[i] = byte('0' + cents%10)
	i--
	buf[i] = byte('0' + cents/10)
	i--
	buf[i] = '.'
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// Grouped formats fen as yuan with thousands separators and two decimals, as the reports
// and the pages show money: 123450 → "1,234.50", -123456789 → "-1,234,567.89". Exact for
// every int64 (math.MinInt64 included).
func Grouped(fen int64) string {
	plain := Format(fen)
	sign := ""
	if plain[0] == '-' {
		sign, plain = "-", plain[1:]
	}
	digits := len(plain) - 3 // before ".xx"
	if digits <= 3 {
		return sign + plain
	}
	b := make([]byte, 0, len(sign)+len(plain)+digits/3)
	b = append(b, sign...)
	for i := 0; i < digits; i++ {
		if i > 0 && (digits-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, plain[i])
	}
	return string(append(b, plain[digits:]...))
}
