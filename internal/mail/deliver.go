package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net/mail"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// ErrNotConfigured is returned by DeliverDue when no SMTP relay is set;
// messages stay queued.
var ErrNotConfigured = errors.New("outbound mail is not configured: set HESAR_SMTP_HOST and HESAR_SMTP_FROM (see docs/MAIL.md)")

// Deliverer sends queued mail. Several Deliverers, in this process or in
// other instances on the same database, may run at once: each message is
// claimed with a lease before it is sent.
//
// The exported fields tune it; set them before Run or DeliverDue.
type Deliverer struct {
	// MaxAttempts is how many deliveries are tried before a message is
	// marked failed (default 8).
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1-based);
	// default 1m, 2m, 4m … capped at 1h.
	Backoff func(attempt int) time.Duration
	// Batch is how many messages one claim takes (default 16).
	Batch int
	// PollInterval is how often Run looks for due mail when not woken
	// (default 10s).
	PollInterval time.Duration
	// Retention is how long sent and failed messages are kept before Run
	// prunes them (default 30 days).
	Retention time.Duration
	// Now is the clock (default time.Now); tests move it forward.
	Now func() time.Time

	db   *db.DB
	keys *keyring.Keyring
	cfg  SMTPConfig
	log  *slog.Logger
	from *mail.Address // parsed cfg.From; nil when not configured or invalid
	bad  error         // why cfg cannot be used, if it cannot
}

// NewDeliverer returns a Deliverer sending through cfg. An unconfigured or
// invalid cfg is reported by Run (once) and by DeliverDue; mail then stays
// queued.
func NewDeliverer(d *db.DB, k *keyring.Keyring, cfg SMTPConfig, log *slog.Logger) *Deliverer {
	if log == nil {
		log = slog.Default()
	}
	dl := &Deliverer{db: d, keys: k, cfg: cfg.withDefaults(), log: log.With("component", "mail")}
	switch {
	case !cfg.Configured():
		dl.bad = ErrNotConfigured
	default:
		if err := cfg.Validate(); err != nil {
			dl.bad = err
		} else {
			dl.from, _ = parseAddress(cfg.From)
		}
	}
	return dl
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return 8
}

func (d *Deliverer) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

// DefaultBackoff waits 1m after the first failure, then doubles, capped at
// one hour.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return time.Hour
	}
	return min(time.Minute<<(attempt-1), time.Hour)
}

