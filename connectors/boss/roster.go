package boss

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"settle/connectors"
	"settle/connectors/dialect"
	"settle/feed"
)

// roster reads GET {base}/counters?date=day and parses it. An attempt fails transiently
// as a pull does, and also when its body is not a whole roster (no 合计 footer, a footer
// that disagrees with the rows, anything parseRoster refuses): a body cut at a line
// boundary is whole CSV, and only the footer tells it lacks counters. Such an attempt is
// tried again like a 503; one that stays so fails the run rather than settle a city with
// counters missing.
func (s *Source) roster(ctx context.Context, day string) ([]connectors.Counter, error) {
	rel := "counters?date=" + day
	u := s.base.JoinPath("counters").String() + "?date=" + day
	w := newWorker()
	var roster *parsedRoster
	tries := 0
	for {
		res := s.get(ctx, u, w, false)
		tries++
		if res.err == nil {
			var err error
			if roster, err = parseRoster(w.out); err == nil {
				break
			}
			res = result{raw: res.raw, retry: true, err: err}
		}
		if !res.retry || tries > s.cfg.Retries || ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w (%s)", rel, res.err, plural(tries, "try", "tries"))
		}
		wait := s.wait(tries, res)
		s.log.Debug("retry", "what", "roster", "try", tries, "wait", wait, "err", res.err)
		if err := s.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("GET %s: %w (%s; then %v)", rel, res.err, plural(tries, "try", "tries"), err)
		}
	}
	for _, skip := range roster.skipped {
		s.log.Warn("roster line skipped", "line", skip.line, "reason", skip.reason)
	}
	return roster.counters, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

type parsedRoster struct {
	counters []connectors.Counter
	skipped  []skippedLine
}

// skippedLine is a roster line left out, and why.
type skippedLine struct {
	line   int
	reason string
}

// parseRoster reads the roster CSV (UTF-8, or GBK when it is not valid UTF-8): a header
// naming city, outlet_id and counter_id (in English or Chinese, in any order; other columns
// ignored), one counter a line, and a 合计 (or TOTAL) footer as its last non-blank line
// whose second cell is the number of rows between header and footer. Blank lines are
// skipped and not counted. A line repeating an earlier one's counter, city and outlet is
// counted by the footer, skipped and reported; every other fault is an error: no header,
// no footer, a footer not last or not a whole number or not the row count, a line without
// a counter_id, a counter listed under two outlets, no counter at all.
func parseRoster(b []byte) (*parsedRoster, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	if !utf8.Valid(b) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return nil, fmt.Errorf("roster: neither UTF-8 nor GBK: %w", err)
		}
		b = bytes.TrimPrefix(dec, []byte("\ufeff"))
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	out := &parsedRoster{}
	col := map[string]int{}
	first := map[string]int{} // counter_id → the line listing it first
	byID := map[string]connectors.Counter{}
	rows, footerLine := 0, 0
	footerCount := ""
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if footerLine != 0 {
			return nil, fmt.Errorf("roster line %d: a row after the 合计 footer of line %d", line, footerLine)
		}
		if len(col) == 0 {
			for i, c := range rec {
				if name, ok := feed.HeaderName(c); ok {
					if _, dup := col[name]; !dup {
						col[name] = i
					}
				}
			}
			for _, need := range []string{"city", "outlet_id", "counter_id"} {
				if _, ok := col[need]; !ok {
					return nil, fmt.Errorf("roster line %d: want a header naming city, outlet_id and counter_id, got %q",
						line, strings.Join(rec, ","))
				}
			}
			continue
		}
		if dialect.IsFooterCell(strings.TrimSpace(rec[0])) {
			footerLine = line
			if len(rec) > 1 {
				footerCount = strings.TrimSpace(rec[1])
			}
			continue
		}
		rows++
		cell := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c := connectors.Counter{City: cell("city"), Outlet: cell("outlet_id"), Counter: cell("counter_id")}
		prev, seen := byID[c.Counter]
		switch {
		case c.Counter == "":
			return nil, fmt.Errorf("roster line %d: no counter_id", line)
		case seen && prev != c:
			return nil, fmt.Errorf("roster line %d: counter %q listed under city %q, outlet %q, but line %d lists it under city %q, outlet %q",
				line, c.Counter, c.City, c.Outlet, first[c.Counter], prev.City, prev.Outlet)
		case seen:
			out.skip(line, fmt.Sprintf("counter %q listed again (first on line %d)", c.Counter, first[c.Counter]))
		default:
			byID[c.Counter], first[c.Counter] = c, line
			out.counters = append(out.counters, c)
		}
	}
	switch {
	case len(col) == 0:
		return nil, errors.New("roster: empty")
	case footerLine == 0:
		return nil, fmt.Errorf("roster: no 合计 footer after its %s (cut short?)", plural(rows, "row", "rows"))
	}
	n, err := strconv.ParseUint(footerCount, 10, 31)
	switch {
	case err != nil:
		return nil, fmt.Errorf("roster line %d: the 合计 footer's count %q is not a whole number", footerLine, footerCount)
	case int(n) != rows:
		return nil, fmt.Errorf("roster line %d: the 合计 footer counts %d rows, the roster has %d", footerLine, n, rows)
	case len(out.counters) == 0:
		return nil, errors.New("roster lists no counter")
	}
	return out, nil
}

// blank reports whether every cell of rec is empty or white space.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (p *parsedRoster) skip(line int, reason string) {
	p.skipped = append(p.skipped, skippedLine{line, reason})
}
