package workflow

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actions of the log. Other commands may Append events with actions of their own (a
// period's close and reopening); the log keeps whatever action it is given.
const (
	// Counter-day sign-offs (as web/signoff's).
	ActCertify = "certify"
	ActApprove = "approve"
	ActReturn  = "return"
	ActReopen  = "reopen"
	// Items.
	ActExplain     = "explain"
	ActAccept      = "accept"
	ActReject      = "reject"
	ActAcknowledge = "acknowledge"
	ActResolve     = "resolve" // settle itself: a later run no longer raises the item
	ActReraise     = "reraise" // settle itself: a later run raises a closed item again
	ActUpload      = "upload"  // an XLSX of explanations applied (its rows follow as explain events)
	// Others.
	ActRun         = "run" // a run started from the pages
	ActLogin       = "login"
	ActLoginFailed = "login_failed"
	ActLockout     = "lockout"
	ActUserChange  = "user_change"
	ActRepair      = "repair"  // imported from signoff.log
	ActMigrate     = "migrate" // the import of signoff.log itself
	// Periods (PERIOD.md "Close"): a period closed or reopened, by `settle period` or the
	// period page; Event.Period names it, RunID the period report of record.
	ActPeriodClose  = "period_close"
	ActPeriodReopen = "period_reopen"
)

// SystemUser is who settle's own events are by.
const SystemUser = "settle"

// ItemRef names an item in an event.
type ItemRef struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Feed     string `json:"feed,omitempty"`
	TxnID    string `json:"txn_id,omitempty"`
	Key      string `json:"key,omitempty"`
	N        int    `json:"n,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// Event is one entry of the log.
type Event struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	Display string    `json:"display,omitempty"`
	Role    string    `json:"role,omitempty"`
	Action  string    `json:"action"`
	Date    string    `json:"date,omitempty"`
	Outlet  string    `json:"outlet,omitempty"`
	Counter string    `json:"counter,omitempty"`
	// Period is the period (<from>_<to>) a close or reopening names (ActPeriodClose, …).
	Period string `json:"period,omitempty"`
	RunID  string `json:"run_id,omitempty"`
	// Sign-offs: the run's reports' sums and the certified report's.
	PDFSHA256  string `json:"pdf_sha256,omitempty"`
	XLSXSHA256 string `json:"xlsx_sha256,omitempty"`
	CertSHA256 string `json:"cert_sha256,omitempty"`
	// Items: which, from and to which state, the reason and its text.
	Item    *ItemRef `json:"item,omitempty"`
	From    string   `json:"from,omitempty"`
	To      string   `json:"to,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Text    string   `json:"text,omitempty"`
	Comment string   `json:"comment,omitempty"`
	// Snapshot is, on a certification or approval, every item of the counter-day as it
	// stood: with the run, what the certified report is rendered from.
	Snapshot []Snap `json:"snapshot,omitempty"`
	Prev     string `json:"prev"`
	MAC      string `json:"mac,omitempty"`
}

// Snap is an item as a certification saw it.
type Snap struct {
	ItemRef
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Text    string    `json:"text,omitempty"`
	By      string    `json:"by,omitempty"`
	ByName  string    `json:"by_name,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Comment string    `json:"comment,omitempty"`
}

// ErrAltered is wrapped by the error of a log whose chain or MACs do not hold.
var ErrAltered = errors.New("the workflow log was altered")

func (d *DB) macOf(e Event) (string, error) {
	e.MAC = ""
	body, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, d.key)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func lineSum(line string) string {
	s := sha256.Sum256([]byte(line))
	return hex.EncodeToString(s[:])
}

// appendTx writes e as the next event of the chain inside t.
func (d *DB) appendTx(ctx context.Context, t *sql.Tx, e Event) (Event, error) {
	var last string
	var seq int64
	err := t.QueryRowContext(ctx, `SELECT seq, line FROM events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("workflow %q: read the log's last event: %w", d.path, err)
	}
	e.Seq = seq + 1
	e.Prev = ""
	if last != "" {
		e.Prev = lineSum(last)
	}
	if e.Time.IsZero() {
		e.Time = d.now()
	}
	e.Time = e.Time.UTC().Round(time.Millisecond)
	e.MAC = ""
	m, err := d.macOf(e)
	if err != nil {
		return Event{}, err
	}
	e.MAC = m
	line, err := json.Marshal(e)
	if err != nil {
		return Event{}, err
	}
	_, err = t.ExecContext(ctx, `INSERT INTO events(seq, line, time, user, action, date, outlet, counter) VALUES (?,?,?,?,?,?,?,?)`,
		e.Seq, string(line), e.Time.Format(time.RFC3339Nano), e.User, e.Action, e.Date, e.Outlet, e.Counter)
	if err != nil {
		return Event{}, fmt.Errorf("workflow %q: append event: %w", d.path, err)
	}
	return e, nil
}

