package api_test

import (
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

// TestSavedLanguageRoundTrips: staff and customers save their language,
// read it back from /me, and bad values change nothing.
func TestSavedLanguageRoundTrips(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		for _, actor := range []string{"sales_agent", "customer"} {
			c := client{t, srv.URL, f.Tokens[actor]}
			var me struct {
				Locale string `json:"locale"`
				User   *struct {
					Locale string `json:"locale"`
				} `json:"user"`
			}
			c.must(200, "GET", "/api/v1/me", nil, &me)
			if me.Locale != "" {
				t.Errorf("%s: a new account has locale %q, want none", actor, me.Locale)
			}
			c.must(200, "PATCH", "/api/v1/me", map[string]any{"locale": "en"}, &me)
			if me.Locale != "en" {
				t.Errorf("%s: PATCH answered locale %q, want en", actor, me.Locale)
			}
			for _, bad := range []struct {
				body map[string]any
				want int
			}{
				{map[string]any{"locale": "de"}, 422}, {map[string]any{}, 422},
				{map[string]any{"locale": 7}, 400}, {map[string]any{"locale": "fa", "theme": "dark"}, 400},
			} {
				r := c.do("PATCH", "/api/v1/me", bad.body)
				if r.Status != bad.want {
					t.Errorf("%s: PATCH %v = %d, want %d", actor, bad.body, r.Status, bad.want)
				} else if bad.want == 422 && r.err(t).Error.Fields["locale"] == "" {
					t.Errorf("%s: PATCH %v: no error on field locale: %s", actor, bad.body, r.Body)
				}
			}
			c.must(200, "GET", "/api/v1/me", nil, &me)
			if me.Locale != "en" {
				t.Errorf("%s: after refused changes locale = %q, want en kept", actor, me.Locale)
			}
			if actor == "sales_agent" && (me.User == nil || me.User.Locale != "en") {
				t.Errorf("user view locale = %+v, want en", me.User)
			}
			c.must(200, "PATCH", "/api/v1/me", map[string]any{"locale": ""}, &me)
			if me.Locale != "" {
				t.Errorf("%s: cleared locale = %q", actor, me.Locale)
			}
		}
	})
}
