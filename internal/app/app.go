// Package app wires Hesar together: configuration in, database, keyring,
// domain services and HTTP handlers out. Nothing here is global, so tests
// run many apps side by side.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/notify"
	"github.com/hesar/hesar/internal/privacy"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
	"github.com/hesar/hesar/internal/workspace"
)

// Version is set at build time with -ldflags "-X github.com/hesar/hesar/internal/app.Version=…".
var Version = "dev"

// Config is everything Hesar needs to start, parsed once by the CLI.
type Config struct {
	// Addr is the HTTP listen address.
	Addr string
	// DataDir holds the SQLite database and, by default, the master key.
	DataDir string
	// DatabaseURL selects PostgreSQL when set (postgres://…).
	DatabaseURL string
	// MasterKeyFile is the master key's path (default DataDir/master.key).
	MasterKeyFile string
	// MasterKey is the base64 master key from the environment, if given.
	MasterKey string
	// PublicURL is where people reach Hesar (scheme and host): the base of
	// emailed links and the WebAuthn origin. Default http://localhost:8080.
	PublicURL string
	// GeoIPPath is a MaxMind-format city database (.mmdb) for approximate
	// places of client addresses; empty: places are unknown.
	GeoIPPath string
	// WebhooksToPrivate lets security alert webhooks reach loopback and
	// private addresses (a SIEM on the internal network). Off by default,
	// so a webhook URL cannot be used to probe the internal network.
	WebhooksToPrivate bool
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "hesar.db") }

// KeyFile is where the master key is read from (or created).
func (c Config) KeyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// App is a running Hesar: its database, keys and services.
type App struct {
	Config       Config
	Log          *slog.Logger
	DB           *db.DB
	Keys         *keyring.Keyring
	MasterSource keyring.MasterSource
	Workspaces   *workspace.Service
	Identity     *identity.Service
	Departments  *department.Service
	Customers    *customer.Service
	Tickets      *ticket.Service
	Attachments  *attachment.Service
	Privacy      *privacy.Service
	Mail         *mail.Outbox
	Places       *geoip.DB
	Audit        *audit.Log
	Monitor      *monitor.Monitor
	API          *api.Server

	readiness []func(context.Context) error
}

// AddReadinessCheck adds a condition /readyz must meet (for example, that
// scheduled backups are not stale). Call it before serving.
func (a *App) AddReadinessCheck(check func(context.Context) error) {
	a.readiness = append(a.readiness, check)
}

// Open connects to the database, applies pending migrations, loads (or on
// first start creates) the master key and builds every service.
func Open(ctx context.Context, cfg Config, log *slog.Logger, progress io.Writer) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, Path: cfg.SQLitePath()})
	if err != nil {
		return nil, err
	}
	applied, err := d.Migrate(ctx, func(m db.Migration) {
		if progress != nil {
			fmt.Fprintf(progress, "applying migration %04d %s\n", m.Version, m.Name)
		}
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	}
	master, src, err := keyring.LoadMaster(cfg.KeyFile(), cfg.MasterKey)
	if err != nil {
		d.Close()
		return nil, err
	}
	keys, err := keyring.Open(ctx, d, master)
	if err != nil {
		d.Close()
		return nil, err
	}
	a, err := build(d, keys, log, cfg)
	if err != nil {
		d.Close()
		return nil, err
	}
	a.Config, a.MasterSource = cfg, src
	return a, nil
}

// Build makes the services over an open database and keyring. With no
// data directory to put them under, attachment contents go to a private
// temporary directory (tests build apps this way).
func Build(d *db.DB, keys *keyring.Keyring, log *slog.Logger) *App {
	a, err := build(d, keys, log, Config{})
	if err != nil {
		panic(err) // the default configuration is valid; this is a bug
	}
	return a
}

// AttachmentDir is where attachment contents are stored.
func (c Config) AttachmentDir() string {
	if c.DataDir == "" {
		return ""
	}
	return filepath.Join(c.DataDir, "attachments")
}

