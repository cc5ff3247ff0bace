package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"settle/engine"
)

// Counter-day statuses (as web/signoff's). A returned or reopened counter-day is open again.
const (
	StatusOpen      = "open"
	StatusCertified = "certified"
	StatusApproved  = "approved"
)

// Day is where a counter-day's sign-off stands.
type Day struct {
	Date, Outlet, Counter string
	Status                string
	LastAction            string // certify, approve, return, reopen; "" never signed
	LastComment           string
	// The pinned run while certified or approved, its reports' sums, and the certified
	// report (file relative to the store, its sha256, the event that pinned it).
	RunID, PDFSHA256, XLSXSHA256 string
	CertSHA256, CertFile         string
	CertSeq                      int64
	Version                      int64
}

// Pinned reports whether the counter-day is bound to a run: certified or approved.
func (d *Day) Pinned() bool { return d.Status == StatusCertified || d.Status == StatusApproved }

// Day returns the counter-day's sign-off state (open when it has none).
func (d *DB) Day(ctx context.Context, date, outlet, counter string) (*Day, error) {
	return d.dayQ(ctx, d.db, date, outlet, counter)
}

type querier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

const dayCols = `date, outlet, counter, status, last_action, last_comment, run_id, pdf_sha256, xlsx_sha256, cert_sha256, cert_file, cert_seq, version`

func scanDay(s scanner) (*Day, error) {
	var y Day
	err := s.Scan(&y.Date, &y.Outlet, &y.Counter, &y.Status, &y.LastAction, &y.LastComment, &y.RunID, &y.PDFSHA256,
		&y.XLSXSHA256, &y.CertSHA256, &y.CertFile, &y.CertSeq, &y.Version)
	return &y, err
}

func (d *DB) dayQ(ctx context.Context, q querier, date, outlet, counter string) (*Day, error) {
	y, err := scanDay(q.QueryRowContext(ctx, `SELECT `+dayCols+` FROM days WHERE date=? AND outlet=? AND counter=?`, date, outlet, counter))
	if errors.Is(err, sql.ErrNoRows) {
		return &Day{Date: date, Outlet: outlet, Counter: counter, Status: StatusOpen}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workflow %q: counter-day %s %s/%s: %w", d.path, date, outlet, counter, err)
	}
	return y, nil
}

