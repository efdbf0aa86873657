package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/server"
)

// processStart is when this process began, for the start-to-ready log.
var processStart = time.Now()

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level must be debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text")
}

// serveFlags are serve's own flags, beyond storage.
type serveFlags struct {
	addr, logLevel, logFormat                        string
	tlsCert, tlsKey, acmeDomains, acmeEmail, acmeDir string
	redirectAddr, metricsAddr                        string
	rateIP, rateToken, trustedProxies                string
	publicURL, geoIP                                 string
	redirectGiven, metricsGiven                      bool
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", envOr("HESAR_ADDR", "127.0.0.1:8080"), "listen address (env HESAR_ADDR)")
	fs.StringVar(&f.logLevel, "log-level", envOr("HESAR_LOG_LEVEL", "info"), "debug, info, warn or error (env HESAR_LOG_LEVEL)")
	fs.StringVar(&f.logFormat, "log-format", envOr("HESAR_LOG_FORMAT", "json"), "json or text (env HESAR_LOG_FORMAT)")
	fs.StringVar(&f.tlsCert, "tls-cert", os.Getenv("HESAR_TLS_CERT"), "TLS certificate chain file, PEM (env HESAR_TLS_CERT); with --tls-key serves HTTPS")
	fs.StringVar(&f.tlsKey, "tls-key", os.Getenv("HESAR_TLS_KEY"), "TLS private key file, PEM (env HESAR_TLS_KEY)")
	fs.StringVar(&f.acmeDomains, "acme-domains", os.Getenv("HESAR_ACME_DOMAINS"), "get certificates automatically with ACME (Let's Encrypt) for these comma-separated host names (env HESAR_ACME_DOMAINS)")
	fs.StringVar(&f.acmeEmail, "acme-email", os.Getenv("HESAR_ACME_EMAIL"), "contact address for the ACME account (env HESAR_ACME_EMAIL)")
	fs.StringVar(&f.acmeDir, "acme-directory", os.Getenv("HESAR_ACME_DIRECTORY"), "ACME directory URL (env HESAR_ACME_DIRECTORY); empty: Let's Encrypt production")
	fs.StringVar(&f.redirectAddr, "http-redirect-addr", os.Getenv("HESAR_HTTP_REDIRECT_ADDR"), "plain-HTTP listener that redirects to HTTPS and answers ACME challenges (env HESAR_HTTP_REDIRECT_ADDR); default :80 when TLS is on; off disables")
	fs.StringVar(&f.metricsAddr, "metrics-addr", envOr("HESAR_METRICS_ADDR", "127.0.0.1:9090"), "Prometheus /metrics listen address, never the public one (env HESAR_METRICS_ADDR); empty or off disables")
	fs.StringVar(&f.rateIP, "rate-ip", envOr("HESAR_RATE_IP", "50:100"), "requests per second[:burst] per client address for anonymous and failed-auth traffic (env HESAR_RATE_IP); 0 disables")
	fs.StringVar(&f.rateToken, "rate-token", envOr("HESAR_RATE_TOKEN", "100:200"), "requests per second[:burst] per API token (env HESAR_RATE_TOKEN); 0 disables")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", os.Getenv("HESAR_TRUSTED_PROXIES"), "comma-separated CIDRs of proxies whose X-Forwarded-For is believed (env HESAR_TRUSTED_PROXIES)")
	fs.StringVar(&f.geoIP, "geoip-db", os.Getenv("HESAR_GEOIP_DB"), "MaxMind-format city database (GeoLite2-City.mmdb) for the approximate place of sign-ins (env HESAR_GEOIP_DB); empty: places unknown")
	fs.StringVar(&f.publicURL, "public-url", os.Getenv("HESAR_PUBLIC_URL"), "where people reach Hesar, e.g. https://desk.example.com: the base of emailed links and the passkey origin (env HESAR_PUBLIC_URL); default from --addr, with localhost for a loopback address")
}

