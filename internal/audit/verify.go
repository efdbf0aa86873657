package audit

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/keyring"
)

// Kinds of breakage Verify reports.
const (
	Edited          = "edited"            // a record's fields or chain hash were changed
	Missing         = "missing"           // records were deleted (a gap, a lost predecessor, a truncated tail)
	Reordered       = "reordered"         // records were moved to other positions
	Inserted        = "inserted"          // a record the application never wrote
	UnsealedTooLong = "unsealed-too-long" // a record waited for the sealer longer than the bound
	BadCheckpoint   = "bad-checkpoint"    // a checkpoint or chain head signature does not hold, or the chain misses it
)

// Problem is the first broken thing Verify found.
type Problem struct {
	Kind   string
	Seq    int64 // chain position, 0 for an unsealed record
	ID     int64 // record id, when one is at fault
	Reason string
}

func (p *Problem) String() string {
	return fmt.Sprintf("%s at seq %d (record %d): %s", p.Kind, p.Seq, p.ID, p.Reason)
}

// Report is the outcome of verifying one workspace's log.
type Report struct {
	WorkspaceID int64
	OK          bool
	Checked     int64 // sealed records checked
	FirstSeq    int64 // where verification started (after a prune, past a checkpoint)
	LastSeq     int64
	Checkpoints int   // signed checkpoints checked
	Pending     int64 // records waiting for the sealer, within the bound
	Problem     *Problem
}

// verifier holds the state of one Verify walk.
type verifier struct {
	l        *Log
	ctx      context.Context
	ws       int64
	k        *keyring.AuditKeys
	rep      Report
	cps      map[int64][]byte // checkpoint hash by seq
	maxCP    int64
	pruned   int64 // the highest seq a sealed prune record covers
	progress func(int64)
}

// Verify checks the workspace's whole log: every checkpoint and head
// signature, every record's MAC (its IP and user agent decrypted), that the
// chain links each record to the one before with no gap from the start (or
// the checkpoint a prune left) to the signed head, that it passes through
// every checkpoint, and that no record waits for the sealer too long. It
// reports the first broken thing. progress, when set, sees the count of
// records checked so far.
func (l *Log) Verify(ctx context.Context, workspaceID int64, progress func(checked int64)) (Report, error) {
	k, err := l.auditKeys(ctx, workspaceID)
	if err != nil {
		return Report{WorkspaceID: workspaceID}, err
	}
	v := &verifier{l: l, ctx: ctx, ws: workspaceID, k: k, rep: Report{WorkspaceID: workspaceID}, cps: map[int64][]byte{}, progress: progress}
	p, err := v.run()
	if err != nil {
		return v.rep, err
	}
	v.rep.Problem, v.rep.OK = p, p == nil
	return v.rep, nil
}

func (v *verifier) run() (*Problem, error) {
	h, hasHead, err := readHead(v.ctx, v.l.db.Read(), v.ws, v.k)
	if err != nil && hasHead {
		return &Problem{Kind: BadCheckpoint, Seq: h.seq, Reason: "the chain head's signature does not hold"}, nil
	} else if err != nil {
		return nil, err
	}
	if p, err := v.checkpoints(); p != nil || err != nil {
		return p, err
	}
	p, last, err := v.chain()
	if p != nil || err != nil {
		return p, err
	}
	v.rep.LastSeq = last.seq
	switch {
	case v.maxCP > last.seq:
		return &Problem{Kind: Missing, Seq: last.seq + 1, Reason: fmt.Sprintf("records after seq %d were deleted: a checkpoint signs seq %d", last.seq, v.maxCP)}, nil
	case hasHead && h.seq > last.seq:
		return &Problem{Kind: Missing, Seq: last.seq + 1, Reason: fmt.Sprintf("records after seq %d were deleted: the chain head signs seq %d", last.seq, h.seq)}, nil
	case hasHead && h.seq == last.seq && !bytes.Equal(h.hash, last.hash):
		return &Problem{Kind: Edited, Seq: last.seq, Reason: "the last record's hash is not the one the chain head signs"}, nil
	case !hasHead && last.seq > 0:
		return &Problem{Kind: Missing, Seq: last.seq + 1, Reason: "the chain head was deleted: records after the last checkpoint may be gone"}, nil
	}
	return v.unsealed()
}

// checkpoints loads every checkpoint and checks its signature.
func (v *verifier) checkpoints() (*Problem, error) {
	rows, err := v.l.db.Read().QueryContext(v.ctx, `SELECT id, seq, hash, at, mac FROM audit_checkpoints WHERE workspace_id = $1 ORDER BY seq`, v.ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, seq, at int64
		var hash, mac []byte
		if err := rows.Scan(&id, &seq, &hash, &at, &mac); err != nil {
			return nil, err
		}
		if !v.k.VerifyCheckpoint(signedMsg("checkpoint", v.ws, seq, hash, at), mac) {
			return &Problem{Kind: BadCheckpoint, Seq: seq, Reason: fmt.Sprintf("checkpoint %d's signature does not hold (forged or edited)", id)}, nil
		}
		v.cps[seq], v.maxCP = hash, seq
		v.rep.Checkpoints++
	}
	return nil, rows.Err()
}