// Days returns the counter-days with a sign-off state between from and to (inclusive).
func (d *DB) Days(ctx context.Context, from, to string) ([]*Day, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+dayCols+` FROM days WHERE date >= ? AND date <= ? ORDER BY date, outlet, counter`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Day
	for rows.Next() {
		y, err := scanDay(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

// Pinned returns the run a counter-day is pinned to and its status ("" and "open" when
// it is not pinned).
func (d *DB) Pinned(ctx context.Context, date, outlet, counter string) (runID, status string, err error) {
	y, err := d.Day(ctx, date, outlet, counter)
	if err != nil {
		return "", "", err
	}
	if !y.Pinned() {
		return "", y.Status, nil
	}
	return y.RunID, y.Status, nil
}

// PinnedRuns returns, by date, the runs some counter-day is pinned to (sorted, no repeats):
// the runs a store's clean-up must keep.
func (d *DB) PinnedRuns(ctx context.Context) (map[string][]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT date, run_id FROM days WHERE status IN ('certified','approved') ORDER BY date, run_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var date, id string
		if err := rows.Scan(&date, &id); err != nil {
			return nil, err
		}
		out[date] = append(out[date], id)
	}
	return out, rows.Err()
}

// Signoff asks for a counter-day's certification, approval, return or reopening.
type Signoff struct {
	Action                string
	Date, Outlet, Counter string
	RunID                 string
	PDFSHA256, XLSXSHA256 string
	// The certified report (certify, approve): its sha256 and file (relative to the store),
	// rendered from the run and Snapshot at Time.
	CertSHA256, CertFile string
	Snapshot             []Snap
	Time                 time.Time // the event's time (zero: now); what the report's sign block shows
	Comment              string
	// Version is the counter-day's version the user saw (0: do not check).
	Version int64
	// Check, when not nil, runs inside the transaction before anything is written (e.g. the
	// run certified is still the date's current one); its error refuses the sign-off.
	Check func(*Day) error
}

// GateError says which items keep a counter-day from a sign-off.
type GateError struct {
	Action string
	Items  []int64
}

func (e *GateError) Error() string {
	return fmt.Sprintf("%s: %d ERROR items still need work: %v", e.Action, len(e.Items), e.Items)
}
func (e *GateError) Unwrap() error { return ErrGate }

// ErrDayOpen: the business day has not ended (date >= today): nobody certifies or approves it.
var ErrDayOpen = errors.New("the business day has not ended")

// Snapshot is the counter-day's items as a certification records them.
func (d *DB) Snapshot(ctx context.Context, date, outlet, counter string) ([]Snap, error) {
	return d.snapshotQ(ctx, d.db, date, outlet, counter)
}

func (d *DB) snapshotQ(ctx context.Context, q querier, date, outlet, counter string) ([]Snap, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+itemCols+` FROM items WHERE date=? AND outlet=? AND counter=? AND present=1
		ORDER BY CASE severity WHEN 'ERROR' THEN 0 ELSE 1 END, code, feed, txn_id, key, n`, date, outlet, counter)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Snap
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, Snap{ItemRef: *it.Ref(), State: it.State, Reason: it.Reason, Text: it.Text, By: it.By,
			ByName: it.ByName, At: it.At, Comment: it.Comment})
	}
	return out, rows.Err()
}

// Gate lists the ERROR items (present in the run of record) that keep action from the
// counter-day: for a certification those open or rejected, for an approval those not
// accepted or resolved.
func (d *DB) Gate(ctx context.Context, action, date, outlet, counter string) ([]int64, error) {
	return d.gateQ(ctx, d.db, action, date, outlet, counter)
}

