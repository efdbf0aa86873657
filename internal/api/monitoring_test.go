package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/geodb"
	"github.com/hesar/hesar/internal/ticket"
)

// hook is a webhook receiver that checks every signature.
type hook struct {
	mu     sync.Mutex
	secret string
	got    []map[string]any
	bad    int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !monitor.Verify(h.secret, r.Header.Get(monitor.HeaderSignature), r.Header.Get(monitor.HeaderTimestamp), body, time.Now(), 5*time.Minute) {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	h.got = append(h.got, m)
}

func (h *hook) rules() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, _ := json.Marshal(h.got)
	return string(b)
}

type alertJSON struct {
	ID          int64  `json:"id"`
	Rule        string `json:"rule"`
	State       string `json:"state"`
	AccountID   int64  `json:"account_id"`
	Explanation string `json:"explanation"`
}

// TestSecurityMonitoringEndToEnd drives each main detector over HTTP with
// a generated GeoIP world, and checks that alerts arrive by email (real
// SMTP) and signed webhook, that the audit log recorded the reads, and
// that it verifies.
func TestSecurityMonitoringEndToEnd(t *testing.T) {
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
			a, err := app.Open(t.Context(), app.Config{DataDir: dir, DatabaseURL: url, GeoIPPath: world, WebhooksToPrivate: true}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			e := newAuthEnv(t, a)
			ws := e.f.WS.Slug
			e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
			admin := client{t, e.url, e.f.Tokens["admin"]}
			h := &hook{secret: "webhook secret of the test"}
			receiver := httptest.NewServer(h)
			t.Cleanup(receiver.Close)
			admin.must(200, "PUT", "/api/v1/security/monitoring", map[string]any{
				"webhook_url": receiver.URL, "webhook_secret": h.secret, "email_severity": "low",
				"rules":        map[string]any{"brute_force": map[string]any{"enabled": true, "severity": "high", "threshold": 5, "window": "15m"}},
				"exfiltration": map[string]any{"factor": 5, "floors": map[string]int{"ticket.view": 3}},
			}, nil)
			const pw = "my agent passphrase is long"
			agent := e.staff("agent", "ava", pw, e.f.Sales)
			flush := func() {
				t.Helper()
				a.Identity.WaitBackground()
				if err := a.Monitor.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			alerts := func() map[string]alertJSON {
				t.Helper()
				flush()
				var list struct{ Data []alertJSON }
				admin.must(200, "GET", "/api/v1/security/alerts", nil, &list)
				out := map[string]alertJSON{}
				for _, x := range list.Data {
					out[x.Rule] = x
				}
				return out
			}

			// Normal work raises nothing: one sign-in, a few reads.
			home := e.browser()
			home.ip = "198.51.100.10" // Tehran
			home.signIn(ws, "staff", agent.Email, pw)
			got := alerts()
			// The fixture gave the admin a token with every permission: that
			// one is worth an alert; nothing else is.
			if _, ok := got["wide_token"]; !ok || len(got) != 1 {
				t.Fatalf("alerts after setup and normal traffic: %v", got)
			}

			// Brute force: five wrong passwords for the agent from five
			// addresses.
			for i := range 5 {
				b := e.browser()
				b.do("POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff", "email": agent.Email, "password": "guess " + itoa(int64(i))})
			}
			bf, ok := alerts()["brute_force"]
			if !ok || bf.AccountID != agent.ID || !strings.Contains(bf.Explanation, "5") {
				t.Fatalf("no brute-force alert about the agent: %+v", alerts())
			}

			// Impossible travel: Tehran, then Berlin minutes later.
			away := e.browser()
			away.ip = "203.0.113.10"
			away.signIn(ws, "staff", agent.Email, pw)
			got = alerts()
			if _, ok := got["impossible_travel"]; !ok {
				t.Fatalf("no impossible-travel alert: %v", got)
			}
			// The agent is told about the new country.
			if m := e.mailTo(agent.Email, "Berlin"); m.Subject == "" {
				t.Error("no new sign-in mail")
			}

			// Mass access: more distinct tickets viewed than the floor.
			for i := range 4 {
				tk, err := a.Tickets.Create(t.Context(), e.f.System(), ticket.NewTicket{Subject: "s" + itoa(int64(i)), Body: "b", DepartmentID: e.f.Sales, CustomerID: e.f.Customer.ID})
				if err != nil {
					t.Fatal(err)
				}
				home.must(200, "GET", "/api/v1/tickets/"+itoa(tk.Number), nil, nil)
			}
			if _, ok := alerts()["exfiltration"]; !ok {
				t.Fatalf("no mass-access alert: %v", alerts())
			}

			// Admins hear of it by email and by signed webhook.
			if m := e.mailTo(e.f.Admin.Email, ""); m.Subject == "" {
				t.Error("no alert mail to the admin")
			}
			if _, err := a.Monitor.DeliverDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			if h.bad != 0 || !strings.Contains(h.rules(), "brute_force") {
				t.Errorf("webhook: %d bad signatures, received %s", h.bad, h.rules())
			}

			// An admin works the alert.
			var st alertJSON
			admin.must(200, "PATCH", "/api/v1/security/alerts/"+itoa(bf.ID), map[string]string{"state": "acknowledged", "note": "calling the agent"}, &st)
			admin.must(200, "PATCH", "/api/v1/security/alerts/"+itoa(bf.ID), map[string]string{"state": "resolved", "note": "it was a typo storm"}, &st)
			if st.State != "resolved" {
				t.Fatalf("state %s", st.State)
			}
			var dash struct {
				SignIns []struct {
					Place  string `json:"place"`
					Result string `json:"result"`
				} `json:"sign_ins"`
			}
			admin.must(200, "GET", "/api/v1/security/dashboard", nil, &dash)
			places := ""
			for _, s := range dash.SignIns {
				places += s.Place + ";"
			}
			if !strings.Contains(places, "Tehran, IR") || !strings.Contains(places, "Berlin, DE") {
				t.Errorf("dashboard sign-ins lack places: %s", places)
			}

			// The audit log saw the reads, and holds together.
			if err := a.Audit.FlushReads(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Audit.SealPending(t.Context()); err != nil {
				t.Fatal(err)
			}
			var recs struct {
				Data []struct {
					Action  string `json:"action"`
					ActorID int64  `json:"actor_id"`
					IP      string `json:"ip"`
				} `json:"data"`
			}
			admin.must(200, "GET", "/api/v1/audit?action=ticket.view&actor_id="+itoa(agent.ID), nil, &recs)
			if len(recs.Data) != 4 || recs.Data[0].IP != home.ip {
				t.Fatalf("ticket views in the audit log: %+v", recs.Data)
			}
			var ver struct {
				OK      bool  `json:"ok"`
				Checked int64 `json:"checked"`
			}
			admin.must(200, "GET", "/api/v1/audit/verify", nil, &ver)
			if !ver.OK || ver.Checked < 10 {
				t.Fatalf("verify: %+v", ver)
			}
			// A supervisor sees only what their departments' people did.
			sup := client{t, e.url, e.f.Tokens["supervisor"]}
			var supRecs struct {
				Data []struct {
					ActorKind string `json:"actor_kind"`
					ActorID   int64  `json:"actor_id"`
				} `json:"data"`
			}
			sup.must(200, "GET", "/api/v1/audit?limit=1000", nil, &supRecs)
			for _, r := range supRecs.Data {
				if r.ActorKind != "user" || (r.ActorID != agent.ID && r.ActorID != e.f.Supervisor.ID && r.ActorID != e.f.SalesAgent.ID) {
					t.Fatalf("supervisor saw a record by %s %d", r.ActorKind, r.ActorID)
				}
			}
			// Editing a record in the database is caught.
			e.exec(`UPDATE audit_log SET action = 'ticket.list' WHERE workspace_id = $1 AND action = 'ticket.view'`, e.f.WS.ID)
			admin.must(200, "GET", "/api/v1/audit/verify", nil, &ver)
			if ver.OK {
				t.Fatal("verify missed an edited record")
			}
		})
	}
}

