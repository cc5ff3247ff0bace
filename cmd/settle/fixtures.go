package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"settle/engine"
	"settle/fixtures"
)

// generatorFlags are the flags `fixtures generate` and `fixtures serve` share: the same
// flags give the same day.
func generatorFlags() []cli.Flag {
	def := fixtures.NewConfig()
	return []cli.Flag{
		&cli.StringFlag{Name: "date", Usage: "business date: YYYY-MM-DD, today or yesterday"},
		&cli.IntFlag{Name: "outlets", Value: def.Outlets, Usage: "outlets in the city"},
		&cli.IntFlag{Name: "counters", Value: def.Counters, Usage: "counters per outlet"},
		&cli.Int64Flag{Name: "seed", Value: def.Seed, Usage: "random seed: the same seed gives the same day"},
		&cli.Float64Flag{Name: "anomalies", Value: def.Anomalies, Usage: "probability per counter of an injected anomaly (0 = a clean day)"},
		&cli.StringFlag{Name: "dialect", Value: def.Dialect, Usage: "canonical or boss"},
		&cli.StringFlag{Name: "layout", Value: def.Layout, Usage: "city (one file per feed) or counter (one file per counter per feed)"},
		&cli.BoolFlag{Name: "feed-faults", Usage: "inject " + string(engine.CodeFeedMissing) + " and " + string(engine.CodeFeedTotalMismatch) + " (they make counters incomplete), a row keyed to another outlet and a deposit exported twice"},
	}
}

func generatorConfig(c *cli.Context) (fixtures.Config, error) {
	cfg := fixtures.NewConfig()
	if month(c) {
		if c.IsSet("date") {
			return cfg, usagef("--date: not with --from/--to (a month is written a directory per date)")
		}
		from, err := parseDate("from", c.String("from"), time.Now())
		if err != nil {
			return cfg, err
		}
		to, err := parseDate("to", c.String("to"), time.Now())
		if err != nil {
			return cfg, err
		}
		if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
			return cfg, usagef("--from %s --to %s: the period must run forwards, at most a year", c.String("from"), c.String("to"))
		}
		cfg = fixtures.MonthConfig(cfg, from, to, from)
	} else {
		date, err := parseDate("date", c.String("date"), time.Now())
		if err != nil {
			return cfg, err
		}
		cfg.Date = date
	}
	cfg.Outlets, cfg.Counters, cfg.Seed = c.Int("outlets"), c.Int("counters"), c.Int64("seed")
	cfg.Anomalies, cfg.Dialect, cfg.Layout = c.Float64("anomalies"), c.String("dialect"), c.String("layout")
	cfg.FeedFaults = c.Bool("feed-faults")
	if cfg.FeedFaults && month(c) {
		return cfg, usagef("--feed-faults: not with --from/--to (a month's truth assumes complete days)")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// month reports whether the command asks for a period (--from/--to) rather than a day.
func month(c *cli.Context) bool { return c.IsSet("from") || c.IsSet("to") }

func fixturesCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "fixtures",
		Usage: "generate a synthetic BOSS day (and its ground truth), or serve it through the report API",
		Subcommands: []*cli.Command{
			{
				Name:  "generate",
				Usage: "write a deterministic day of feeds and truth.csv, or a month of them with period_truth.csv",
				UsageText: "settle fixtures generate --date DATE --out DIR [generator flags]\n" +
					"   settle fixtures generate --from DATE --to DATE --out DIR [generator flags]",
				Description: "Each date is its own day over the same outlets and counters. With --from/--to, one\n" +
					"directory per date (DIR/YYYY-MM-DD) whose truth.csv assumes the earlier dates were run\n" +
					"first (run them in date order): some counters refund earlier days' sales, and eight\n" +
					"play the period patterns of the period checks (or a near miss); DIR/period_truth.csv\n" +
					"lists the period findings they raise.",
				Flags: append(generatorFlags(),
					&cli.StringFlag{Name: "out", Usage: "directory to write into"},
					&cli.StringFlag{Name: "from", Usage: "first date of a month of fixtures (with --to, instead of --date)"},
					&cli.StringFlag{Name: "to", Usage: "last date of a month of fixtures"}),
				Action: func(c *cli.Context) error {
					if c.String("out") == "" {
						return usagef("--out is required")
					}
					cfg, err := generatorConfig(c)
					if err != nil {
						return err
					}
					if month(c) {
						days, exceptions := 0, 0
						findings, err := fixtures.WriteMonth(cfg, cfg.PeriodFrom, cfg.PeriodTo, c.String("out"), func(d *fixtures.Day) {
							days++
							exceptions += len(d.Truth)
						})
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "wrote %s: %d dates of %d outlets × %d counters, %d expected exceptions, %d expected period findings\n",
							c.String("out"), days, cfg.Outlets, cfg.Counters, exceptions, len(findings))
						return nil
					}
					day, err := fixtures.Generate(cfg)
					if err != nil {
						return err
					}
					if err := fixtures.WriteDir(day, c.String("out")); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "wrote %s: %d outlets × %d counters, %d expected exceptions\n",
						c.String("out"), cfg.Outlets, cfg.Counters, len(day.Truth))
					return nil
				},
			},
			fixturesServeCommand(stderr),
		},
	}
}
