package api

import (
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/audit"
)

// recordRead puts a read of sensitive data in the audit log before any of
// it leaves: if the record cannot be written, the data is not sent (a
// 500), so there is never a read without its record.
func (s *Server) recordRead(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Write(r.Context(), audit.About(r.Context(), ws, action, targetKind, targetID, details))
}

func count(n int) map[string]string { return map[string]string{"count": strconv.Itoa(n)} }
