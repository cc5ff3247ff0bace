// Package workflow is the state of closing exceptions (WORKFLOW.md): every exception of a
// counter-day's run of record is an item that is explained, decided, resolved by a later run
// or acknowledged; the counter-day's sign-offs (certify, approve, return, reopen); and the
// tamper-evident log of every event, in one SQLite database in the store, <store>/workflow.db.
//
// The database is opened in WAL mode with synchronous=FULL and a busy timeout, so that a
// command-line process (settle items) and the server may open it at once, and a change is
// acknowledged only after its transaction is on disk: a kill -9 or a full disk loses no
// acknowledged change, and a torn write is rolled back by SQLite when it next opens.
//
// Every change is one transaction: the row it changes (checked against the version the user
// saw: a stale one is refused with ErrStale, "reload") and the event that records it. Events
// are chained as the sign-off log's lines are (package web/signoff): each carries the sha256
// of the line before it and an HMAC of itself under the key in <store>/signoff.key.
package workflow

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"settle/internal/atomicfile"
)

// Files of the workflow in the store.
const (
	FileName = "workflow.db"
	KeyName  = "signoff.key" // the log's key, shared with the sign-off log it replaces
)

// DefaultSLADays is how many days an item may stay undecided before it is overdue.
const DefaultSLADays = 3

// Options of Open.
type Options struct {
	Log *slog.Logger     // nil: none
	Now func() time.Time // nil: time.Now
	// SLADays: an item older than this many days and not closed is overdue (0: the default,
	// DefaultSLADays; negative: 0 days).
	SLADays int
	// VerifyTail is how many of the latest events Open checks (chain and MAC); 0: 1000,
	// negative: all. Verify checks them all.
	VerifyTail int
}

// DB is the open workflow database. Its methods are safe for concurrent use, and other
// processes may use the same file at once.
type DB struct {
	db   *sql.DB
	path string
	key  []byte
	log  *slog.Logger
	now  func() time.Time
	sla  int
	wmu  sync.Mutex // one writer of this process at a time (others wait in SQLite's busy timeout)
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
	seq INTEGER PRIMARY KEY,
	line TEXT NOT NULL,
	time TEXT NOT NULL,
	user TEXT NOT NULL,
	action TEXT NOT NULL,
	date TEXT NOT NULL,
	outlet TEXT NOT NULL,
	counter TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_date ON events(date, outlet, counter);
CREATE INDEX IF NOT EXISTS events_user ON events(user);
CREATE TABLE IF NOT EXISTS days (
	date TEXT NOT NULL, outlet TEXT NOT NULL, counter TEXT NOT NULL,
	status TEXT NOT NULL,
	last_action TEXT NOT NULL DEFAULT '',
	last_comment TEXT NOT NULL DEFAULT '',
	run_id TEXT NOT NULL DEFAULT '',
	pdf_sha256 TEXT NOT NULL DEFAULT '',
	xlsx_sha256 TEXT NOT NULL DEFAULT '',
	cert_sha256 TEXT NOT NULL DEFAULT '',
	cert_file TEXT NOT NULL DEFAULT '',
	cert_seq INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (date, outlet, counter)
);
CREATE INDEX IF NOT EXISTS days_status ON days(status, date);
CREATE INDEX IF NOT EXISTS days_counter ON days(counter, date);
CREATE INDEX IF NOT EXISTS days_outlet ON days(outlet, date);
CREATE TABLE IF NOT EXISTS items (
	id INTEGER PRIMARY KEY,
	date TEXT NOT NULL, outlet TEXT NOT NULL, counter TEXT NOT NULL,
	code TEXT NOT NULL, feed TEXT NOT NULL, txn_id TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
	city TEXT NOT NULL, severity TEXT NOT NULL, amount INTEGER NOT NULL, has_amount INTEGER NOT NULL,
	detail TEXT NOT NULL, source TEXT NOT NULL,
	state TEXT NOT NULL,
	present INTEGER NOT NULL DEFAULT 1,
	reason TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '', comment TEXT NOT NULL DEFAULT '',
	by_user TEXT NOT NULL DEFAULT '', by_name TEXT NOT NULL DEFAULT '', at TEXT NOT NULL DEFAULT '',
	run_id TEXT NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (date, outlet, counter, code, feed, txn_id, key, n)
);
CREATE INDEX IF NOT EXISTS items_state ON items(state, date);
CREATE INDEX IF NOT EXISTS items_outlet ON items(outlet, date);
CREATE INDEX IF NOT EXISTS items_counter ON items(counter, date);
CREATE INDEX IF NOT EXISTS items_age ON items(state, present, outlet, date, amount);
`

// Open opens (creating when missing) <storeDir>/workflow.db and the log's key
// <storeDir>/signoff.key (made on first start, mode 0600). On the first open of a store that
// has a sign-off log (<storeDir>/signoff.log), its events are verified with package
// web/signoff and imported; the old file is left as it is.
func Open(storeDir string, opts Options) (*DB, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.SLADays == 0:
		opts.SLADays = DefaultSLADays
	case opts.SLADays < 0:
		opts.SLADays = 0
	}
	if opts.VerifyTail == 0 {
		opts.VerifyTail = 1000
	}
	key, err := LoadKey(filepath.Join(storeDir, KeyName))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(storeDir, FileName)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_txlock", "immediate")
	sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open workflow %q: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	d := &DB{db: sdb, path: path, key: key, log: opts.Log, now: opts.Now, sla: opts.SLADays}
	ctx := context.Background()
	if err := d.init(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open workflow %q: %w", path, err)
	}
	if err := d.verify(ctx, opts.VerifyTail); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open workflow %q: %w", path, err)
	}
	if err := d.migrate(ctx, storeDir); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open workflow %q: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o007 != 0 {
		os.Chmod(path, 0o640)
	}
	return d, nil
}

// init makes the tables when they are missing. On a database that has them it writes
// nothing, so a full disk does not keep the server from starting.
func (d *DB) init(ctx context.Context) error {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('meta','events','days','items','items_age')`).Scan(&n); err != nil {
		return err
	}
	if n == 5 {
		return nil
	}
	_, err := d.db.ExecContext(ctx, schema)
	return err
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Path is the database file.
func (d *DB) Path() string { return d.path }

// SLADays is the SLA in days.
func (d *DB) SLADays() int { return d.sla }

// LoadKey reads the log's key at path, making one (mode 0600) when there is none. A key
// others may read is refused.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		rand.Read(k)
		cerr := atomicfile.Create(path, 0o600, func(w io.Writer) error { _, err := w.Write(k); return err })
		if cerr != nil && !errors.Is(cerr, fs.ErrExist) {
			return nil, fmt.Errorf("make key %q: %w", path, cerr)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key %q: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read key %q: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key %q has mode %04o: others may read it; chmod 600 it", path, fi.Mode().Perm())
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("key %q: %d bytes, want at least 32", path, len(b))
	}
	return b, nil
}

// tx runs fn in one immediate transaction, retrying it when SQLite reports the database
// busy beyond the busy timeout is not the case (it waits inside); fn's error rolls it back.
func (d *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	t, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("workflow %q: begin: %w", d.path, err)
	}
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("workflow %q: commit: %w", d.path, err)
	}
	return nil
}

func (d *DB) getMeta(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k string) (string, bool, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT v FROM meta WHERE k=?`, k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}