// publicURL is --public-url, or a guess from the listen address: passkeys
// need a host name, so a loopback address becomes localhost.
func (f *serveFlags) publicURLFor(tlsOn bool, acmeDomains string) string {
	if f.publicURL != "" {
		return f.publicURL
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	if d, _, _ := strings.Cut(acmeDomains, ","); strings.TrimSpace(d) != "" {
		return "https://" + strings.TrimSpace(d)
	}
	host, port, err := net.SplitHostPort(f.addr)
	if err != nil {
		return identity.DefaultPublicURL
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		host = "localhost"
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// seen notes which listener addresses the user chose, since a default
// that cannot be bound is only a warning while a chosen one is an error.
func (f *serveFlags) seen(fs *flag.FlagSet) {
	f.redirectGiven = os.Getenv("HESAR_HTTP_REDIRECT_ADDR") != ""
	f.metricsGiven = os.Getenv("HESAR_METRICS_ADDR") != ""
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "http-redirect-addr":
			f.redirectGiven = true
		case "metrics-addr":
			f.metricsGiven = true
		}
	})
}

// serveConfig is serve's flags checked and turned into what they mean.
type serveConfig struct {
	tls          server.TLSOptions
	hardening    api.Hardening
	redirectAddr string // "" : none
	metricsAddr  string // "" : none
}

func (f *serveFlags) config(dataDir string) (serveConfig, error) {
	var c serveConfig
	domains, err := server.ParseDomains(f.acmeDomains)
	if err != nil {
		return c, fmt.Errorf("--acme-domains: %w", err)
	}
	c.tls = server.TLSOptions{CertFile: f.tlsCert, KeyFile: f.tlsKey, ACMEDomains: domains, ACMEEmail: f.acmeEmail,
		ACMECacheDir: filepath.Join(dataDir, "acme"), ACMEDirectoryURL: f.acmeDir}
	ipRate, err := server.ParseRate(f.rateIP)
	if err != nil {
		return c, fmt.Errorf("--rate-ip: %w", err)
	}
	tokenRate, err := server.ParseRate(f.rateToken)
	if err != nil {
		return c, fmt.Errorf("--rate-token: %w", err)
	}
	trusted, err := server.ParseTrustedProxies(f.trustedProxies)
	if err != nil {
		return c, fmt.Errorf("--trusted-proxies: %w", err)
	}
	c.hardening = api.Hardening{IPLimit: server.NewLimiter(ipRate), TokenLimit: server.NewLimiter(tokenRate),
		ClientIP: server.NewClientIP(trusted), TLS: c.tls.Enabled()}
	switch {
	case f.redirectAddr == "off":
	case f.redirectAddr != "" && !c.tls.Enabled():
		return c, fmt.Errorf("--http-redirect-addr needs TLS: give --tls-cert/--tls-key or --acme-domains")
	case f.redirectAddr != "":
		c.redirectAddr = f.redirectAddr
	case c.tls.Enabled():
		c.redirectAddr = ":80"
	}
	if f.metricsAddr != "off" {
		c.metricsAddr = f.metricsAddr
	}
	return c, nil
}

func serve(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "serve", "serve [flags]", `Run Hesar: the REST API under /api/v1, /healthz and /readyz.
On first start it creates the data directory, the SQLite database and the
master key, and tells you how to create the first workspace and admin.`)
	var st storageFlags
	st.register(fs)
	var f serveFlags
	f.register(fs)
	var bf backupFlags
	bf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	f.seen(fs)
	log, err := newLogger(io.Err, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	cfg, err := f.config(st.config().DataDir)
	if err != nil {
		return err
	}
	tlsConfig, acmeManager, err := cfg.tls.Build()
	if err != nil {
		return err
	}
	smtp, err := mail.SMTPConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	appCfg := st.config()
	appCfg.PublicURL = f.publicURLFor(cfg.tls.Enabled(), f.acmeDomains)
	appCfg.GeoIPPath = f.geoIP
	// Behind a TLS-terminating proxy the browser still speaks HTTPS: its
	// session cookie must be Secure and __Host- prefixed.
	cfg.hardening.TLS = cfg.hardening.TLS || strings.HasPrefix(appCfg.PublicURL, "https://")
	a, err := app.Open(ctx, appCfg, log, io.Err)
	if err != nil {
		return err
	}
	defer a.Close()
	defer a.Identity.WaitBackground()
	warnNewKey(io.Err, a)
	if cfg.metricsAddr != "" {
		cfg.hardening.Metrics = server.NewMetrics()
		read, write := a.DB.Pools()
		cfg.hardening.Metrics.WatchDB("read", read)
		if write != read {
			cfg.hardening.Metrics.WatchDB("write", write)
		}
	}
	ls, err := listeners(a, cfg, &f, tlsConfig, acmeManager, log)
	if err != nil {
		return err
	}
	announce(io.Err, a, cfg, ls, log, st)
	go keepStatisticsFresh(ctx, a, log)
	go mail.NewDeliverer(a.DB, a.Keys, smtp, log).Run(ctx)
	go sweepSignInLeftovers(ctx, a, log)
	go a.Audit.Run(ctx)
	go a.Monitor.Run(ctx)
	if err := bf.start(ctx, a, log); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { log.Info("shutting down: finishing in-flight requests") })
	defer stop()
	err = server.Run(ctx, shutdownGrace, ls...)
	// Reads recorded in the last moments, and the chain, are written out
	// before the process ends.
	flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ferr := a.Audit.FlushReads(flushCtx); ferr != nil {
		log.Error("audit: read records not written at shutdown", "error", ferr.Error())
	} else if _, serr := a.Audit.SealPending(flushCtx); serr != nil {
		log.Error("audit: chaining at shutdown failed", "error", serr.Error())
	}
	return err
}

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 30 * time.Second

