package api

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/monitor"
)

// recordRead puts a read of sensitive data in the audit log before any of
// it leaves: if the record cannot be written, the data is not sent (a
// 500), so there is never a read without its record.
func (s *Server) recordRead(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error {
	e := audit.About(r.Context(), ws, action, targetKind, targetID, details)
	if s.monitor != nil && slices.Contains(monitor.AccessKinds, action) {
		s.monitor.Observe(r.Context(), monitor.Observation{Type: action, WorkspaceID: ws, ActorKind: access.ActorKind(e.ActorKind),
			ActorID: e.ActorID, TargetKind: targetKind, TargetID: targetID, IP: e.IP, UserAgent: e.UserAgent, SessionID: e.SessionID, Details: details})
	}
	if s.audit == nil {
		return nil
	}
	return s.audit.WriteRead(r.Context(), e)
}

func count(n int) map[string]string { return map[string]string{"count": strconv.Itoa(n)} }
