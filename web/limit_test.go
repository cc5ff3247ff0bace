package web

import (
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
