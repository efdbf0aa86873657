// Package audit keeps Hesar's tamper-evident audit log: append-only records
// of security actions and reads of sensitive data, per workspace.
//
// The write path is built so that auditing every ticket view costs one
// small INSERT and no contention (docs/AUDIT.md):
//
//   - Record and Write insert a row with no chain position. Its IP address
//     and user agent are sealed (they are personal data) and the row carries
//     mac, a keyed MAC over every field with those two in plaintext. Writers
//     never touch a shared row, so nothing serializes them.
//   - A sealer (Run, SealPending) later takes each workspace's new rows in
//     turn, under a per-workspace lock, and gives each its seq, prev_hash and
//     hash = SHA-256(prev_hash || mac): the chain.
//   - Checkpoints sign (workspace, seq, hash, time) with a key that only the
//     master key can unwrap; Verify checks the MACs, the chain, and that it
//     passes through every checkpoint.
//
// A forged or edited record fails its MAC even before it is sealed; a
// deleted, reordered or inserted sealed record breaks the chain. What the
// log cannot show is a record deleted before it was sealed (a second or so)
// or a tail deleted together with every checkpoint and head after it: ship
// the log to a SIEM to keep a copy out of reach.
package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// Actor kinds.
const (
	ActorUser      = "user"
	ActorCustomer  = "customer"
	ActorToken     = "token"
	ActorSystem    = "system"
	ActorAnonymous = "anonymous"
)

// Results.
const (
	ResultOK     = "ok"
	ResultDenied = "denied"
	ResultFailed = "failed"
)

// Limits on what one record may hold; longer IPs, user agents and request
// ids are cut, too many or too long details are refused.
const (
	maxIP          = 64
	maxUserAgent   = 512
	maxRequestID   = 128
	maxName        = 64 // action, target kind
	maxDetails     = 32
	maxDetailBytes = 2048
)

// Entry is one thing to record.
type Entry struct {
	WorkspaceID int64
	ActorKind   string // ActorUser, ActorCustomer, ActorToken, ActorSystem, ActorAnonymous
	ActorID     int64
	TokenID     int64
	SessionID   int64
	Action      string // dotted, e.g. "ticket.view", "signin.failed", "customer.export"
	TargetKind  string // "ticket", "customer", "user", "attachment", "token", "workspace", …
	TargetID    int64
	Result      string // ResultOK, ResultDenied, ResultFailed
	// IP and UserAgent are personal data: they are stored sealed.
	IP, UserAgent, RequestID string
	// Details are small and never personal data (callers ensure it).
	Details map[string]string
	At      time.Time // zero: now
}

// Record is an entry as stored. Seq and Hash are zero until it is sealed.
type Record struct {
	Entry
	ID, Seq int64
	Hash    []byte
}

// ValidationError says what is wrong with an entry.
type ValidationError struct{ Reason string }

func (e *ValidationError) Error() string { return "audit entry: " + e.Reason }

// Options configure a Log. Zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (tests move it).
	Now func() time.Time
	// SealEvery is how often Run chains new records (default 1s).
	SealEvery time.Duration
	// CheckpointEvery is how often Run signs a checkpoint of each
	// workspace with new records (default 1h).
	CheckpointEvery time.Duration
	// Retention is how long records are kept (default 365 days); Run
	// prunes older ones once a day. Negative keeps everything.
	Retention time.Duration
	// UnsealedBound is how long a record may wait for the sealer before
	// Verify calls it suspicious (default 10 minutes).
	UnsealedBound time.Duration
}

// Log is the audit log of every workspace in one database.
type Log struct {
	db   *db.DB
	keys *keyring.Keyring
	opt  Options
	log  *slog.Logger

	mu  sync.RWMutex
	mac map[int64]*keyring.AuditKeys // by workspace; they never change

	idMu      sync.Mutex
	ids       []int64 // row ids taken ahead for Record
	refilling bool
}

// idPoolSize is how many row ids Log takes ahead for Record. Inside a
// write, IDs().NextIn falls back to taking one id in the caller's
// transaction once the process's reserved block runs out, and on
// PostgreSQL that holds the id_blocks row lock until the caller commits,
// serializing every audited write. A pool refilled outside any write keeps
// Record off that row.
const idPoolSize = 512

