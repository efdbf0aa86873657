package api_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/testutil"
)

// TestCustomerSignUpVerifyResetAndEmailedLink is a customer's whole way in
// through the portal API: sign up, confirm the address from the email,
// sign in, forget the password, reset it, and sign in by emailed link.
func TestCustomerSignUpVerifyResetAndEmailedLink(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		ws := e.f.WS.Slug
		email := "narges." + ws + "@example.com"
		const pw = "a garden of pomegranates in Yazd"
		b := e.browser()
		b.wantError(422, "validation_failed", "POST", "/api/v1/auth/signup",
			map[string]string{"workspace": ws, "email": email, "name": "نرگس", "password": "iloveyou1234"})
		b.must(202, "POST", "/api/v1/auth/signup", map[string]string{"workspace": ws, "email": email, "name": "نرگس", "password": pw, "locale": "fa"}, nil)
		first := tokenIn(t, e.mailTo(email, "/auth/verify-email"))
		// Signing in before confirming the address fails like a wrong
		// password, and sends a fresh confirmation that replaces the first.
		b.wantError(401, "sign_in_failed", "POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "customer", "email": email, "password": pw})
		token := tokenIn(t, e.mailTo(email, "/auth/verify-email"))
		if token == first {
			t.Fatal("no second confirmation mail")
		}
		b.wantError(400, "link_invalid", "POST", "/api/v1/auth/verify-email", map[string]string{"token": first})
		b.must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": token}, nil)
		b.wantError(400, "link_invalid", "POST", "/api/v1/auth/verify-email", map[string]string{"token": token})
		if got := b.signIn(ws, "customer", email, pw); got.State != identity.StateActive {
			t.Fatalf("customer state %s", got.State)
		}
		var me struct {
			Actor struct{ Type string } `json:"actor"`
		}
		b.must(200, "GET", "/api/v1/me", nil, &me)
		if me.Actor.Type != "customer" {
			t.Fatalf("signed in as %q", me.Actor.Type)
		}
		b.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": "سلام", "body": "کمک لازم دارم"}, nil)
		var mine pageJSON
		b.must(200, "GET", "/api/v1/tickets", nil, &mine)
		if len(mine.Data) != 1 {
			t.Fatalf("the new customer sees %d tickets, want their 1", len(mine.Data))
		}

		// Signing up again with a known address says the same thing and
		// mails a reset link instead of creating anyone.
		before := e.mailCount(email)
		b.must(202, "POST", "/api/v1/auth/signup", map[string]string{"workspace": ws, "email": email, "name": "Someone", "password": "another long passphrase here"}, nil)
		if got := e.mailTo(email, "/auth/reset-password"); got.Subject == "" || e.mailCount(email) != before+1 {
			t.Fatal("a second sign-up did not mail a reset link")
		}

		// Forgotten password: the same answer for a known and an unknown
		// address; only the known one gets mail.
		other := e.browser()
		stranger := "nobody." + ws + "@example.com"
		r1 := other.must(202, "POST", "/api/v1/auth/password-reset/request", map[string]string{"workspace": ws, "account": "customer", "email": email}, nil)
		r2 := other.must(202, "POST", "/api/v1/auth/password-reset/request", map[string]string{"workspace": ws, "account": "customer", "email": stranger}, nil)
		if string(r1.Body) != string(r2.Body) {
			t.Errorf("reset answers differ: %s vs %s", r1.Body, r2.Body)
		}
		reset := tokenIn(t, e.mailTo(email, "/auth/reset-password"))
		if e.mailCount(stranger) != 0 {
			t.Error("mail went to an address with no account")
		}
		// A refused password does not spend the link.
		other.wantError(422, "validation_failed", "POST", "/api/v1/auth/password-reset", map[string]string{"token": reset, "password": "narges" + ws})
		other.must(204, "POST", "/api/v1/auth/password-reset", map[string]string{"token": reset, "password": "the new and better passphrase"}, nil)
		other.wantError(400, "link_invalid", "POST", "/api/v1/auth/password-reset", map[string]string{"token": reset, "password": "yet another fine passphrase"})
		// The reset ended the session that knew the old password.
		b.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		b.wantError(401, "sign_in_failed", "POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "customer", "email": email, "password": pw})
		b.signIn(ws, "customer", email, "the new and better passphrase")
		if m := e.mailTo(email, ""); m.Subject == "" {
			t.Error("no notice of the password change")
		}

		// A one-time sign-in link, for customers who would rather not keep
		// a password.
		c := e.browser()
		c.must(202, "POST", "/api/v1/auth/signin-link/request", map[string]string{"workspace": ws, "email": email}, nil)
		link := tokenIn(t, e.mailTo(email, "/auth/signin-link"))
		var st signInJSON
		c.must(200, "POST", "/api/v1/auth/signin-link", map[string]string{"token": link}, &st)
		if st.State != identity.StateActive {
			t.Fatalf("link sign-in state %s", st.State)
		}
		c.must(200, "GET", "/api/v1/tickets", nil, nil)
		e.browser().wantError(400, "link_invalid", "POST", "/api/v1/auth/signin-link", map[string]string{"token": link})
		// A customer's address is not a staff account: no link, no mail.
		n := e.mailCount(email)
		c.must(202, "POST", "/api/v1/auth/password-reset/request", map[string]string{"workspace": ws, "account": "staff", "email": email}, nil)
		if e.mailCount(email) != n {
			t.Error("a staff reset request mailed a customer")
		}
	})
}

