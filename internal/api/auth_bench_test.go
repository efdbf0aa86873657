package api_test

import (
	"net/http"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
)

// BenchmarkAuthenticatedRequest compares what authentication costs a
// trivial request (GET /api/v1/me) by API token and by browser session, and
// what a password sign-in costs (argon2id dominates it, on purpose).
//
//	go test ./internal/api -run '^$' -bench AuthenticatedRequest -benchtime 2s
func BenchmarkAuthenticatedRequest(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			a := testutil.App(b, kind)
			benchAuth(b, a)
		})
	}
}

func benchAuth(b *testing.B, a *app.App) {
	e := newAuthEnv(b, a)
	e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
	const pw = "benchmark passphrase long"
	u := e.staff("agent", "roya", pw)
	br := e.browser()
	br.signIn(e.f.WS.Slug, "staff", u.Email, pw)
	tok := client{b, e.url, e.f.Tokens["admin"]}
	b.Run("token", func(b *testing.B) {
		tok.t = b
		for b.Loop() {
			if r := tok.do("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
		}
	})
	b.Run("session", func(b *testing.B) {
		br.t = b
		for b.Loop() {
			if r := br.do("GET", "/api/v1/me", nil); r.Status != http.StatusOK {
				b.Fatal(r.Status)
			}
		}
	})
	b.Run("password-signin", func(b *testing.B) {
		br.t = b
		for b.Loop() {
			br.signIn(e.f.WS.Slug, "staff", u.Email, pw)
		}
	})
}