// New returns the audit log stored in d, sealing with k.
func New(d *db.DB, k *keyring.Keyring, opts Options) *Log {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SealEvery <= 0 {
		opts.SealEvery = time.Second
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = time.Hour
	}
	if opts.Retention == 0 {
		opts.Retention = 365 * 24 * time.Hour
	}
	if opts.UnsealedBound <= 0 {
		opts.UnsealedBound = 10 * time.Minute
	}
	return &Log{db: d, keys: k, opt: opts, log: opts.Logger, mac: map[int64]*keyring.AuditKeys{}}
}

// auditKeys returns the workspace's audit keys, cached.
func (l *Log) auditKeys(ctx context.Context, ws int64) (*keyring.AuditKeys, error) {
	l.mu.RLock()
	k := l.mac[ws]
	l.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	k, err := l.keys.AuditKeys(ctx, ws)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.mac[ws] = k
	l.mu.Unlock()
	return k, nil
}

// row is a record as stored, with its sealed fields both ways.
type row struct {
	Record
	createdAt       int64
	details         string // canonical JSON, as stored
	ipEnc, agentEnc []byte
	mac, prevHash   []byte
}

// prepare validates e and builds its row, all but the id-bound fields.
func (l *Log) prepare(e Entry) (*row, error) {
	if e.WorkspaceID == 0 {
		return nil, &ValidationError{"no workspace"}
	}
	switch e.ActorKind {
	case ActorUser, ActorCustomer, ActorToken, ActorSystem, ActorAnonymous:
	default:
		return nil, &ValidationError{fmt.Sprintf("unknown actor kind %q", e.ActorKind)}
	}
	switch e.Result {
	case ResultOK, ResultDenied, ResultFailed:
	default:
		return nil, &ValidationError{fmt.Sprintf("unknown result %q", e.Result)}
	}
	if e.Action == "" || len(e.Action) > maxName || len(e.TargetKind) > maxName {
		return nil, &ValidationError{"action must be 1 to 64 bytes, target kind at most 64"}
	}
	if len(e.Details) > maxDetails {
		return nil, &ValidationError{fmt.Sprintf("more than %d details", maxDetails)}
	}
	now := l.opt.Now()
	if e.At.IsZero() {
		e.At = now
	}
	e.IP, e.UserAgent, e.RequestID = cut(e.IP, maxIP), cut(e.UserAgent, maxUserAgent), cut(e.RequestID, maxRequestID)
	r := &row{Record: Record{Entry: e}, createdAt: now.UnixMicro()}
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details) // map keys sorted: canonical
		if err != nil {
			return nil, err
		}
		if len(b) > maxDetailBytes {
			return nil, &ValidationError{fmt.Sprintf("details longer than %d bytes", maxDetailBytes)}
		}
		r.details = string(b)
	}
	return r, nil
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func field(ws, id int64, column string) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "audit_log", Column: column, Row: id}
}

// finish gives r its id, seals its personal data and computes its MAC.
func (l *Log) finish(ctx context.Context, r *row, id int64) error {
	r.ID = id
	ws := r.WorkspaceID
	var err error
	if r.IP != "" {
		if r.ipEnc, err = l.keys.Seal(ctx, field(ws, id, "ip"), r.IP); err != nil {
			return err
		}
	}
	if r.UserAgent != "" {
		if r.agentEnc, err = l.keys.Seal(ctx, field(ws, id, "agent"), r.UserAgent); err != nil {
			return err
		}
	}
	k, err := l.auditKeys(ctx, ws)
	if err != nil {
		return err
	}
	r.mac = k.RecordMAC(r.canonical())
	return nil
}

