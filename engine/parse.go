package engine

import (
	"errors"
	"strconv"
	"time"
	_ "time/tzdata" // Asia/Shanghai also on a machine without a zoneinfo database

	"settle/feed"
	"settle/internal/i18n"
	"settle/money"
)

// Shanghai is the business time zone of every date and time in the feeds.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil { // not expected: time/tzdata is built in
		panic(err)
	}
	return loc
}()

var (
	errEmpty     = money.ErrEmpty
	errTooLarge  = money.ErrTooLarge
	errNotDate   = errors.New("is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)")
	errNotTime   = errors.New("is not a time (YYYY-MM-DD HH:MM:SS)")
	errNotWhole  = errors.New("is not a whole number")
	errNotIdent  = errors.New("is not an id of 1-32 letters, digits, '-' or '_'")
	errNotDigits = errors.New("is not a string of 1-18 digits")
)

// ParseDate parses YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD as a date (midnight, Asia/Shanghai).
func ParseDate(s string) (time.Time, error) {
	var y, m, d int
	var ok bool
	switch len(s) {
	case 10:
		sep := s[4]
		if (sep == '-' || sep == '/') && s[7] == sep {
			y, ok = atoiN(s[0:4])
			if ok {
				m, ok = atoiN(s[5:7])
			}
			if ok {
				d, ok = atoiN(s[8:10])
			}
		}
	case 8:
		y, ok = atoiN(s[0:4])
		if ok {
			m, ok = atoiN(s[4:6])
		}
		if ok {
			d, ok = atoiN(s[6:8])
		}
	}
	if !ok || !validYMD(y, m, d) {
		return time.Time{}, errNotDate
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, Shanghai), nil
}

// ParseTime parses "YYYY-MM-DD HH:MM:SS" (date part in any form ParseDate takes; a 'T' may
// separate the parts; seconds may be omitted) in Asia/Shanghai.
func ParseTime(s string) (time.Time, error) {
	date, secs, ok := splitTime(s)
	if !ok {
		return time.Time{}, errNotTime
	}
	day, err := ParseDate(date)
	if err != nil {
		return time.Time{}, errNotTime
	}
	return day.Add(time.Duration(secs) * time.Second), nil
}

// splitTime cuts a time as ParseTime reads it into its date text and the seconds of its
// clock; ok is false when the clock or the cut is not one ParseTime takes.
func splitTime(s string) (date string, secs int64, ok bool) {
	cut := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == 'T' {
			cut = i
			break
		}
	}
	if cut < 0 {
		return "", 0, false
	}
	clock := s[cut+1:]
	for len(clock) > 0 && clock[0] == ' ' {
		clock = clock[1:]
	}
	var hh, mm, ss int
	switch len(clock) {
	case 8:
		if clock[2] == ':' && clock[5] == ':' {
			hh, ok = atoiN(clock[0:2])
			if ok {
				mm, ok = atoiN(clock[3:5])
			}
			if ok {
				ss, ok = atoiN(clock[6:8])
			}
		}
	case 5:
		if clock[2] == ':' {
			hh, ok = atoiN(clock[0:2])
			if ok {
				mm, ok = atoiN(clock[3:5])
			}
		}
	case 6:
		hh, ok = atoiN(clock[0:2])
		if ok {
			mm, ok = atoiN(clock[2:4])
		}
		if ok {
			ss, ok = atoiN(clock[4:6])
		}
	}
	if !ok || hh > 23 || mm > 59 || ss > 59 {
		return "", 0, false
	}
	return s[:cut], int64(hh)*3600 + int64(mm)*60 + int64(ss), true
}

// dateMemo is the last date text a reader of rows parsed (ParseDate) and what it gave: a
// feed's rows mostly carry one date, and time.Date in Asia/Shanghai had been a quarter of
// parsing a row.
type dateMemo struct {
	s    string
	set  bool
	err  error
	day  int64 // dayNumber of the date
	unix int64 // its midnight in Asia/Shanghai, Unix seconds
}

func (m *dateMemo) parse(s string) *dateMemo {
	if !m.set || s != m.s {
		d, err := ParseDate(s)
		m.s, m.set, m.err = s, true, err
		if err == nil {
			m.day, m.unix = int64(dayNumber(d)), d.Unix()
		}
	}
	return m
}

// ParseWhole parses a whole number >= 0 (thousands separators allowed).
func ParseWhole(s string) (int64, error) {
	if s == "" {
		return 0, errEmpty
	}
	var n int64
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
			digits++
			if digits > 15 {
				return 0, errTooLarge
			}
		case c == ',' && i > 0:
		default:
			return 0, errNotWhole
		}
	}
	if digits == 0 {
		return 0, errNotWhole
	}
	return n, nil
}

// ParseDigits parses a numeric string of 1-18 digits (a card serial) into its value.
func ParseDigits(s string) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, errNotDigits
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errNotDigits
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, nil
}

func atoiN(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

func validYMD(y, m, d int) bool {
	if y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// quote renders feed text for a message: quoted, cut to 60 characters.
func quote(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return strconv.Quote(string(r[:60])) + "…"
	}
	return strconv.Quote(s)
}

// fieldTexts are the texts of the parse errors of a cell.
var fieldTexts = []struct {
	err error
	k   i18n.Key
}{
	{errNotDate, i18n.DetailFieldNotDate}, {errNotTime, i18n.DetailFieldNotTime}, {errNotWhole, i18n.DetailFieldNotWhole},
	{errNotIdent, i18n.DetailFieldNotIdent}, {errNotDigits, i18n.DetailFieldNotDigits},
	{money.ErrEmpty, i18n.DetailFieldBlank}, {money.ErrNegative, i18n.DetailFieldNegative}, {money.ErrDecimals, i18n.DetailFieldDecimals},
	{money.ErrNotMoney, i18n.DetailFieldNotMoney}, {money.ErrTooLarge, i18n.DetailFieldTooLarge},
}

// field is the problem of a non-empty cell of column col (an empty one is null, or
// "<col> is empty"): the column by its name in the language, the text quoted, what is wrong.
func (g lang) field(col *feed.Column, text string, err error) string {
	for _, ft := range fieldTexts {
		if errors.Is(err, ft.err) {
			return g.f(ft.k, g.col(col), quote(text))
		}
	}
	return g.f(i18n.DetailFieldOther, g.col(col), quote(text), err)
}
