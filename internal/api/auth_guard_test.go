package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
)

// TestPasswordGuessingIsThrottledThenLocked plays an attacker guessing one
// account's password, then spraying many accounts from one address.
func TestPasswordGuessingIsThrottledThenLocked(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone; p.LockoutThreshold = 12 })
		ws := e.f.WS.Slug
		const pw = "the real agent passphrase"
		agent := e.staff("agent", "victim", pw)
		attacker := e.browser()
		guess := func(b *browser, email string, n int) response {
			return b.do("POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff", "email": email, "password": "guess number " + strconv.Itoa(n)})
		}
		// Five free failures, then the account must wait, with a
		// Retry-After that grows.
		for i := range 5 {
			if r := guess(attacker, agent.Email, i); r.Status != 401 || r.err(t).Error.Code != "sign_in_failed" {
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := guess(attacker, agent.Email, 5)
		if r.Status != 401 {
			t.Fatalf("the 6th guess is still judged: %d", r.Status)
		}
		r = guess(attacker, agent.Email, 6)
		if r.Status != 429 || r.err(t).Error.Code != "too_many_attempts" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("the 7th guess right away: %d %s", r.Status, r.Body)
		}
		// Even the right password waits: the throttle answers before any
		// password is checked.
		if r := attacker.do("POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff", "email": agent.Email, "password": pw}); r.Status != 429 {
			t.Fatalf("right password while throttled: %d", r.Status)
		}
		// An address with no account behaves exactly the same.
		ghost := "ghost-" + ws + "@staff.test"
		fresh := e.browser()
		var ghostStatuses, realStatuses []int
		for i := range 7 {
			ghostStatuses = append(ghostStatuses, guess(fresh, ghost, i).Status)
		}
		e.exec(`DELETE FROM auth_throttle`)
		other := e.staff("agent", "sara", "second agent passphrase")
		fresh2 := e.browser()
		for i := range 7 {
			realStatuses = append(realStatuses, guess(fresh2, other.Email, i).Status)
		}
		if !slicesEqual(ghostStatuses, realStatuses) {
			t.Errorf("unknown account answers %v, real account %v", ghostStatuses, realStatuses)
		}

		// Waiting out each backoff (the test clears the counters instead
		// of sleeping), the attacker reaches the lockout threshold.
		for i := 0; i < 12; i++ {
			e.exec(`DELETE FROM auth_throttle`)
			guess(attacker, agent.Email, 100+i)
		}
		if e.queryInt(`SELECT locked_at FROM users WHERE id = $1`, agent.ID) == 0 {
			t.Fatal("the account is not locked after the threshold")
		}
		e.exec(`DELETE FROM auth_throttle`)
		owner := e.browser()
		owner.wantError(401, "sign_in_failed", "POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff", "email": agent.Email, "password": pw})
		// The owner is told, with a way back in.
		locked := e.mailTo(agent.Email, "/auth/reset-password")
		owner.must(204, "POST", "/api/v1/auth/password-reset", map[string]string{"token": tokenIn(t, locked), "password": "a new passphrase after the attack"}, nil)
		owner.signIn(ws, "staff", agent.Email, "a new passphrase after the attack")

		// Spraying: one address, one guess per account, many accounts.
		e.exec(`DELETE FROM auth_throttle`)
		sprayer := e.browser()
		var last response
		for i := range 25 {
			last = guess(sprayer, "user"+strconv.Itoa(i)+"-"+ws+"@staff.test", i)
		}
		if last.Status != 429 {
			t.Fatalf("25 accounts from one address: last answer %d, want 429", last.Status)
		}
	})
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCrossOriginPostIsRefused: a page on another site cannot act with a
// signed-in person's cookie; the same page on Hesar's origin can.
func TestCrossOriginPostIsRefused(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		b := e.browser()
		b.signIn(e.f.WS.Slug, "staff", e.staff("admin", "boss", adminPassword).Email, adminPassword)
		body := map[string]any{"subject": "csrf", "body": "b", "customer_id": e.f.Customer.ID}
		b.header = http.Header{"Sec-Fetch-Site": {"cross-site"}}
		b.wantError(403, "cross_origin", "POST", "/api/v1/tickets", body)
		b.header = http.Header{"Origin": {"https://evil.example"}}
		b.wantError(403, "cross_origin", "POST", "/api/v1/tickets", body)
		// Reading is allowed (it changes nothing; CORS keeps the answer
		// from the other site).
		b.header = http.Header{"Sec-Fetch-Site": {"cross-site"}}
		b.must(200, "GET", "/api/v1/me", nil, nil)
		b.header = http.Header{"Sec-Fetch-Site": {"same-origin"}}
		b.must(201, "POST", "/api/v1/tickets", body, nil)
		// The cookie itself says so too.
		c := e.browser()
		res := c.must(200, "POST", "/api/v1/auth/signin", map[string]string{"workspace": e.f.WS.Slug, "account": "staff",
			"email": e.staff("agent", "kian", "cookie agent passphrase").Email, "password": "cookie agent passphrase"}, nil)
		set := res.Header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(set, want) {
				t.Errorf("session cookie %q lacks %s", set, want)
			}
		}
	})
}

