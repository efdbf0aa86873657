package api_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/geodb"
)

const adminPassword = "correct horse battery staple 42"

type totpJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	QRCode string `json:"qr_code"`
}

type codesJSON struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// enrollTOTP sets up an authenticator app for the browser's account and
// returns its secret and recovery codes.
func enrollTOTP(t *testing.T, b *browser) ([]byte, []string) {
	t.Helper()
	var e totpJSON
	b.must(200, "POST", "/api/v1/account/totp", nil, &e)
	if !strings.HasPrefix(e.QRCode, "data:image/png;base64,") || !strings.HasPrefix(e.URI, "otpauth://totp/") {
		t.Fatalf("enrollment without a QR code or URI: %+v", e)
	}
	secret := totpSecret(t, e.Secret)
	if !strings.Contains(e.URI, "secret="+strings.ReplaceAll(e.Secret, " ", "")) {
		t.Errorf("URI %q does not carry the secret shown as text", e.URI)
	}
	var codes codesJSON
	b.must(200, "POST", "/api/v1/account/totp/confirm", map[string]string{"code": mfa.TOTPCode(secret, time.Now())}, &codes)
	if len(codes.RecoveryCodes) != identity.RecoveryCodeCount {
		t.Fatalf("got %d recovery codes, want %d", len(codes.RecoveryCodes), identity.RecoveryCodeCount)
	}
	return secret, codes.RecoveryCodes
}

// TestStaffSignInWithTOTP walks an admin through the whole life of a
// second factor: forced enrollment, sign-in with a computed code, replay
// refused, recovery codes, step-up, and session rotation.
func TestStaffSignInWithTOTP(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		ws := e.f.WS.Slug
		admin := e.staff("admin", "boss", adminPassword)

		// Admins must have a second factor (the default policy): until
		// they enroll one they can do nothing else.
		b := e.browser()
		if got := b.signIn(ws, "staff", admin.Email, adminPassword); got.State != identity.StateEnroll {
			t.Fatalf("admin without MFA signed in to %q, want enroll", got.State)
		}
		b.wantError(403, "mfa_required", "GET", "/api/v1/tickets", nil)
		b.must(200, "GET", "/api/v1/me", nil, nil)
		secret, codes := enrollTOTP(t, b)
		b.must(200, "GET", "/api/v1/tickets", nil, nil)
		if got := e.mailTo(admin.Email, ""); !strings.Contains(got.Subject+got.Body, e.f.WS.Name) {
			t.Errorf("the second-factor notice does not name the workspace: %q", got.Subject)
		}

		// Next sign-in: password, then a code from the app.
		b.must(204, "POST", "/api/v1/auth/signout", nil, nil)
		b.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		got := b.signIn(ws, "staff", admin.Email, adminPassword)
		if got.State != identity.StateMFA || !strings.Contains(strings.Join(got.Factors, ","), identity.FactorTOTP) {
			t.Fatalf("sign-in with TOTP enrolled: %+v", got)
		}
		b.wantError(403, "mfa_required", "GET", "/api/v1/tickets", nil)
		pending := b.cookie()
		// The enrollment code's step is spent; the next step's code works.
		b.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]string{"code": mfa.TOTPCode(secret, time.Now().Add(-30*time.Second))})
		next := mfa.TOTPCode(secret, time.Now().Add(30*time.Second))
		b.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]string{"code": next}, nil)
		b.must(200, "GET", "/api/v1/tickets", nil, nil)
		if b.cookie() == pending {
			t.Fatal("the session id did not change when the second factor was proved")
		}
		e.withCookie(pending).wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)

		// A code is good once, even for step-up.
		b.wantError(422, "validation_failed", "POST", "/api/v1/auth/step-up", map[string]string{"code": next})

		// Recovery codes: each works once, in place of the app.
		c := e.browser()
		c.signIn(ws, "staff", admin.Email, adminPassword)
		c.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]string{"recovery_code": strings.ToUpper(codes[0])}, nil)
		d := e.browser()
		d.signIn(ws, "staff", admin.Email, adminPassword)
		d.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]string{"recovery_code": codes[0]})
		d.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]string{"recovery_code": codes[1]}, nil)

		// Step-up: a session whose proof is older than five minutes must
		// prove itself again before a sensitive action.
		e.exec(`UPDATE sessions SET auth_at = $1 WHERE revoked_at IS NULL AND user_id = $2`,
			time.Now().Add(-6*time.Minute).UnixMicro(), admin.ID)
		b.wantError(403, "step_up_required", "POST", "/api/v1/tokens", map[string]any{"name": "ci"})
		// With a second factor enrolled, the password alone is not enough:
		// a stolen cookie plus a phished password must not add a passkey.
		b.wantError(422, "validation_failed", "POST", "/api/v1/auth/step-up", map[string]string{"password": adminPassword})
		before := b.cookie()
		b.must(200, "POST", "/api/v1/auth/step-up", map[string]string{"recovery_code": codes[4]}, nil)
		if b.cookie() == before {
			t.Error("step-up did not rotate the session id")
		}
		b.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci"}, nil)
		e.exec(`UPDATE sessions SET auth_at = $1 WHERE revoked_at IS NULL AND user_id = $2`,
			time.Now().Add(-6*time.Minute).UnixMicro(), admin.ID)
		// A recovery code also proves the person (the app's codes for this
		// window are spent).
		b.must(200, "POST", "/api/v1/auth/step-up", map[string]string{"recovery_code": codes[3]}, nil)
		b.must(200, "POST", "/api/v1/account/recovery-codes", nil, nil)
		// The old codes died with the renewal.
		x := e.browser()
		x.signIn(ws, "staff", admin.Email, adminPassword)
		x.wantError(422, "validation_failed", "POST", "/api/v1/auth/mfa/verify", map[string]string{"recovery_code": codes[2]})
	})
}

