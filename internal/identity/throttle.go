package identity

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/textnorm"
)

// ipBucket is the unit an address is throttled by: the address for IPv4,
// its /64 for IPv6 (one subscriber usually holds a whole /64).
func ipBucket(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func normalizedEmail(email string) string { return textnorm.Email(email) }

// Throttling slows guessing down without locking anyone out for long:
// each key (a client address, an email address tried, an account's second
// factor) gets some free failures, then must wait 1 s, 2 s, 4 s … up to a
// cap before the next attempt. Counters live in the database so every
// instance sees them, keyed by a keyed hash so the table names no one.
type throttleRule struct {
	name   string
	free   int
	cap    time.Duration
	window time.Duration // failures older than this are forgotten
}

var (
	// One address: an office behind one NAT mistypes too, so it gets more
	// room than one account; spraying many accounts still slows to a crawl.
	throttleIP = throttleRule{name: "ip", free: 20, cap: 15 * time.Minute, window: time.Hour}
	// One email address tried, whether or not an account has it.
	throttleAccount = throttleRule{name: "account", free: 5, cap: 15 * time.Minute, window: 24 * time.Hour}
	// One account's second factor: six digits are guessable without it.
	throttleMFA = throttleRule{name: "mfa", free: 5, cap: 15 * time.Minute, window: 24 * time.Hour}
	// Emailed links asked for one address: stops mail bombing.
	throttleMail = throttleRule{name: "mail", free: 3, cap: time.Hour, window: 24 * time.Hour}
)

type throttleKey struct {
	rule throttleRule
	hash []byte
}

func (s *Service) ipKey(ip string) throttleKey {
	return throttleKey{throttleIP, s.keys.TokenHash("throttle/ip/" + ipBucket(ip))}
}

func (s *Service) accountKey(ws int64, k AccountKind, email string) throttleKey {
	return throttleKey{throttleAccount, s.keys.TokenHash("throttle/account/" + strconv.FormatInt(ws, 10) + "/" + string(k) + "/" + normalizedEmail(email))}
}

func (s *Service) mfaKey(a account) throttleKey {
	return throttleKey{throttleMFA, s.keys.TokenHash("throttle/mfa/" + string(a.kind) + "/" + strconv.FormatInt(a.id, 10))}
}

func (s *Service) mailKey(ws int64, k AccountKind, email string) throttleKey {
	return throttleKey{throttleMail, s.keys.TokenHash("throttle/mail/" + strconv.FormatInt(ws, 10) + "/" + string(k) + "/" + normalizedEmail(email))}
}

func (r throttleRule) backoff(failures int) time.Duration {
	over := failures - r.free
	if over <= 0 {
		return 0
	}
	if over > 20 {
		return r.cap
	}
	return min(r.cap, time.Second<<(over-1))
}

// throttled returns a *errs.Throttled when any key must still wait.
func (s *Service) throttled(ctx context.Context, keys ...throttleKey) error {
	now := db.Now()
	var wait int64
	for _, k := range keys {
		var until int64
		err := s.db.Read().QueryRowContext(ctx, `SELECT blocked_until FROM auth_throttle WHERE key_hash = $1`, k.hash).Scan(&until)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		wait = max(wait, until-now)
	}
	if wait > 0 {
		return &errs.Throttled{Wait: time.Duration(wait) * time.Microsecond}
	}
	return nil
}

// fail counts a failure against each key.
func (s *Service) fail(ctx context.Context, tx *db.Tx, keys ...throttleKey) error {
	now := db.Now()
	for _, k := range keys {
		var n int
		err := tx.QueryRowContext(ctx, `INSERT INTO auth_throttle (key_hash, failures, blocked_until, updated_at) VALUES ($1, 1, 0, $2)
			ON CONFLICT (key_hash) DO UPDATE SET
				failures = CASE WHEN auth_throttle.updated_at < $3 THEN 1 ELSE auth_throttle.failures + 1 END,
				updated_at = $2
			RETURNING failures`, k.hash, now, now-k.rule.window.Microseconds()).Scan(&n)
		if err != nil {
			return err
		}
		if d := k.rule.backoff(n); d > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE auth_throttle SET blocked_until = $1 WHERE key_hash = $2`, now+d.Microseconds(), k.hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// clear forgets the failures of keys (after a success).
func (s *Service) clear(ctx context.Context, tx *db.Tx, keys ...throttleKey) error {
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_throttle WHERE key_hash = $1`, k.hash); err != nil {
			return err
		}
	}
	return nil
}

// failOutside counts failures in a write of its own.
func (s *Service) failOutside(ctx context.Context, keys ...throttleKey) error {
	return s.db.Write(ctx, func(tx *db.Tx) error { return s.fail(ctx, tx, keys...) })
}
