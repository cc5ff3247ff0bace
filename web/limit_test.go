package web

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestLimiterBounded: distinct names and addresses (each a failed attempt) cannot make the
// limiter hold more than maxKeys keys, nor take time growing with the keys held; a name
// being guessed meanwhile keeps its failures.
func TestLimiterBounded(t *testing.T) {
	now := testNow
	l := newLimiter(time.Second, 15*time.Minute, func() time.Time { return now })
	target := limitKey{name: "user:li", free: 5, clearOnSuccess: true}
	start := time.Now()
	most := 0
	const attempts = 150_000 // two keys each: 300,000 distinct keys
	for i := range attempts {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d attempts took %s: the cost grows with the keys held", i, time.Since(start))
		}
		l.reserve(limitKey{name: "user:u" + strconv.Itoa(i), free: 5, clearOnSuccess: true},
			limitKey{name: "ip:198.51." + strconv.Itoa(i), free: 20})
		if i%1000 == 0 {
			if _, at := l.reserve(target); at != nil {
				at.done(false)
			}
			now = now.Add(time.Second)
		}
		most = max(most, len(l.keys))
	}
	if most > maxKeys {
		t.Errorf("the limiter held %d keys, over maxKeys %d", most, maxKeys)
	}
	if wait, _ := l.reserve(target); wait <= 0 {
		t.Error("the name being guessed lost its failures to the flood of other keys")
	}
	t.Logf("%d attempts with distinct keys: %s, at most %d keys held", attempts, time.Since(start), most)
}

// TestLimitAddr: an IPv6 client is counted by its /64 (a host gets a whole /64 and can
// pick any address in it); an IPv4 one, mapped or not, by its address.
func TestLimitAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                  "192.0.2.7",
		"::ffff:192.0.2.7":           "192.0.2.7",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::99": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"fe80::1%eth0":               "fe80::/64",
		"not-an-address":             "not-an-address",
	} {
		if got := limitAddr(in); got != want {
			t.Errorf("limitAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLimiterDistinctKeys: the cost of a failed attempt with new keys, the limiter
// already holding about 2×n keys: flat in n (the cap is maxKeys).
func BenchmarkLimiterDistinctKeys(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000, 200_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			now := testNow
			l := newLimiter(time.Second, 15*time.Minute, func() time.Time { return now })
			for i := range n {
				l.reserve(limitKey{name: "user:u" + strconv.Itoa(i), free: 5, clearOnSuccess: true},
					limitKey{name: "ip:p" + strconv.Itoa(i), free: 20})
			}
			i := n
			b.ResetTimer()
			for b.Loop() {
				l.reserve(limitKey{name: "user:u" + strconv.Itoa(i), free: 5, clearOnSuccess: true},
					limitKey{name: "ip:p" + strconv.Itoa(i), free: 20})
				i++
			}
			b.ReportMetric(float64(len(l.keys)), "keys")
		})
	}
}

// TestClientIPForms: the forms proxies write in X-Forwarded-For. An address with a port, a
// bracketed IPv6 address with or without one, and empty tokens are read; an obfuscated
// identifier (RFC 7239, "_hidden") where the client's address would be is the client's key;
// "unknown" there, or what does not parse, leaves the peer. Entries left of that place are
// never believed: they are the client's word.
func TestClientIPForms(t *testing.T) {
	proxies, err := ParseProxies("127.0.0.1, 10.9.0.0/16, 2001:db8:ff::/48")
	if err != nil {
		t.Fatal(err)
	}
	const peer = "127.0.0.1"
	tests := []struct {
		xff  string
		want string
	}{
		{"192.0.2.7:5678", "192.0.2.7"},
		{"[2001:db8::7]:443", "2001:db8::7"},
		{"[2001:db8::7]", "2001:db8::7"},
		{"2001:db8::7", "2001:db8::7"},
		{"[::1]:443", "::1"},
		{"198.51.100.1, 192.0.2.7:5678, 10.9.3.4:80", "192.0.2.7"},
		{"198.51.100.1, 192.0.2.7, [2001:db8:ff::1]:443", "192.0.2.7"},
		{"192.0.2.7, , 10.9.3.4", "192.0.2.7"},
		{"192.0.2.7,", "192.0.2.7"},
		{` "192.0.2.7" `, "192.0.2.7"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"198.51.100.1, _hidden", "_hidden"},
		{"198.51.100.1, _Client-7.a, 10.9.3.4", "_Client-7.a"},
		{"198.51.100.1, unknown", peer},
		{"198.51.100.1, UNKNOWN, 10.9.3.4", peer},
		{"198.51.100.1, garbage", peer},
		{"198.51.100.1, 192.0.2.7:notaport", peer},
		{"198.51.100.1, _bad/id", peer},
		{"10.9.3.4:80, [2001:db8:ff::2]", peer},
		{"", peer},
		{" , ", peer},
	}
	s := &Server{cfg: Config{TrustedProxies: proxies}}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = peer + ":5555"
		r.Header.Set("X-Forwarded-For", tt.xff)
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("X-Forwarded-For %q: %q, want %q", tt.xff, got, tt.want)
		}
	}
	// A bracketed peer (an IPv6 proxy) is trusted too.
	s = &Server{cfg: Config{TrustedProxies: proxies}}
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = "[2001:db8:ff::9]:5555"
	r.Header.Set("X-Forwarded-For", "192.0.2.7:1234")
	if got := s.clientIP(r); got != "192.0.2.7" {
		t.Errorf("behind an IPv6 proxy: %q, want 192.0.2.7", got)
	}
}
