package web_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/softauthn"
)

var shownCode = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)

// ceremony is what the web's passkey option endpoints answer.
type ceremony struct {
	Challenge string          `json:"challenge"`
	Options   json.RawMessage `json:"options"`
}

func (c *client) ceremony(path string) ceremony {
	c.t.Helper()
	p := c.post(path, url.Values{}).must(c.t, 200)
	var ch ceremony
	if err := json.Unmarshal([]byte(p.body), &ch); err != nil {
		c.t.Fatalf("%s: %v in %q", path, err, p.body)
	}
	return ch
}

// TestStepUpWithAPasskeyOrARecoveryCode: someone whose only second factor
// is a passkey confirms it is them with the passkey or a recovery code —
// never with the password alone — and a used recovery code is spent.
func TestStepUpWithAPasskeyOrARecoveryCode(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "step up passphrase for keys"
		u := e.staff("agent", "keyholder", pw, e.f.Sales)
		c := e.signInStaff("en", u.Email, pw)

		// No second factor yet: the password confirms.
		p := c.get("/auth/step-up?next=/auth/enroll").must(t, 200)
		if !strings.Contains(p.body, `name="password"`) || strings.Contains(p.body, `name="recovery_code"`) {
			t.Fatal("an account without a second factor is not asked for its password")
		}
		c.post("/auth/step-up", url.Values{"password": {pw}, "next": {"/auth/enroll"}}).redirect(t, "/auth/enroll")

		key := softauthn.New(identity.DefaultPublicURL)
		reg := c.ceremony("/auth/passkey/register/options")
		resp, err := key.Register(reg.Options)
		if err != nil {
			t.Fatal(err)
		}
		p = c.post("/auth/passkey/register", url.Values{"challenge": {reg.Challenge}, "response": {string(resp)}, "passkey_name": {"laptop"}}).must(t, 200)
		codes := shownCode.FindAllStringSubmatch(p.body, -1)
		if len(codes) != 10 {
			t.Fatalf("the first passkey showed %d recovery codes, want 10", len(codes))
		}

		e.age(u.ID)
		p = c.get("/auth/step-up?next=/account/security").must(t, 200)
		if strings.Contains(p.body, `name="password"`) {
			t.Error("an account with a passkey is offered the password alone")
		}
		for _, want := range []string{`data-options="/auth/step-up/passkey/options"`, `name="recovery_code"`, `passkey.js`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("step-up page lacks %s", want)
			}
		}
		// The password is refused (no form for it, and sent anyway).
		p = c.post("/auth/step-up", url.Values{"password": {pw}, "next": {"/account/security"}}).must(t, 422)
		if !strings.Contains(p.body, `id="f-recovery_code-error"`) {
			t.Errorf("a password-only step-up was not answered on the recovery code field")
		}

		// The passkey.
		ch := c.ceremony("/auth/step-up/passkey/options")
		resp, err = key.Login(ch.Options)
		if err != nil {
			t.Fatal(err)
		}
		c.post("/auth/step-up", url.Values{"challenge": {ch.Challenge}, "response": {string(resp)}, "next": {"/account/security"}}).redirect(t, "/account/security")
		// A replayed answer is refused.
		e.age(u.ID)
		c.post("/auth/step-up", url.Values{"challenge": {ch.Challenge}, "response": {string(resp)}, "next": {"/account/security"}}).must(t, 422)

		// A recovery code: wrong, then right, then the same one again.
		code := codes[0][1]
		p = c.post("/auth/step-up", url.Values{"recovery_code": {"aaaa-bbbb-cccc"}, "next": {"/account/security"}}).must(t, 422)
		if !strings.Contains(p.body, `id="f-recovery_code-error"`) {
			t.Error("a wrong recovery code is not reported on its field")
		}
		c.post("/auth/step-up", url.Values{"recovery_code": {code}, "next": {"/account/security"}}).redirect(t, "/account/security")
		e.age(u.ID)
		c.post("/auth/step-up", url.Values{"recovery_code": {code}, "next": {"/account/security"}}).must(t, 422)

		// Another person's session cannot start a proof for nobody.
		e.client("en").do("POST", "/auth/step-up/passkey/options", url.Values{}, nil).redirect(t, "/")
	})
}
