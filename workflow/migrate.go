package workflow

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"settle/web/signoff"
)

// migrate imports <storeDir>/signoff.log once: it is read from a copy (so that not even the
// repair of a torn last line touches the old file) through package signoff, which checks
// every line's chain and MAC, and each event becomes an event of this log, the counter-days
// taking their status from them. A log that does not verify keeps the database from opening,
// as it kept the server from starting before.
func (d *DB) migrate(ctx context.Context, storeDir string) error {
	old := filepath.Join(storeDir, signoff.FileName)
	data, err := os.ReadFile(old)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrate %q: %w", old, err)
	}
	if _, done, err := d.getMeta(ctx, d.db, "migrated:"+signoff.FileName); err != nil || done {
		return err
	}
	sum := sha256.Sum256(data)
	tmp, err := os.CreateTemp("", "signoff-migrate-*.log")
	if err != nil {
		return fmt.Errorf("migrate %q: %w", old, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("migrate %q: %w", old, err)
	}
	tmp.Close()
	l, err := signoff.Open(tmp.Name(), d.key, signoff.Options{Log: d.log, Now: d.now})
	if err != nil {
		return fmt.Errorf("migrate %q: %w", old, err)
	}
	evs, err := l.Events("")
	l.Close()
	if err != nil {
		return fmt.Errorf("migrate %q: %w", old, err)
	}
	return d.tx(ctx, func(t *sql.Tx) error {
		if _, done, err := d.getMeta(ctx, t, "migrated:"+signoff.FileName); err != nil || done {
			return err // another process migrated it meanwhile
		}
		for _, e := range evs {
			ev := Event{Time: e.Time, User: e.User, Display: e.Display, Role: e.Role, Action: string(e.Action), Date: e.Date,
				Outlet: e.Outlet, Counter: e.Counter, RunID: e.RunID, PDFSHA256: e.PDFSHA256, XLSXSHA256: e.XLSXSHA256,
				Comment: e.Comment}
			if _, err := d.appendTx(ctx, t, ev); err != nil {
				return err
			}
			if e.Action == signoff.Repair {
				continue
			}
			y, err := d.dayQ(ctx, t, e.Date, e.Outlet, e.Counter)
			if err != nil {
				return err
			}
			switch e.Action {
			case signoff.Certify:
				y.Status, y.RunID, y.PDFSHA256, y.XLSXSHA256 = StatusCertified, e.RunID, e.PDFSHA256, e.XLSXSHA256
			case signoff.Approve:
				y.Status = StatusApproved
			case signoff.Return, signoff.Reopen:
				y.Status, y.RunID, y.PDFSHA256, y.XLSXSHA256 = StatusOpen, "", "", ""
			}
			y.LastAction, y.LastComment = string(e.Action), e.Comment
			if err := d.putDay(ctx, t, y); err != nil {
				return err
			}
		}
		hexsum := hex.EncodeToString(sum[:])
		if _, err := d.appendTx(ctx, t, Event{User: SystemUser, Role: "system", Action: ActMigrate,
			Comment: fmt.Sprintf("imported %d events of %s (%d bytes, sha256 %s); the file is kept as it was", len(evs), signoff.FileName, len(data), hexsum)}); err != nil {
			return err
		}
		_, err := t.ExecContext(ctx, `INSERT INTO meta(k, v) VALUES (?, ?)`, "migrated:"+signoff.FileName, hexsum)
		return err
	})
}
