package server

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	cases := map[string]Rate{"50": {50, 100}, "50:80": {50, 80}, "0": {}, "0.5": {0.5, 1}, " 10 ": {10, 20}}
	for in, want := range cases {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "5:0", "5:x", "NaN", "Inf"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if NewLimiter(Rate{}) != nil {
		t.Error("a disabled rate built a limiter")
	}
	var none *Limiter
	if ok, _ := none.Allow("x"); !ok {
		t.Error("a nil limiter refused")
	}
}

// fakeClock is a limiter's time, moved by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time               { return c.t }
func (c *fakeClock) add(d time.Duration)          { c.t = c.t.Add(d) }
func withClock(l *Limiter, c *fakeClock) *Limiter { l.now = c.now; return l }

func TestBucketAllowsBurstThenRate(t *testing.T) {
	clock := &fakeClock{time.Unix(1000, 0)}
	l := withClock(NewLimiter(Rate{PerSecond: 2, Burst: 3}), clock)
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key shares the bucket")
	}
	clock.add(500 * time.Millisecond) // one token back at 2/s
	if ok, _ := l.Allow("a"); !ok {
		t.Error("no token after refill")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("more than the rate")
	}
	clock.add(time.Hour)
	for range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Error("burst not restored after idling")
		}
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clock := &fakeClock{time.Unix(1000, 0)}
	l := withClock(NewLimiter(Rate{PerSecond: 1, Burst: 1}), clock)
	for i := range limiterShards * maxKeysPerShard * 5 / 4 {
		l.Allow(fmt.Sprint("k", i))
	}
	if n := l.Len(); n > limiterShards*maxKeysPerShard {
		t.Errorf("%d buckets kept, bound is %d", n, limiterShards*maxKeysPerShard)
	}
	// Refilled buckets are forgotten at the next sweep.
	clock.add(2 * sweepEvery)
	const fresh = limiterShards * 32 // enough that every shard sees some
	for i := range fresh {
		l.Allow(fmt.Sprint("new", i))
	}
	if n := l.Len(); n > fresh {
		t.Errorf("%d buckets kept after every old one refilled", n)
	}
}

func TestClientIPTrustsForwardedForOnlyFromProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.5,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClientIP(trusted)
	cases := []struct{ peer, xff, want string }{
		{"203.0.113.9:5555", "", "203.0.113.9"},
		{"203.0.113.9:5555", "1.2.3.4", "203.0.113.9"},             // not a proxy: header ignored
		{"10.1.2.3:5555", "198.51.100.7", "198.51.100.7"},          // proxy: believed
		{"10.1.2.3:5555", "6.6.6.6, 198.51.100.7", "198.51.100.7"}, // client-forged left part skipped
		{"10.1.2.3:5555", "198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"192.168.1.5:80", "garbage", "192.168.1.5"},
		{"10.1.2.3:5555", "10.4.4.4", "10.4.4.4"},
		{"[fd00::1]:443", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:10.1.2.3]:1", "198.51.100.8", "198.51.100.8"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := c.Of(r).String(); got != tc.want {
			t.Errorf("peer %s XFF %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestIPv6ClientsAreLimitedPerSlash64(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if RateKey(a) != RateKey(b) {
		t.Errorf("%s and %s in one /64 have different keys", a, b)
	}
	if RateKey(netip.MustParseAddr("198.51.100.1")) == RateKey(netip.MustParseAddr("198.51.100.2")) {
		t.Error("IPv4 addresses share a key")
	}
}