// TestMoreDetectorsOverHTTP: password spraying, sessions from two
// countries, a removed second factor, a used recovery code and a raised
// role, each raised by requests to the API.
func TestMoreDetectorsOverHTTP(t *testing.T) {
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
			ws := e.f.WS.Slug
			e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
			admin := client{t, e.url, e.f.Tokens["admin"]}
			rules := func() map[string]alertJSON {
				t.Helper()
				a.Identity.WaitBackground()
				if err := a.Monitor.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}
				var list struct{ Data []alertJSON }
				admin.must(200, "GET", "/api/v1/security/alerts?limit=200", nil, &list)
				out := map[string]alertJSON{}
				for _, x := range list.Data {
					out[x.Rule] = x
				}
				return out
			}

			// Spraying: one address, one guess at each of ten accounts.
			sprayer := e.browser()
			for i := range 10 {
				sprayer.do("POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff",
					"email": "victim" + itoa(int64(i)) + "-" + ws + "@staff.test", "password": "Summer2026!Summer"})
			}
			if _, ok := rules()["password_spraying"]; !ok {
				t.Fatalf("no spraying alert: %v", rules())
			}

			// Two countries at once: a Tehran session still open when a
			// Berlin one starts (the travel rule, which would explain the
			// same two sign-ins first, is off here).
			admin.must(200, "PUT", "/api/v1/security/monitoring", map[string]any{
				"rules": map[string]any{"impossible_travel": map[string]any{"enabled": false, "severity": "high", "threshold": 1000, "window": "24h"}}}, nil)
			const pw = "my agent passphrase is long"
			agent := e.staff("agent", "ava", pw, e.f.Sales)
			tehran, berlin := e.browser(), e.browser()
			tehran.ip, berlin.ip = "198.51.100.30", "203.0.113.30"
			tehran.signIn(ws, "staff", agent.Email, pw)
			berlin.signIn(ws, "staff", agent.Email, pw)
			if _, ok := rules()["concurrent_countries"]; !ok {
				t.Fatalf("no two-countries alert: %v", rules())
			}

			// A second factor set up, a recovery code used, then removed.
			_, codes := enrollTOTP(t, tehran)
			c := e.browser()
			c.ip = "198.51.100.31"
			c.signIn(ws, "staff", agent.Email, pw)
			c.must(200, "POST", "/api/v1/auth/mfa/verify", map[string]string{"recovery_code": codes[0]}, nil)
			c.must(204, "DELETE", "/api/v1/account/totp", nil, nil)
			got := rules()
			for _, want := range []string{"recovery_code_used", "mfa_removed"} {
				if _, ok := got[want]; !ok {
					t.Errorf("no %s alert: %v", want, got)
				}
			}

			// A raised role.
			admin.must(200, "PATCH", "/api/v1/users/"+itoa(agent.ID), map[string]any{"role": "admin"}, nil)
			if r, ok := rules()["privilege_raised"]; !ok || r.AccountID != agent.ID {
				t.Fatalf("no privilege alert for the agent: %v", rules())
			}
		})
	}
}

