package api_test

import (
	"encoding/json"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/softauthn"
)

// origin is what the default configuration expects browsers to run at.
const origin = identity.DefaultPublicURL

type challengeJSON struct {
	Challenge string          `json:"challenge"`
	Options   json.RawMessage `json:"options"`
}

type passkeyJSON struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	RecoveryCodes []string `json:"recovery_codes"`
}

// addPasskey registers a new credential of key for the browser's account.
func addPasskey(t *testing.T, b *browser, key *softauthn.Authenticator, name string) passkeyJSON {
	t.Helper()
	var ch challengeJSON
	b.must(200, "POST", "/api/v1/account/passkeys/begin", nil, &ch)
	resp, err := key.Register(ch.Options)
	if err != nil {
		t.Fatalf("authenticator refused to register: %v", err)
	}
	var k passkeyJSON
	b.must(201, "POST", "/api/v1/account/passkeys", map[string]any{"challenge": ch.Challenge, "name": name, "response": json.RawMessage(resp)}, &k)
	return k
}

// TestPasskeysAsSecondFactorAndPasswordless drives WebAuthn ceremonies
// with a software authenticator (real P-256 signatures, attestation
// "none") over HTTP.
func TestPasskeysAsSecondFactorAndPasswordless(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		ws := e.f.WS.Slug
		admin := e.staff("admin", "boss", adminPassword)
		key := softauthn.New(origin)

		// Enrolling a passkey satisfies the admins' MFA requirement.
		b := e.browser()
		b.signIn(ws, "staff", admin.Email, adminPassword)
		first := addPasskey(t, b, key, "YubiKey ۵")
		if len(first.RecoveryCodes) != identity.RecoveryCodeCount {
			t.Fatalf("first passkey came with %d recovery codes", len(first.RecoveryCodes))
		}
		b.must(200, "GET", "/api/v1/tickets", nil, nil)

		// Second factor after the password.
		c := e.browser()
		st := c.signIn(ws, "staff", admin.Email, adminPassword)
		if st.State != identity.StateMFA {
			t.Fatalf("state %s, want mfa", st.State)
		}
		var ch challengeJSON
		c.must(200, "POST", "/api/v1/auth/passkey/challenge", nil, &ch)
		resp, err := key.Login(ch.Options)
		if err != nil {
			t.Fatal(err)
		}
		c.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)}, nil)
		c.must(200, "GET", "/api/v1/tickets", nil, nil)
		// The same answer cannot be replayed: the challenge is spent.
		d := e.browser()
		d.signIn(ws, "staff", admin.Email, adminPassword)
		d.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)})

		// A tampered signature and a phishing origin are refused.
		d.must(200, "POST", "/api/v1/auth/passkey/challenge", nil, &ch)
		key.Tamper = true
		resp, _ = key.Login(ch.Options)
		key.Tamper = false
		d.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)})
		d.must(200, "POST", "/api/v1/auth/passkey/challenge", nil, &ch)
		key.WrongOrigin = true
		resp, _ = key.Login(ch.Options)
		key.WrongOrigin = false
		d.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)})

		// Passwordless: no email, no password, just the passkey.
		p := e.browser()
		p.must(200, "POST", "/api/v1/auth/passwordless/begin", map[string]string{"workspace": ws}, &ch)
		resp, err = key.Login(ch.Options)
		if err != nil {
			t.Fatal(err)
		}
		var got signInJSON
		p.must(200, "POST", "/api/v1/auth/passwordless/finish", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)}, &got)
		if got.State != identity.StateActive {
			t.Fatalf("passwordless state %s", got.State)
		}
		var me struct {
			Actor struct{ ID int64 } `json:"actor"`
		}
		p.must(200, "GET", "/api/v1/me", nil, &me)
		if me.Actor.ID != admin.ID {
			t.Fatalf("passwordless signed in as %d, want %d", me.Actor.ID, admin.ID)
		}
		// A key nobody registered signs no one in.
		stranger := softauthn.New(origin)
		other := e.staff("agent", "omid", "other agent passphrase long")
		o := e.browser()
		e.setPolicy(func(s *identity.Security) { s.MFARequired = identity.MFANone })
		o.signIn(ws, "staff", other.Email, "other agent passphrase long")
		addPasskey(t, o, stranger, "other's key")
		e.exec(`DELETE FROM webauthn_credentials WHERE user_id = $1`, other.ID)
		q := e.browser()
		q.must(200, "POST", "/api/v1/auth/passwordless/begin", map[string]string{"workspace": ws}, &ch)
		resp, _ = stranger.Login(ch.Options)
		q.wantError(422, "validation_failed", "POST", "/api/v1/auth/passwordless/finish", map[string]any{"challenge": ch.Challenge, "response": json.RawMessage(resp)})

		// Several keys: name, list, rename, remove.
		second := addPasskey(t, b, softauthn.New(origin), "phone")
		if len(second.RecoveryCodes) != 0 {
			t.Error("a second passkey replaced the recovery codes")
		}
		var list struct{ Data []passkeyJSON }
		b.must(200, "GET", "/api/v1/account/passkeys", nil, &list)
		if len(list.Data) != 2 || list.Data[0].Name != "YubiKey ۵" {
			t.Fatalf("passkeys: %+v", list.Data)
		}
		b.must(204, "PATCH", "/api/v1/account/passkeys/"+itoa(second.ID), map[string]string{"name": "work phone"}, nil)
		b.must(204, "DELETE", "/api/v1/account/passkeys/"+itoa(second.ID), nil, nil)
		b.must(200, "GET", "/api/v1/account/passkeys", nil, &list)
		if len(list.Data) != 1 {
			t.Fatalf("%d passkeys after removing one", len(list.Data))
		}
		// Registering the same authenticator's key again is refused by the
		// authenticator itself (the options exclude it).
		b.must(200, "POST", "/api/v1/account/passkeys/begin", nil, &ch)
		if _, err := key.Register(ch.Options); err == nil {
			t.Error("the options did not exclude the registered key")
		}
	})
}
