// Package monitor watches security events and audited access for signs of
// attack or abuse (brute force, password spraying, impossible travel, new
// devices, mass access by an insider, weakened accounts), raises alerts an
// admin can act on, delivers them by email and by signed webhook, and can
// respond on its own (end sessions, lock an account, require MFA again).
//
// Observe is called on the request path and never blocks or fails: it
// queues the observation in memory. Run (or Flush) takes queued
// observations in batches and processes each batch in one write, so a burst
// of ticket views costs one commit, not one per view. All windowed state
// lives in the database, so several instances observing the same
// workspace count together; alerts are deduplicated by a unique index.
package monitor

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mail"
)

// Observation types: the identity security events the detectors read
// (the same strings as identity's Event* constants) and the access kinds
// of the exfiltration detector.
const (
	SignIn          = "signin.succeeded"
	SignInFailed    = "signin.failed"
	MFAFailed       = "mfa.failed"
	MFARemoved      = "mfa.removed"
	MFAReset        = "mfa.reset"
	RecoveryUsed    = "mfa.recovery_code_used"
	SessionEnded    = "session.ended"
	SessionRevoked  = "session.revoked"
	TokenCreated    = "token.created"
	RoleChanged     = "user.role_changed"
	PolicyChanged   = "security_settings.changed"
	AccessView      = "ticket.view"
	AccessSearch    = "search"
	AccessDownload  = "attachment.download"
	AccessExport    = "customer.export"
	AccessCustomer  = "customer.view"
	maxQueued       = 10000
	maxBatch        = 256
	defaultPoll     = 2 * time.Second
	defaultPruneGap = 10 * time.Minute
)

// AccessKinds are the observation types counted as access to data.
var AccessKinds = []string{AccessView, AccessSearch, AccessDownload, AccessExport, AccessCustomer}

// Observation is one thing that happened: a security event from identity
// or one audited access to data.
type Observation struct {
	Type        string
	At          time.Time // zero: now
	WorkspaceID int64
	// Actor is who acted; for a failed sign-in, no one (the account tried
	// is the target).
	ActorKind access.ActorKind
	ActorID   int64
	// Target is the account acted upon (failed sign-in, MFA reset, role
	// change, token owner) or, for access, the object read (ticket id).
	TargetKind string
	TargetID   int64
	IP         string
	UserAgent  string
	SessionID  int64
	// Details are small facts: "permissions" of a token, "from"/"to" of a
	// role change, "account_key" (an opaque keyed hash of the email tried
	// for a failed sign-in on an unknown account), "count" for an export,
	// each sign-in policy value and, under "<name>_from", the one it
	// replaced (security_settings.changed).
	Details map[string]string
}

// Contact is where to mail an account.
type Contact struct {
	Email     string
	Name      string
	Locale    string // "fa" or "en"
	Workspace string // the workspace's display name
}

// Accounts is what the monitor needs to know about people, so it never
// decrypts users itself.
type Accounts interface {
	// Contact returns an account's address, name, locale and workspace name.
	Contact(ctx context.Context, ws int64, kind access.ActorKind, id int64) (Contact, error)
	// Admins lists the ids of the workspace's enabled admin users.
	Admins(ctx context.Context, ws int64) ([]int64, error)
}

// Responder carries out automatic responses. Each call must be idempotent.
type Responder interface {
	RevokeSessions(ctx context.Context, ws int64, kind access.ActorKind, id int64) error
	Lock(ctx context.Context, ws int64, kind access.ActorKind, id int64) error
	RequireMFA(ctx context.Context, ws int64, kind access.ActorKind, id int64) error
}

