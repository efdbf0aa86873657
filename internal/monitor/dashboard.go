package monitor

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// Dashboard is the security overview for admins.
type Dashboard struct {
	// OpenBySeverity counts open and acknowledged alerts.
	OpenBySeverity map[string]int
	// Open are the latest open and acknowledged alerts (at most 20).
	Open []Alert
	// SignIns are the latest 50 sign-ins, failed ones included.
	SignIns []SignInRow
	// FailedPerHour has 24 entries, oldest first, the last being the
	// current hour.
	FailedPerHour []HourCount
	// TopAccessors are the 10 accounts that read the most in 24 hours.
	TopAccessors []Accessor
}

// SignInRow is one sign-in as the dashboard shows it.
type SignInRow struct {
	At          time.Time
	AccountKind access.ActorKind
	AccountID   int64 // 0: an account that does not exist
	Result      string
	IP          string
	Place       string // looked up now, not stored
	Device      string
}

// HourCount is a count in the hour starting at Hour.
type HourCount struct {
	Hour  time.Time
	Count int
}

// Accessor is an account's access in the last 24 hours, by kind.
type Accessor struct {
	AccountKind access.ActorKind
	AccountID   int64
	Total       int64
	ByKind      map[string]int64
}

// Dashboard builds the overview of workspace ws.
func (m *Monitor) Dashboard(ctx context.Context, ws int64) (Dashboard, error) {
	d := Dashboard{OpenBySeverity: map[string]int{}}
	for _, s := range severities {
		d.OpenBySeverity[s] = 0
	}
	rows, err := m.o.DB.Read().QueryContext(ctx, `SELECT severity, COUNT(*) FROM monitor_alerts WHERE workspace_id = $1 AND state <> 'resolved' GROUP BY severity`, ws)
	if err != nil {
		return d, err
	}
	for rows.Next() {
		var sev string
		var n int
		if err := rows.Scan(&sev, &n); err != nil {
			rows.Close()
			return d, err
		}
		d.OpenBySeverity[sev] = n
	}
	rows.Close()
	for _, st := range []string{StateOpen, StateAcknowledged} {
		as, err := m.Alerts(ctx, ws, Filter{State: st, Limit: 20})
		if err != nil {
			return d, err
		}
		d.Open = append(d.Open, as...)
	}
	if len(d.Open) > 20 {
		d.Open = d.Open[:20]
	}
	if d.SignIns, err = m.recentSignIns(ctx, ws); err != nil {
		return d, err
	}
	if d.FailedPerHour, err = m.failedPerHour(ctx, ws); err != nil {
		return d, err
	}
	d.TopAccessors, err = m.topAccessors(ctx, ws)
	return d, err
}

func (m *Monitor) recentSignIns(ctx context.Context, ws int64) ([]SignInRow, error) {
	rows, err := m.o.DB.Read().QueryContext(ctx, `SELECT id, at, actor_kind, actor_id, result, ip_enc, agent_enc FROM monitor_signins
		WHERE workspace_id = $1 ORDER BY at DESC, id DESC LIMIT 50`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SignInRow
	for rows.Next() {
		var r SignInRow
		var id, at int64
		var kind string
		var ipEnc, agentEnc []byte
		if err := rows.Scan(&id, &at, &kind, &r.AccountID, &r.Result, &ipEnc, &agentEnc); err != nil {
			return nil, err
		}
		r.At, r.AccountKind = db.Time(at), access.ActorKind(kind)
		if r.IP, err = m.o.Keys.Open(ctx, signinField(ws, id, "ip"), ipEnc); err != nil {
			return nil, err
		}
		agent, err := m.o.Keys.Open(ctx, signinField(ws, id, "agent"), agentEnc)
		if err != nil {
			return nil, err
		}
		r.Device, r.Place = m.o.DescribeDevice(agent), m.locate(r.IP).String()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (m *Monitor) failedPerHour(ctx context.Context, ws int64) ([]HourCount, error) {
	end := m.o.Now().Truncate(time.Hour).Add(time.Hour)
	start := end.Add(-24 * time.Hour)
	out := make([]HourCount, 24)
	for i := range out {
		out[i].Hour = start.Add(time.Duration(i) * time.Hour).UTC()
	}
	rows, err := m.o.DB.Read().QueryContext(ctx, `SELECT at FROM monitor_signins WHERE workspace_id = $1 AND result = 'failed' AND at >= $2 AND at < $3`,
		ws, start.UnixMicro(), end.UnixMicro())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out[int(db.Time(at).Sub(start)/time.Hour)].Count++
	}
	return out, rows.Err()
}

func (m *Monitor) topAccessors(ctx context.Context, ws int64) ([]Accessor, error) {
	since := m.o.Now().Add(-24 * time.Hour).Truncate(time.Hour).Unix()
	rows, err := m.o.DB.Read().QueryContext(ctx, `SELECT actor_kind, actor_id, kind, SUM(n) FROM monitor_hourly
		WHERE workspace_id = $1 AND hour >= $2 GROUP BY actor_kind, actor_id, kind`, ws, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byAccount := map[string]*Accessor{}
	var list []*Accessor
	for rows.Next() {
		var kind, what string
		var id, n int64
		if err := rows.Scan(&kind, &id, &what, &n); err != nil {
			return nil, err
		}
		key := accountRef(access.ActorKind(kind), id)
		a := byAccount[key]
		if a == nil {
			a = &Accessor{AccountKind: access.ActorKind(kind), AccountID: id, ByKind: map[string]int64{}}
			byAccount[key] = a
			list = append(list, a)
		}
		a.ByKind[what] += n
		a.Total += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Accessor
	for len(out) < 10 && len(list) > 0 {
		best := 0
		for i, a := range list {
			if a.Total > list[best].Total || a.Total == list[best].Total && a.AccountID < list[best].AccountID {
				best = i
			}
		}
		out = append(out, *list[best])
		list = append(list[:best], list[best+1:]...)
	}
	return out, nil
}