// canonical is the byte string a record's MAC covers: every stored field
// but the chain's own (seq, prev_hash, hash), with the IP and user agent in
// plaintext so that re-encrypting them under a new key changes nothing.
// Each field is length-prefixed, so no two records encode alike.
func (r *row) canonical() []byte {
	b := make([]byte, 0, 256+len(r.UserAgent)+len(r.details))
	b = append(b, "hesar-audit-record-v1"...)
	for _, n := range []int64{r.WorkspaceID, r.ID, r.At.UnixMicro(), r.createdAt, r.ActorID, r.TokenID, r.SessionID, r.TargetID} {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	for _, s := range []string{r.ActorKind, r.Action, r.TargetKind, r.Result, r.IP, r.UserAgent, r.RequestID, r.details} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

const insertQuery = `INSERT INTO audit_log (id, workspace_id, mac, at, created_at, actor_kind, actor_id, token_id, session_id,
	action, target_kind, target_id, result, ip_enc, agent_enc, request_id, details)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`

func (r *row) insert(ctx context.Context, tx *db.Tx) error {
	_, err := tx.ExecContext(ctx, insertQuery, r.ID, r.WorkspaceID, r.mac, r.At.UnixMicro(), r.createdAt,
		r.ActorKind, r.ActorID, r.TokenID, r.SessionID, r.Action, r.TargetKind, r.TargetID, r.Result,
		r.ipEnc, r.agentEnc, r.RequestID, r.details)
	if err != nil {
		return fmt.Errorf("record audit entry %s: %w", r.Action, err)
	}
	return nil
}

// Record adds e inside the caller's write: the record commits or rolls
// back with the change it records. It inserts one row and locks nothing
// shared, so concurrent audited writes do not wait for each other.
func (l *Log) Record(ctx context.Context, tx *db.Tx, e Entry) error {
	r, err := l.prepare(e)
	if err != nil {
		return err
	}
	id, err := l.nextID(ctx, tx)
	if err != nil {
		return err
	}
	if err := l.finish(ctx, r, id); err != nil {
		return err
	}
	return r.insert(ctx, tx)
}

// nextID returns a row id from the pool, or from tx when the pool is dry,
// and starts a refill when it runs low.
func (l *Log) nextID(ctx context.Context, tx *db.Tx) (int64, error) {
	l.idMu.Lock()
	n := len(l.ids)
	var id int64
	if n > 0 {
		id, l.ids = l.ids[n-1], l.ids[:n-1]
	}
	low := n <= idPoolSize/2 && !l.refilling
	if low {
		l.refilling = true
	}
	l.idMu.Unlock()
	if low {
		// Not from the caller's goroutine: it may be the SQLite writer,
		// and IDs().Next may need a write of its own.
		go l.refill(context.WithoutCancel(ctx))
	}
	if n > 0 {
		return id, nil
	}
	// What IDs().NextIn does when its block is spent, without its mutex:
	// IDs().Next holds that mutex while it waits for a write of its own,
	// and on SQLite this runs on the writer, so waiting for it deadlocks.
	var next int64
	if err := tx.QueryRowContext(ctx, `UPDATE id_blocks SET next_id = next_id + 1 WHERE name = 'global' RETURNING next_id`).Scan(&next); err != nil {
		return 0, fmt.Errorf("take a row id: %w", err)
	}
	return next - 1, nil
}

func (l *Log) refill(ctx context.Context) {
	defer func() {
		l.idMu.Lock()
		l.refilling = false
		l.idMu.Unlock()
	}()
	batch := make([]int64, 0, idPoolSize)
	for range idPoolSize {
		id, err := l.db.IDs().Next(ctx)
		if err != nil {
			l.log.Warn("audit: take row ids ahead", "err", err)
			break
		}
		batch = append(batch, id)
	}
	l.idMu.Lock()
	l.ids = append(l.ids, batch...)
	l.idMu.Unlock()
}

// Write adds e in a write of its own, for reads and failures that change
// nothing else. The sealing and hashing happen before the write, so on
// SQLite the single writer only runs the INSERT (group-committed with its
// neighbours).
func (l *Log) Write(ctx context.Context, e Entry) error {
	r, err := l.prepare(e)
	if err != nil {
		return err
	}
	id, err := l.db.IDs().Next(ctx)
	if err != nil {
		return err
	}
	if err := l.finish(ctx, r, id); err != nil {
		return err
	}
	return l.db.Write(ctx, func(tx *db.Tx) error { return r.insert(ctx, tx) })
}
