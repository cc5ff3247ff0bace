package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"settle/internal/i18n"
	"settle/job"
	"settle/store"
	"settle/web"
	"settle/workflow"
)

// itemsCommand is `settle items`: the workflow's items with their state and age
// (WORKFLOW.md), the same rows as the pages' downloads.
func itemsCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "items",
		Usage:     "list the exceptions' items with their state, reason and age",
		UsageText: "settle items DATE | --from DATE --to DATE [--state S[,S]] [--code C] [--outlet O] [--format table|csv|xlsx] [--store DIR] [--sla-days N] [--lang zh|en]",
		Description: "Every exception of a counter-day's run of record is an item: open, explained, accepted,\n" +
			"rejected, resolved (a later run no longer raises it) or acknowledged (a warning). The list\n" +
			"is read from <store>/workflow.db (reconciled first with any newer run of the dates), oldest\n" +
			"first; `--state open,explained,rejected` is the auditor's city view. The server may run\n" +
			"at the same time.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "first business date (YYYY-MM-DD, today or yesterday)"},
			&cli.StringFlag{Name: "to", Usage: "last business date"},
			&cli.StringFlag{Name: "state", Usage: "only items in these states (comma-separated): open, explained, accepted, rejected, resolved, acknowledged"},
			&cli.StringFlag{Name: "code", Usage: "only items of this exception code"},
			&cli.StringFlag{Name: "outlet", Usage: "only items of this outlet"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table, csv or xlsx (xlsx: write to stdout redirected to a file)"},
			&cli.StringFlag{Name: "store", Value: defaultStore(), Usage: "run store directory (env SETTLE_STORE)"},
			&cli.IntFlag{Name: "sla-days", Value: workflow.DefaultSLADays, Usage: "an item older than `DAYS` and not closed is overdue"},
			&cli.StringFlag{Name: "lang", Value: "zh", Usage: "language of the column names: zh or en"},
			&cli.StringFlag{Name: "config", Usage: "config file of key = value lines (keys are these flags' names); flags win"},
		},
		Action: func(c *cli.Context) error {
			if p := c.String("config"); p != "" {
				if err := applyConfig(c, p); err != nil {
					return err
				}
			}
			return listItems(c)
		},
	}
}

func listItems(c *cli.Context) error {
	now, err := job.Clock()
	if err != nil {
		return usageError{err}
	}
	from, to := c.String("from"), c.String("to")
	switch {
	case c.NArg() == 1 && from == "" && to == "":
		from, to = c.Args().First(), c.Args().First()
	case c.NArg() == 0 && from != "" && to != "":
	default:
		return usagef("give one DATE, or --from DATE and --to DATE")
	}
	f, err := parseDate("from", from, now())
	if err != nil {
		return err
	}
	t, err := parseDate("to", to, now())
	if err != nil {
		return err
	}
	if t.Before(f) {
		return usagef("--to %s is before --from %s", t.Format(time.DateOnly), f.Format(time.DateOnly))
	}
	if t.Sub(f) > 3660*24*time.Hour {
		return usagef("--from %s --to %s: at most ten years", from, to)
	}
	format := c.String("format")
	if format != "table" && format != "csv" && format != "xlsx" {
		return usagef("--format %q: want table, csv or xlsx", format)
	}
	lang, err := i18n.Parse(c.String("lang"))
	if err != nil {
		return usageError{err}
	}
	if c.Int("sla-days") < 0 {
		return usagef("--sla-days %d: 0 or more", c.Int("sla-days"))
	}
	var states []string
	if s := c.String("state"); s != "" {
		for _, st := range strings.Split(s, ",") {
			st = strings.TrimSpace(st)
			if !slices.Contains(workflow.States, st) {
				return usagef("--state %q: want one of %s", st, strings.Join(workflow.States, ", "))
			}
			states = append(states, st)
		}
	}
	st, err := store.Open(c.String("store"))
	if err != nil {
		return err
	}
	sla := c.Int("sla-days")
	if sla == 0 {
		sla = -1 // 0 days: anything older than today is overdue
	}
	db, err := workflow.Open(st.Dir(), workflow.Options{Now: now, SLADays: sla})
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		if err := db.Sync(ctx, st, d.Format(time.DateOnly)); err != nil {
			return err
		}
	}
	its, err := db.Items(ctx, workflow.Filter{From: f.Format(time.DateOnly), To: t.Format(time.DateOnly), States: states,
		Code: c.String("code"), Outlet: c.String("outlet")})
	if err != nil {
		return err
	}
	out := c.App.Writer
	if format != "table" {
		return web.WriteItems(out, lang.String(), format, its)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	cols := []string{"ID", "DATE", "OUTLET", "COUNTER", "CODE", "TXN", "SEVERITY", "AMOUNT", "STATE", "AGE", "REASON", "TEXT"}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, it := range its {
		rec := web.ItemRecordIn(lang.String(), it)
		age := rec[13]
		if it.Overdue {
			age += " !"
		}
		fmt.Fprintln(tw, strings.Join([]string{rec[0], rec[2], rec[3], rec[4], rec[5], rec[7], rec[9], rec[10], rec[12], age, rec[15], rec[16]}, "\t"))
	}
	return tw.Flush()
}
