package web_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/web"
)

// TestBrowserPasskeysAddSignInAndSecondFactor: an agent adds a passkey on
// the enrollment page, signs in with it alone, then signs in with the
// password and proves the second factor with it — all through passkey.js
// and a virtual authenticator in Chromium. WebAuthn binds a passkey to the
// site's name, so this test serves Hesar at http://localhost:<port> with
// an identity service whose public URL says so.
func TestBrowserPasskeysAddSignInAndSecondFactor(t *testing.T) {
	browserCtx := sharedChromium(t)
	a := testutil.App(t, "sqlite")
	f := testutil.NewFixture(t, a)
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	base := "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	id, err := identity.New(identity.Opts{DB: a.DB, Keys: a.Keys, Mail: a.Mail, Customers: a.Customers, PublicURL: base,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := web.New(web.Opts{Identity: id, Tickets: a.Tickets, Customers: a.Customers, Attachments: a.Attachments, Departments: a.Departments})
	if err != nil {
		t.Fatal(err)
	}
	h = w.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	const pw = "an agent passphrase of some length"
	u, err := id.CreateUser(context.Background(), f.System(), identity.NewUser{Email: "pegah-" + f.WS.Slug + "@staff.test", Name: "Pegah",
		Role: "agent", Password: pw, Departments: []int64{f.Sales}})
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, browserCtx, base, "")
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatal(err)
	}

	b.open("/lang/en?next=/console/signin?workspace="+f.WS.Slug, "title.signin_staff")
	b.do(fill("#f-email", u.Email, "#f-password", pw))
	b.submit(`form[action="/console/signin"] button`, "title.queue")

	b.open("/auth/enroll", "title.enroll")
	b.do(fill("#f-passkey_name", "Virtual key"))
	b.submitThen(`form[data-passkey=create] [data-passkey-start]`, ".codes")

	b.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
	b.submit(`#passkey-signin [data-passkey-start]`, "title.queue")

	b.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
	b.do(fill("#f-email", u.Email, "#f-password", pw))
	b.submit(`form[action="/console/signin"] button`, "title.mfa")
	b.submit(`form[data-passkey=get] [data-passkey-start]`, "title.queue")
}