// listeners opens the public listener and, as configured, the HTTP
// redirect and the metrics listeners.
func listeners(a *app.App, cfg serveConfig, f *serveFlags, tlsConfig *tls.Config, m *autocert.Manager, log *slog.Logger) ([]server.Listener, error) {
	var ls []server.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Listener.Close()
		}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another Hesar running? choose another with --addr)", f.addr, err)
	}
	srv := server.New(a.HTTPHandler(cfg.hardening), server.DefaultTimeouts, log)
	srv.TLSConfig = tlsConfig
	ls = append(ls, server.Listener{Name: "api", Server: srv, Listener: ln, TLS: tlsConfig != nil})
	if cfg.redirectAddr != "" {
		_, httpsPort, _ := net.SplitHostPort(ln.Addr().String())
		var h http.Handler = server.Redirect(httpsPort)
		if m != nil {
			h = m.HTTPHandler(h)
		}
		rl, err := net.Listen("tcp", cfg.redirectAddr)
		switch {
		case err != nil && f.redirectGiven:
			closeAll()
			return nil, fmt.Errorf("listen on %s for the HTTP redirect: %w (choose another with --http-redirect-addr, or off)", cfg.redirectAddr, err)
		case err != nil:
			log.Warn("no HTTP-to-HTTPS redirect: cannot listen on the default address; set --http-redirect-addr, or off",
				"addr", cfg.redirectAddr, "error", err.Error())
		default:
			ls = append(ls, server.Listener{Name: "redirect", Server: server.New(h, server.DefaultTimeouts, log), Listener: rl})
		}
	}
	if cfg.metricsAddr != "" {
		ml, err := net.Listen("tcp", cfg.metricsAddr)
		switch {
		case err != nil && f.metricsGiven:
			closeAll()
			return nil, fmt.Errorf("listen on %s for metrics: %w (choose another with --metrics-addr, or off)", cfg.metricsAddr, err)
		case err != nil:
			log.Warn("no metrics: cannot listen on the default address; set --metrics-addr, or off",
				"addr", cfg.metricsAddr, "error", err.Error())
		default:
			ls = append(ls, server.Listener{Name: "metrics", Server: server.New(cfg.hardening.Metrics.Handler(), server.DefaultTimeouts, log), Listener: ml})
		}
	}
	return ls, nil
}

