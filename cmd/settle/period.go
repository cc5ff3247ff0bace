package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"settle/job"
	"settle/money"
	"settle/period"
	"settle/workflow"
)

// periodCommand is `settle period` (PERIOD.md): the period report, and its close and reopen.
func periodCommand(stderr io.Writer) *cli.Command {
	rangeFlags := func() []cli.Flag {
		return []cli.Flag{
			&cli.StringFlag{Name: "month", Usage: "the period: a calendar month, YYYY-MM"},
			&cli.StringFlag{Name: "from", Usage: "the period's first date, YYYY-MM-DD (with --to, instead of --month)"},
			&cli.StringFlag{Name: "to", Usage: "the period's last date, YYYY-MM-DD"},
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.DurationFlag{Name: "lock-timeout", Value: time.Hour, Usage: "how long to wait for another writer of the period"},
		}
	}
	return &cli.Command{
		Name:      "period",
		Usage:     "month-end close: build the period report from published runs, close or reopen a period",
		UsageText: "settle period --month YYYY-MM | --from DATE --to DATE [--store DIR] [--formats xlsx,pdf] [--lang zh|en] [--fail-on never|error|warning]\n   settle period close --month YYYY-MM [--by NAME] [--comment TEXT]\n   settle period reopen --month YYYY-MM --by NAME --comment TEXT",
		Flags: append(rangeFlags(),
			&cli.StringFlag{Name: "formats", Value: "xlsx,pdf", Usage: "report formats: xlsx, pdf, both, or empty for none"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the reports and the findings' details: zh or en"},
			&cli.StringFlag{Name: "fail-on", Value: "never", Usage: "exit 3 when period findings of this severity or worse exist: never, error, warning"},
			&cli.StringFlag{Name: "shortfall-limit", Value: "500.00", Usage: "SHORTFALL_CUMULATIVE fires when a counter's shortfalls add up to minus this many yuan or more"},
			&cli.IntFlag{Name: "sla-days", Value: workflow.DefaultSLADays, Usage: "an item open, explained or rejected longer than this many days at the period's end is overdue (ITEMS_OVERDUE)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "quiet", Usage: "only warnings in the log"},
		),
		Action: func(c *cli.Context) error { return periodReport(c, stderr) },
		Subcommands: []*cli.Command{
			{
				Name:      "close",
				Usage:     "close a period: its dates can no longer be rerun, its report of record is fixed",
				UsageText: "settle period close --month YYYY-MM [--by NAME] [--comment TEXT]",
				Flags: append(rangeFlags(),
					&cli.StringFlag{Name: "by", Usage: "who closes the period (default: $USER)"},
					&cli.StringFlag{Name: "comment", Usage: "why, or anything the trail should say"}),
				Action: func(c *cli.Context) error { return periodClose(c, true) },
			},
			{
				Name:      "reopen",
				Usage:     "reopen a closed period (needs --by and --comment; logged)",
				UsageText: "settle period reopen --month YYYY-MM --by NAME --comment TEXT",
				Flags: append(rangeFlags(),
					&cli.StringFlag{Name: "by", Usage: "who reopens the period"},
					&cli.StringFlag{Name: "comment", Usage: "why it is reopened"}),
				Action: func(c *cli.Context) error { return periodClose(c, false) },
			},
		},
	}
}

// periodFrom reads --month or --from/--to.
func periodFrom(c *cli.Context) (period.Period, error) {
	month, from, to := c.String("month"), c.String("from"), c.String("to")
	switch {
	case month != "" && (from != "" || to != ""):
		return period.Period{}, usagef("--month and --from/--to: give one or the other")
	case month != "":
		p, err := period.Month(month)
		if err != nil {
			return p, usagef("--month: %v", err)
		}
		return p, nil
	case from != "" && to != "":
		p, err := period.Range(from, to)
		if err != nil {
			return p, usagef("--from/--to: %v", err)
		}
		return p, nil
	}
	return period.Period{}, usagef("give --month YYYY-MM, or --from DATE and --to DATE")
}

// periodExit is a period outcome with its own exit code (3, 4); the message is printed here.
type periodExit struct {
	code int
	msg  string
}

func (e periodExit) Error() string { return e.msg }
func (e periodExit) ExitCode() int { return e.code }

func periodReport(c *cli.Context, stderr io.Writer) error {
	p, err := periodFrom(c)
	if err != nil {
		return err
	}
	now, err := job.Clock()
	if err != nil {
		return usageError{err}
	}
	log, err := newLogger(stderr, c.String("log-format"), c.Bool("quiet"))
	if err != nil {
		return err
	}
	lang := c.String("lang")
	if lang != "zh" && lang != "en" {
		return usagef("--lang %q: want zh or en", lang)
	}
	failOn := c.String("fail-on")
	switch failOn {
	case "never", "error", "warning":
	default:
		return usagef("--fail-on %q: want never, error or warning", failOn)
	}
	limit, err := money.Parse(strings.TrimPrefix(c.String("shortfall-limit"), "-"))
	if err != nil || limit == 0 {
		return usagef("--shortfall-limit %q: want an amount in yuan above 0", c.String("shortfall-limit"))
	}
	o := period.Options{StoreDir: c.String("store"), Period: p, Lang: lang, ShortfallLimit: limit, ToolVersion: job.Version,
		Now: now, LockTimeout: c.Duration("lock-timeout"), Log: log}
	for _, f := range strings.Split(c.String("formats"), ",") {
		switch strings.TrimSpace(f) {
		case "":
		case "xlsx":
			o.XLSX = true
		case "pdf":
			o.PDF = true
		case "both":
			o.XLSX, o.PDF = true, true
		default:
			return usagef("--formats %q: %q is not xlsx or pdf", c.String("formats"), f)
		}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit) // as settle run: a province-month stays under 2 GiB
	}
	if c.Int("sla-days") < 0 {
		return usagef("--sla-days %d: want 0 or more", c.Int("sla-days"))
	}
	if err := storeExists(o.StoreDir); err != nil {
		return err
	}
	so, items, _, closeSrc, err := periodSourcesSLA(o.StoreDir, c.Int("sla-days"))
	if err != nil {
		return err
	}
	defer closeSrc()
	o.SignOffs, o.Items = so, items
	out, err := period.Run(c.Context, o)
	if errors.Is(err, period.ErrClosed) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	m := out.Manifest
	status := "complete"
	if !out.Complete {
		status = "INCOMPLETE"
	}
	fmt.Fprintf(c.App.Writer, "%s  %s  %s  %d counters  %d findings  %s\n", p.Name(), out.RunID, status, m.Counters, m.Findings.Total, out.Dir)
	if !out.Complete {
		fmt.Fprintf(stderr, "settle: period published, but some date has no complete run (missing: %s)\n", strings.Join(m.MissingDates, ","))
		return periodExit{exitIncomplete, "incomplete"}
	}
	errs, warns := m.Findings.BySeverity[period.SevError], m.Findings.BySeverity[period.SevWarning]
	if failOn == "error" && errs > 0 || failOn == "warning" && errs+warns > 0 {
		fmt.Fprintln(stderr, "settle: period published with findings at or above --fail-on")
		return periodExit{exitFailOn, "fail-on"}
	}
	return nil
}

func periodClose(c *cli.Context, closing bool) error {
	p, err := periodFrom(c)
	if err != nil {
		return err
	}
	now, err := job.Clock()
	if err != nil {
		return usageError{err}
	}
	by, comment := strings.TrimSpace(c.String("by")), c.String("comment")
	if !closing && (by == "" || strings.TrimSpace(comment) == "") {
		return usagef("settle period reopen needs --by NAME and --comment TEXT")
	}
	if by == "" {
		by = envUser()
	}
	if by == "" {
		return usagef("settle period close: give --by NAME (no $USER to take it from)")
	}
	storeDir := c.String("store")
	if err := storeExists(storeDir); err != nil {
		return err
	}
	_, _, trail, closeSrc, err := periodSources(storeDir)
	if err != nil {
		return err
	}
	defer closeSrc()
	o := period.CloseOptions{By: by, Comment: comment, Now: now(), Trail: trail, LockTimeout: c.Duration("lock-timeout")}
	var cl period.Closure
	if closing {
		cl, err = period.Close(c.Context, storeDir, p, o)
	} else {
		cl, err = period.Reopen(c.Context, storeDir, p, o)
	}
	if errors.Is(err, period.ErrClosed) || errors.Is(err, period.ErrNotClosed) || errors.Is(err, period.ErrNoReport) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	verb := "closed"
	if !closing {
		verb = "reopened"
	}
	fmt.Fprintf(c.App.Writer, "%s  %s by %s at %s  report of record %s\n", cl.Period, verb, cl.By, cl.At.Format(time.RFC3339), cl.RunID)
	return nil
}

// envUser is the login name of whoever runs the command: $USER, else $LOGNAME.
func envUser() string {
	if u := strings.TrimSpace(os.Getenv("USER")); u != "" {
		return u
	}
	return strings.TrimSpace(os.Getenv("LOGNAME"))
}

// storeExists refuses a --store that is not a directory: a period is built from published
// runs, and a mistyped store has none — an empty month published there would only hide the
// typo (exit 2, nothing written).
func storeExists(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return usagef("--store %q: %v (a period is built from the runs of an existing store)", dir, err)
	}
	if !fi.IsDir() {
		return usagef("--store %q: not a directory", dir)
	}
	return nil
}
