package main

import (
	"time"

	"settle/engine"
)

// parseDate reads a DATE argument: YYYY-MM-DD, today or yesterday (Asia/Shanghai).
func parseDate(flag, s string, now time.Time) (time.Time, error) {
	today := now.In(engine.Shanghai)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, engine.Shanghai)
	switch s {
	case "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	case "":
		return time.Time{}, usagef("--%s is required (YYYY-MM-DD, today or yesterday)", flag)
	}
	d, err := time.ParseInLocation("2006-01-02", s, engine.Shanghai)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want YYYY-MM-DD, today or yesterday", flag, s)
	}
	return d, nil
}
