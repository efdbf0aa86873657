package mfa

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// ceremonyKind names what a state was begun for, so that the state of one
// ceremony cannot finish another (a registration state used for a login).
type ceremonyKind string

const (
	kindRegistration ceremonyKind = "registration"
	kindLogin        ceremonyKind = "login"
	kindPasswordless ceremonyKind = "passwordless"
)

const stateVersion = 1

// ceremonyState is what BeginX hands out as opaque bytes and FinishX takes
// back. It is not sealed: it holds a challenge and a user handle, nothing
// secret, and it must be kept server-side (a session row), where the client
// can neither read nor change it. It must also be deleted when used, since a
// passkey whose counter stays at 0 could otherwise be replayed within the
// timeout.
type ceremonyState struct {
	Version int                  `json:"v"`
	Kind    ceremonyKind         `json:"k"`
	Expires int64                `json:"exp"` // Unix milliseconds
	Session webauthn.SessionData `json:"s"`
}

func (w *WebAuthn) encodeState(kind ceremonyKind, s *webauthn.SessionData) ([]byte, error) {
	return json.Marshal(ceremonyState{
		Version: stateVersion,
		Kind:    kind,
		Expires: w.now().Add(w.timeout).UnixMilli(),
		Session: *s,
	})
}

// decodeState reads a state back and checks its version, kind and expiry.
func (w *WebAuthn) decodeState(kind ceremonyKind, raw []byte) (*webauthn.SessionData, error) {
	if len(raw) == 0 || len(raw) > maxStateSize {
		return nil, reject(ErrInvalidState, errors.New("state empty or too large"))
	}
	var st ceremonyState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, reject(ErrInvalidState, err)
	}
	if st.Version != stateVersion || st.Kind != kind || st.Session.Challenge == "" {
		return nil, reject(ErrInvalidState, errors.New("state of another version or ceremony"))
	}
	if !w.now().Before(time.UnixMilli(st.Expires)) {
		return nil, reject(ErrCeremonyExpired, nil)
	}
	return &st.Session, nil
}
