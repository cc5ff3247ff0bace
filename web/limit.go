package web

import (
	"container/list"
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
//
// Memory is bounded and an attempt costs O(1) amortized however many keys are held: the
// keys are kept in the order they were last used; once as many keys were added as were held
// after the last sweep, a sweep drops the keys whose failures are forgotten anyway (and the
// keys with none), and a key added when maxKeys are held evicts the least recently used.
type limiter struct {
	mu     sync.Mutex
	base   time.Duration
	window time.Duration
	keys   map[string]*list.Element // of *attempts, in lru
	lru    *list.List               // the keys, the most recently used first
	max    int                      // keys held at most
	added  int                      // keys added since the last sweep
	swept  int                      // keys held after the last sweep
	now    func() time.Time
}

// attempts are a key's failures.
type attempts struct {
	name     string
	free     int
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

// maxKeys bounds the keys an attacker can make us hold (about 200 bytes each).
const maxKeys = 100_000

// minSweep is the fewest keys added between two sweeps.
const minSweep = 1024

func newLimiter(base, window time.Duration, now func() time.Time) *limiter {
	return &limiter{base: base, window: window, keys: map[string]*list.Element{}, lru: list.New(), max: maxKeys, now: now}
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
	if e, ok := l.keys[k.name]; ok {
		l.lru.MoveToFront(e)
		a := e.Value.(*attempts)
		if l.forgotten(a, now) || a.unlocked != k.unlocked {
			*a = attempts{name: k.name, free: k.free, unlocked: k.unlocked}
		}
		a.free = k.free
		return a
	}
	l.added++
	if l.added >= max(l.swept, minSweep) {
		l.sweep(now)
	}
	for len(l.keys) >= l.max {
		l.remove(l.lru.Back())
	}
	a := &attempts{name: k.name, free: k.free, unlocked: k.unlocked}
	l.keys[k.name] = l.lru.PushFront(a)
	return a
}

// forgotten reports whether a's failures are forgotten: it was let alone for window after
// its wait ended.
func (l *limiter) forgotten(a *attempts, now time.Time) bool {
	return now.Sub(a.last) >= l.delay(a.fails, a.free)+l.window
}

// sweep drops the keys whose failures are forgotten or that have none; l.mu is held. It
// runs over every key, but only after as many were added: O(1) per key added.
func (l *limiter) sweep(now time.Time) {
	for e := l.lru.Front(); e != nil; {
		next := e.Next()
		if a := e.Value.(*attempts); a.fails == 0 || l.forgotten(a, now) {
			l.remove(e)
		}
		e = next
	}
	l.added, l.swept = 0, len(l.keys)
}

// remove drops the key of e; l.mu is held.
func (l *limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*attempts).name)
	l.lru.Remove(e)
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
		e, found := l.keys[k.name]
		switch {
		case !found:
		case k.clearOnSuccess:
			l.remove(e)
		case e.Value.(*attempts).fails > 0:
			e.Value.(*attempts).fails--
		}
	}
}

// limitAddr is the address key of a client address: an IPv6 address's /64 (a host or a
// home is given a whole /64 and can use any address in it), an IPv4 address (mapped or not)
// itself; what does not parse is kept as it is.
func limitAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
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
// proxy (Config.TrustedProxies); then it is the right-most entry of X-Forwarded-For that is
// not a trusted proxy's address, since every proxy appends the address it got the request
// from and only what our own proxies appended can be believed. Entries may carry a port
// (`192.0.2.7:5678`, `[2001:db8::7]:443`), brackets or quotes; empty entries are skipped. An
// obfuscated identifier (RFC 7239: `_hidden`) in that place is the client's key as our proxy
// named it. `unknown` there, an entry that does not parse, or a header naming only our
// proxies leaves the peer's address: what is left of that place is the client's own word,
// and taking it would let a client pick a new address for every attempt.
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
		hop := strings.Trim(strings.TrimSpace(hops[i]), `"`)
		if hop == "" {
			continue
		}
		if obfuscated(hop) {
			return hop
		}
		a, ok := hopAddr(hop)
		if !ok {
			return host // unknown, or garbage
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

// hopAddr reads an X-Forwarded-For entry: an address, bracketed or not, with or without a
// port; unmapped and without a zone.
func hopAddr(hop string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(hop); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	if strings.HasPrefix(hop, "[") && strings.HasSuffix(hop, "]") {
		if a, err := netip.ParseAddr(hop[1 : len(hop)-1]); err == nil && a.Is6() {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// obfuscated reports whether hop is an obfuscated identifier of RFC 7239 (section 6.3):
// "_" and letters, digits, ".", "_", "-".
func obfuscated(hop string) bool {
	if len(hop) < 2 || len(hop) > 64 || hop[0] != '_' {
		return false
	}
	for _, c := range hop[1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