// chain walks the sealed records in order and returns the last good one.
func (v *verifier) chain() (*Problem, head, error) {
	it := &chainIter{ctx: v.ctx, q: v.l.db.Read(), ws: v.ws}
	first := it.peek()
	if first == nil {
		return nil, head{hash: genesis}, it.err
	}
	prev := head{seq: first.Seq - 1, hash: genesis}
	needCover := int64(0) // records 1..needCover are gone: a prune must say so
	if first.Seq > 1 {
		needCover = first.Seq - 1
		if cp, ok := v.cps[first.Seq-1]; ok {
			prev.hash = cp // a whole prefix pruned up to a checkpoint
		} else {
			prev.hash = first.prevHash // a prune interrupted half way; the chain must still reach its checkpoint
		}
	}
	v.rep.FirstSeq = first.Seq
	for r := it.next(); r != nil; r = it.next() {
		if p, err := v.record(it, r, prev); p != nil || err != nil {
			return p, prev, err
		}
		if r.Action == "audit.prune" && r.Result == ResultOK {
			if n, err := strconv.ParseInt(r.Details["through"], 10, 64); err == nil && n > v.pruned {
				v.pruned = n
			}
		}
		prev = head{seq: r.Seq, hash: r.Hash}
		v.rep.Checked++
		if v.progress != nil && v.rep.Checked%chainPage == 0 {
			v.progress(v.rep.Checked)
		}
	}
	if it.err != nil {
		return nil, prev, it.err
	}
	if v.progress != nil {
		v.progress(v.rep.Checked)
	}
	if needCover > v.pruned {
		return &Problem{Kind: Missing, Seq: 1, Reason: fmt.Sprintf("records 1 to %d were deleted and no prune record covers them", needCover)}, prev, nil
	}
	return nil, prev, nil
}

// record checks one sealed record against its predecessor.
func (v *verifier) record(it *chainIter, r *row, prev head) (*Problem, error) {
	intact := v.macOK(r) && bytes.Equal(r.Hash, chainHash(r.prevHash, r.mac))
	if !intact {
		// A record the chain skips over was slipped in; one the chain runs
		// through was changed.
		if nx := it.peek(); nx != nil && bytes.Equal(nx.prevHash, prev.hash) {
			return &Problem{Kind: Inserted, Seq: r.Seq, ID: r.ID, Reason: "a record the chain does not include (its MAC does not hold)"}, nil
		}
		if it.peek() == nil && v.maxCP < r.Seq && !v.headCovers(r.Seq) {
			return &Problem{Kind: Inserted, Seq: r.Seq, ID: r.ID, Reason: "a record past the signed chain head (its MAC does not hold)"}, nil
		}
		return &Problem{Kind: Edited, Seq: r.Seq, ID: r.ID, Reason: "the record's fields or hash were changed (its MAC or hash does not hold)"}, nil
	}
	if r.Seq != prev.seq+1 {
		return &Problem{Kind: Missing, Seq: prev.seq + 1, ID: r.ID, Reason: fmt.Sprintf("records %d to %d were deleted", prev.seq+1, r.Seq-1)}, nil
	}
	if !bytes.Equal(r.prevHash, prev.hash) {
		var at int64
		err := v.l.db.Read().QueryRowContext(v.ctx, `SELECT seq FROM audit_log WHERE workspace_id = $1 AND hash = $2`, v.ws, r.prevHash).Scan(&at)
		if err == nil {
			return &Problem{Kind: Reordered, Seq: r.Seq, ID: r.ID, Reason: fmt.Sprintf("the record that came before it is now at seq %d", at)}, nil
		}
		return &Problem{Kind: Missing, Seq: r.Seq, ID: r.ID, Reason: "the record that came before it was deleted and the later ones renumbered"}, nil
	}
	if cp, ok := v.cps[r.Seq]; ok && !bytes.Equal(cp, r.Hash) {
		return &Problem{Kind: BadCheckpoint, Seq: r.Seq, ID: r.ID, Reason: "the chain does not pass through the checkpoint at this seq"}, nil
	}
	return nil, nil
}

// headCovers reports whether the signed head is at or past seq.
func (v *verifier) headCovers(seq int64) bool {
	h, ok, err := readHead(v.ctx, v.l.db.Read(), v.ws, v.k)
	return err == nil && ok && h.seq >= seq
}

// macOK reports whether the record's MAC holds over its stored fields and
// decrypted IP and user agent (a value that fails to decrypt fails it).
func (v *verifier) macOK(r *row) bool {
	if err := v.l.open(v.ctx, r); err != nil {
		return false
	}
	return v.k.VerifyRecord(r.canonical(), r.mac)
}

// unsealed checks the records waiting for the sealer: each must carry a
// valid MAC (so none was forged or edited while it waited), and none may
// have waited longer than the bound (the sealer runs every second; a record
// left behind may mean a sealer was stopped to hide something).
func (v *verifier) unsealed() (*Problem, error) {
	rows, err := v.l.db.Read().QueryContext(v.ctx, `SELECT `+columns+` FROM audit_log WHERE workspace_id = $1 AND seq IS NULL ORDER BY created_at, id`, v.ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	bound := v.l.opt.Now().Add(-v.l.opt.UnsealedBound).UnixMicro()
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		if !v.macOK(r) {
			return &Problem{Kind: Inserted, ID: r.ID, Reason: "a record waiting for the sealer whose MAC does not hold (forged or edited)"}, nil
		}
		if r.createdAt < bound {
			return &Problem{Kind: UnsealedTooLong, ID: r.ID, Reason: fmt.Sprintf("waiting for the sealer since %s", time.UnixMicro(r.createdAt).UTC().Format(time.RFC3339))}, nil
		}
		v.rep.Pending++
	}
	return nil, rows.Err()
}
