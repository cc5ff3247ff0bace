package boss

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Config of the BOSS report API connector. Start from NewConfig.
type Config struct {
	// Base is the API's base URL (http or https, maybe with a path prefix): the roster is
	// {Base}/counters, a pull {Base}/reports/{feed}. User info in it is sent as basic
	// authentication and never shown.
	Base string
	// Token, when set, is sent as "Authorization: Bearer <Token>" (SETTLE_BOSS_TOKEN). It is
	// never logged, never put in an error and never part of Describe.
	Token string
	// Concurrency is how many requests may be in flight at once, so the BOSS is never
	// flooded. A pull waiting to be retried holds no slot.
	Concurrency int
	// PullTimeout bounds one attempt: connecting, the answer's headers and its whole body.
	PullTimeout time.Duration
	// Deadline bounds the whole Fetch (0: none). Pulls not done by then are missing
	// (FEED_MISSING) and the run goes on; a roster not read by then is an error.
	Deadline time.Duration
	// Retries is how many times a transiently failed request is tried again.
	Retries int
	// BackoffBase and BackoffMax shape the wait before retry n: BackoffBase·2ⁿ⁻¹ capped at
	// BackoffMax, of which a random half (Jitter) is waited, on top of the other half.
	BackoffBase, BackoffMax time.Duration
	// MaxRetryAfter caps how long a 429's or 503's Retry-After is honoured.
	MaxRetryAfter time.Duration
	// MaxPullBytes bounds one body (a pull or the roster) in bytes after decompression
	// (Content-Encoding gzip, which net/http takes off), and its text once decoded from
	// GBK: a larger one fails the attempt for good, read no further (--max-pull-bytes).
	MaxPullBytes int64
	// MaxInFlightBytes bounds the bodies being received at once, all workers together: a
	// body that passes smallBody bytes holds MaxPullBytes of this budget until its
	// attempt ends, waiting for it when it is taken (bodies are a few KiB as a rule, so
	// only hostile or unusual ones ever wait). At least MaxPullBytes.
	MaxInFlightBytes int64
	// CAFile is an optional PEM file of certificates trusted for https besides the
	// system roots.
	CAFile string
	// Logger receives the connector's structured log (nil: none).
	Logger *slog.Logger
	// Jitter returns a number in [0, 1) for the backoff; nil uses math/rand/v2. Tests set
	// it to make waits exact. It is called from many goroutines at once.
	Jitter func() float64
}

// Defaults of NewConfig.
const (
	DefaultConcurrency   = 32
	DefaultPullTimeout   = 60 * time.Second
	DefaultDeadline      = 2 * time.Hour
	DefaultRetries       = 6
	DefaultBackoffBase   = 250 * time.Millisecond
	DefaultBackoffMax    = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultMaxPullBytes  = 64 << 20
	// DefaultMaxInFlightBytes lets 8 bodies of DefaultMaxPullBytes be received at once:
	// with their growth and garbage about 1 GiB, whatever the concurrency.
	DefaultMaxInFlightBytes = 512 << 20
	// MaxMaxPullBytes is the largest MaxPullBytes allowed.
	MaxMaxPullBytes = 1 << 30
)

// NewConfig returns the defaults: 32 requests in flight, a minute per attempt, two hours
// for the day, 6 retries backing off from 250ms to at most 30s, Retry-After honoured up to
// two minutes, bodies up to 64 MiB after decompression, 512 MiB of big bodies in flight.
// Base is left empty.
func NewConfig() Config {
	return Config{
		Concurrency:      DefaultConcurrency,
		PullTimeout:      DefaultPullTimeout,
		Deadline:         DefaultDeadline,
		Retries:          DefaultRetries,
		BackoffBase:      DefaultBackoffBase,
		BackoffMax:       DefaultBackoffMax,
		MaxRetryAfter:    DefaultMaxRetryAfter,
		MaxPullBytes:     DefaultMaxPullBytes,
		MaxInFlightBytes: DefaultMaxInFlightBytes,
	}
}

// Validate reports the first setting that cannot be used, naming its key. It never
// repeats the token or the password of the base URL.
func (c Config) Validate() error {
	if _, err := parseBase(c.Base); err != nil {
		return err
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > 4096:
		return fmt.Errorf("concurrency: must be between 1 and 4096, got %d", c.Concurrency)
	case c.PullTimeout <= 0:
		return fmt.Errorf("pull_timeout: must be above 0, got %v", c.PullTimeout)
	case c.Deadline < 0:
		return fmt.Errorf("deadline: must not be negative (0: none), got %v", c.Deadline)
	case c.Retries < 0 || c.Retries > 100:
		return fmt.Errorf("retries: must be between 0 and 100, got %d", c.Retries)
	case c.BackoffBase <= 0:
		return fmt.Errorf("backoff_base: must be above 0, got %v", c.BackoffBase)
	case c.BackoffMax < c.BackoffBase:
		return fmt.Errorf("backoff_max: must be at least backoff_base (%v), got %v", c.BackoffBase, c.BackoffMax)
	case c.MaxRetryAfter < 0:
		return fmt.Errorf("max_retry_after: must not be negative, got %v", c.MaxRetryAfter)
	case c.MaxPullBytes < 1 || c.MaxPullBytes > MaxMaxPullBytes:
		return fmt.Errorf("max_pull_bytes: must be between 1 and %d, got %d", MaxMaxPullBytes, c.MaxPullBytes)
	case c.MaxInFlightBytes < c.MaxPullBytes:
		return fmt.Errorf("max_in_flight_bytes: must be at least max_pull_bytes (%d), got %d", c.MaxPullBytes, c.MaxInFlightBytes)
	}
	for i := 0; i < len(c.Token); i++ {
		if b := c.Token[i]; b < 0x21 || b > 0x7e {
			return errors.New("token: may hold only visible ASCII characters (its value is not shown)")
		}
	}
	return nil
}

// parseBase checks the base URL: http or https, a host, no query or fragment.
func parseBase(base string) (*url.URL, error) {
	if base == "" {
		return nil, errors.New("base: the report API's URL is required")
	}
	u, err := url.Parse(base)
	if err != nil {
		// url.Error quotes the URL, password and all: say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("base: not a URL: %v", err)
	}
	shown := redact(u)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("base %q: want an http:// or https:// URL", shown)
	case u.Host == "":
		return nil, fmt.Errorf("base %q: no host", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("base %q: must not carry a query (the connector adds date and counter)", shown)
	case u.Fragment != "":
		return nil, fmt.Errorf("base %q: must not carry a fragment", shown)
	}
	return u, nil
}

// redact returns u without user info, query and fragment: what may be shown.
func redact(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}
