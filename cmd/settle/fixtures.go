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
	date, err := parseDate("date", c.String("date"), time.Now())
	if err != nil {
		return cfg, err
	}
	cfg.Date = date
	cfg.Outlets, cfg.Counters, cfg.Seed = c.Int("outlets"), c.Int("counters"), c.Int64("seed")
	cfg.Anomalies, cfg.Dialect, cfg.Layout = c.Float64("anomalies"), c.String("dialect"), c.String("layout")
	cfg.FeedFaults = c.Bool("feed-faults")
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func fixturesCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "fixtures",
		Usage: "generate a synthetic BOSS day (and its ground truth), or serve it through the report API",
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "write a deterministic day of feeds and truth.csv",
				UsageText: "settle fixtures generate --date DATE --out DIR [generator flags]",
				Flags: append(generatorFlags(),
					&cli.StringFlag{Name: "out", Usage: "directory to write into"}),
				Action: func(c *cli.Context) error {
					if c.String("out") == "" {
						return usagef("--out is required")
					}
					cfg, err := generatorConfig(c)
					if err != nil {
						return err
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
