package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/testutil"
)

// lockedBuffer is a log destination several goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// TestNoCredentialReachesTheDatabaseOrLogs signs people in every way there
// is, with planted passwords, then looks for every password, TOTP secret,
// recovery code, session id, emailed link token and API token in the raw
// database (SQLite file and WAL; PostgreSQL rows and pg_dump) and in
// everything logged at debug level.
func TestNoCredentialReachesTheDatabaseOrLogs(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, path := testutil.NewDatabase(t, kind)
			dataDir := t.TempDir()
			if path != "" {
				dataDir = filepath.Dir(path)
			}
			logs := &lockedBuffer{}
			log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			a, err := app.Open(context.Background(), app.Config{DataDir: dataDir, DatabaseURL: url}, log, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := newAuthEnvLogged(t, a, log)
			ws := e.f.WS.Slug
			planted := map[string]string{
				"staff password":    "Planted-Passphrase-Qwxz-7788",
				"wrong guess":       "Wrong-Planted-Guess-Zzq-4411",
				"new password":      "Replanted-Passphrase-Vbn-9911",
				"customer password": "Customer-Planted-Phrase-Jkl-3322",
				"smtp password":     "smtp-test-password",
			}
			admin := e.staff("admin", "boss", planted["staff password"])
			b := e.browser()
			b.signIn(ws, "staff", admin.Email, planted["staff password"])
			var en totpJSON
			b.must(200, "POST", "/api/v1/account/totp", nil, &en)
			secret := totpSecret(t, en.Secret)
			planted["totp secret"] = strings.ReplaceAll(en.Secret, " ", "")
			var codes codesJSON
			b.must(200, "POST", "/api/v1/account/totp/confirm", map[string]string{"code": mfa.TOTPCode(secret, time.Now())}, &codes)
			for i, c := range codes.RecoveryCodes {
				planted["recovery code "+itoa(int64(i))] = c
				planted["recovery code bare "+itoa(int64(i))] = strings.ReplaceAll(c, "-", "")
			}
			planted["session id"] = b.cookie()
			var tok struct {
				Token string `json:"token"`
			}
			b.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "planted"}, &tok)
			planted["api token"] = tok.Token
			e.browser().do("POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": "staff", "email": admin.Email, "password": planted["wrong guess"]})

			// A reset by emailed link, and a customer's sign-up.
			b.must(202, "POST", "/api/v1/auth/password-reset/request", map[string]string{"workspace": ws, "account": "staff", "email": admin.Email}, nil)
			reset := tokenIn(t, e.mailTo(admin.Email, "/auth/reset-password"))
			planted["reset link"] = reset
			e.browser().must(204, "POST", "/api/v1/auth/password-reset", map[string]string{"token": reset, "password": planted["new password"]}, nil)
			cust := "planted." + ws + "@example.com"
			e.browser().must(202, "POST", "/api/v1/auth/signup", map[string]string{"workspace": ws, "email": cust, "name": "Pari", "password": planted["customer password"]}, nil)
			verify := tokenIn(t, e.mailTo(cust, "/auth/verify-email"))
			planted["verify link"] = verify
			e.browser().must(204, "POST", "/api/v1/auth/verify-email", map[string]string{"token": verify}, nil)
			c := e.browser()
			c.signIn(ws, "customer", cust, planted["customer password"])
			planted["customer session"] = c.cookie()
			c.must(200, "DELETE", "/api/v1/account/sessions", nil, nil)
			a.Identity.WaitBackground()
			checkSecurityEvents(t, logs.Bytes(), b.ip)

			var dumps [][]byte
			if kind == "sqlite" {
				a.Close()
				entries, _ := os.ReadDir(dataDir)
				for _, en := range entries {
					raw, err := os.ReadFile(filepath.Join(dataDir, en.Name()))
					if err != nil {
						t.Fatal(err)
					}
					dumps = append(dumps, raw)
				}
			} else {
				dumps = append(dumps, pgTablesAsText(t, url))
				if pgDump, err := exec.LookPath("pg_dump"); err == nil {
					out, err := exec.Command(pgDump, "--data-only", url).Output()
					if err != nil {
						t.Fatalf("pg_dump: %v", err)
					}
					dumps = append(dumps, out)
				} else if os.Getenv("CI") == "true" {
					t.Fatal("pg_dump not installed")
				}
				a.Close()
			}
			logged := logs.Bytes()
			if !bytes.Contains(logged, []byte(identity.EventSignInFailed)) {
				t.Fatal("the log holds no security events: the scan would prove nothing")
			}
			for what, v := range planted {
				if v == "" {
					t.Fatalf("%s was not captured", what)
				}
				for _, d := range dumps {
					if bytes.Contains(d, []byte(v)) {
						t.Errorf("%s found in the raw database", what)
					}
				}
				if bytes.Contains(logged, []byte(v)) {
					t.Errorf("%s found in the logs", what)
				}
			}
			for _, d := range dumps {
				if bytes.Contains(d, secret) {
					t.Error("the raw TOTP secret bytes are in the database")
				}
			}
		})
	}
}

// checkSecurityEvents reads the structured log and requires one event of
// each kind the flow above caused, each naming the client's address and
// user agent, and the actor where there is one.
func checkSecurityEvents(t *testing.T, logged []byte, ip string) {
	t.Helper()
	seen := map[string]map[string]any{}
	for _, line := range bytes.Split(logged, []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil || rec["msg"] != "security event" {
			continue
		}
		if typ, _ := rec["type"].(string); typ != "" {
			seen[typ] = rec
		}
	}
	for _, typ := range []string{identity.EventSignIn, identity.EventSignInFailed, identity.EventMFAEnrolled, identity.EventTokenCreated,
		identity.EventPasswordResetSent, identity.EventPasswordChanged, identity.EventSignedUp, identity.EventEmailVerified, identity.EventSessionRevoked} {
		rec, ok := seen[typ]
		if !ok {
			t.Errorf("no %s event was emitted", typ)
			continue
		}
		if rec["ip"] == "" || rec["user_agent"] == "" {
			t.Errorf("%s event without ip or user agent: %v", typ, rec)
		}
	}
	if rec := seen[identity.EventMFAEnrolled]; rec != nil && (rec["ip"] != ip || rec["actor_id"] == float64(0)) {
		t.Errorf("mfa.enrolled names ip %v actor %v, want %s and the admin", rec["ip"], rec["actor_id"], ip)
	}
}
