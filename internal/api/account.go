package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/identity"
)

// The signed-in person's own security: password, second factors, sessions.
// These need a browser session; API tokens cannot change credentials.

func sessionOnly(p identity.Principal) error {
	if p.Session == nil {
		return newError(http.StatusForbidden, "session_required", "sign in with a browser session to manage your own credentials; API tokens cannot")
	}
	return nil
}

type securityView struct {
	Factors        []string `json:"factors"`
	SessionState   string   `json:"session_state"`
	RecentAuthLeft int      `json:"recent_auth_seconds_left"`
}

func (s *Server) accountSecurity(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	factors, err := s.identity.MyFactors(r.Context(), p)
	if err != nil {
		return err
	}
	left := int((identity.StepUpWindow - time.Since(p.Session.AuthAt)).Seconds())
	writeJSON(w, http.StatusOK, securityView{Factors: orEmpty(factors), SessionState: p.Session.State, RecentAuthLeft: max(0, left)})
	return nil
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	var req changePasswordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	secret, err := s.identity.ChangePassword(r.Context(), p, req.CurrentPassword, req.NewPassword, s.client(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, secret)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type totpView struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	// QRCode is a data: URL of a PNG image, ready for an <img src>.
	QRCode string `json:"qr_code"`
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	e, err := s.identity.BeginTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, totpView{Secret: e.Secret, URI: e.URI, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG)})
	return nil
}

type codeRequest struct {
	Code string `json:"code"`
}

type recoveryCodesView struct {
	// RecoveryCodes are shown once; only their hashes are kept.
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	var req codeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	codes, secret, err := s.identity.ConfirmTOTP(r.Context(), p, req.Code, s.client(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, secret)
	writeJSON(w, http.StatusOK, recoveryCodesView{RecoveryCodes: orEmpty(codes)})
	return nil
}

func (s *Server) removeTOTP(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := s.identity.RemoveTOTP(r.Context(), p, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) renewRecoveryCodes(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	codes, err := s.identity.RegenerateRecoveryCodes(r.Context(), p, s.client(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, recoveryCodesView{RecoveryCodes: codes})
	return nil
}

type passkeyView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func viewPasskey(k identity.Passkey) passkeyView {
	return passkeyView{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: optTime(k.LastUsedAt)}
}

func (s *Server) listPasskeys(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	ks, err := s.identity.ListPasskeys(r.Context(), p)
	if err != nil {
		return err
	}
	out := list[passkeyView]{Data: []passkeyView{}}
	for _, k := range ks {
		out.Data = append(out.Data, viewPasskey(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) beginPasskey(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	options, handle, err := s.identity.BeginPasskeyRegistration(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, challengeResponse{Challenge: handle, Options: options})
	return nil
}

type addPasskeyRequest struct {
	Challenge string          `json:"challenge"`
	Name      string          `json:"name"`
	Response  json.RawMessage `json:"response"`
}

type addedPasskeyView struct {
	passkeyView
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func (s *Server) addPasskey(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	var req addPasskeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := (passkeyAnswer{Challenge: req.Challenge, Response: req.Response}).validate(); err != nil {
		return err
	}
	k, codes, secret, err := s.identity.FinishPasskeyRegistration(r.Context(), p, req.Challenge, req.Name, req.Response, s.client(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, secret)
	w.Header().Set("Location", "/api/v1/account/passkeys/"+itoa(k.ID))
	writeJSON(w, http.StatusCreated, addedPasskeyView{passkeyView: viewPasskey(k), RecoveryCodes: codes})
	return nil
}

type renameRequest struct {
	Name string `json:"name"`
}

func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req renameRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.identity.RenamePasskey(r.Context(), p, id, req.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.identity.RemovePasskey(r.Context(), p, id, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionView struct {
	ID         int64     `json:"id"`
	State      string    `json:"state"`
	Method     string    `json:"method"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Place      string    `json:"place"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

func viewSession(x identity.Session) sessionView {
	return sessionView{ID: x.ID, State: x.State, Method: x.Method, Device: x.Device, UserAgent: x.UserAgent, IP: x.IP, Place: x.Place,
		CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, Current: x.Current}
}

func (s *Server) writeSessions(w http.ResponseWriter, r *http.Request, p identity.Principal, kind identity.AccountKind, id int64) error {
	xs, err := s.identity.ListSessions(r.Context(), p, kind, id)
	if err != nil {
		return err
	}
	out := list[sessionView]{Data: []sessionView{}}
	for _, x := range xs {
		out.Data = append(out.Data, viewSession(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// me returns the account kind and id of the caller, for the self routes.
func self(p identity.Principal) (identity.AccountKind, int64) {
	if p.Scope.Kind == access.ActorCustomer {
		return identity.Customer, p.Scope.ActorID
	}
	return identity.Staff, p.Scope.ActorID
}

func (s *Server) mySessions(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	kind, id := self(p)
	return s.writeSessions(w, r, p, kind, id)
}

func (s *Server) revokeMySession(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	sid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	kind, id := self(p)
	if err := s.identity.RevokeSession(r.Context(), p, kind, id, sid, s.client(r)); err != nil {
		return err
	}
	if sid == p.Session.ID {
		s.clearSession(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revokeMyOtherSessions(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	kind, id := self(p)
	n, err := s.identity.RevokeSessions(r.Context(), p, kind, id, s.client(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"revoked": n})
	return nil
}

// Admin: other staff members' sign-in state.

func (s *Server) userSessions(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.writeSessions(w, r, p, identity.Staff, id)
}

func (s *Server) revokeUserSessions(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := s.identity.RevokeSessions(r.Context(), p, identity.Staff, id, s.client(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"revoked": n})
	return nil
}

func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	if err := s.identity.ResetMFA(r.Context(), p, id, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	if err := s.identity.UnlockUser(r.Context(), p, id, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) sendPasswordSetup(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	if err := s.identity.SendPasswordSetup(r.Context(), p, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "a link to set the password is on its way to the user's email"})
	return nil
}

type accountStatusView struct {
	Locked         bool     `json:"locked"`
	FailedSignIns  int      `json:"failed_sign_ins"`
	HasPassword    bool     `json:"has_password"`
	EmailVerified  bool     `json:"email_verified"`
	Factors        []string `json:"factors"`
	ActiveSessions int      `json:"active_sessions"`
}

func (s *Server) userSecurity(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.identity.UserAccountStatus(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountStatusView{Locked: st.Locked, FailedSignIns: st.FailedSignIns, HasPassword: st.HasPassword,
		EmailVerified: st.EmailVerified, Factors: orEmpty(st.Factors), ActiveSessions: st.ActiveSessions})
	return nil
}

func (s *Server) getSecuritySettings(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	st, err := s.identity.SecuritySettings(r.Context(), p.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// putSecuritySettings changes the fields the body names and keeps the
// others as they are.
func (s *Server) putSecuritySettings(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	req, err := s.identity.SecuritySettings(r.Context(), p.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	st, err := s.identity.SetSecuritySettings(r.Context(), p.Scope, req, s.client(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
