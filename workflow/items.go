package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"settle/engine"
)

// Item states (WORKFLOW.md).
const (
	StateOpen         = "open"
	StateExplained    = "explained"
	StateAccepted     = "accepted"
	StateRejected     = "rejected"
	StateResolved     = "resolved"
	StateAcknowledged = "acknowledged"
)

// States lists the item states in the order pages show them.
var States = []string{StateOpen, StateRejected, StateExplained, StateAccepted, StateAcknowledged, StateResolved}

// Closed reports whether an item in state needs nobody: accepted, resolved or acknowledged.
func Closed(state string) bool {
	return state == StateAccepted || state == StateResolved || state == StateAcknowledged
}

// Item is one exception of a counter-day's run of record, with where it stands.
type Item struct {
	ID                     int64
	Date, Outlet, Counter  string // Counter empty: an item of the outlet (Outlet set) or the city
	Code, Feed, TxnID, Key string
	N                      int // which of the findings of one identity (0 for the first)
	City                   string
	Severity               string
	Amount                 int64
	HasAmount              bool
	Detail, Source         string
	State                  string
	Present                bool // the run of record raises it
	Reason, Text, Comment  string
	By, ByName             string
	At                     time.Time
	RunID                  string // the run that last raised it, or that resolved it
	Version                int64

	// Filled by Items: age in whole days from Date to today (Asia/Shanghai), and overdue.
	Age     int
	Overdue bool
}

// Exception is the item as the engine's exception.
func (it *Item) Exception() engine.Exception {
	return engine.Exception{Code: engine.Code(it.Code), Severity: engine.Severity(it.Severity), City: it.City,
		Outlet: it.Outlet, Counter: it.Counter, Feed: it.Feed, TxnID: it.TxnID, Amount: it.Amount,
		HasAmount: it.HasAmount, Detail: it.Detail, Source: it.Source, Key: it.Key}
}

// Ref is the item's reference in an event.
func (it *Item) Ref() *ItemRef {
	return &ItemRef{ID: it.ID, Code: it.Code, Feed: it.Feed, TxnID: it.TxnID, Key: it.Key, N: it.N, Severity: it.Severity}
}

// IsError reports whether the item is an ERROR.
func (it *Item) IsError() bool { return it.Severity == string(engine.SevError) }

// Reason is one reason a code family accepts.
type Reason struct {
	Code     string
	Zh, En   string
	NeedText string // "" none; "slip", "ticket", "form": a number; "text": free text
}

// The reasons of WORKFLOW.md.
var (
	rMadeUp      = Reason{"MADE_UP", "营业员已补款", "clerk made up the shortfall", "slip"}
	rBankedNext  = Reason{"BANKED_NEXT_DAY", "次日补解", "deposited the next day", "slip"}
	rBossError   = Reason{"BOSS_ERROR", "BOSS数据差错待更正", "BOSS error awaiting correction", "ticket"}
	rOther       = Reason{"OTHER", "其他", "other", "text"}
	rTurnedIn    = Reason{"TURNED_IN", "长款已上缴", "over-income turned in", "slip"}
	rReExported  = Reason{"RE_EXPORTED", "已重新导出", "report re-exported, rerun due", ""}
	rOnPaper     = Reason{"APPROVAL_ON_PAPER", "纸质审批单", "approved on paper", "form"}
	rClaim       = Reason{"CUSTOMER_CLAIM", "客户投诉退费", "complaint refund", "ticket"}
	rOperatorErr = Reason{"OPERATOR_ERROR", "操作失误已处理", "operator error, handled", "text"}
)

// ReasonsFor lists the reasons valid for an exception code, in the table's order.
func ReasonsFor(code string) []Reason {
	c := engine.Code(code)
	switch {
	case c == engine.CodeDepositShort:
		return []Reason{rMadeUp, rBankedNext, rBossError, rOther}
	case c == engine.CodeDepositOver:
		return []Reason{rTurnedIn, rBossError, rOther}
	case c == engine.CodeSummaryMismatch || strings.HasPrefix(code, "FEED_") || c == engine.CodeMalformedRow || c == engine.CodeWrongDate:
		return []Reason{rBossError, rReExported, rOther}
	case c == engine.CodeRefundNotApproved || strings.HasPrefix(code, "REVERSAL_") || strings.HasPrefix(code, "VOID_"):
		return []Reason{rOnPaper, rClaim, rBossError, rOther}
	}
	return []Reason{rBossError, rOperatorErr, rOther}
}

// Label is the reason's name in lang ("zh" or "en").
func (r Reason) Label(lang string) string {
	if lang == "en" {
		return r.En
	}
	return r.Zh
}