// Append records an event of another command (a period's close or reopening, a login): the
// log fills Seq, Prev and MAC, and Time when zero.
func (d *DB) Append(ctx context.Context, e Event) (Event, error) {
	if e.Action == "" || e.User == "" {
		return Event{}, errors.New("append: an event needs an action and a user")
	}
	var out Event
	err := d.tx(ctx, func(t *sql.Tx) error {
		var err error
		out, err = d.appendTx(ctx, t, e)
		return err
	})
	return out, err
}

// EventFilter selects events; empty fields select all.
type EventFilter struct {
	User, Counter, Outlet, Date, Action string
	From, To                            string // dates, inclusive
	Limit                               int    // 0: 1000
}

// Events returns the events matching f, newest first.
func (d *DB) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	var where []string
	var args []any
	add := func(cond string, v string) {
		if v != "" {
			where = append(where, cond)
			args = append(args, v)
		}
	}
	add("user = ?", f.User)
	add("counter = ?", f.Counter)
	add("outlet = ?", f.Outlet)
	add("date = ?", f.Date)
	add("action = ?", f.Action)
	add("date >= ?", f.From)
	add("date <= ?", f.To)
	q := `SELECT line FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", f.Limit)
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: events: %w", d.path, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("workflow %q: event: %w", d.path, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Verify checks the whole log: every event's MAC, and that each names the sha256 of the one
// before it. An error wraps ErrAltered and names the event.
func (d *DB) Verify(ctx context.Context) error { return d.verify(ctx, -1) }

func (d *DB) verify(ctx context.Context, tail int) error {
	q := `SELECT seq, line FROM events ORDER BY seq`
	var args []any
	if tail > 0 {
		q = `SELECT seq, line FROM events WHERE seq >= (SELECT coalesce(max(seq),0) FROM events) - ? ORDER BY seq`
		args = append(args, tail)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var prevLine string
	first := true
	for rows.Next() {
		var seq int64
		var line string
		if err := rows.Scan(&seq, &line); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		dec.DisallowUnknownFields()
		var e Event
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("event %d: %v: %w", seq, err, ErrAltered)
		}
		if e.Seq != seq {
			return fmt.Errorf("event %d: says seq %d: %w", seq, e.Seq, ErrAltered)
		}
		want, err := d.macOf(e)
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(want), []byte(e.MAC)) {
			return fmt.Errorf("event %d: its mac does not match: %w", seq, ErrAltered)
		}
		switch {
		case first && seq == 1 && e.Prev != "":
			return fmt.Errorf("event 1: names a previous event: %w", ErrAltered)
		case !first && e.Prev != lineSum(prevLine):
			return fmt.Errorf("event %d: prev is not the checksum of event %d: %w", seq, seq-1, ErrAltered)
		}
		if !first || tail <= 0 {
			// (the first of a tail is checked against the one before it below)
		}
		if first && seq > 1 && tail > 0 {
			var before string
			if err := d.db.QueryRowContext(ctx, `SELECT line FROM events WHERE seq=?`, seq-1).Scan(&before); err != nil {
				return fmt.Errorf("event %d: the event before it is missing: %w", seq, ErrAltered)
			}
			if e.Prev != lineSum(before) {
				return fmt.Errorf("event %d: prev is not the checksum of event %d: %w", seq, seq-1, ErrAltered)
			}
		}
		if first && seq > 1 && tail <= 0 {
			return fmt.Errorf("event %d is the first: events 1..%d are missing: %w", seq, seq-1, ErrAltered)
		}
		if !first {
			// seq must follow without a gap
			var pe Event
			json.Unmarshal([]byte(prevLine), &pe)
			if pe.Seq+1 != seq {
				return fmt.Errorf("event %d follows event %d: %w", seq, pe.Seq, ErrAltered)
			}
		}
		first = false
		prevLine = line
	}
	return rows.Err()
}

func decodeEvent(line string) (Event, error) {
	var e Event
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	return e, nil
}
