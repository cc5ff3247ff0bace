package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"settle/connectors"
	"settle/connectors/boss"
)

// Environment of the BOSS report API source. The token is a secret: it is read here and
// handed to the connector, never logged or shown.
const (
	envToken       = "SETTLE_BOSS_TOKEN"
	envCAFile      = "SETTLE_BOSS_CA_FILE"      // PEM certificates trusted besides the system roots
	envPullTimeout = "SETTLE_BOSS_PULL_TIMEOUT" // one attempt, e.g. 60s
	envDeadline    = "SETTLE_BOSS_DEADLINE"     // the whole pull, e.g. 2h (0: none)
	envRetries     = "SETTLE_BOSS_RETRIES"      // retries of a transient failure
)

// httpSource is the source of an http(s):// --source: the BOSS report API.
func httpSource(base string, pull pullOptions, log *slog.Logger) (connectors.Source, error) {
	cfg := boss.NewConfig()
	cfg.Base, cfg.Concurrency, cfg.Logger = base, pull.concurrency, log
	cfg.MaxPullBytes = pull.maxPullBytes
	// Room for at least one body of the limit in flight, however large it is set.
	cfg.MaxInFlightBytes = max(cfg.MaxInFlightBytes, pull.maxPullBytes)
	cfg.Token = os.Getenv(envToken)
	cfg.CAFile = os.Getenv(envCAFile)
	for _, d := range []struct {
		env string
		to  *time.Duration
	}{{envPullTimeout, &cfg.PullTimeout}, {envDeadline, &cfg.Deadline}} {
		if v := os.Getenv(d.env); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil {
				return nil, usagef("%s=%q: want a duration like 90s or 2h", d.env, v)
			}
			*d.to = t
		}
	}
	if v := os.Getenv(envRetries); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, usagef("%s=%q: want a whole number", envRetries, v)
		}
		cfg.Retries = n
	}
	src, err := boss.New(cfg)
	if err != nil {
		return nil, usagef("--source: %v", err)
	}
	return src, nil
}

var _ boss.RetryProgress = (*termProgress)(nil)

// StepRetries is Step with the retries and failed pulls so far on the progress line.
func (p *termProgress) StepRetries(what string, done, total, retries, failures int) {
	if p == nil {
		return
	}
	if retries > 0 || failures > 0 {
		what = fmt.Sprintf("%s (%d retried, %d failed)", what, retries, failures)
	}
	p.Step(what, done, total)
}
