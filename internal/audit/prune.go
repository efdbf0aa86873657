package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// pruneBatch is how many records one pruning write deletes.
const pruneBatch = 5000

// Prune deletes the workspace's oldest records, whole prefixes only: every
// record up to the newest checkpoint signed before olderThan (a checkpoint
// is signed after the records it covers, so they are all older). That
// checkpoint stays, and verification starts from it: the first record kept
// must link to its hash. It first writes (and seals) an "audit.prune"
// record saying how far it prunes, so Verify can tell a prune from a
// deletion; then deletes oldest first in small writes, so an interrupted
// prune leaves a log that still verifies. It returns how many records it
// deleted.
func (l *Log) Prune(ctx context.Context, workspaceID int64, olderThan time.Time) (int64, error) {
	var through int64
	err := l.db.Read().QueryRowContext(ctx, `SELECT seq FROM audit_checkpoints WHERE workspace_id = $1 AND at <= $2 ORDER BY seq DESC LIMIT 1`,
		workspaceID, olderThan.UnixMicro()).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // no checkpoint old enough: nothing may go yet
	}
	if err != nil {
		return 0, fmt.Errorf("find prune checkpoint: %w", err)
	}
	var lowest sql.NullInt64
	if err := l.db.Read().QueryRowContext(ctx, `SELECT MIN(seq) FROM audit_log WHERE workspace_id = $1 AND seq IS NOT NULL`, workspaceID).Scan(&lowest); err != nil {
		return 0, err
	}
	if !lowest.Valid || lowest.Int64 > through {
		return 0, nil // pruned already
	}
	err = l.Write(ctx, Entry{
		WorkspaceID: workspaceID, ActorKind: ActorSystem, Action: "audit.prune", TargetKind: "workspace", TargetID: workspaceID, Result: ResultOK,
		Details: map[string]string{"through": strconv.FormatInt(through, 10), "cutoff": olderThan.UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return 0, err
	}
	if _, err := l.sealWorkspace(ctx, workspaceID); err != nil {
		return 0, err
	}
	var deleted int64
	for lo := lowest.Int64; lo <= through; lo += pruneBatch {
		hi := min(lo+pruneBatch-1, through)
		err := l.db.Write(ctx, func(tx *db.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq >= $2 AND seq <= $3`, workspaceID, lo, hi)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			deleted += n
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("prune audit records %d to %d: %w", lo, hi, err)
		}
	}
	err = l.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM audit_checkpoints WHERE workspace_id = $1 AND seq < $2`, workspaceID, through)
		return err
	})
	return deleted, err
}
