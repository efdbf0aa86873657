package server

import (
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a token-bucket limit: PerSecond requests sustained, up to Burst
// at once. The zero Rate means no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Disabled reports whether the rate limits nothing.
func (r Rate) Disabled() bool { return r.PerSecond <= 0 }

func (r Rate) String() string {
	if r.Disabled() {
		return "0"
	}
	return strconv.FormatFloat(r.PerSecond, 'f', -1, 64) + ":" + strconv.Itoa(r.Burst)
}

// ParseRate reads "N" (N per second, burst 2N), "N:B" (burst B) or "0"
// (no limit).
func ParseRate(s string) (Rate, error) {
	perS, burstS, hasBurst := strings.Cut(strings.TrimSpace(s), ":")
	per, err := strconv.ParseFloat(perS, 64)
	if err != nil || per < 0 || math.IsInf(per, 0) || math.IsNaN(per) {
		return Rate{}, fmt.Errorf("%q is not a rate: give requests per second, optionally ':burst' (0 disables)", s)
	}
	if per == 0 {
		return Rate{}, nil
	}
	burst := int(math.Ceil(2 * per))
	if hasBurst {
		if burst, err = strconv.Atoi(burstS); err != nil || burst < 1 {
			return Rate{}, fmt.Errorf("%q: the burst after ':' must be a whole number of at least 1", s)
		}
	}
	return Rate{PerSecond: per, Burst: burst}, nil
}

const (
	limiterShards = 64
	// maxKeysPerShard bounds memory (64 × 2048 keys, a few MB) whatever
	// the number of distinct clients.
	maxKeysPerShard = 2048
	sweepEvery      = time.Minute
)

// Limiter keeps one token bucket per key (a client address, a token) in
// memory, in shards so concurrent requests rarely wait on one lock. A
// bucket that has refilled completely is forgotten, since it behaves as a
// new one would; when a shard is still full after that, arbitrary buckets
// are dropped, which errs on the side of letting clients through. Limits
// are per instance: behind a load balancer over n instances a client gets
// up to n times the rate.
type Limiter struct {
	rate   Rate
	seed   maphash.Seed
	now    func() time.Time
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu        sync.Mutex
	buckets   map[string]bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter for r, or nil (which allows everything)
// when r is disabled.
func NewLimiter(r Rate) *Limiter {
	if r.Disabled() {
		return nil
	}
	if r.Burst < 1 {
		r.Burst = 1
	}
	l := &Limiter{rate: r, seed: maphash.MakeSeed(), now: time.Now}
	for i := range l.shards {
		l.shards[i].buckets = map[string]bucket{}
	}
	return l
}

// Rate is the limit l enforces (zero for a nil Limiter).
func (l *Limiter) Rate() Rate {
	if l == nil {
		return Rate{}
	}
	return l.rate
}

// Allow takes one token from key's bucket. When there is none it returns
// false and how long until there will be one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		sh.makeRoom(now, l.rate)
		b = bucket{tokens: float64(l.rate.Burst), last: now}
	} else {
		b = l.refill(b, now)
	}
	if b.tokens >= 1 {
		b.tokens--
		sh.buckets[key] = b
		return true, 0
	}
	sh.buckets[key] = b
	wait := time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
	return false, wait
}

func (l *Limiter) refill(b bucket, now time.Time) bucket {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+el.Seconds()*l.rate.PerSecond)
		b.last = now
	}
	return b
}

// makeRoom runs before a new key is added: now and then, and whenever the
// shard is full, it forgets buckets that have refilled.
func (sh *limiterShard) makeRoom(now time.Time, r Rate) {
	full := len(sh.buckets) >= maxKeysPerShard
	if !full && now.Sub(sh.lastSweep) < sweepEvery {
		return
	}
	sh.lastSweep = now
	refilled := time.Duration(float64(r.Burst) / r.PerSecond * float64(time.Second))
	for k, b := range sh.buckets {
		if now.Sub(b.last) >= refilled {
			delete(sh.buckets, k)
		}
	}
	for k := range sh.buckets {
		if len(sh.buckets) < maxKeysPerShard*3/4 {
			break
		}
		delete(sh.buckets, k)
	}
}

// Len is how many buckets l holds, for tests and curiosity.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].buckets)
		l.shards[i].mu.Unlock()
	}
	return n
}
