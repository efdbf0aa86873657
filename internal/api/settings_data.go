package api

import (
	"net/http"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
)

// dataProtectionBody is the workspace's data-protection settings as the
// API shows and takes them (GET and PUT /api/v1/settings/data-protection).
type dataProtectionBody struct {
	Masking     string               `json:"masking"`
	Attachments attachmentPolicyBody `json:"attachments"`
}

type attachmentPolicyBody struct {
	MaxBytes  int64  `json:"max_bytes"`
	Dangerous string `json:"dangerous"`
}

func dataProtectionView(d attachment.DataProtection) dataProtectionBody {
	return dataProtectionBody{Masking: d.Masking,
		Attachments: attachmentPolicyBody{MaxBytes: d.Attachments.MaxBytes, Dangerous: string(d.Attachments.Dangerous)}}
}

func (b dataProtectionBody) settings() attachment.DataProtection {
	return attachment.DataProtection{Masking: b.Masking,
		Attachments: attachment.Policy{MaxBytes: b.Attachments.MaxBytes, Dangerous: attachment.DangerousAction(b.Attachments.Dangerous)}}
}

func (s *Server) getDataProtection(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	d, err := s.attachments.DataProtection(r.Context(), p.Scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dataProtectionView(d))
	return nil
}

// putDataProtection changes the fields the body names and keeps the
// others as they are; the whole result is validated before anything is
// written.
func (s *Server) putDataProtection(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	cur, err := s.attachments.DataProtection(r.Context(), p.Scope)
	if err != nil {
		return err
	}
	req := dataProtectionView(cur)
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.attachments.SetDataProtection(r.Context(), p.Scope, req.settings())
	if err != nil {
		return err
	}
	if c.Changed() {
		s.observeDataProtection(r, p, c)
	}
	writeJSON(w, http.StatusOK, dataProtectionView(c.To))
	return nil
}

// observeDataProtection hands a change to the monitor, whose
// policy_weakened rule judges it.
func (s *Server) observeDataProtection(r *http.Request, p identity.Principal, c attachment.DataProtectionChange) {
	if s.monitor == nil {
		return
	}
	cl := s.client(r)
	var session int64
	if p.Session != nil {
		session = p.Session.ID
	}
	s.monitor.Observe(r.Context(), monitor.DataProtectionObservation(p.Scope, session, cl.IP, cl.UserAgent, c.Details()))
}
