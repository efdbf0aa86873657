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
// RecordRead is recordRead for the web pages, which read through the same
// services and must leave the same records.
func (s *Server) RecordRead(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error {
	return s.recordRead(r, ws, action, targetKind, targetID, details)
}

func (s *Server) recordRead(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error {
	e := audit.About(r.Context(), ws, action, targetKind, targetID, details)
	kind := action
	if readsTicket[action] {
		// Reading a ticket's conversation or files is reading the ticket,
		// for the mass-access detector.
		kind = monitor.AccessView
	}
	if s.monitor != nil && slices.Contains(monitor.AccessKinds, kind) {
		s.monitor.Observe(r.Context(), monitor.Observation{Type: kind, WorkspaceID: ws, ActorKind: access.ActorKind(e.ActorKind),
			ActorID: e.ActorID, TargetKind: targetKind, TargetID: targetID, IP: e.IP, UserAgent: e.UserAgent, SessionID: e.SessionID, Details: details})
	}
	if s.audit == nil {
		return nil
	}
	return s.audit.WriteRead(r.Context(), e)
}

// readsTicket are the reads of a ticket's content under another name.
var readsTicket = map[string]bool{"ticket.messages.view": true, "attachment.list": true, "ticket.history.view": true}

func count(n int) map[string]string { return map[string]string{"count": strconv.Itoa(n)} }
