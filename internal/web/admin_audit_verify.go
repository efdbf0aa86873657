package web

import (
	"net/http"
	"time"

	"github.com/hesar/hesar/internal/audit"
)

// Verifying the audit log (security.manage): the page explains what is
// checked; sending its form runs the same check as the API's
// GET /api/v1/audit/verify and `hesar audit verify`, and shows the result
// in words. A POST, so no prefetch or crawler runs a walk over the whole
// log.

// VerifyPage is /admin/audit/verify, before and after a check.
type VerifyPage struct {
	Page
	// Ran is true once the check ran; then Report is its outcome.
	Ran    bool
	Report audit.Report
	// ProblemKey names the kind of breakage in the catalogs.
	ProblemKey string
	At         time.Time
}

func (s *Server) auditVerifyPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.audit == nil {
		return errNoMonitor
	}
	return s.render(w, r, http.StatusOK, "admin_audit_verify", VerifyPage{Page: s.page(r, q, "title.admin_audit_verify")})
}

// verifyKinds are the kinds of breakage the page explains; another kind
// (from a newer audit package) is shown with the general explanation.
var verifyKinds = map[string]bool{audit.Edited: true, audit.Missing: true, audit.Reordered: true, audit.Inserted: true,
	audit.UnsealedTooLong: true, audit.BadCheckpoint: true}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.audit == nil {
		return errNoMonitor
	}
	// Reads this instance recorded a moment ago are committed first, as
	// the API does, so the check covers the log up to now.
	if err := s.audit.FlushReads(r.Context()); err != nil {
		return err
	}
	rep, err := s.audit.Verify(r.Context(), q.P.Scope.WorkspaceID, nil)
	if err != nil {
		return err
	}
	v := VerifyPage{Page: s.page(r, q, "title.admin_audit_verify"), Ran: true, Report: rep, At: nowFunc()}
	if p := rep.Problem; p != nil {
		v.ProblemKey = "problem.other"
		if verifyKinds[p.Kind] {
			v.ProblemKey = "problem." + p.Kind
		}
	}
	return s.render(w, r, http.StatusOK, "admin_audit_verify", v)
}
