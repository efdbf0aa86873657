package mail_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/mail"
)

func env_(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestSMTPConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := func(vars map[string]string, check func(c mail.SMTPConfig) bool) func(t *testing.T) {
		return func(t *testing.T) {
			c, err := mail.SMTPConfigFromEnv(env_(vars))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !check(c) {
				t.Fatalf("config %+v", c)
			}
		}
	}
	bad := func(vars map[string]string, wantInErr string) func(t *testing.T) {
		return func(t *testing.T) {
			_, err := mail.SMTPConfigFromEnv(env_(vars))
			if err == nil || !strings.Contains(err.Error(), wantInErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, wantInErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("the error shows the password")
			}
		}
	}
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"HESAR_SMTP_HOST": "smtp.example.com", "HESAR_SMTP_FROM": "Hesar <noreply@example.com>"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	t.Run("nothing set is unconfigured", ok(nil, func(c mail.SMTPConfig) bool { return !c.Configured() }))
	t.Run("defaults to STARTTLS on 587", ok(base(nil), func(c mail.SMTPConfig) bool {
		return c.Configured() && c.Security == mail.SecuritySTARTTLS && c.Port == 587 && c.HeloName == "example.com"
	}))
	t.Run("tls defaults to 465", ok(base(map[string]string{"HESAR_SMTP_SECURITY": "TLS"}), func(c mail.SMTPConfig) bool {
		return c.Security == mail.SecurityTLS && c.Port == 465
	}))
	t.Run("password from file", ok(base(map[string]string{"HESAR_SMTP_USERNAME": "u", "HESAR_SMTP_PASSWORD_FILE": pwFile}), func(c mail.SMTPConfig) bool {
		return c.Password == "from-file"
	}))
	t.Run("none on localhost", ok(map[string]string{"HESAR_SMTP_HOST": "localhost", "HESAR_SMTP_SECURITY": "none", "HESAR_SMTP_FROM": "a@b.test"}, func(c mail.SMTPConfig) bool {
		return c.Port == 25
	}))
	t.Run("none on a remote host", bad(base(map[string]string{"HESAR_SMTP_SECURITY": "none"}), "localhost"))
	t.Run("unknown security", bad(base(map[string]string{"HESAR_SMTP_SECURITY": "ssl"}), "starttls"))
	t.Run("port not a number", bad(base(map[string]string{"HESAR_SMTP_PORT": "smtp"}), "HESAR_SMTP_PORT"))
	t.Run("port out of range", bad(base(map[string]string{"HESAR_SMTP_PORT": "70000"}), "HESAR_SMTP_PORT"))
	t.Run("host without sender", bad(map[string]string{"HESAR_SMTP_HOST": "smtp.example.com"}, "HESAR_SMTP_FROM"))
	t.Run("sender without host", bad(map[string]string{"HESAR_SMTP_FROM": "a@b.test"}, "HESAR_SMTP_HOST"))
	t.Run("bad sender", bad(base(map[string]string{"HESAR_SMTP_FROM": "noreply"}), "HESAR_SMTP_FROM"))
	t.Run("host with port", bad(base(map[string]string{"HESAR_SMTP_HOST": "smtp.example.com:587"}), "HESAR_SMTP_PORT"))
	t.Run("user without password", bad(base(map[string]string{"HESAR_SMTP_USERNAME": "u"}), "HESAR_SMTP_PASSWORD"))
	t.Run("password and file", bad(base(map[string]string{"HESAR_SMTP_USERNAME": "u", "HESAR_SMTP_PASSWORD": "hunter2", "HESAR_SMTP_PASSWORD_FILE": pwFile}), "not both"))
	t.Run("missing password file", bad(base(map[string]string{"HESAR_SMTP_USERNAME": "u", "HESAR_SMTP_PASSWORD_FILE": filepath.Join(dir, "nope")}), "HESAR_SMTP_PASSWORD_FILE"))
}