// TestCustomerSessionSeesOnlyOwnTickets: a customer signed in by password
// reaches their own requests and nothing else.
func TestCustomerSessionSeesOnlyOwnTickets(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		const pw = "customer passphrase that is long"
		e.verifiedCustomerPassword(e.f.Customer.ID, pw)
		var staffTicket ticketJSON
		client{t, e.url, e.f.Tokens["admin"]}.must(201, "POST", "/api/v1/tickets",
			map[string]any{"subject": "for the colleague", "body": "b", "customer_id": e.f.Colleague.ID, "department_id": e.f.Finance}, &staffTicket)
		b := e.browser()
		b.signIn(e.f.WS.Slug, "customer", e.f.Customer.Email, pw)
		b.wantError(404, "not_found", "GET", "/api/v1/tickets/"+itoa(staffTicket.ID), nil)
		b.wantError(403, "forbidden", "GET", "/api/v1/customers", nil)
		b.wantError(403, "forbidden", "GET", "/api/v1/users", nil)
		if !strings.Contains(string(b.must(200, "GET", "/api/v1/me", nil, nil).Body), `"customer"`) {
			t.Error("me does not say customer")
		}
		// Erasing the customer ends their session and every way back in.
		client{t, e.url, e.f.Tokens["admin"]}.must(200, "POST", "/api/v1/customers/"+itoa(e.f.Customer.ID)+"/erase",
			map[string]any{"tickets": "keep", "confirm": "ERASE"}, nil)
		b.wantError(401, "unauthenticated", "GET", "/api/v1/me", nil)
		e.browser().wantError(401, "sign_in_failed", "POST", "/api/v1/auth/signin",
			map[string]string{"workspace": e.f.WS.Slug, "account": "customer", "email": e.f.Customer.Email, "password": pw})
		if n := e.queryInt(`SELECT COUNT(*) FROM sessions WHERE customer_id = $1`, e.f.Customer.ID); n != 0 {
			t.Errorf("%d sessions of the erased customer remain", n)
		}
	})
}

// TestCustomerCanUseTOTPToo: second factors are not only for staff.
func TestCustomerCanUseTOTPToo(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		const pw = "customer passphrase that is long"
		e.verifiedCustomerPassword(e.f.Colleague.ID, pw)
		b := e.browser()
		b.signIn(e.f.WS.Slug, "customer", e.f.Colleague.Email, pw)
		secret, _ := enrollTOTP(t, b)
		c := e.browser()
		if st := c.signIn(e.f.WS.Slug, "customer", e.f.Colleague.Email, pw); st.State != identity.StateMFA {
			t.Fatalf("customer with TOTP signed in to %s", st.State)
		}
		c.wantError(403, "mfa_required", "GET", "/api/v1/tickets", nil)
		c.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]string{"code": mfa.TOTPCode(secret, time.Now().Add(30*time.Second))}, nil)
		c.must(200, "GET", "/api/v1/tickets", nil, nil)
	})
}

// TestOldPasswordHashesAreUpgradedAtSignIn: a hash made with weaker
// argon2id parameters is replaced with one at today's, transparently.
func TestOldPasswordHashesAreUpgradedAtSignIn(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "an older passphrase of mine"
		u := e.staff("agent", "leila", pw)
		salt := []byte("0123456789abcdef")
		key := argon2.IDKey([]byte(pw), salt, 1, 8*1024, 1, 32)
		enc := base64.RawStdEncoding
		old := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, 8*1024, 1, 1, enc.EncodeToString(salt), enc.EncodeToString(key))
		e.exec(`UPDATE users SET password_hash = $1 WHERE id = $2`, old, u.ID)
		e.browser().signIn(e.f.WS.Slug, "staff", u.Email, pw)
		var now string
		if err := a.DB.Read().QueryRowContext(t.Context(), `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&now); err != nil {
			t.Fatal(err)
		}
		if now == old || !strings.Contains(now, "m=19456,t=2,p=1") {
			t.Fatalf("hash after sign-in: %s", now)
		}
		e.browser().signIn(e.f.WS.Slug, "staff", u.Email, pw)
	})
}
