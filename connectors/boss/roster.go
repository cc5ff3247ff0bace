package boss

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"settle/connectors"
	"settle/engine/feed"
)

// roster reads GET {base}/counters?date=day, retrying like a pull, and parses it.
func (s *Source) roster(ctx context.Context, day string) ([]connectors.Counter, error) {
	rel := "counters?date=" + day
	u := s.base.JoinPath("counters").String() + "?date=" + day
	w := newWorker()
	var res result
	tries := 0
	for {
		res = s.get(ctx, u, w, false)
		tries++
		if res.err == nil {
			break
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
	roster, err := parseRoster(w.out)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rel, err)
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

// parseRoster reads the roster CSV: a header naming city, outlet_id and counter_id (in
// English or Chinese, in any order; other columns ignored), then one counter a line. A
// blank line is skipped; a line without a counter id, or repeating one, is skipped and
// reported. A roster without such a header, or listing no counter, is an error.
func parseRoster(b []byte) (*parsedRoster, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	out := &parsedRoster{}
	col := map[string]int{}
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		line, _ := r.FieldPos(0)
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
		cell := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c := connectors.Counter{City: cell("city"), Outlet: cell("outlet_id"), Counter: cell("counter_id")}
		switch {
		case c == connectors.Counter{}:
			continue
		case c.Counter == "":
			out.skip(line, "no counter_id")
		case seen[c.Counter]:
			out.skip(line, fmt.Sprintf("counter %q listed again", c.Counter))
		default:
			seen[c.Counter] = true
			out.counters = append(out.counters, c)
		}
	}
	if len(col) == 0 {
		return nil, errors.New("roster: empty")
	}
	if len(out.counters) == 0 {
		return nil, errors.New("roster lists no counter")
	}
	return out, nil
}

func (p *parsedRoster) skip(line int, reason string) {
	p.skipped = append(p.skipped, skippedLine{line, reason})
}