// LookupReason returns the reason named code for an exception code.
func LookupReason(excCode, reason string) (Reason, bool) {
	for _, r := range ReasonsFor(excCode) {
		if r.Code == reason {
			return r, true
		}
	}
	return Reason{}, false
}

var numberRe = regexp.MustCompile(`[A-Za-z0-9]*[0-9][A-Za-z0-9-]*`)

// ErrReason is wrapped by the error of a reason that is not valid for the item, or whose
// text is missing.
var ErrReason = errors.New("reason not valid")

// CheckReason checks a reason and its text for an exception code: the reason must be one of
// the code's, and a reason that asks for a slip, ticket or form number needs text holding a
// number (letters, digits and '-', with a digit), one that asks for text needs some.
func CheckReason(excCode, reason, text string) error {
	r, ok := LookupReason(excCode, reason)
	if !ok {
		return fmt.Errorf("reason %q is not one of %s's: %w", reason, excCode, ErrReason)
	}
	text = strings.TrimSpace(text)
	switch r.NeedText {
	case "slip", "ticket", "form":
		if !numberRe.MatchString(text) {
			return fmt.Errorf("reason %s needs the %s number: %w", reason, r.NeedText, ErrReason)
		}
	case "text":
		if text == "" {
			return fmt.Errorf("reason %s needs a text: %w", reason, ErrReason)
		}
	}
	return nil
}

// Errors of transitions.
var (
	// ErrStale: the item or counter-day changed since the user saw it: reload.
	ErrStale = errors.New("changed since it was shown: reload")
	// ErrState: the state does not allow the action.
	ErrState = errors.New("not allowed in this state")
	// ErrNotFound: no such item or counter-day.
	ErrNotFound = errors.New("not found")
	// ErrGate: a sign-off a counter-day's items do not allow yet.
	ErrGate = errors.New("items still need work")
	// ErrOwn: a reviewer decides on an explanation they wrote themselves (four eyes).
	ErrOwn = errors.New("one's own explanation is decided by another reviewer")
)

// Actor is who acts.
type Actor struct {
	User, Display, Role string
}

// Change asks to move one item.
type Change struct {
	ID      int64
	Version int64 // the version the user saw; 0: do not check (an upload checks its own)
	Action  string
	Reason  string
	Text    string
	Comment string
}

// transition checks a change against an item; it returns the new state.
func transition(it *Item, c Change) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%s item %d (%s): %s: %w", c.Action, it.ID, it.State, why, ErrState)
	}
	switch c.Action {
	case ActExplain:
		if it.State != StateOpen && it.State != StateRejected {
			return bad("only an open or rejected item is explained")
		}
		if err := CheckReason(it.Code, c.Reason, c.Text); err != nil {
			return "", err
		}
		return StateExplained, nil
	case ActAccept:
		if it.State != StateExplained {
			return bad("only an explained item is accepted")
		}
		return StateAccepted, nil
	case ActReject:
		if it.State != StateExplained {
			return bad("only an explained item is rejected")
		}
		if strings.TrimSpace(c.Comment) == "" {
			return bad("a rejection needs a comment")
		}
		return StateRejected, nil
	case ActAcknowledge:
		if it.IsError() {
			return bad("only a warning is acknowledged")
		}
		if it.State != StateOpen {
			return bad("only an open warning is acknowledged")
		}
		return StateAcknowledged, nil
	}
	return bad("unknown action")
}

// Allowed reports whether role may take action on an item: a clerk explains and
// acknowledges, a reviewer also accepts and rejects. Scope is the caller's to check.
func Allowed(role, action string) bool {
	switch action {
	case ActExplain, ActAcknowledge:
		return role == "clerk" || role == "reviewer"
	case ActAccept, ActReject:
		return role == "reviewer"
	}
	return false
}

const itemCols = `id, date, outlet, counter, code, feed, txn_id, key, n, city, severity, amount, has_amount, detail, source,
	state, present, reason, text, comment, by_user, by_name, at, run_id, version`

type scanner interface{ Scan(...any) error }

func scanItem(s scanner) (*Item, error) {
	var it Item
	var at string
	var has, present int
	err := s.Scan(&it.ID, &it.Date, &it.Outlet, &it.Counter, &it.Code, &it.Feed, &it.TxnID, &it.Key, &it.N, &it.City,
		&it.Severity, &it.Amount, &has, &it.Detail, &it.Source, &it.State, &present, &it.Reason, &it.Text, &it.Comment,
		&it.By, &it.ByName, &at, &it.RunID, &it.Version)
	if err != nil {
		return nil, err
	}
	it.HasAmount, it.Present = has != 0, present != 0
	if at != "" {
		it.At, _ = time.Parse(time.RFC3339Nano, at)
	}
	return &it, nil
}

