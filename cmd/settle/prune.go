package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"settle/engine"
	"settle/internal/i18n"
	"settle/job"
	"settle/store"
	"settle/web/signoff"
	"settle/workflow"
)

// Defaults of the retention policy: a month and a few days of every run (a rerun can still be
// compared with the one before it through the month's close), then only the two runs of a
// date published last, besides those that are current, signed off or used by a closed period.
const (
	defaultKeepDays = 35
	defaultKeepRuns = 2
)

// opsFlags are the flags of `settle run` for operations (issue 16): the metrics textfile and
// the retention applied after publishing.
func opsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics-file", Usage: "write Prometheus metrics of the run to this textfile (node_exporter textfile collector) at its end, success or failure"},
		&cli.StringFlag{Name: "metrics-city", Value: "all", Usage: "the city label of the metrics (one textfile per city's job)"},
		&cli.BoolFlag{Name: "prune", Usage: "after publishing, apply the retention policy (--keep-days, --keep-runs) to the store"},
		&cli.IntFlag{Name: "keep-days", Aliases: []string{"keep_days"}, Value: defaultKeepDays, Usage: "retention: keep every run of the dates of the last `N` days"},
		&cli.IntFlag{Name: "keep-runs", Aliases: []string{"keep_runs"}, Value: defaultKeepRuns, Usage: "retention: keep the last `K` published runs of every date"},
	}
}

// pruneAfterRun is the policy of `settle run --prune`, or nil without --prune.
func pruneAfterRun(c *cli.Context) *store.PruneOptions {
	if !c.Bool("prune") {
		return nil
	}
	return &store.PruneOptions{KeepDays: c.Int("keep-days"), KeepRuns: c.Int("keep-runs"), LockTimeout: 0}
}

// pruneAfter applies the policy after a run published. Its failure is logged, not returned:
// the run is published and its exit code stays the run's.
func pruneAfter(ctx context.Context, st *store.Store, o store.PruneOptions, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now, err := job.Clock()
	if err != nil {
		log.Error("prune", "err", err)
		return
	}
	o.Today = now().In(engine.Shanghai)
	o.Pinned = signoffPins(st.Dir())
	rep, err := st.Prune(ctx, o)
	if err != nil {
		log.Error("prune", "err", err)
		return
	}
	log.Info("pruned", "removed", len(rep.Removed), "bytes", rep.Bytes, "busy", rep.Busy)
	for _, h := range rep.InputsHeld {
		log.Warn("prune: kept inputs left in place: a run that stays cannot be read", "date", h.Date, "err", h.Err)
	}
}

// signoffPins gives the runs a certification or an approval ever named: not only those
// pinned now, since the audit page shows every event and the run it named. Two places hold
// them: the sign-off log (<store>/signoff.log, written before the workflow database; read
// by logPins) and the workflow database (<store>/workflow.db, which imports that log once
// and holds every sign-off since; read by workflowPins). Both are read, so that a store
// migrated or not, or a log not yet imported, keeps every signed run.
func signoffPins(storeDir string) store.PinnedRuns {
	return func() (map[store.RunRef]bool, error) {
		pins := map[store.RunRef]bool{}
		if err := logPins(storeDir, pins); err != nil {
			return nil, err
		}
		if err := workflowPins(storeDir, pins); err != nil {
			return nil, err
		}
		return pins, nil
	}
}

// logPins adds the runs <store>/signoff.log names in a certification or an approval. The log
// is read line by line without its key (retention needs no proof that a line is genuine: a
// forged line can only keep a run longer); a torn last line, which the next append repairs,
// is skipped; any other line that does not parse stops the prune.
func logPins(storeDir string, pins map[store.RunRef]bool) error {
	path := filepath.Join(storeDir, signoff.FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1] // the torn tail of an append cut short: not an event
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		var e signoff.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if (e.Action == signoff.Certify || e.Action == signoff.Approve) && e.RunID != "" {
			pins[store.RunRef{Date: e.Date, RunID: e.RunID}] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %q: %w", path, err)
	}
	return nil
}