// Run delivers due mail until ctx is done: at every poll, and at once when
// an Outbox of this process queues a message on the same database. It
// prunes old sent and failed messages about once an hour.
func (d *Deliverer) Run(ctx context.Context) {
	if d.bad != nil {
		// Said once, at start; the messages wait in the outbox.
		d.log.Warn("outbound mail disabled: messages stay queued until it is configured", "reason", d.bad.Error())
	}
	poll := d.PollInterval
	if poll <= 0 {
		poll = 10 * time.Second
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	w := wakerOf(d.db)
	var lastPrune time.Time
	for {
		woken := w.wait() // taken before the pass, so no wake is missed
		if d.bad == nil {
			if _, err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("mail delivery pass failed", "err", err)
			}
		}
		if now := d.now(); now.Sub(lastPrune) >= time.Hour {
			lastPrune = now
			if n, err := Prune(ctx, d.db, now.Add(-d.retention())); err != nil && ctx.Err() == nil {
				d.log.Error("mail outbox prune failed", "err", err)
			} else if n > 0 {
				d.log.Info("mail outbox pruned", "messages", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-woken:
		}
	}
}

func (d *Deliverer) retention() time.Duration {
	if d.Retention > 0 {
		return d.Retention
	}
	return 30 * 24 * time.Hour
}

// DeliverDue makes one pass: it claims every message due now, in batches,
// and tries to deliver each once. It returns how many were sent. Failed
// attempts are not errors (they are recorded on the message); err reports
// a database failure or an unusable configuration.
func (d *Deliverer) DeliverDue(ctx context.Context) (sent int, err error) {
	if d.bad != nil {
		return 0, d.bad
	}
	p := &pass{}
	defer p.close()
	for ctx.Err() == nil {
		batch, lease, err := d.claim(ctx)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
		}
		for _, m := range batch {
			ok, err := d.deliverOne(ctx, p, m, lease)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, ctx.Err()
}

// claimed is one outbox row this Deliverer holds the lease on.
type claimed struct {
	id, ws                  int64
	kind                    string
	toEnc, subjEnc, bodyEnc []byte
	attempts                int // including this one
}

// claimQuery takes the due rows nobody holds. On PostgreSQL, SKIP LOCKED
// lets concurrent claimers pass over each other's rows instead of waiting;
// on SQLite the single writer runs claims one after another.
const claimQuery = `UPDATE mail_outbox SET lease_until = $1, attempts = attempts + 1
	WHERE id IN (SELECT id FROM mail_outbox
		WHERE state = 'queued' AND next_attempt_at <= $2 AND lease_until <= $2
		ORDER BY next_attempt_at, id LIMIT $3%s)
	RETURNING id, workspace_id, kind, to_enc, subject_enc, body_enc, attempts`

func (d *Deliverer) claim(ctx context.Context) ([]claimed, int64, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 16
	}
	now := d.now().UnixMicro()
	// The lease outlasts a whole batch of slow sends. Its exact value is
	// also this claim's token: the updates after sending only apply while
	// it is still ours, so a row re-claimed after a lease ran out is not
	// overwritten by the first claimer.
	lease := now + int64(batch+2)*d.cfg.Timeout.Microseconds() + mathrand.Int64N(1_000_000)
	suffix := ""
	if d.db.Dialect() == db.Postgres {
		suffix = " FOR UPDATE SKIP LOCKED"
	}
	var out []claimed
	err := d.db.Write(ctx, func(tx *db.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(claimQuery, suffix), lease, now, batch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.ws, &c.kind, &c.toEnc, &c.subjEnc, &c.bodyEnc, &c.attempts); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("claim outbox messages: %w", err)
	}
	return out, lease, nil
}

// deliverOne tries one claimed message and records the outcome. ok says
// whether it was sent; err is a database failure.
func (d *Deliverer) deliverOne(ctx context.Context, p *pass, c claimed, lease int64) (ok bool, err error) {
	// The outcome is recorded even when ctx ends meanwhile: a sent message
	// must be marked sent.
	rctx := context.WithoutCancel(ctx)
	log := d.log.With("mail_id", c.id, "kind", c.kind, "attempt", c.attempts)
	if c.attempts > d.maxAttempts() {
		// Claimed before by a process that stopped mid-send, too often.
		return false, d.finish(rctx, c, lease, StateFailed, "gave up: delivery interrupted too many times")
	}
	m, err := d.open(ctx, c)
	if err != nil {
		log.Error("mail cannot be opened; marked failed", "err", err)
		return false, d.finish(rctx, c, lease, StateFailed, "cannot decrypt the message")
	}
	env, err := buildMessage(d.from, m, d.now())
	if err != nil {
		log.Error("mail cannot be built; marked failed", "err", err)
		return false, d.finish(rctx, c, lease, StateFailed, "invalid message: "+err.Error())
	}
	sendErr := d.send(ctx, p, env)
	switch {
	case sendErr == nil:
		log.Info("mail sent")
		return true, d.finish(rctx, c, lease, StateSent, "")
	case ctx.Err() != nil:
		// Shutting down: give the message back for the next run.
		return false, d.retry(rctx, c, lease, 0, "interrupted by shutdown")
	case permanent(sendErr) || c.attempts >= d.maxAttempts():
		log.Warn("mail failed; giving up", "err", sendErr.Error())
		return false, d.finish(rctx, c, lease, StateFailed, sendErr.Error())
	default:
		wait := d.backoff(c.attempts)
		log.Warn("mail not sent; will retry", "err", sendErr.Error(), "retry_in", wait.String())
		return false, d.retry(rctx, c, lease, wait, sendErr.Error())
	}
}

// pass is the SMTP state of one DeliverDue pass: one session for all its
// messages, and the failure to open one, so a relay that is down costs one
// timeout per pass rather than one per message.
type pass struct {
	s       *conn
	dialErr error
}

func (p *pass) close() {
	if p.s != nil {
		p.s.close()
		p.s = nil
	}
}

// send delivers env, opening a session when there is none and dropping a
// session that can no longer be used.
func (d *Deliverer) send(ctx context.Context, p *pass, env envelope) error {
	if p.dialErr != nil {
		return p.dialErr
	}
	if p.s == nil {
		s, err := dial(ctx, d.cfg)
		if err != nil {
			p.dialErr = err
			return err
		}
		p.s = s
	}
	err := p.s.send(env)
	if err == nil {
		return nil
	}
	if rerr := p.s.reset(); rerr != nil {
		p.close()
	}
	return err
}

func (d *Deliverer) open(ctx context.Context, c claimed) (Message, error) {
	m := Message{WorkspaceID: c.ws, Kind: c.kind}
	var err error
	if m.To, err = d.keys.Open(ctx, field(c.ws, "to", c.id), c.toEnc); err != nil {
		return m, err
	}
	if m.Subject, err = d.keys.Open(ctx, field(c.ws, "subject", c.id), c.subjEnc); err != nil {
		return m, err
	}
	m.Body, err = d.keys.Open(ctx, field(c.ws, "body", c.id), c.bodyEnc)
	return m, err
}

// finish marks a message sent or failed. Either way its body is replaced
// by a sealed empty string: a sign-in or reset link must not outlive its
// delivery in the database.
func (d *Deliverer) finish(ctx context.Context, c claimed, lease int64, state, lastError string) error {
	wiped, err := d.keys.Seal(ctx, field(c.ws, "body", c.id), "")
	if err != nil {
		return err
	}
	var sentAt any
	if state == StateSent {
		sentAt = d.now().UnixMicro()
	}
	return d.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = $1, sent_at = $2, body_enc = $3, last_error = $4, lease_until = 0
			WHERE id = $5 AND lease_until = $6 AND state = 'queued'`, state, sentAt, wiped, lastError, c.id, lease)
		return err
	})
}

// retry gives a message back to the queue, due after wait.
func (d *Deliverer) retry(ctx context.Context, c claimed, lease int64, wait time.Duration, lastError string) error {
	next := d.now().Add(wait).UnixMicro()
	return d.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2, lease_until = 0
			WHERE id = $3 AND lease_until = $4 AND state = 'queued'`, next, lastError, c.id, lease)
		return err
	})
}

// Prune deletes sent messages sent before cutoff and failed messages
// created before it, and returns how many went.
func Prune(ctx context.Context, d *db.DB, cutoff time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := d.Write(ctx, func(tx *db.Tx) error {
			// In batches, so the SQLite writer is never held for long.
			res, err := tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox
				WHERE (state = 'sent' AND sent_at < $1) OR (state = 'failed' AND created_at < $1) LIMIT 1000)`, cutoff.UnixMicro())
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("prune mail outbox: %w", err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
