package monitor

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// Retention of each kind of state: the longest window a setting may give
// it, so pruning never cuts a window short.
const (
	keepCounting  = 24 * time.Hour       // failed sign-ins, access marks
	keepSeen      = 366 * 24 * time.Hour // devices and countries seen
	keepHourly    = 8 * 24 * time.Hour   // baselines (7 days) and top accessors
	keepSignIns   = 90 * 24 * time.Hour
	keepDelivered = 30 * 24 * time.Hour
)

// Prune deletes windowed state older than any window can read. It is
// idempotent, so every instance may run it.
func (m *Monitor) Prune(ctx context.Context) error {
	now := m.o.Now()
	counting := now.Add(-keepCounting).UnixMicro()
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM monitor_marks WHERE rule IN ('failed_account', 'failed_address') AND at < $1`, []any{counting}},
		{`DELETE FROM monitor_marks WHERE rule IN ('seen_device', 'seen_country') AND at < $1`, []any{now.Add(-keepSeen).UnixMicro()}},
		{`DELETE FROM monitor_hourly WHERE hour < $1`, []any{now.Add(-keepHourly).Unix()}},
		{`DELETE FROM monitor_signins WHERE at < $1`, []any{now.Add(-keepSignIns).UnixMicro()}},
		{`DELETE FROM monitor_deliveries WHERE state <> 'pending' AND created_at < $1`, []any{now.Add(-keepDelivered).UnixMicro()}},
	}
	for _, kind := range AccessKinds {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`DELETE FROM monitor_marks WHERE rule = $1 AND at < $2`, []any{markAccessPrefix + kind, counting}})
	}
	return m.o.DB.Write(ctx, func(tx *db.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
}
