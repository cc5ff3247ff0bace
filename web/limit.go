package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter slows failed logins down per key (a user name, an address) instead of locking
// them out: the first `free` failures of a key cost nothing; after that each attempt must
// wait, from the key's last failure, base doubled for every failure past free (1 s, 2 s,
// 4 s, … at most window). So five typos cost a colleague a second, not a quarter of an hour,
// while guessing grows slow fast: past the cap, one guess per window. A key's failures are
// forgotten once it has been let alone for window after its wait ended, when the user logs
// in, and when `settle users unlock` changes the user's unlocked_at.
//
// An attempt is reserved before its password is checked: the limits of all its keys are
// checked and its failure counted under one lock, so that attempts sent at once cannot all
// be evaluated; a success takes the count back.
type limiter struct {
	mu     sync.Mutex
	base   time.Duration
	window time.Duration
	keys   map[string]*attempts
	now    func() time.Time
}

// attempts are a key's failures.
type attempts struct {
	fails    int
	last     time.Time // of the last failure (or reservation)
	unlocked string    // the user's unlocked_at when counting began
}

// limitKey is a key an attempt is counted under.
type limitKey struct {
	name           string
	free           int    // failures that cost no wait
	unlocked       string // the user's unlocked_at: another value forgets the failures
	clearOnSuccess bool   // a success forgets the key's failures (a user); else it only takes the attempt back (an address)
}

// maxKeys bounds the keys an attacker can make us hold.
const maxKeys = 100_000

func newLimiter(base, window time.Duration, now func() time.Time) *limiter {
	return &limiter{base: base, window: window, keys: map[string]*attempts{}, now: now}
}

// delay is the wait after fails failures, free of them costing nothing.
func (l *limiter) delay(fails, free int) time.Duration {
	if fails < free {
		return 0
	}
	d := l.base
	for i := free; i < fails && d < l.window; i++ {
		d *= 2
	}
	return min(d, l.window)
}

// get returns key's attempts, forgetting them window after its wait ended, or on an
// unlock; l.mu is held.
func (l *limiter) get(k limitKey, now time.Time) *attempts {
	a, ok := l.keys[k.name]
	if !ok || now.Sub(a.last) >= l.delay(a.fails, k.free)+l.window || a.unlocked != k.unlocked {
		a = &attempts{unlocked: k.unlocked}
		if len(l.keys) >= maxKeys {
			l.prune(now)
		}
		l.keys[k.name] = a
	}
	return a
}

// prune drops the keys whose failures are forgotten (the longest wait and a window after
// it); l.mu is held.
func (l *limiter) prune(now time.Time) {
	for name, a := range l.keys {
		if now.Sub(a.last) >= 2*l.window || a.fails == 0 {
			delete(l.keys, name)
		}
	}
}

// reserve checks the keys' limits: it returns how long the attempt must wait, or 0 and the
// attempt, counted as a failure of every key until its done says otherwise.
func (l *limiter) reserve(keys ...limitKey) (time.Duration, *attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		a := l.get(k, now)
		wait = max(wait, a.last.Add(l.delay(a.fails, k.free)).Sub(now))
	}
	if wait > 0 {
		return wait, nil
	}
	for _, k := range keys {
		a := l.get(k, now)
		a.fails++
		a.last = now
	}
	return 0, &attempt{l: l, keys: keys}
}

// attempt is a reserved login attempt.
type attempt struct {
	l    *limiter
	keys []limitKey
}

// done settles the attempt: a failure stays counted; a success forgets a user's failures
// and takes the attempt back from an address.
func (at *attempt) done(ok bool) {
	if !ok {
		return
	}
	l := at.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range at.keys {
		a, found := l.keys[k.name]
		switch {
		case !found:
		case k.clearOnSuccess:
			delete(l.keys, k.name)
		case a.fails > 0:
			a.fails--
		}
	}
}

// ParseProxies reads a comma-separated list of CIDR prefixes or single addresses.
func ParseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusted reports whether a is a trusted proxy's address.
func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address a request comes from: the peer's, unless the peer is a trusted
// proxy (Config.TrustedProxies); then it is the right-most address of X-Forwarded-For that is
// not a trusted proxy's, since every proxy appends the address it got the request from and
// only what our own proxies appended can be believed. A header that does not parse there
// leaves the peer's address.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host
		}
		if !s.trusted(a) {
			return a.Unmap().String()
		}
	}
	return host
}
