package mfa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/webauthn"
)

// user adapts an Account to the library's User interface, with the stored
// credentials decoded once per ceremony.
type user struct {
	a     Account
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.a.Handle }
func (u *user) WebAuthnName() string                       { return u.a.Name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (u *user) WebAuthnDisplayName() string {
	if u.a.DisplayName == "" {
		return u.a.Name
	}
	return u.a.DisplayName
}

// find returns the account's credential with id, or nil.
func (u *user) find(id []byte) *webauthn.Credential {
	for i := range u.creds {
		if bytes.Equal(u.creds[i].ID, id) {
			return &u.creds[i]
		}
	}
	return nil
}

// newUser checks a's handle and decodes its stored credentials.
func newUser(a Account) (*user, error) {
	if len(a.Handle) == 0 || len(a.Handle) > maxHandleSize {
		return nil, reject(ErrInvalidAccount, fmt.Errorf("user handle of %d bytes, want 1..%d", len(a.Handle), maxHandleSize))
	}
	u := &user{a: a, creds: make([]webauthn.Credential, 0, len(a.Credentials))}
	for i, c := range a.Credentials {
		var wc webauthn.Credential
		if err := json.Unmarshal(c.JSON, &wc); err != nil {
			return nil, reject(ErrInvalidAccount, fmt.Errorf("credential %d does not decode: %w", i, err))
		}
		if len(wc.ID) == 0 || !bytes.Equal(wc.ID, c.ID) || len(wc.PublicKey) == 0 {
			return nil, reject(ErrInvalidAccount, errors.New("credential record does not match its id"))
		}
		// The larger counter wins: a caller that updated only one of the two
		// copies must not lower the bar a cloned key has to clear.
		wc.Authenticator.SignCount = max(wc.Authenticator.SignCount, c.SignCount)
		// A warning is a verdict on one sign-in; it is recomputed each time.
		wc.Authenticator.CloneWarning = false
		u.creds = append(u.creds, wc)
	}
	return u, nil
}
