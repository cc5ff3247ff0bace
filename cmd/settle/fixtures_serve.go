package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"settle/fixtures"
	"settle/fixtures/sim"
)

// fixturesServeCommand is `settle fixtures serve`: the BOSS report API simulator.
func fixturesServeCommand(stderr io.Writer) *cli.Command {
	def := sim.NewConfig()
	return &cli.Command{
		Name:  "serve",
		Usage: "serve a generated day through the BOSS report API, with faults on demand",
		UsageText: "settle fixtures serve --addr 127.0.0.1:PORT --date DATE [generator flags]\n" +
			"   [--latency DUR] [--fail-rate P] [--throttle-rate P] [--truncate-rate P] [--token T]\n" +
			"   [--hostile FEED/COUNTER=KIND[:OTHER] ...]",
		Description: "Serves the day `fixtures generate` writes with the same generator flags, one pull per\n" +
			"counter per feed (the counter layout), in the BOSS dialect unless --dialect says otherwise.\n" +
			"Faults are transient: a pull fails at most --max-faults times in a row.",
		Flags: append(generatorFlags(),
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "address to listen on (port 0: any free port)"},
			&cli.DurationFlag{Name: "latency", Usage: "wait before every answer"},
			&cli.Float64Flag{Name: "fail-rate", Usage: "probability that a request is answered 503"},
			&cli.Float64Flag{Name: "throttle-rate", Usage: "probability that a request is answered 429 with Retry-After"},
			&cli.Float64Flag{Name: "truncate-rate", Usage: "probability that a body is cut short"},
			&cli.DurationFlag{Name: "retry-after", Value: def.RetryAfter, Usage: "the Retry-After of a 429, in whole seconds"},
			&cli.IntFlag{Name: "max-faults", Value: def.MaxFaults, Usage: "faults in a row after which a pull is answered whole (0: no limit)"},
			&cli.Uint64Flag{Name: "fault-seed", Value: def.Seed, Usage: "random seed of the faults"},
			&cli.StringFlag{Name: "token", Usage: "require Authorization: Bearer TOKEN (401 without it)"},
			&cli.StringSliceFlag{Name: "hostile", Usage: "answer one pull with a hostile body, every time: FEED/COUNTER=other-feed:FEED, other-counter:COUNTER, endless or gzip-bomb (repeatable)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "quiet", Usage: "no log line per request"},
		),
		Action: func(c *cli.Context) error {
			opts, err := serveOptionsFrom(c, stderr)
			if err != nil {
				return err
			}
			return serveDay(c.Context, opts, c.App.Writer)
		},
	}
}

type serveOptions struct {
	addr string
	gen  fixtures.Config
	sim  sim.Config
}

func serveOptionsFrom(c *cli.Context, stderr io.Writer) (*serveOptions, error) {
	gen, err := generatorConfig(c)
	if err != nil {
		return nil, err
	}
	// The API serves one pull per counter: the counter layout. Its feed faults are the
	// ones a pull can show (a withheld report, a footer off by one).
	if c.IsSet("layout") && gen.Layout != fixtures.LayoutCounter && gen.FeedFaults {
		return nil, usagef("--layout %s: the report API serves one report per counter; with --feed-faults use --layout counter (the default of serve)", gen.Layout)
	}
	gen.Layout = fixtures.LayoutCounter
	scfg := sim.NewConfig()
	if c.IsSet("dialect") {
		scfg.Dialect = gen.Dialect
	}
	scfg.Latency = c.Duration("latency")
	scfg.FailRate, scfg.ThrottleRate, scfg.TruncateRate = c.Float64("fail-rate"), c.Float64("throttle-rate"), c.Float64("truncate-rate")
	scfg.RetryAfter, scfg.MaxFaults = c.Duration("retry-after"), c.Int("max-faults")
	scfg.Seed, scfg.Token = c.Uint64("fault-seed"), c.String("token")
	for _, v := range c.StringSlice("hostile") {
		p, h, err := sim.ParseHostile(v)
		if err != nil {
			return nil, usageError{err}
		}
		if scfg.Hostile == nil {
			scfg.Hostile = map[sim.Pull]sim.Hostile{}
		}
		scfg.Hostile[p] = h
	}
	log, err := newLogger(stderr, c.String("log-format"), c.Bool("quiet"))
	if err != nil {
		return nil, err
	}
	scfg.Logger = log
	if err := scfg.Validate(); err != nil {
		return nil, usageError{err}
	}
	if c.String("addr") == "" {
		return nil, usagef("--addr: required, e.g. 127.0.0.1:8080")
	}
	return &serveOptions{addr: c.String("addr"), gen: gen, sim: scfg}, nil
}

// serveDay generates the day once and serves it until ctx ends (SIGINT, SIGTERM), then
// lets the requests in flight finish.
func serveDay(ctx context.Context, opts *serveOptions, stdout io.Writer) error {
	// Listen first: a bad or busy address is reported before the day is generated.
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return usagef("--addr %s: %v", opts.addr, err)
	}
	day, err := fixtures.Generate(opts.gen)
	if err != nil {
		ln.Close()
		return err
	}
	h, err := sim.New(day, opts.sim)
	if err != nil {
		ln.Close()
		return usageError{err}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(stdout, "serving %s (%d counters, %d pulls) on http://%s\n",
		day.BizDate(), len(day.Roster()), h.Pulls(), ln.Addr())
	if err := serveUntil(ctx, srv, func() error { return srv.Serve(ln) }, 10*time.Second, func() {}); err != nil {
		return err
	}
	st := h.Stats()
	fmt.Fprintf(stdout, "served %d requests: %d whole, %d 503, %d 429, %d cut short, %d 401, %d 404\n",
		st.Requests, st.OK, st.Failed, st.Throttled, st.Truncated, st.Unauthorized, st.NotFound)
	return nil
}
