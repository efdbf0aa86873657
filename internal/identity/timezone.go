package identity

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// EventTimeZoneChanged records a change of the workspace's time zone, with
// the new zone under "time_zone" and the one it replaced under
// "time_zone_from".
const EventTimeZoneChanged = "workspace.time_zone_changed"

// DefaultTimeZone is the zone of a workspace that never chose one.
const DefaultTimeZone = "Asia/Tehran"

// TimeZones are the zones offered first; any other IANA name is taken too.
var TimeZones = []string{
	"Asia/Tehran", "UTC", "Asia/Dubai", "Asia/Baku", "Asia/Kabul", "Asia/Istanbul", "Europe/London", "Europe/Berlin",
	"Europe/Paris", "Europe/Moscow", "America/New_York", "America/Los_Angeles", "America/Toronto", "Australia/Sydney",
}

// ValidTimeZone checks a zone name: an IANA name the tz database knows
// ("Local" and the empty name, which mean something else, are refused).
func ValidTimeZone(name string) (*time.Location, error) {
	var v errs.Validator
	if name == "" || name == "Local" || len(name) > 64 || strings.TrimSpace(name) != name {
		v.Add("time_zone", "must be an IANA time zone name such as Asia/Tehran or UTC")
		return nil, v.Err()
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		v.Add("time_zone", "must be an IANA time zone name such as Asia/Tehran or UTC")
		return nil, v.Err()
	}
	return loc, nil
}

// zoneCache keeps each workspace's zone for a moment: every signed-in
// page reads it.
type zoneCache struct {
	mu sync.Mutex
	m  map[int64]cachedZone
}

type cachedZone struct {
	loc *time.Location
	at  time.Time
}

// zoneOf reads the zone out of a workspace's settings column; a missing
// or unknown name is the default.
func zoneOf(raw string) *time.Location {
	var all struct {
		TimeZone string `json:"time_zone"`
	}
	_ = json.Unmarshal([]byte(raw), &all)
	if loc, err := ValidTimeZone(all.TimeZone); err == nil {
		return loc
	}
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		return time.FixedZone("+0330", 3*3600+1800)
	}
	return loc
}

// TimeZone returns the workspace's time zone, in which every page says
// its dates, whatever the language.
func (s *Service) TimeZone(ctx context.Context, ws int64) (*time.Location, error) {
	s.zones.mu.Lock()
	c, ok := s.zones.m[ws]
	s.zones.mu.Unlock()
	if ok && time.Since(c.at) < settingsCacheTTL {
		return c.loc, nil
	}
	var raw string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, ws).Scan(&raw); err != nil {
		return nil, err
	}
	loc := zoneOf(raw)
	s.zones.mu.Lock()
	if s.zones.m == nil || len(s.zones.m) > 10000 {
		s.zones.m = map[int64]cachedZone{}
	}
	s.zones.m[ws] = cachedZone{loc: loc, at: time.Now()}
	s.zones.mu.Unlock()
	return loc, nil
}

// SetTimeZone replaces a workspace's time zone (admins), recorded with
// the zone it replaced.
func (s *Service) SetTimeZone(ctx context.Context, scope access.Scope, name string, c Client) (*time.Location, error) {
	if !scope.Can(access.UserManage) {
		return nil, errs.ErrForbidden
	}
	loc, err := ValidTimeZone(name)
	if err != nil {
		return nil, err
	}
	ev := Event{Type: EventTimeZoneChanged, WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID,
		IP: c.IP, UserAgent: c.UserAgent}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var raw string
		if err := tx.QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, scope.WorkspaceID).Scan(&raw); err != nil {
			return err
		}
		ev.Details = map[string]string{"time_zone": name, "time_zone_from": zoneOf(raw).String()}
		if err := setSetting(ctx, tx, scope.WorkspaceID, raw, "time_zone", name); err != nil {
			return err
		}
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return nil, err
	}
	s.zones.mu.Lock()
	delete(s.zones.m, scope.WorkspaceID)
	s.zones.mu.Unlock()
	s.emit(ctx, ev)
	return loc, nil
}