// TestWebPagesAreAuditedLikeTheAPI: opening a ticket in the console leaves
// the same record as reading it through the API.
func TestWebPagesAreAuditedLikeTheAPI(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "my agent passphrase is long"
		agent := e.staff("agent", "ava", pw, e.f.Sales)
		tk, err := a.Tickets.Create(t.Context(), e.f.System(), ticket.NewTicket{Subject: "web view", Body: "b", DepartmentID: e.f.Sales, CustomerID: e.f.Customer.ID})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
		r := b.do("GET", "/console/tickets/"+itoa(tk.Number), nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), "web view") {
			t.Fatalf("console ticket page: %d", r.Status)
		}
		if err := a.Audit.FlushReads(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(t.Context()); err != nil {
			t.Fatal(err)
		}
		var recs struct {
			Data []struct {
				Details map[string]string `json:"details"`
				IP      string            `json:"ip"`
			} `json:"data"`
		}
		client{t, e.url, e.f.Tokens["admin"]}.must(200, "GET", "/api/v1/audit?action=ticket.view&actor_id="+itoa(agent.ID), nil, &recs)
		if len(recs.Data) != 1 || recs.Data[0].Details["via"] != "console" || recs.Data[0].IP != b.ip {
			t.Fatalf("audit of the console view: %+v", recs.Data)
		}
		// The security pages are wired to the same monitor and audit log.
		boss := e.browser()
		boss.signIn(e.f.WS.Slug, "staff", e.staff("admin", "boss", adminPassword).Email, adminPassword)
		for _, page := range []string{"/admin/security", "/admin/security/alerts", "/admin/audit"} {
			if r := boss.do("GET", page, nil); r.Status != 200 {
				t.Errorf("%s: %d", page, r.Status)
			}
		}
		if r := b.do("GET", "/admin/security", nil); r.Status != 403 && r.Status != 404 {
			t.Errorf("an agent opened the security page: %d", r.Status)
		}
	})
}

// TestChangesAreRecordedOnceInTheirTransaction: a sign-in, a token and a
// role change each leave exactly one record (written with the change, not
// again after it).
func TestChangesAreRecordedOnceInTheirTransaction(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "my agent passphrase is long"
		agent := e.staff("agent", "ava", pw, e.f.Sales)
		b := e.browser()
		b.signIn(e.f.WS.Slug, "staff", agent.Email, pw)
		b.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "once"}, nil)
		admin := client{t, e.url, e.f.Tokens["admin"]}
		admin.must(200, "PATCH", "/api/v1/users/"+itoa(agent.ID), map[string]any{"role": "supervisor"}, nil)
		if err := a.Audit.FlushReads(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(t.Context()); err != nil {
			t.Fatal(err)
		}
		for action, filter := range map[string]string{
			identity.EventSignIn:       "&actor_id=" + itoa(agent.ID),
			identity.EventTokenCreated: "&actor_id=" + itoa(agent.ID),
			identity.EventRoleChanged:  "&target_id=" + itoa(agent.ID),
		} {
			var recs struct {
				Data []struct {
					SessionID int64 `json:"session_id"`
				} `json:"data"`
			}
			admin.must(200, "GET", "/api/v1/audit?action="+action+filter, nil, &recs)
			if len(recs.Data) != 1 {
				t.Errorf("%s: %d records, want 1", action, len(recs.Data))
			}
			if action == identity.EventSignIn && len(recs.Data) == 1 && recs.Data[0].SessionID == 0 {
				t.Error("the sign-in record does not name its session")
			}
		}
	})
}