type sessionJSON struct {
	ID        int64  `json:"id"`
	Device    string `json:"device"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Current   bool   `json:"current"`
}

// TestSessionsAreListedRevokedAndEndedByPasswordChange covers a person's
// view of their own devices and an admin's power over them.
func TestSessionsAreListedRevokedAndEndedByPasswordChange(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		ws := e.f.WS.Slug
		const pw = "my agent passphrase is long"
		agent := e.staff("agent", "ava", pw, e.f.Sales)
		admin := e.staff("admin", "boss", adminPassword)

		laptop, phone, tablet := e.browser(), e.browser(), e.browser()
		phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
		for _, b := range []*browser{laptop, phone, tablet} {
			b.signIn(ws, "staff", agent.Email, pw)
		}
		var list struct{ Data []sessionJSON }
		laptop.must(200, "GET", "/api/v1/account/sessions", nil, &list)
		if len(list.Data) != 3 {
			t.Fatalf("%d sessions listed, want 3", len(list.Data))
		}
		var phoneID int64
		for _, s := range list.Data {
			if s.Current != (s.IP == laptop.ip) {
				t.Errorf("session %d from %s: current=%v", s.ID, s.IP, s.Current)
			}
			if s.IP == phone.ip {
				phoneID = s.ID
				if s.Device != "Safari on iPhone" {
					t.Errorf("phone described as %q", s.Device)
				}
			}
		}
		if phoneID == 0 {
			t.Fatalf("no session from the phone's address %s: %+v", phone.ip, list.Data)
		}
		laptop.must(204, "DELETE", "/api/v1/account/sessions/"+itoa(phoneID), nil, nil)
		phone.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		tablet.must(200, "GET", "/api/v1/me", nil, nil)

		// Another person's session is not theirs to end.
		boss := e.browser()
		if st := boss.signIn(ws, "staff", admin.Email, adminPassword); st.State != identity.StateActive {
			t.Fatalf("admin state %s", st.State)
		}
		var bossList struct{ Data []sessionJSON }
		boss.must(200, "GET", "/api/v1/account/sessions", nil, &bossList)
		laptop.wantError(404, "not_found", "DELETE", "/api/v1/account/sessions/"+itoa(bossList.Data[0].ID), nil)

		// Without a second factor, the password is the step-up proof.
		e.exec(`UPDATE sessions SET auth_at = $1 WHERE user_id = $2`, time.Now().Add(-6*time.Minute).UnixMicro(), agent.ID)
		laptop.wantError(403, "step_up_required", "POST", "/api/v1/tokens", map[string]any{"name": "x"})
		laptop.wantError(422, "validation_failed", "POST", "/api/v1/auth/step-up", map[string]string{"password": "not my password at all"})
		laptop.must(200, "POST", "/api/v1/auth/step-up", map[string]string{"password": pw}, nil)
		laptop.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "x"}, nil)

		// A password change ends every other session and keeps this one,
		// under a new id.
		before := laptop.cookie()
		laptop.wantError(422, "validation_failed", "POST", "/api/v1/account/password", map[string]string{"current_password": pw, "new_password": "password1234"})
		laptop.must(204, "POST", "/api/v1/account/password", map[string]string{"current_password": pw, "new_password": "a brand new agent passphrase"}, nil)
		tablet.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		laptop.must(200, "GET", "/api/v1/me", nil, nil)
		if laptop.cookie() == before {
			t.Error("password change kept the session id")
		}
		e.mailTo(agent.Email, "")

		// An admin sees and ends the agent's sessions.
		var adminView struct{ Data []sessionJSON }
		boss.must(200, "GET", "/api/v1/users/"+itoa(agent.ID)+"/sessions", nil, &adminView)
		if len(adminView.Data) != 1 {
			t.Fatalf("admin sees %d sessions of the agent, want 1", len(adminView.Data))
		}
		boss.must(200, "DELETE", "/api/v1/users/"+itoa(agent.ID)+"/sessions", nil, nil)
		laptop.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		// The agent may not look at the admin's.
		agentAgain := e.browser()
		agentAgain.signIn(ws, "staff", agent.Email, "a brand new agent passphrase")
		agentAgain.wantError(403, "forbidden", "GET", "/api/v1/users/"+itoa(admin.ID)+"/sessions", nil)
	})
}

// TestSessionTimeouts: an idle session and an old one both end.
func TestSessionTimeouts(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "my agent passphrase is long"
		agent := e.staff("agent", "ava", pw)
		idle, old := e.browser(), e.browser()
		idle.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
		old.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
		var list struct{ Data []sessionJSON }
		idle.must(200, "GET", "/api/v1/account/sessions", nil, &list)
		for _, s := range list.Data {
			if s.IP == idle.ip {
				// 31 minutes without a request: past the 30-minute default.
				e.exec(`UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, time.Now().Add(-31*time.Minute).UnixMicro(), s.ID)
			} else {
				e.exec(`UPDATE sessions SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Second).UnixMicro(), s.ID)
			}
		}
		idle.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		old.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
	})
}

// TestSessionsShowApproximatePlaces: with a GeoIP database, the session
// list names where each session signed in from.
func TestSessionsShowApproximatePlaces(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, path := testutil.NewDatabase(t, kind)
			dir := t.TempDir()
			if path != "" {
				dir = filepath.Dir(path)
			}
			world := filepath.Join(t.TempDir(), "world.mmdb")
			if err := geodb.Write(world, geodb.World); err != nil {
				t.Fatal(err)
			}
			a, err := app.Open(t.Context(), app.Config{DataDir: dir, DatabaseURL: url, GeoIPPath: world}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			e := newAuthEnv(t, a)
			e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
			const pw = "my agent passphrase is long"
			agent := e.staff("agent", "ava", pw)
			tehran, berlin := e.browser(), e.browser()
			tehran.ip, berlin.ip = "198.51.100.20", "203.0.113.20"
			tehran.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
			berlin.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
			var list struct {
				Data []struct {
					IP    string `json:"ip"`
					Place string `json:"place"`
				}
			}
			tehran.must(200, "GET", "/api/v1/account/sessions", nil, &list)
			got := map[string]string{}
			for _, s := range list.Data {
				got[s.IP] = s.Place
			}
			if got["198.51.100.20"] != "Tehran, IR" || got["203.0.113.20"] != "Berlin, DE" {
				t.Fatalf("places: %v", got)
			}
		})
	}
}