// announce logs readiness and tells the person at the terminal where
// everything listens.
func announce(w io.Writer, a *app.App, cfg serveConfig, ls []server.Listener, log *slog.Logger, st storageFlags) {
	storage := "sqlite:" + a.Config.SQLitePath()
	if a.Config.DatabaseURL != "" {
		storage = "postgres"
	}
	scheme := "http"
	if cfg.tls.Enabled() {
		scheme = "https"
	}
	addr := ls[0].Listener.Addr().String()
	log.Info("ready", "addr", addr, "tls", cfg.tls.Enabled(), "storage", storage, "version", app.Version,
		"rate_ip", cfg.hardening.IPLimit.Rate().String(), "rate_token", cfg.hardening.TokenLimit.Rate().String(),
		"start_to_ready_ms", float64(time.Since(processStart).Microseconds())/1000)
	fmt.Fprintf(w, "Hesar %s is listening on %s://%s (storage: %s)\n", app.Version, scheme, addr, storage)
	fmt.Fprintf(w, "agent console: %s/console/  customer portal: %s/portal/\n", a.Config.PublicURL, a.Config.PublicURL)
	fmt.Fprintf(w, "emailed links and passkeys use %s (change with --public-url)\n", a.Config.PublicURL)
	for _, l := range ls[1:] {
		switch l.Name {
		case "redirect":
			fmt.Fprintf(w, "redirecting http://%s to HTTPS\n", l.Listener.Addr())
		case "metrics":
			fmt.Fprintf(w, "metrics on http://%s/metrics\n", l.Listener.Addr())
		}
	}
	if ws, err := a.Workspaces.List(context.Background()); err == nil && len(ws) == 0 {
		// The public URL, not the listen address: passkeys and the
		// cookies of emailed links belong to its host (localhost for a
		// loopback address, never 127.0.0.1).
		printFirstSteps(w, a.Config.PublicURL, storageArgs(st))
	}
}

// keepStatisticsFresh refreshes planner statistics soon after start and
// then hourly, so query plans follow the data as it grows.
func keepStatisticsFresh(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
			log.Warn("refreshing query statistics failed", "error", err.Error())
		}
		t.Reset(time.Hour)
	}
}

// sweepSignInLeftovers deletes expired sign-in state every quarter hour.
func sweepSignInLeftovers(ctx context.Context, a *app.App, log *slog.Logger) {
	t := time.NewTicker(15 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.Identity.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweeping expired sign-in state failed", "error", err.Error())
		}
	}
}

// selfName is how the user started this binary, for copy-paste hints.
func selfName() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/hesar"
	}
	return "hesar"
}

// storageArgs repeats the storage flags a user gave serve, so the hints
// they copy talk to the same database.
func storageArgs(st storageFlags) string {
	var b strings.Builder
	if st.data != "./data" && os.Getenv("HESAR_DATA_DIR") == "" {
		fmt.Fprintf(&b, " --data %q", st.data)
	}
	if st.databaseURL != "" && os.Getenv("HESAR_DATABASE_URL") == "" {
		b.WriteString(" --database-url \"$HESAR_DATABASE_URL\"")
	}
	if st.masterKeyFile != "" && os.Getenv("HESAR_MASTER_KEY_FILE") == "" {
		fmt.Fprintf(&b, " --master-key-file %q", st.masterKeyFile)
	}
	return b.String()
}

// printFirstSteps tells a new operator how to begin. storage holds the
// storage flags serve was given; each command takes them after its name
// (the flags belong to the subcommand).
func printFirstSteps(w io.Writer, base, storage string) {
	fmt.Fprintf(w, `
No workspace exists yet. In another terminal, create one and its first admin:

  %[1]s workspace create%[3]s --slug acme --name "Acme Inc"
  %[1]s user create%[3]s --workspace acme --email you@example.com --name "Your Name" --role admin
      (type the password, at least 12 characters, and press Enter)

then sign in to the console at %[2]s/console/signin (an admin sets up a
second factor on first sign-in), or make an API token:

  %[1]s token create%[3]s --workspace acme --user you@example.com --name my-laptop
  curl -H "Authorization: Bearer <token>" %[2]s/api/v1/me

`, selfName(), base, storage)
}

func migrate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "migrate", "migrate [--status]", `Apply every pending database migration (serve does this at start too).`)
	var st storageFlags
	st.register(fs)
	status := fs.Bool("status", false, "only show the current and latest schema version")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := st.config()
	if *status {
		return migrationStatus(ctx, io, cfg)
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := a.DB.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "schema is at version %d (latest %d)\n", s.Current, s.Latest)
	return nil
}

func migrationStatus(ctx context.Context, io Stdio, cfg app.Config) error {
	d, err := openDBOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	s, err := d.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "current %d\nlatest  %d\n", s.Current, s.Latest)
	if s.Current < s.Latest {
		fmt.Fprintf(io.Out, "%d migration(s) pending: run 'hesar migrate'\n", s.Latest-s.Current)
	}
	return nil
}
