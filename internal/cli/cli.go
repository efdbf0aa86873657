// Package cli implements the hesar command line: one function per
// subcommand, each with its own flags and --help.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hesar/hesar/internal/app"
)

// Stdio are the streams a command talks to.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, io Stdio, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the help desk (HTTP API) until interrupted", serve},
		{"migrate", "apply pending database migrations, or show their status", migrate},
		{"workspace create", "create a workspace (a company) with its keys and a General department", workspaceCreate},
		{"workspace list", "list workspaces", workspaceList},
		{"user create", "add a staff user (password read from standard input)", userCreate},
		{"token create", "create an API token for a user or a customer", tokenCreate},
		{"keys status", "show encryption key versions and how many values each seals", keysStatus},
		{"keys rotate", "rotate a workspace's data keys and re-encrypt stored values", keysRotate},
		{"keys rotate-master", "re-wrap every workspace key under a new master key", keysRotateMaster},
		{"audit", "verify, export, ship or prune the tamper-evident audit log", auditCmd},
		{"backup create", "write an encrypted, consistent backup while Hesar runs", backupCreate},
		{"backup restore", "restore a backup into an empty SQLite or PostgreSQL database", backupRestore},
		{"backup verify", "check a backup's hashes and that it restores", backupVerify},
		{"bench", "measure throughput and latency of the API", bench},
		{"version", "print the version", version},
	}
}

// errUsage marks errors whose message is a usage hint already printed.
var errUsage = errors.New("usage")

// Main runs the command named by args and returns the process exit code.
func Main(ctx context.Context, args []string, io Stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Out)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			err := c.run(ctx, io, args[len(words):])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(io.Err, "hesar %s: %v\n", c.name, err)
			return 1
		}
	}
	// "hesar workspace" alone: show that group's commands.
	var group []command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, args[0]+" ") {
			group = append(group, c)
		}
	}
	if len(group) > 0 {
		fmt.Fprintf(io.Err, "hesar %s needs a subcommand:\n", args[0])
		for _, c := range group {
			fmt.Fprintf(io.Err, "  hesar %-18s %s\n", c.name, c.summary)
		}
		return 2
	}
	fmt.Fprintf(io.Err, "hesar: unknown command %q; run 'hesar --help' for the list\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Hesar: a help desk that keeps customers' data safe.

Usage: hesar <command> [flags]

Commands:
`)
	cs := commands()
	for _, c := range cs {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every command takes --help. Storage defaults to SQLite under ./data; set
--database-url or HESAR_DATABASE_URL (postgres://…) for PostgreSQL.
`)
}

// newFlags makes a command's flag set with a --help that prints summary,
// usage line and flags.
func newFlags(io Stdio, name, usageLine, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "%s\n\nUsage: hesar %s\n\nFlags:\n", summary, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning usage errors into errUsage (already printed).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

// storageFlags are the flags every command that opens the database shares.
type storageFlags struct {
	data, databaseURL, masterKeyFile string
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (s *storageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.data, "data", envOr("HESAR_DATA_DIR", "./data"), "data directory for SQLite and the master key (env HESAR_DATA_DIR)")
	fs.StringVar(&s.databaseURL, "database-url", os.Getenv("HESAR_DATABASE_URL"), "PostgreSQL URL, postgres://… (env HESAR_DATABASE_URL); empty: SQLite")
	fs.StringVar(&s.masterKeyFile, "master-key-file", os.Getenv("HESAR_MASTER_KEY_FILE"), "master key file (env HESAR_MASTER_KEY_FILE; default DATA/master.key; env HESAR_MASTER_KEY holds the key itself)")
}

func (s *storageFlags) config() app.Config {
	return app.Config{DataDir: s.data, DatabaseURL: s.databaseURL, MasterKeyFile: s.masterKeyFile, MasterKey: os.Getenv("HESAR_MASTER_KEY"),
		PublicURL: os.Getenv("HESAR_PUBLIC_URL"), GeoIPPath: os.Getenv("HESAR_GEOIP_DB"),
		WebhooksToPrivate: os.Getenv("HESAR_WEBHOOKS_TO_PRIVATE") == "true"}
}

// open opens the app for an administrative command, reporting migrations
// and a newly created master key on stderr.
func (s *storageFlags) open(ctx context.Context, io Stdio) (*app.App, error) {
	a, err := app.Open(ctx, s.config(), nil, io.Err)
	if err != nil {
		return nil, err
	}
	warnNewKey(io.Err, a)
	return a, nil
}

func warnNewKey(w io.Writer, a *app.App) {
	if a.MasterSource.Created {
		fmt.Fprintf(w, `
WARNING: generated a new master key at %s (mode 0600).
Keep a copy somewhere safe and apart from your backups: without it the data
cannot be decrypted; with it and a backup, anyone can read everything.

`, a.MasterSource.Path)
	}
}

func version(_ context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "version", "version", "Print the version of this build.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "hesar %s\n", app.Version)
	return nil
}