func build(d *db.DB, keys *keyring.Keyring, log *slog.Logger, cfg Config) (*App, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Log: log, DB: d, Keys: keys}
	a.Workspaces = workspace.New(workspace.Opts{DB: d, Keys: keys})
	a.Mail = mail.NewOutbox(d, keys)
	a.Customers = customer.New(customer.Opts{DB: d, Keys: keys})
	var err error
	var places geoip.Locator
	if cfg.GeoIPPath != "" {
		if a.Places, err = geoip.Open(cfg.GeoIPPath); err != nil {
			return nil, err
		}
		places = a.Places
	}
	a.Audit = audit.New(d, keys, audit.Options{Logger: log})
	events := &securityEvents{log: identity.LogEvents{Log: log}, audit: a.Audit, warn: log}
	a.Identity, err = identity.New(identity.Opts{DB: d, Keys: keys, Mail: a.Mail, Customers: a.Customers, PublicURL: cfg.PublicURL,
		Places: places, Events: events, Log: log})
	if err != nil {
		return nil, err
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = identity.DefaultPublicURL
	}
	a.Monitor, err = monitor.New(monitor.Options{DB: d, Keys: keys, Mail: a.Mail, Places: places, Accounts: accounts{a.Identity},
		Responder: responder{a.Identity}, DescribeDevice: identity.DescribeDevice, Log: log, AllowPrivateWebhooks: cfg.WebhooksToPrivate,
		SessionsURL: publicURL + "/account/sessions", DashboardURL: publicURL + "/admin/security"})
	if err != nil {
		return nil, err
	}
	events.watch = observe(a.Monitor)
	a.Departments = department.New(department.Opts{DB: d, Audit: a.Audit})
	notifier, err := notify.New(notify.Opts{Keys: keys, Outbox: a.Mail, PublicURL: publicURL})
	if err != nil {
		return nil, err
	}
	a.Tickets = ticket.New(ticket.Opts{DB: d, Keys: keys, Customers: a.Customers, Audit: a.Audit, Notifier: notifier})
	dir := cfg.AttachmentDir()
	if dir == "" {
		// A name no one can predict, created (0700) only by a first
		// upload, so apps that never store a file leave nothing behind.
		dir = filepath.Join(os.TempDir(), "hesar-attachments-"+rand.Text())
	}
	a.Attachments = attachment.New(attachment.Opts{DB: d, Keys: keys, Tickets: a.Tickets, Blobs: attachment.LocalBlobs{Dir: dir},
		Audit: a.Audit})
	a.Privacy = privacy.New(privacy.Opts{DB: d, Keys: keys, Customers: a.Customers, Tickets: a.Tickets, Attachments: a.Attachments, Identity: a.Identity})
	a.API = api.New(api.Opts{Logger: log, Identity: a.Identity, Departments: a.Departments, Customers: a.Customers,
		Tickets: a.Tickets, Attachments: a.Attachments, Privacy: a.Privacy, Audit: a.Audit, Monitor: a.Monitor, Ready: a.Ready, Version: Version})
	return a, nil
}

// Handler is the whole HTTP surface, without serve's rate limits (tests).
func (a *App) Handler() http.Handler { return a.HTTPHandler(api.Hardening{}) }

// HTTPHandler is the whole HTTP surface with serve's hardening: the API
// under /api/ and the health checks, the web console and portal at every
// other path.
func (a *App) HTTPHandler(h api.Hardening) http.Handler {
	apiServer := a.API.WithHardening(h)
	apiHandler := apiServer.Handler()
	clientIP := func(r *http.Request) string {
		if ip := h.ClientIP.Of(r); ip.IsValid() {
			return ip.String()
		}
		return ""
	}
	web, err := web.New(web.Opts{Log: a.Log, Identity: a.Identity, Tickets: a.Tickets, Customers: a.Customers, Attachments: a.Attachments,
		Departments: a.Departments, TLS: h.TLS || strings.HasPrefix(a.Config.PublicURL, "https://"), ClientIP: clientIP,
		RecordRead: apiServer.RecordRead, Monitor: a.Monitor, Audit: a.Audit, Submits: submit.New(a.DB)})
	if err != nil {
		panic(err) // templates are embedded: a failure here is a bug caught by any test
	}
	webHandler := apiServer.Wrap(web.Handler())
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/readyz", apiHandler)
	mux.Handle("/", webHandler)
	return mux
}

// Ready reports whether this instance can serve: the database answers and
// its schema is current.
func (a *App) Ready(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable")
	}
	st, err := a.DB.Status(ctx)
	if err != nil {
		return fmt.Errorf("cannot read schema version")
	}
	if st.Current != st.Latest {
		return fmt.Errorf("schema at version %d, this build needs %d", st.Current, st.Latest)
	}
	for _, check := range a.readiness {
		if err := check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the database and the GeoIP file.
func (a *App) Close() error {
	_ = a.Places.Close()
	return a.DB.Close()
}
