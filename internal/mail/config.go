package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"
)

// Security modes for SMTPConfig.Security.
const (
	// SecuritySTARTTLS connects in plain text and requires the server to
	// offer STARTTLS; the message is never sent if it does not (port 587).
	SecuritySTARTTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in plain text; only for a server on this machine.
	SecurityNone = "none"
)

const defaultTimeout = 30 * time.Second

// SMTPConfig says how to reach the relay that sends Hesar's mail.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	// Security is "starttls" (the default when empty: STARTTLS required),
	// "tls" (implicit TLS, port 465) or "none" (plain text, only for a
	// server on localhost).
	Security string
	From     string // "Hesar <noreply@example.com>" or a bare address
	HeloName string // the name given in EHLO; default: the From domain
	Timeout  time.Duration
	// RootCAs verifies the server certificate; nil means the system roots.
	RootCAs *x509.CertPool
}

// Configured reports whether enough is set to try sending: a host and a
// sender. Validate says whether the settings are usable.
func (c SMTPConfig) Configured() bool { return c.Host != "" && c.From != "" }

// withDefaults fills the port, security mode, EHLO name and timeout.
func (c SMTPConfig) withDefaults() SMTPConfig {
	if c.Security == "" {
		c.Security = SecuritySTARTTLS
	}
	if c.Port == 0 {
		switch c.Security {
		case SecurityTLS:
			c.Port = 465
		case SecurityNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.HeloName == "" {
		if a, err := mail.ParseAddress(c.From); err == nil {
			if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
				c.HeloName = a.Address[i+1:]
			}
		}
		if c.HeloName == "" {
			c.HeloName = "localhost"
		}
	}
	return c
}

// Validate checks the settings and says what to change. It does not
// contact the server.
func (c SMTPConfig) Validate() error {
	c = c.withDefaults()
	var problems []string
	if c.Host == "" {
		problems = append(problems, "HESAR_SMTP_HOST is empty: set it to your mail relay, e.g. smtp.example.com")
	} else if strings.ContainsAny(c.Host, " /:\r\n") && net.ParseIP(c.Host) == nil {
		problems = append(problems, fmt.Sprintf("HESAR_SMTP_HOST %q must be a host name or IP address alone (put the port in HESAR_SMTP_PORT)", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		problems = append(problems, fmt.Sprintf("HESAR_SMTP_PORT %d must be between 1 and 65535", c.Port))
	}
	switch c.Security {
	case SecuritySTARTTLS, SecurityTLS:
	case SecurityNone:
		if c.Host != "" && !isLoopback(c.Host) {
			problems = append(problems, fmt.Sprintf("HESAR_SMTP_SECURITY=none sends passwords and sign-in links in plain text, so it is only allowed for a server on this machine (localhost), not %q: use starttls (port 587) or tls (port 465)", c.Host))
		}
	default:
		problems = append(problems, fmt.Sprintf("HESAR_SMTP_SECURITY %q must be starttls (the default, port 587), tls (port 465) or none (localhost only)", c.Security))
	}
	if c.From == "" {
		problems = append(problems, "HESAR_SMTP_FROM is empty: set the sender, e.g. \"Hesar <noreply@example.com>\"")
	} else if err := checkHeaderText(c.From, 320); err != nil {
		problems = append(problems, "HESAR_SMTP_FROM "+err.Error())
	} else if _, err := parseAddress(c.From); err != nil {
		problems = append(problems, fmt.Sprintf("HESAR_SMTP_FROM %q %s", c.From, err.Error()))
	}
	if (c.Username == "") != (c.Password == "") {
		problems = append(problems, "set both HESAR_SMTP_USERNAME and HESAR_SMTP_PASSWORD (or HESAR_SMTP_PASSWORD_FILE), or neither")
	}
	if strings.ContainsAny(c.HeloName, " \r\n") {
		problems = append(problems, "the EHLO name must be a single word")
	}
	if len(problems) > 0 {
		return fmt.Errorf("SMTP settings: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (c SMTPConfig) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// SMTPConfigFromEnv reads the SMTP settings from the environment:
// HESAR_SMTP_HOST, HESAR_SMTP_PORT, HESAR_SMTP_USERNAME,
// HESAR_SMTP_PASSWORD or HESAR_SMTP_PASSWORD_FILE, HESAR_SMTP_SECURITY and
// HESAR_SMTP_FROM. With none of them set it returns an unconfigured config
// and no error: mail then stays queued. Anything set is validated and an
// error says what to fix.
func SMTPConfigFromEnv(getenv func(string) string) (SMTPConfig, error) {
	c := SMTPConfig{
		Host:     strings.TrimSpace(getenv("HESAR_SMTP_HOST")),
		Username: getenv("HESAR_SMTP_USERNAME"),
		Password: getenv("HESAR_SMTP_PASSWORD"),
		Security: strings.ToLower(strings.TrimSpace(getenv("HESAR_SMTP_SECURITY"))),
		From:     strings.TrimSpace(getenv("HESAR_SMTP_FROM")),
	}
	if p := strings.TrimSpace(getenv("HESAR_SMTP_PORT")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return SMTPConfig{}, fmt.Errorf("SMTP settings: HESAR_SMTP_PORT %q must be a number such as 587", p)
		}
		c.Port = n
	}
	if file := getenv("HESAR_SMTP_PASSWORD_FILE"); file != "" {
		if c.Password != "" {
			return SMTPConfig{}, errors.New("SMTP settings: set HESAR_SMTP_PASSWORD or HESAR_SMTP_PASSWORD_FILE, not both")
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return SMTPConfig{}, fmt.Errorf("SMTP settings: read HESAR_SMTP_PASSWORD_FILE: %w", err)
		}
		c.Password = strings.TrimRight(string(raw), "\r\n")
		if c.Password == "" {
			return SMTPConfig{}, fmt.Errorf("SMTP settings: HESAR_SMTP_PASSWORD_FILE %s is empty", file)
		}
	}
	if c == (SMTPConfig{}) {
		return c, nil
	}
	if err := c.Validate(); err != nil {
		return SMTPConfig{}, err
	}
	return c.withDefaults(), nil
}
