package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// columns are a record's stored fields, in scanRow's order.
const columns = `id, workspace_id, seq, prev_hash, hash, mac, at, created_at, actor_kind, actor_id, token_id, session_id,
	action, target_kind, target_id, result, ip_enc, agent_enc, request_id, details`

func scanRow(rows *sql.Rows) (*row, error) {
	r := &row{}
	var seq sql.NullInt64
	var at int64
	err := rows.Scan(&r.ID, &r.WorkspaceID, &seq, &r.prevHash, &r.Hash, &r.mac, &at, &r.createdAt, &r.ActorKind, &r.ActorID,
		&r.TokenID, &r.SessionID, &r.Action, &r.TargetKind, &r.TargetID, &r.Result, &r.ipEnc, &r.agentEnc, &r.RequestID, &r.details)
	if err != nil {
		return nil, err
	}
	r.Seq, r.At = seq.Int64, time.UnixMicro(at).UTC()
	return r, nil
}

// open decrypts the row's IP address and user agent and parses its details.
func (l *Log) open(ctx context.Context, r *row) error {
	var err error
	r.IP, r.UserAgent = "", ""
	if r.ipEnc != nil {
		if r.IP, err = l.keys.Open(ctx, field(r.WorkspaceID, r.ID, "ip"), r.ipEnc); err != nil {
			return err
		}
	}
	if r.agentEnc != nil {
		if r.UserAgent, err = l.keys.Open(ctx, field(r.WorkspaceID, r.ID, "agent"), r.agentEnc); err != nil {
			return err
		}
	}
	r.Details = nil
	if r.details != "" {
		if err := json.Unmarshal([]byte(r.details), &r.Details); err != nil {
			return fmt.Errorf("audit record %d: details: %w", r.ID, err)
		}
	}
	return nil
}

// chainPage is how many records a sequential scan reads per query.
const chainPage = 1000

// chainIter walks a workspace's sealed records in seq order, a page at a
// time, with one record of lookahead.
type chainIter struct {
	ctx   context.Context
	q     db.Querier
	ws    int64
	after int64
	until int64 // 0: no upper bound
	extra string
	args  []any
	buf   []*row
	done  bool
	err   error
}

func (it *chainIter) fill() {
	if len(it.buf) > 0 || it.done || it.err != nil {
		return
	}
	args := append([]any{it.ws, it.after}, it.args...)
	q := `SELECT ` + columns + ` FROM audit_log WHERE workspace_id = $1 AND seq > $2` + it.extra
	if it.until > 0 {
		args = append(args, it.until)
		q += fmt.Sprintf(" AND seq <= $%d", len(args))
	}
	rows, err := it.q.QueryContext(it.ctx, q+fmt.Sprintf(` ORDER BY seq LIMIT %d`, chainPage), args...)
	if err != nil {
		it.err = err
		return
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			it.err = err
			return
		}
		it.buf = append(it.buf, r)
	}
	if it.err = rows.Err(); it.err != nil {
		return
	}
	if len(it.buf) < chainPage {
		it.done = true
	}
	if n := len(it.buf); n > 0 {
		it.after = it.buf[n-1].Seq
	}
}

// peek returns the next record without taking it (nil at the end).
func (it *chainIter) peek() *row {
	it.fill()
	if len(it.buf) == 0 {
		return nil
	}
	return it.buf[0]
}

// next takes the next record (nil at the end or on error: see it.err).
func (it *chainIter) next() *row {
	r := it.peek()
	if r != nil {
		it.buf = it.buf[1:]
	}
	return r
}
