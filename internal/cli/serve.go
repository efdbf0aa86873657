package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/app"
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

func serve(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "serve", "serve [flags]", `Run Hesar: the REST API under /api/v1, /healthz and /readyz.
On first start it creates the data directory, the SQLite database and the
master key, and tells you how to create the first workspace and admin.`)
	var st storageFlags
	st.register(fs)
	addr := fs.String("addr", envOr("HESAR_ADDR", "127.0.0.1:8080"), "listen address (env HESAR_ADDR)")
	logLevel := fs.String("log-level", envOr("HESAR_LOG_LEVEL", "info"), "debug, info, warn or error (env HESAR_LOG_LEVEL)")
	logFormat := fs.String("log-format", envOr("HESAR_LOG_FORMAT", "json"), "json or text (env HESAR_LOG_FORMAT)")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(io.Err, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, st.config(), log, io.Err)
	if err != nil {
		return err
	}
	defer a.Close()
	warnNewKey(io.Err, a)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another Hesar running? choose another with --addr)", *addr, err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	storage := "sqlite:" + a.Config.SQLitePath()
	if a.Config.DatabaseURL != "" {
		storage = "postgres"
	}
	log.Info("ready", "addr", ln.Addr().String(), "storage", storage, "version", app.Version,
		"start_to_ready_ms", float64(time.Since(processStart).Microseconds())/1000)
	fmt.Fprintf(io.Err, "Hesar %s is listening on http://%s (storage: %s)\n", app.Version, ln.Addr(), storage)
	if ws, err := a.Workspaces.List(ctx); err == nil && len(ws) == 0 {
		printFirstSteps(io.Err, ln.Addr().String(), storageArgs(st))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go keepStatisticsFresh(ctx, a, log)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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

func printFirstSteps(w io.Writer, addr, storage string) {
	h := selfName() + storage
	fmt.Fprintf(w, `
No workspace exists yet. In another terminal, create one and its first admin:

  %[1]s workspace create --slug acme --name "Acme Inc"
  %[1]s user create --workspace acme --email you@example.com --name "Your Name" --role admin
      (type the password, at least 12 characters, and press Enter)
  %[1]s token create --workspace acme --user you@example.com --name my-laptop

then call the API with the token:

  curl -H "Authorization: Bearer <token>" http://%[2]s/api/v1/me

`, h, addr)
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