// TestMFAPolicyAndAdminReset: a workspace requiring MFA of everyone keeps
// an agent to enrollment; an admin resets a lost second factor.
func TestMFAPolicyAndAdminReset(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		ws := e.f.WS.Slug
		admin := e.staff("admin", "boss", adminPassword)
		boss := e.browser()
		boss.signIn(ws, "staff", admin.Email, adminPassword)
		_, bossCodes := enrollTOTP(t, boss)
		boss.must(200, "PUT", "/api/v1/settings/security", map[string]any{"lockout_threshold": 50}, nil)
		boss.must(200, "PUT", "/api/v1/settings/security", map[string]any{"mfa_required": "everyone", "staff_idle_minutes": 20}, nil)
		boss.wantError(422, "validation_failed", "PUT", "/api/v1/settings/security", map[string]any{"lockout_threshold": 500})
		var got identity.Security
		boss.must(200, "GET", "/api/v1/settings/security", nil, &got)
		if got.MFARequired != "everyone" || got.StaffIdleMinutes != 20 || got.StaffAbsoluteMinutes != 12*60 || got.LockoutThreshold != 50 {
			t.Fatalf("settings after the change: %+v", got)
		}

		const pw = "agent passphrase for mfa"
		agent := e.staff("agent", "nima", pw, e.f.Sales)
		ag := e.browser()
		if st := ag.signIn(ws, "staff", agent.Email, pw); st.State != identity.StateEnroll {
			t.Fatalf("agent state %s, want enroll", st.State)
		}
		ag.wantError(403, "mfa_required", "GET", "/api/v1/tickets", nil)
		ag.wantError(403, "mfa_required", "POST", "/api/v1/tokens", map[string]any{"name": "sneaky"})
		enrollTOTP(t, ag)
		ag.must(200, "GET", "/api/v1/tickets", nil, nil)
		// The last factor of someone who must have one cannot be removed.
		ag.wantError(409, "conflict", "DELETE", "/api/v1/account/totp", nil)

		// Lost phone: the admin resets the agent's factors (a sensitive
		// action: step-up first if the admin's proof is old).
		e.exec(`UPDATE sessions SET auth_at = $1 WHERE user_id = $2`, time.Now().Add(-10*time.Minute).UnixMicro(), admin.ID)
		boss.wantError(403, "step_up_required", "POST", "/api/v1/users/"+itoa(agent.ID)+"/mfa-reset", nil)
		boss.must(200, "POST", "/api/v1/auth/step-up", map[string]string{"recovery_code": bossCodes[0]}, nil)
		boss.must(204, "POST", "/api/v1/users/"+itoa(agent.ID)+"/mfa-reset", nil, nil)
		ag.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		var status struct {
			Factors []string `json:"factors"`
		}
		boss.must(200, "GET", "/api/v1/users/"+itoa(agent.ID)+"/security", nil, &status)
		if len(status.Factors) != 0 {
			t.Fatalf("factors after reset: %v", status.Factors)
		}
		if st := e.browser().signIn(ws, "staff", agent.Email, pw); st.State != identity.StateEnroll {
			t.Fatalf("after reset the agent signs in to %s, want enroll", st.State)
		}
		// A new role ends the sessions made for the old one.
		ag2 := e.browser()
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		ag2.signIn(ws, "staff", agent.Email, pw)
		ag2.must(200, "GET", "/api/v1/tickets", nil, nil)
		client{t, e.url, e.f.Tokens["admin"]}.must(200, "PATCH", "/api/v1/users/"+itoa(agent.ID), map[string]any{"role": "supervisor"}, nil)
		ag2.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)

		// Admins cannot reset their own this way.
		boss.wantError(422, "validation_failed", "POST", "/api/v1/users/"+itoa(admin.ID)+"/mfa-reset", nil)
	})
}