func (d *DB) gateQ(ctx context.Context, q querier, action, date, outlet, counter string) ([]int64, error) {
	cond := `state IN ('open','rejected')`
	if action == ActApprove {
		cond = `state NOT IN ('accepted','resolved')`
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM items WHERE date=? AND outlet=? AND counter=? AND present=1 AND severity='ERROR' AND `+cond+` ORDER BY id`,
		date, outlet, counter)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Sign records a sign-off as actor, in one transaction with its event: the counter-day's
// status must allow it (ErrState), its version be the one shown (ErrStale), the business day
// have ended (ErrDayOpen), and its items allow it (a *GateError); a certification's or
// approval's Snapshot must still be the items' (ErrStale).
func (d *DB) Sign(ctx context.Context, a Actor, s Signoff) (Event, error) {
	var out Event
	err := d.tx(ctx, func(t *sql.Tx) error {
		y, err := d.dayQ(ctx, t, s.Date, s.Outlet, s.Counter)
		if err != nil {
			return err
		}
		if s.Version != 0 && s.Version != y.Version {
			return fmt.Errorf("counter-day %s %s: version %d, the page showed %d: %w", s.Date, s.Counter, y.Version, s.Version, ErrStale)
		}
		bad := func(why string) error {
			return fmt.Errorf("%s a %s counter-day: %s: %w", s.Action, y.Status, why, ErrState)
		}
		if (s.Action == ActCertify || s.Action == ActApprove) && s.Date >= d.Today() {
			return fmt.Errorf("%s %s: %w", s.Action, s.Date, ErrDayOpen)
		}
		switch s.Action {
		case ActCertify:
			if y.Status != StatusOpen {
				return bad("already certified")
			}
			if s.RunID == "" || s.PDFSHA256 == "" {
				return bad("a certification names the run and its report checksum")
			}
		case ActApprove:
			if y.Status != StatusCertified {
				return bad("only a certified counter-day can be approved")
			}
			if s.RunID != y.RunID {
				return bad(fmt.Sprintf("run %s is not the certified run %s", s.RunID, y.RunID))
			}
		case ActReturn, ActReopen:
			want := StatusCertified
			if s.Action == ActReopen {
				want = StatusApproved
			}
			if y.Status != want {
				return bad("only a " + want + " counter-day can be " + map[string]string{ActReturn: "returned", ActReopen: "reopened"}[s.Action])
			}
			if strings.TrimSpace(s.Comment) == "" {
				return bad("it needs a comment")
			}
		default:
			return bad("unknown action")
		}
		if s.Action == ActCertify || s.Action == ActApprove {
			ids, err := d.gateQ(ctx, t, s.Action, s.Date, s.Outlet, s.Counter)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				return &GateError{Action: s.Action, Items: ids}
			}
			snap, err := d.snapshotQ(ctx, t, s.Date, s.Outlet, s.Counter)
			if err != nil {
				return err
			}
			if !slices.EqualFunc(snap, s.Snapshot, snapEqual) {
				return fmt.Errorf("counter-day %s %s: its items changed since the report was rendered: %w", s.Date, s.Counter, ErrStale)
			}
		}
		if s.Check != nil {
			if err := s.Check(y); err != nil {
				return err
			}
		}
		ev := Event{Time: s.Time, User: a.User, Display: a.Display, Role: a.Role, Action: s.Action, Date: s.Date,
			Outlet: s.Outlet, Counter: s.Counter, RunID: s.RunID, Comment: s.Comment}
		switch s.Action {
		case ActCertify:
			y.Status, y.RunID, y.PDFSHA256, y.XLSXSHA256 = StatusCertified, s.RunID, s.PDFSHA256, s.XLSXSHA256
			y.CertSHA256, y.CertFile = s.CertSHA256, s.CertFile
		case ActApprove:
			y.Status = StatusApproved
			if s.CertSHA256 != "" {
				y.CertSHA256, y.CertFile = s.CertSHA256, s.CertFile
			}
		case ActReturn, ActReopen:
			y.Status, y.RunID, y.PDFSHA256, y.XLSXSHA256, y.CertSHA256, y.CertFile, y.CertSeq = StatusOpen, "", "", "", "", "", 0
		}
		ev.PDFSHA256, ev.XLSXSHA256, ev.CertSHA256 = s.PDFSHA256, s.XLSXSHA256, s.CertSHA256
		if s.Action == ActCertify || s.Action == ActApprove {
			ev.Snapshot = s.Snapshot
		}
		out, err = d.appendTx(ctx, t, ev)
		if err != nil {
			return err
		}
		if s.Action == ActCertify || (s.Action == ActApprove && s.CertSHA256 != "") {
			y.CertSeq = out.Seq
		}
		y.LastAction, y.LastComment = s.Action, s.Comment
		if s.Action == ActReturn || s.Action == ActReopen {
			// The run of record is the current run again: the next Sync reads it.
			if err := d.unsyncTx(ctx, t, s.Date); err != nil {
				return err
			}
		}
		return d.putDay(ctx, t, y)
	})
	return out, err
}

func (d *DB) putDay(ctx context.Context, t *sql.Tx, y *Day) error {
	y.Version++
	_, err := t.ExecContext(ctx, `INSERT INTO days(`+dayCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(date, outlet, counter) DO UPDATE SET status=excluded.status, last_action=excluded.last_action,
		last_comment=excluded.last_comment, run_id=excluded.run_id, pdf_sha256=excluded.pdf_sha256,
		xlsx_sha256=excluded.xlsx_sha256, cert_sha256=excluded.cert_sha256, cert_file=excluded.cert_file,
		cert_seq=excluded.cert_seq, version=excluded.version`,
		y.Date, y.Outlet, y.Counter, y.Status, y.LastAction, y.LastComment, y.RunID, y.PDFSHA256, y.XLSXSHA256,
		y.CertSHA256, y.CertFile, y.CertSeq, y.Version)
	return err
}

func snapEqual(a, b Snap) bool {
	return a.ItemRef == b.ItemRef && a.State == b.State && a.Reason == b.Reason && a.Text == b.Text && a.By == b.By &&
		a.ByName == b.ByName && a.At.Equal(b.At) && a.Comment == b.Comment
}

// SignEvent returns the event of seq (a certification or approval, to render its report
// again).
func (d *DB) SignEvent(ctx context.Context, seq int64) (Event, error) {
	var line string
	if err := d.db.QueryRowContext(ctx, `SELECT line FROM events WHERE seq=?`, seq).Scan(&line); err != nil {
		return Event{}, fmt.Errorf("workflow %q: event %d: %w", d.path, seq, err)
	}
	return decodeEvent(line)
}

// DayEvents returns the sign-off events of a counter-day, oldest first.
func (d *DB) DayEvents(ctx context.Context, date, outlet, counter string) ([]Event, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT line FROM events WHERE date=? AND outlet=? AND counter=? AND action IN ('certify','approve','return','reopen') ORDER BY seq`,
		date, outlet, counter)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		e, err := decodeEvent(line)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DayRow is a counter-day of a queue: its sign-off state and its items by state.
type DayRow struct {
	Day
	Items      map[string]int // present items by state
	ErrorsOpen int            // ERROR items open or rejected
	Warnings   int            // WARNING items open
	AtStake    int64          // sum of |amount| of the items not closed
	Age        int
	Overdue    bool
}

// DayFilter selects counter-days; nil slices select all.
type DayFilter struct {
	From, To string
	Counters []string
	Outlets  []string
}

// CounterDays returns the counter-days matching f with their items counted, oldest first.
func (d *DB) CounterDays(ctx context.Context, f DayFilter) ([]*DayRow, error) {
	where := []string{"date >= ?", "date <= ?"}
	args := []any{f.From, f.To}
	in := func(col string, vs []string) { where, args = whereIn(where, args, col, vs) }
	in("counter", f.Counters)
	in("outlet", f.Outlets)
	cond := strings.Join(where, " AND ")
	rows, err := d.db.QueryContext(ctx, `SELECT `+dayCols+` FROM days WHERE `+cond+` ORDER BY date, outlet, counter`, args...)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: counter-days: %w", d.path, err)
	}
	byKey := map[[3]string]*DayRow{}
	var out []*DayRow
	today := d.today()
	for rows.Next() {
		y, err := scanDay(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		r := &DayRow{Day: *y, Items: map[string]int{}, Age: AgeOf(y.Date, today)}
		byKey[[3]string{y.Date, y.Outlet, y.Counter}] = r
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	irows, err := d.db.QueryContext(ctx, `SELECT date, outlet, counter, state, severity, count(*), sum(abs(amount)) FROM items WHERE present=1 AND counter != '' AND `+cond+
		` GROUP BY date, outlet, counter, state, severity`, args...)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: counter-days: %w", d.path, err)
	}
	defer irows.Close()
	for irows.Next() {
		var k [3]string
		var state, sev string
		var n int
		var amt int64
		if err := irows.Scan(&k[0], &k[1], &k[2], &state, &sev, &n, &amt); err != nil {
			return nil, err
		}
		r := byKey[k]
		if r == nil {
			continue
		}
		r.Items[state] += n
		if sev == string(engine.SevError) && (state == StateOpen || state == StateRejected) {
			r.ErrorsOpen += n
		}
		if sev != string(engine.SevError) && state == StateOpen {
			r.Warnings += n
		}
		if !Closed(state) {
			r.AtStake += amt
		}
	}
	for _, r := range out {
		r.Overdue = r.Status != StatusApproved && r.Age > d.sla && (r.Status == StatusOpen || r.ErrorsOpen > 0 || r.Items[StateExplained] > 0)
	}
	return out, irows.Err()
}
