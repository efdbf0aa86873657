package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
)

// auditCommands are the subcommands of "hesar audit".
var auditCommands = []command{
	{"verify", "check each workspace's audit chain and report the first broken record", auditVerify},
	{"export", "write a workspace's audit records as JSON lines or CSV", auditExport},
	{"ship", "stream audit records as JSON to stdout or as syslog to a SIEM", auditShip},
	{"prune", "delete records older than the retention, from a signed checkpoint", auditPrune},
}

// auditCmd dispatches "hesar audit <subcommand>".
func auditCmd(ctx context.Context, io Stdio, args []string) error {
	if len(args) > 0 {
		for _, c := range auditCommands {
			if args[0] == c.name {
				return c.run(ctx, io, args[1:])
			}
		}
	}
	fmt.Fprintf(io.Err, "The tamper-evident audit log (docs/AUDIT.md).\n\nUsage: hesar audit <command> [flags]\n\nCommands:\n")
	for _, c := range auditCommands {
		fmt.Fprintf(io.Err, "  %-8s %s\n", c.name, c.summary)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		return flag.ErrHelp
	}
	return errUsage
}

func openAudit(ctx context.Context, io Stdio, st *storageFlags) (*app.App, *audit.Log, error) {
	a, err := st.open(ctx, io)
	if err != nil {
		return nil, nil, err
	}
	return a, audit.New(a.DB, a.Keys, audit.Options{Logger: a.Log}), nil
}

func auditVerify(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "audit verify", "audit verify [--workspace SLUG]", `Check a workspace's whole audit log: every record's MAC, the hash chain
from its start (or from the checkpoint a prune left) to the signed head,
every checkpoint's signature, and that no record waits too long to be
chained. Records still waiting are chained first, as a running server
would. Exits with status 1 and the first broken record when any is found.`)
	var st storageFlags
	st.register(fs)
	slug := fs.String("workspace", "", "only this workspace (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, l, err := openAudit(ctx, io, &st)
	if err != nil {
		return err
	}
	defer a.Close()
	wss, err := workspacesFor(ctx, a, *slug)
	if err != nil {
		return err
	}
	if _, err := l.SealPending(ctx); err != nil {
		return err
	}
	var broken []string
	for _, w := range wss {
		rep, err := l.Verify(ctx, w.ID, func(n int64) { fmt.Fprintf(io.Err, "\r%s: %d records checked", w.Slug, n) })
		fmt.Fprintln(io.Err)
		if err != nil {
			return fmt.Errorf("verify %s: %w", w.Slug, err)
		}
		if !rep.OK {
			fmt.Fprintf(io.Out, "%s: BROKEN: %s\n", w.Slug, rep.Problem)
			broken = append(broken, w.Slug)
			continue
		}
		fmt.Fprintf(io.Out, "%s: OK: %d records, seq %d to %d, %d signed checkpoints\n", w.Slug, rep.Checked, rep.FirstSeq, rep.LastSeq, rep.Checkpoints)
	}
	if len(broken) > 0 {
		return fmt.Errorf("the audit log of %s is broken", strings.Join(broken, ", "))
	}
	return nil
}

// filterFlags are the record filters export shares.
type filterFlags struct {
	since, until, action, actor, target string
}

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.since, "since", "", "only records at or after: RFC 3339 time, date (2006-01-02) or age (72h)")
	fs.StringVar(&f.until, "until", "", "only records before: RFC 3339 time, date or age")
	fs.StringVar(&f.action, "action", "", `only this action, or a prefix ending in "." (ticket.)`)
	fs.StringVar(&f.actor, "actor", "", "only this actor: KIND or KIND:ID (user:42)")
	fs.StringVar(&f.target, "target", "", "only this target: KIND or KIND:ID (ticket:7)")
}

func (f *filterFlags) filter(now time.Time) (audit.Filter, error) {
	out := audit.Filter{Action: f.action}
	var err error
	if out.Since, err = parseWhen(f.since, now); err != nil {
		return out, fmt.Errorf("--since: %w", err)
	}
	if out.Until, err = parseWhen(f.until, now); err != nil {
		return out, fmt.Errorf("--until: %w", err)
	}
	if out.ActorKind, out.ActorID, err = kindID(f.actor); err != nil {
		return out, fmt.Errorf("--actor: %w", err)
	}
	if out.TargetKind, out.TargetID, err = kindID(f.target); err != nil {
		return out, fmt.Errorf("--target: %w", err)
	}
	return out, nil
}

func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2006-01-02T15:04:05Z), a date or an age (72h)", s)
}

func kindID(s string) (string, int64, error) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok {
		return kind, 0, nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("%q: want KIND:ID with a numeric id", s)
	}
	return kind, n, nil
}

