package workflow

import (
	"context"
	"database/sql"
)

// usersKey is the meta key of the users file as the trail last recorded it.
const usersKey = "users"

// UsersSnapshot returns the users file as the trail last recorded it (an opaque text the
// caller wrote with RecordUsers; ok false: never recorded).
func (d *DB) UsersSnapshot(ctx context.Context) (snap string, ok bool, err error) {
	return d.getMeta(ctx, d.db, usersKey)
}

// RecordUsers appends the user_change events and stores the users file's new snapshot, in
// one transaction: a change is recorded once, whether the server saw it running or found it
// on its next start.
func (d *DB) RecordUsers(ctx context.Context, snap string, events []Event) error {
	return d.tx(ctx, func(t *sql.Tx) error {
		for _, e := range events {
			if _, err := d.appendTx(ctx, t, e); err != nil {
				return err
			}
		}
		_, err := t.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v=excluded.v`, usersKey, snap)
		return err
	})
}