// Apply makes the changes as actor, all or none: each is checked against the item's
// current state (and its version when given: ErrStale) and recorded as an event. scope, when
// not nil, must accept every item. Items of an approved counter-day do not move; those of a
// certified one are decided, and explained again after a rejection, but not acknowledged. A
// reviewer does not decide on their own explanation (ErrOwn).
func (d *DB) Apply(ctx context.Context, a Actor, changes []Change, scope func(*Item) bool) ([]*Item, error) {
	var out []*Item
	err := d.tx(ctx, func(t *sql.Tx) error {
		out = out[:0]
		for _, c := range changes {
			it, err := scanItem(t.QueryRowContext(ctx, `SELECT `+itemCols+` FROM items WHERE id=?`, c.ID))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("item %d: %w", c.ID, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if scope != nil && !scope(it) {
				return fmt.Errorf("item %d: %w", c.ID, ErrNotFound)
			}
			if !Allowed(a.Role, c.Action) {
				return fmt.Errorf("%s item %d as %s: %w", c.Action, c.ID, a.Role, ErrState)
			}
			if c.Version != 0 && c.Version != it.Version {
				return fmt.Errorf("item %d: version %d, the page showed %d: %w", c.ID, it.Version, c.Version, ErrStale)
			}
			if it.Counter != "" {
				var status string
				err := t.QueryRowContext(ctx, `SELECT status FROM days WHERE date=? AND outlet=? AND counter=?`, it.Date, it.Outlet, it.Counter).Scan(&status)
				// Certified: the reviewer decides and, after a rejection, the clerk explains
				// again (WORKFLOW.md: rejected → explained needs no certification condition);
				// warnings are not acknowledged any more.
				if err == nil && status == StatusCertified && c.Action == ActAcknowledge {
					return fmt.Errorf("item %d: its counter-day is %s: %w", c.ID, status, ErrState)
				}
				if err == nil && status == StatusApproved {
					return fmt.Errorf("item %d: its counter-day is approved: %w", c.ID, ErrState)
				}
			}
			to, err := transition(it, c)
			if err != nil {
				return err
			}
			if (c.Action == ActAccept || c.Action == ActReject) && it.By != "" && it.By == a.User {
				return fmt.Errorf("%s item %d: %s explained it: another reviewer decides: %w", c.Action, c.ID, a.User, ErrOwn)
			}
			now := d.now().UTC().Round(time.Millisecond)
			ev := Event{Time: now, User: a.User, Display: a.Display, Role: a.Role, Action: c.Action,
				Date: it.Date, Outlet: it.Outlet, Counter: it.Counter, RunID: it.RunID, Item: it.Ref(), From: it.State, To: to}
			switch c.Action {
			case ActExplain:
				it.Reason, it.Text, it.Comment = c.Reason, strings.TrimSpace(c.Text), ""
				ev.Reason, ev.Text = it.Reason, it.Text
			case ActAccept, ActReject:
				it.Comment = strings.TrimSpace(c.Comment)
				ev.Comment = it.Comment
			}
			if c.Action == ActExplain || c.Action == ActAcknowledge {
				it.By, it.ByName, it.At = a.User, a.Display, now
			}
			it.State = to
			it.Version++
			_, err = t.ExecContext(ctx, `UPDATE items SET state=?, reason=?, text=?, comment=?, by_user=?, by_name=?, at=?, version=? WHERE id=? AND version=?`,
				it.State, it.Reason, it.Text, it.Comment, it.By, it.ByName, fmtTime(it.At), it.Version, it.ID, it.Version-1)
			if err != nil {
				return err
			}
			if _, err := d.appendTx(ctx, t, ev); err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Filter selects items; empty fields select all.
type Filter struct {
	From, To        string // biz dates, inclusive
	Outlet, Counter string
	NoCounter       bool     // only items of no counter (an outlet's or the city's)
	NoOutlet        bool     // only the city's items (no outlet)
	PresentOnly     bool     // only items the run of record raises
	Counters        []string // any of these counters
	Outlets         []string // any of these outlets
	States          []string
	Code            string
	Severity        string
	ID              int64
}

// Items returns the items matching f, oldest date first, each with its age and overdue
// flag as of now.
func (d *DB) Items(ctx context.Context, f Filter) ([]*Item, error) {
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("outlet", f.Outlet)
	eq("counter", f.Counter)
	eq("code", f.Code)
	eq("severity", f.Severity)
	if f.From != "" {
		where, args = append(where, "date >= ?"), append(args, f.From)
	}
	if f.To != "" {
		where, args = append(where, "date <= ?"), append(args, f.To)
	}
	if f.ID != 0 {
		where, args = append(where, "id = ?"), append(args, f.ID)
	}
	if f.NoCounter {
		where = append(where, "counter = ''")
	}
	if f.NoOutlet {
		where = append(where, "outlet = ''")
	}
	if f.PresentOnly {
		where = append(where, "present = 1")
	}
	in := func(col string, vs []string) { where, args = whereIn(where, args, col, vs) }
	in("counter", f.Counters)
	in("outlet", f.Outlets)
	in("state", f.States)
	q := `SELECT ` + itemCols + ` FROM items`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY date, outlet, counter, severity, code, feed, txn_id, key, n"
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: items: %w", d.path, err)
	}
	defer rows.Close()
	today := d.today()
	var out []*Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		d.age(it, today)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Item returns one item.
func (d *DB) Item(ctx context.Context, id int64) (*Item, error) {
	its, err := d.Items(ctx, Filter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(its) == 0 {
		return nil, fmt.Errorf("item %d: %w", id, ErrNotFound)
	}
	return its[0], nil
}

// today is the current date in Asia/Shanghai.
func (d *DB) today() time.Time {
	t := d.now().In(engine.Shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, engine.Shanghai)
}

// Today is the current date in Asia/Shanghai, YYYY-MM-DD.
func (d *DB) Today() string { return d.today().Format(time.DateOnly) }

// AgeOf is the whole calendar days from date to today (Asia/Shanghai).
func AgeOf(date string, today time.Time) int {
	t, err := time.ParseInLocation(time.DateOnly, date, engine.Shanghai)
	if err != nil {
		return 0
	}
	// Calendar days, whatever the clock change: count by dates at noon UTC.
	a := time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, time.UTC)
	b := time.Date(today.Year(), today.Month(), today.Day(), 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

func (d *DB) age(it *Item, today time.Time) {
	it.Age = AgeOf(it.Date, today)
	it.Overdue = !Closed(it.State) && it.Age > d.sla
}

// Overdue reports whether a counter-day or item of date not closed is overdue today.
func (d *DB) Overdue(date string) bool { return AgeOf(date, d.today()) > d.sla }

// Age is the age of date today.
func (d *DB) Age(date string) int { return AgeOf(date, d.today()) }

// BucketRow counts the items of one outlet ("" the city's) in one age bucket.
type BucketRow struct {
	Outlet string
	Bucket int
	N      int
	Amount int64 // sum of |amount|
}

// AgeBuckets counts the present items in states by outlet and age bucket: bucket i holds
// the ages from mins[i] to mins[i+1]-1 (the last, mins[i] and older), ages as Items gives.
func (d *DB) AgeBuckets(ctx context.Context, states []string, mins []int) ([]BucketRow, error) {
	today := d.today()
	var cases strings.Builder
	var args []any
	cases.WriteString("CASE")
	for i := len(mins) - 1; i >= 1; i-- {
		cases.WriteString(" WHEN date <= ? THEN " + strconv.Itoa(i))
		args = append(args, today.AddDate(0, 0, -mins[i]).Format(time.DateOnly))
	}
	cases.WriteString(" ELSE 0 END")
	q := `SELECT outlet, ` + cases.String() + ` AS b, count(*), sum(abs(amount)) FROM items WHERE present=1`
	if len(states) > 0 {
		q += " AND state IN (" + strings.TrimSuffix(strings.Repeat("?,", len(states)), ",") + ")"
		for _, s := range states {
			args = append(args, s)
		}
	}
	q += " GROUP BY outlet, b ORDER BY outlet, b"
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: age buckets: %w", d.path, err)
	}
	defer rows.Close()
	var out []BucketRow
	for rows.Next() {
		var r BucketRow
		if err := rows.Scan(&r.Outlet, &r.Bucket, &r.N, &r.Amount); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AgeRange is the dates of the ages from min to max (max < 0: no limit) as a Filter's
// From and To.
func (d *DB) AgeRange(min, max int) (from, to string) {
	today := d.today()
	to = today.AddDate(0, 0, -min).Format(time.DateOnly)
	if max >= 0 {
		from = today.AddDate(0, 0, -max).Format(time.DateOnly)
	}
	return from, to
}

// whereIn adds the condition "col IN (vs…)" and its arguments to a query's: nil vs adds
// nothing (no filter), an empty one a condition nothing meets.
func whereIn(where []string, args []any, col string, vs []string) ([]string, []any) {
	if vs == nil {
		return where, args
	}
	if len(vs) == 0 {
		return append(where, "0"), args
	}
	where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vs)), ",")+")")
	for _, v := range vs {
		args = append(args, v)
	}
	return where, args
}