// TestTokensCarryAPermissionSubsetAndExpire covers API tokens that are
// narrower than their owner.
func TestTokensCarryAPermissionSubsetAndExpire(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		admin := client{t, e.url, e.f.Tokens["admin"]}
		var tok struct {
			ID          int64    `json:"id"`
			Token       string   `json:"token"`
			Permissions []string `json:"permissions"`
		}
		admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "reporting", "permissions": []string{"ticket.read"}, "expires_in_days": 30}, &tok)
		narrow := client{t, e.url, tok.Token}
		narrow.must(200, "GET", "/api/v1/tickets", nil, nil)
		if r := narrow.do("GET", "/api/v1/customers", nil); r.Status != 403 {
			t.Fatalf("a ticket.read token listed customers: %d", r.Status)
		}
		if r := narrow.do("POST", "/api/v1/tokens", map[string]any{"name": "wider", "permissions": []string{"customer.read"}}); r.Status != 403 {
			t.Fatalf("a narrow token minted another: %d %s", r.Status, r.Body)
		}
		// Nothing the owner lacks, nothing that does not exist.
		sup := client{t, e.url, e.f.Tokens["supervisor"]}
		if r := sup.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "permissions": []string{"customer.read"}}); r.Status != 422 {
			t.Fatalf("a supervisor minted customer.read: %d %s", r.Status, r.Body)
		}
		if r := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "permissions": []string{"root"}}); r.Status != 422 {
			t.Fatalf("unknown permission: %d", r.Status)
		}
		var list struct {
			Data []struct {
				ID          int64    `json:"id"`
				Permissions []string `json:"permissions"`
				LastUsedAt  *string  `json:"last_used_at"`
				ExpiresAt   *string  `json:"expires_at"`
			} `json:"data"`
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			admin.must(200, "GET", "/api/v1/tokens", nil, &list)
			var used bool
			for _, x := range list.Data {
				if x.ID == tok.ID {
					if len(x.Permissions) != 1 || x.ExpiresAt == nil {
						t.Fatalf("listed token: %+v", x)
					}
					used = x.LastUsedAt != nil
				}
			}
			if used {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("last_used_at never recorded")
			}
			time.Sleep(20 * time.Millisecond)
		}
		admin.must(204, "DELETE", "/api/v1/tokens/"+itoa(tok.ID), nil, nil)
		// Revocation empties this instance's identity cache at once.
		if r := narrow.do("GET", "/api/v1/tickets", nil); r.Status != 401 {
			t.Fatalf("revoked token still works: %d", r.Status)
		}
		// Expiry.
		_, secret, err := a.Identity.CreateToken(t.Context(), e.f.System(), identity.NewToken{Name: "short", UserID: e.f.Admin.ID, TTL: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if r := (client{t, e.url, secret}).do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Fatalf("expired token: %d", r.Status)
		}
	})
}