// Options are a Monitor's dependencies.
type Options struct {
	DB   *db.DB
	Keys *keyring.Keyring
	Mail *mail.Outbox
	// Places locates addresses; nil: travel and country checks are off.
	Places    geoip.Locator
	Accounts  Accounts
	Responder Responder // nil: automatic responses are logged, not done
	// DescribeDevice names a browser and system from a User-Agent
	// (identity.DescribeDevice); nil: the raw agent, cut to 60 bytes.
	DescribeDevice func(ua string) string
	// SessionsURL is linked from new sign-in mail ("review your sessions").
	SessionsURL string
	// DashboardURL is linked from alert mail.
	DashboardURL string
	Log          *slog.Logger
	Now          func() time.Time
	// HTTPClient sends webhooks. Default: 10 s timeout, no redirects, and
	// no connections to loopback, private or link-local addresses unless
	// AllowPrivateWebhooks.
	HTTPClient           *http.Client
	AllowPrivateWebhooks bool
	// Backoff is the wait before webhook retry n (1-based); default
	// 30 s × 2^(n-1), at most 6 h.
	Backoff func(n int) time.Duration
	// Poll is how often Run looks for work (default 2 s).
	Poll time.Duration
}

// Monitor runs the detectors.
type Monitor struct {
	o Options

	mu      sync.Mutex
	queue   []Observation
	wake    chan struct{}
	dropped atomic.Int64

	settingsMu sync.Mutex
	settings   map[int64]cachedSettings
}

// New checks o and returns a Monitor. Start Run to process observations.
func New(o Options) (*Monitor, error) {
	if o.DB == nil || o.Keys == nil || o.Mail == nil || o.Accounts == nil {
		return nil, errors.New("monitor: DB, Keys, Mail and Accounts are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DescribeDevice == nil {
		o.DescribeDevice = func(ua string) string { return truncate(ua, 60) }
	}
	if o.HTTPClient == nil {
		o.HTTPClient = webhookClient(o.AllowPrivateWebhooks)
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	return &Monitor{o: o, wake: make(chan struct{}, 1), settings: map[int64]cachedSettings{}}, nil
}

// Observe queues o for the detectors. It never blocks and never fails:
// when the queue is full (the database far behind) the observation is
// dropped and counted (Dropped), since failing the request it describes
// would be worse.
func (m *Monitor) Observe(ctx context.Context, o Observation) {
	if o.WorkspaceID == 0 || o.Type == "" {
		return
	}
	if o.At.IsZero() {
		o.At = m.o.Now()
	}
	m.mu.Lock()
	if len(m.queue) >= maxQueued {
		m.mu.Unlock()
		if m.dropped.Add(1)%1000 == 1 {
			m.o.Log.Warn("monitor queue full: observations dropped", "dropped", m.dropped.Load())
		}
		return
	}
	m.queue = append(m.queue, o)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Dropped is how many observations were dropped because the queue was full.
func (m *Monitor) Dropped() int64 { return m.dropped.Load() }

// Flush processes every observation queued so far before returning.
func (m *Monitor) Flush(ctx context.Context) error {
	for {
		m.mu.Lock()
		n := min(len(m.queue), maxBatch)
		batch := append([]Observation(nil), m.queue[:n]...)
		m.queue = m.queue[n:]
		m.mu.Unlock()
		if n == 0 {
			return nil
		}
		if err := m.process(ctx, batch); err != nil {
			return err
		}
	}
}

// Run processes observations as they come, delivers webhooks and prunes
// old windows until ctx ends, then processes what is still queued. Every
// instance may run it: deliveries are leased and pruning is idempotent.
func (m *Monitor) Run(ctx context.Context) {
	tick := time.NewTicker(m.o.Poll)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
			m.o.Log.Error("monitor: process observations", "err", err)
		}
		if _, err := m.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			m.o.Log.Error("monitor: deliver webhooks", "err", err)
		}
		if now := m.o.Now(); now.Sub(lastPrune) > defaultPruneGap {
			if err := m.Prune(ctx); err != nil && ctx.Err() == nil {
				m.o.Log.Error("monitor: prune", "err", err)
			}
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := m.Flush(drain); err != nil {
				m.o.Log.Error("monitor: final flush", "err", err)
			}
			cancel()
			return
		case <-tick.C:
		case <-m.wake:
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
