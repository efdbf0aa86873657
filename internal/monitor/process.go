package monitor

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/geoip"
)

// batchState is what one batch knows about each workspace, read before
// its write so nothing slow runs inside it.
type batchState struct {
	settings map[int64]Settings
	admins   map[int64]map[int64]bool
}

// found is what detectors report from inside the write.
type found struct {
	raises []raise
	mails  []userMail
}

// process runs the detectors over one batch in one write, then sends what
// the alerts it opened call for.
func (m *Monitor) process(ctx context.Context, batch []Observation) error {
	st := batchState{settings: map[int64]Settings{}, admins: map[int64]map[int64]bool{}}
	for _, o := range batch {
		if _, ok := st.settings[o.WorkspaceID]; ok {
			continue
		}
		s, err := m.settingsWithSecret(ctx, o.WorkspaceID)
		if err != nil {
			return err
		}
		st.settings[o.WorkspaceID] = s
	}
	for _, o := range batch {
		if _, ok := st.admins[o.WorkspaceID]; ok || !needsAdmins(o) {
			continue
		}
		ids, err := m.o.Accounts.Admins(ctx, o.WorkspaceID)
		if err != nil {
			return fmt.Errorf("monitor: admins of workspace %d: %w", o.WorkspaceID, err)
		}
		set := map[int64]bool{}
		for _, id := range ids {
			set[id] = true
		}
		st.admins[o.WorkspaceID] = set
	}
	var f found
	var opened []openedAlert
	err := m.o.DB.Write(ctx, func(tx *db.Tx) error {
		f, opened = found{}, nil
		for _, o := range batch {
			if err := m.detect(ctx, tx, st, o, &f); err != nil {
				return fmt.Errorf("monitor: %s: %w", o.Type, err)
			}
		}
		for _, r := range f.raises {
			a, err := m.raiseAlert(ctx, tx, st.settings[r.ws], r)
			if err != nil {
				return err
			}
			if a.opened {
				opened = append(opened, a)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.afterOpened(ctx, st, opened, f.mails)
	return nil
}

func needsAdmins(o Observation) bool {
	return o.Type == SignIn && o.ActorKind == access.ActorUser || o.Type == TokenCreated
}

// detect runs the detectors that read o.
func (m *Monitor) detect(ctx context.Context, tx *db.Tx, st batchState, o Observation, f *found) error {
	s := st.settings[o.WorkspaceID]
	switch o.Type {
	case SignInFailed, MFAFailed:
		return m.signInFailed(ctx, tx, s, o, f)
	case SignIn:
		return m.signedIn(ctx, tx, s, st.admins[o.WorkspaceID], o, f)
	case SessionEnded, SessionRevoked:
		return m.sessionEnded(ctx, tx, o)
	case MFARemoved, MFAReset, RecoveryUsed, RoleChanged, TokenCreated:
		return m.accountChange(ctx, tx, s, st.admins[o.WorkspaceID], o, f)
	case PolicyChanged:
		return m.policyChanged(ctx, tx, s, o, f)
	case DataProtectionChanged:
		return m.dataProtectionChanged(ctx, tx, s, o, f)
	case AccessView, AccessSearch, AccessDownload, AccessExport, AccessCustomer:
		return m.accessed(ctx, tx, s, o, f)
	}
	return nil
}

// hash is the keyed hash the windows store instead of an account or an
// address: 16 bytes of HMAC under the workspace's blind-index key.
func (m *Monitor) hash(ctx context.Context, ws int64, domain, value string) ([]byte, error) {
	return m.o.Keys.BlindIndex(ctx, ws, "monitor/"+domain, value)
}

func accountRef(kind access.ActorKind, id int64) string {
	return string(kind) + ":" + strconv.FormatInt(id, 10)
}

func (m *Monitor) accountHash(ctx context.Context, ws int64, kind access.ActorKind, id int64) ([]byte, error) {
	return m.hash(ctx, ws, "account", accountRef(kind, id))
}

// uniqueObject stands for an object that is never counted twice.
func uniqueObject() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

func mark(ctx context.Context, tx *db.Tx, ws int64, rule string, subject, object []byte, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO monitor_marks (workspace_id, rule, subject, object, at) VALUES ($1, $2, $3, $4, $5)`,
		ws, rule, subject, object, at.UnixMicro())
	return err
}

// count returns how many marks, and how many distinct objects, subject has
// under rule since since.
func count(ctx context.Context, tx *db.Tx, ws int64, rule string, subject []byte, since time.Time) (n, distinct int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT object) FROM monitor_marks
		WHERE workspace_id = $1 AND rule = $2 AND subject = $3 AND at > $4`, ws, rule, subject, since.UnixMicro()).Scan(&n, &distinct)
	return n, distinct, err
}

// touch keeps one mark per subject and object, moved to at: for "seen
// before" sets, which must stay small however often they are seen.
func touch(ctx context.Context, tx *db.Tx, ws int64, rule string, subject, object []byte, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE monitor_marks SET at = $1 WHERE workspace_id = $2 AND rule = $3 AND subject = $4 AND object = $5`,
		at.UnixMicro(), ws, rule, subject, object)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	return mark(ctx, tx, ws, rule, subject, object, at)
}

func (m *Monitor) locate(ip string) geoip.Place {
	if m.o.Places == nil || ip == "" {
		return geoip.Place{}
	}
	return m.o.Places.Locate(ip)
}

// human writes a duration for people: "14 minutes", "2 hours 5 minutes".
func human(d time.Duration) string {
	d = d.Round(time.Minute)
	h, mnt := int(d.Hours()), int(d.Minutes())%60
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case h >= 48 && mnt == 0 && h%24 == 0:
		return plural(h/24, "day")
	case h > 0 && mnt > 0:
		return plural(h, "hour") + " " + plural(mnt, "minute")
	case h > 0:
		return plural(h, "hour")
	case mnt == 0:
		return "less than a minute"
	}
	return plural(mnt, "minute")
}

func who(kind access.ActorKind, id int64) string {
	if kind == "" {
		kind = access.ActorUser
	}
	return string(kind) + " #" + strconv.FormatInt(id, 10)
}
