package mail

import (
	"context"
	"fmt"
	"sync"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// Outbox queues messages for delivery.
type Outbox struct {
	db   *db.DB
	keys *keyring.Keyring
}

// NewOutbox returns the outbox of database d.
func NewOutbox(d *db.DB, k *keyring.Keyring) *Outbox { return &Outbox{db: d, keys: k} }

// Message states in mail_outbox.state.
const (
	StateQueued = "queued"
	StateSent   = "sent"
	StateFailed = "failed"
)

const insertQuery = `INSERT INTO mail_outbox (id, workspace_id, kind, to_enc, subject_enc, body_enc, state, attempts, next_attempt_at, lease_until, last_error, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, 0, '', $7)`

// Enqueue adds m to the outbox inside the caller's write transaction: the
// mail is queued if and only if the transaction commits. It fails with an
// *errs.Invalid for a message that could not be sent as it is (a line break
// in the recipient or subject, an address that does not parse).
//
// Enqueue takes the row id and seals the fields inside tx. Callers on a hot
// path can do that work before their write with Prepare and then call
// Pending.Enqueue inside it.
func (o *Outbox) Enqueue(ctx context.Context, tx *db.Tx, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	id, err := o.db.IDs().NextIn(ctx, tx)
	if err != nil {
		return fmt.Errorf("mail outbox: %w", err)
	}
	p, err := o.seal(ctx, id, m)
	if err != nil {
		return err
	}
	return p.Enqueue(ctx, tx)
}

// Send queues m in a write of its own.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	p, err := o.Prepare(ctx, m)
	if err != nil {
		return err
	}
	return o.db.Write(ctx, func(tx *db.Tx) error { return p.Enqueue(ctx, tx) })
}

// Pending is a message checked and sealed, ready to be queued inside a
// write.
type Pending struct {
	o                       *Outbox
	id, ws                  int64
	kind                    string
	toEnc, subjEnc, bodyEnc []byte
}

// Prepare checks and seals m outside any transaction; queue the result
// with Pending.Enqueue inside the write it belongs to.
func (o *Outbox) Prepare(ctx context.Context, m Message) (*Pending, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	id, err := o.db.IDs().Next(ctx)
	if err != nil {
		return nil, err
	}
	return o.seal(ctx, id, m)
}

// ID is the outbox row the message will be.
func (p *Pending) ID() int64 { return p.id }

func (o *Outbox) seal(ctx context.Context, id int64, m Message) (*Pending, error) {
	p := &Pending{o: o, id: id, ws: m.WorkspaceID, kind: m.Kind}
	var err error
	if p.toEnc, err = o.keys.Seal(ctx, field(m.WorkspaceID, "to", id), m.To); err != nil {
		return nil, err
	}
	if p.subjEnc, err = o.keys.Seal(ctx, field(m.WorkspaceID, "subject", id), m.Subject); err != nil {
		return nil, err
	}
	if p.bodyEnc, err = o.keys.Seal(ctx, field(m.WorkspaceID, "body", id), m.Body); err != nil {
		return nil, err
	}
	return p, nil
}

// Enqueue writes the message inside tx. A delivery loop in this process
// is woken once tx commits.
func (p *Pending) Enqueue(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.ExecContext(ctx, insertQuery, p.id, p.ws, p.kind, p.toEnc, p.subjEnc, p.bodyEnc, db.Now()); err != nil {
		return fmt.Errorf("mail outbox: insert: %w", err)
	}
	tx.AfterCommit(wakerOf(p.o.db).wake)
	return nil
}

func field(ws int64, column string, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "mail_outbox", Column: column, Row: id}
}

// waker lets Enqueue wake the Deliverers of the same database in this
// process, so a sign-in link goes out at once instead of at the next poll.
// Other instances find the message when they poll.
type waker struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced on every wake
}

// wakers holds one waker per open database. It is keyed by *db.DB, so
// apps on different databases (tests run many side by side) never wake
// each other; an entry is a few bytes and lives as long as the process.
var wakers sync.Map // *db.DB → *waker

func wakerOf(d *db.DB) *waker {
	w, _ := wakers.LoadOrStore(d, &waker{ch: make(chan struct{})})
	return w.(*waker)
}

func (w *waker) wake() {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

// wait returns a channel closed at the next wake.
func (w *waker) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}