// workspaceFlags are what the subcommands that work on one workspace's
// log share: the storage flags and a required --workspace.
type workspaceFlags struct {
	st   storageFlags
	slug string
}

func (w *workspaceFlags) register(fs *flag.FlagSet) {
	w.st.register(fs)
	fs.StringVar(&w.slug, "workspace", "", "workspace slug (required)")
}

// parse parses args and refuses a missing --workspace as a usage error.
func (w *workspaceFlags) parse(io Stdio, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if w.slug == "" {
		fmt.Fprintln(io.Err, "--workspace is required")
		fs.Usage()
		return errUsage
	}
	return nil
}

// withLog opens the app and its audit log, finds the workspace and runs
// fn on them; the app is closed when fn returns.
func (w *workspaceFlags) withLog(ctx context.Context, io Stdio, fn func(l *audit.Log, ws int64) error) error {
	a, l, err := openAudit(ctx, io, &w.st)
	if err != nil {
		return err
	}
	defer a.Close()
	ws, err := a.Workspaces.BySlug(ctx, w.slug)
	if err != nil {
		return fmt.Errorf("no workspace with slug %q (see 'hesar workspace list')", w.slug)
	}
	return fn(l, ws.ID)
}

func auditExport(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "audit export", "audit export --workspace SLUG [--format jsonl|csv] [--since …] [--until …] [--action …] [--actor …] [--target …]",
		`Write a workspace's chained audit records to standard output, oldest
first, with IP addresses and user agents decrypted: they are personal data,
so keep the file as you would the database. CSV cells that a spreadsheet
would run as a formula are prefixed with '.`)
	var wf workspaceFlags
	wf.register(fs)
	var ff filterFlags
	ff.register(fs)
	format := fs.String("format", "jsonl", "jsonl or csv")
	if err := wf.parse(io, fs, args); err != nil {
		return err
	}
	if *format != "jsonl" && *format != "csv" {
		fmt.Fprintf(io.Err, "--format must be jsonl or csv\n")
		return errUsage
	}
	f, err := ff.filter(time.Now())
	if err != nil {
		fmt.Fprintln(io.Err, err)
		return errUsage
	}
	return wf.withLog(ctx, io, func(l *audit.Log, ws int64) error {
		return l.Export(ctx, ws, f, *format, io.Out)
	})
}

func auditShip(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "audit ship", "audit ship --workspace SLUG --to stdout|tcp://HOST:PORT|tls://HOST:PORT [--from-seq N] [--once]",
		`Stream a workspace's chained audit records, oldest first, and keep
following new ones until interrupted: as JSON lines to standard output, or
as RFC 5424 syslog (octet-counted, RFC 6587) over TCP or TLS to a SIEM,
reconnecting after failures. Each message carries its seq; on stop the next
seq to send is printed on stderr, for --from-seq. TCP syslog has no
acknowledgements: after an outage, replay from an earlier seq and let the
SIEM drop duplicates by seq.`)
	var wf workspaceFlags
	wf.register(fs)
	to := fs.String("to", "stdout", "stdout, tcp://host:port or tls://host:port")
	from := fs.Int64("from-seq", 1, "first seq to send")
	once := fs.Bool("once", false, "stop after the records chained so far")
	caFile := fs.String("ca-file", "", "PEM certificates to trust for tls:// (default: the system's)")
	if err := wf.parse(io, fs, args); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", *caFile)
		}
		tlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return wf.withLog(ctx, io, func(l *audit.Log, ws int64) error {
		o := audit.ShipOptions{WorkspaceID: ws, FromSeq: *from, Follow: !*once}
		var next int64
		var err error
		if *to == "stdout" {
			next, err = l.Ship(ctx, io.Out, o)
		} else {
			next, err = l.ShipTo(ctx, *to, tlsConfig, o)
		}
		fmt.Fprintf(io.Err, "next seq to send: %d (resume with --from-seq %d)\n", next, next)
		if errors.Is(err, context.Canceled) {
			return nil // interrupted: the normal way to stop following
		}
		return err
	})
}

func auditPrune(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "audit prune", "audit prune --workspace SLUG [--older-than 8760h]",
		`Delete a workspace's oldest audit records: every record up to the newest
signed checkpoint taken before the cutoff, so the rest still verifies from
that checkpoint. A running server does this daily for the retention (365
days by default).`)
	var wf workspaceFlags
	wf.register(fs)
	age := fs.Duration("older-than", 365*24*time.Hour, "age of the oldest record to keep")
	if err := wf.parse(io, fs, args); err != nil {
		return err
	}
	return wf.withLog(ctx, io, func(l *audit.Log, ws int64) error {
		n, err := l.Prune(ctx, ws, time.Now().Add(-*age))
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Out, "%s: pruned %d audit records\n", wf.slug, n)
		return nil
	})
}