// workflowPins adds the runs the workflow database (<store>/workflow.db) pins: every
// certification's and approval's run in its event log, and every counter-day certified or
// approved now. The database is opened without creating it (mode=rw: a store without one
// has none) and only read; workflow.Open is not used, since it would create the database,
// import the sign-off log and check the chain, none of which retention should do. An event
// that does not parse, or a database that cannot be read, stops the prune.
func workflowPins(storeDir string, pins map[store.RunRef]bool) error {
	path := filepath.Join(storeDir, workflow.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", "busy_timeout(15000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT seq, line FROM events WHERE action IN (?, ?)`, workflow.ActCertify, workflow.ActApprove)
	if err != nil {
		return fmt.Errorf("%s: sign-off events: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq  int64
			line string
		)
		if err := rows.Scan(&seq, &line); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var e struct {
			Date  string `json:"date"`
			RunID string `json:"run_id"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return fmt.Errorf("%s: event %d: %w", path, seq, err)
		}
		if e.RunID != "" {
			pins[store.RunRef{Date: e.Date, RunID: e.RunID}] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	days, err := db.Query(`SELECT date, run_id FROM days WHERE status IN (?, ?) AND run_id != ''`, workflow.StatusCertified, workflow.StatusApproved)
	if err != nil {
		return fmt.Errorf("%s: pinned counter-days: %w", path, err)
	}
	defer days.Close()
	for days.Next() {
		var r store.RunRef
		if err := days.Scan(&r.Date, &r.RunID); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		pins[r] = true
	}
	return days.Err()
}

func pruneCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "remove old runs the retention policy does not keep, and what interrupted runs left",
		UsageText: "settle prune [--store DIR] [--keep-days N] [--keep-runs K] [--dry-run] [--lang zh|en]",
		Description: "Never removed: a date's current run, a run a sign-off names, a run a closed period used.\n" +
			"A run is removed when its date is at least --keep-days days old and it is not one of the\n" +
			"--keep-runs runs of its date published last. runs/.tmp-* leftovers always go. Each date is\n" +
			"pruned under its lock; a date a run holds is skipped and named. Then a date's kept inputs\n" +
			"(<date>/inputs) that no remaining run names in its manifest go, with inputs/.tmp-* leftovers;\n" +
			"--dry-run lists each such input.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.IntFlag{Name: "keep-days", Aliases: []string{"keep_days"}, Value: defaultKeepDays, Usage: "keep every run of the dates of the last `N` days"},
			&cli.IntFlag{Name: "keep-runs", Aliases: []string{"keep_runs"}, Value: defaultKeepRuns, Usage: "keep the last `K` published runs of every date"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be removed; remove nothing"},
			&cli.DurationFlag{Name: "lock-timeout", Value: 0, Usage: "how long to wait for each date's lock (0: skip a locked date)"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the report: zh or en"},
			&cli.StringFlag{Name: "config", Usage: "config file of key = value lines (keys are these flags' names); flags win"},
		},
		Action: func(c *cli.Context) error {
			if p := c.String("config"); p != "" {
				if err := applyConfig(c, p); err != nil {
					return err
				}
			}
			lang, err := i18n.Parse(c.String("lang"))
			if err != nil {
				return usagef("--lang: %v", err)
			}
			if c.Int("keep-days") < 0 || c.Int("keep-runs") < 0 {
				return usagef("--keep-days %d, --keep-runs %d: must not be negative", c.Int("keep-days"), c.Int("keep-runs"))
			}
			now, err := job.Clock()
			if err != nil {
				return usageError{err}
			}
			st, err := store.Open(c.String("store"))
			if err != nil {
				return err
			}
			o := store.PruneOptions{
				KeepDays: c.Int("keep-days"), KeepRuns: c.Int("keep-runs"), DryRun: c.Bool("dry-run"),
				LockTimeout: c.Duration("lock-timeout"), Today: now().In(engine.Shanghai), Pinned: signoffPins(st.Dir()),
			}
			rep, err := st.Prune(c.Context, o)
			if rep != nil {
				printPrune(c.App.Writer, lang, st.Dir(), rep, o.DryRun)
			}
			return err
		},
	}
}

// printPrune writes one line per directory removed, then the total.
func printPrune(w io.Writer, lang i18n.Lang, dir string, rep *store.PruneReport, dry bool) {
	verb, total := i18n.OpsPruneRemoved, i18n.OpsPruneTotal
	if dry {
		verb, total = i18n.OpsPruneWouldRemove, i18n.OpsPruneWouldTotal
	}
	for _, r := range rep.Removed {
		rel, err := filepath.Rel(dir, r.Path)
		if err != nil {
			rel = r.Path
		}
		why := lang.S(i18n.OpsPrunePolicy)
		switch r.Reason {
		case store.ReasonLeftover:
			why = lang.S(i18n.OpsPruneLeftover)
		case store.ReasonInputs:
			why = lang.F(i18n.OpsPruneInputs, len(r.Files))
		case store.ReasonCache:
			why = lang.S(i18n.OpsPruneCache)
		}
		fmt.Fprintf(w, "%s  %s  %s  %s\n", lang.S(verb), filepath.ToSlash(rel), why, humanBytes(r.Bytes))
		if dry { // a dry run is read before the real one: name each input
			for _, f := range r.Files {
				fmt.Fprintf(w, "    %s/%s\n", filepath.ToSlash(rel), f)
			}
		}
	}
	for _, d := range rep.Busy {
		fmt.Fprintln(w, lang.F(i18n.OpsPruneBusy, d))
	}
	for _, h := range rep.InputsHeld {
		fmt.Fprintln(w, lang.F(i18n.OpsPruneInputsHeld, h.Date, h.Err))
	}
	fmt.Fprintln(w, lang.F(total, len(rep.Removed), humanBytes(rep.Bytes), rep.Bytes))
}

// humanBytes writes n in B, KiB, MiB or GiB with one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/unit, "KiB"
	for _, next := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, u = v/unit, next
	}
	return fmt.Sprintf("%.1f %s", v, u)
}
