package audit

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// ShipOptions say what Ship sends and how.
type ShipOptions struct {
	WorkspaceID int64
	// FromSeq is the first seq to send (0 or 1: from the oldest kept). Ship
	// returns where to resume.
	FromSeq int64
	// Format is "jsonl" (one JSON object a line, the default) or "syslog"
	// (RFC 5424 messages, octet-counted as RFC 6587 says for TCP).
	Format string
	// Follow keeps sending new records as they are sealed until ctx ends.
	Follow bool
	// Poll is how often Follow looks for new records (default 1s).
	Poll time.Duration
	// Hostname and AppName go into syslog headers (default: the machine's
	// name, "hesar").
	Hostname, AppName string
	// Sent, when set, is told each seq once it is written, to persist a
	// resume point.
	Sent func(seq int64)
}

// syslogEnterprise is the private enterprise number in the structured data
// id. 32473 is the one RFC 5612 reserves for documentation: replace it if
// Hesar gets its own.
const syslogEnterprise = "32473"

// Ship writes the workspace's sealed records, from o.FromSeq on and in
// order, to w. It returns the seq to resume from (one past the last
// written), also when it fails or ctx ends.
func (l *Log) Ship(ctx context.Context, w io.Writer, o ShipOptions) (next int64, err error) {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.AppName == "" {
		o.AppName = "hesar"
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	var frame func(Record) ([]byte, error)
	switch o.Format {
	case "jsonl", "":
		frame = func(r Record) ([]byte, error) {
			b, err := json.Marshal(r)
			return append(b, '\n'), err
		}
	case "syslog":
		frame = func(r Record) ([]byte, error) { return syslogFrame(r, o.Hostname, o.AppName) }
	default:
		return o.FromSeq, fmt.Errorf("unknown ship format %q: use jsonl or syslog", o.Format)
	}
	after := max(o.FromSeq-1, 0)
	bw := bufio.NewWriterSize(w, 32<<10)
	for {
		last, err := l.each(ctx, o.WorkspaceID, after, Filter{}, func(r Record) error {
			b, err := frame(r)
			if err != nil {
				return err
			}
			if _, err := bw.Write(b); err != nil {
				return err
			}
			if bw.Buffered() > 16<<10 {
				if err := bw.Flush(); err != nil {
					return err
				}
				after = r.Seq // everything up to here is written
			}
			return nil
		})
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return after + 1, err
		}
		if o.Sent != nil && last > after {
			o.Sent(last)
		}
		after = last
		if !o.Follow {
			return after + 1, nil
		}
		select {
		case <-ctx.Done():
			return after + 1, ctx.Err()
		case <-time.After(o.Poll):
		}
	}
}

// ShipTo ships records as RFC 5424 syslog to a SIEM at target,
// "tcp://host:port" or "tls://host:port" (tlsConfig may be nil for the
// system's roots). When o.Follow is set it reconnects with backoff after
// any failure and resumes where it stopped, until ctx ends. TCP syslog has
// no acknowledgements: records in flight when a connection breaks may be
// lost, so a SIEM should also be fed a replay (--from-seq) after outages,
// and it can drop duplicates by seq.
func (l *Log) ShipTo(ctx context.Context, target string, tlsConfig *tls.Config, o ShipOptions) (next int64, err error) {
	o.Format = "syslog"
	backoff := time.Second
	for {
		conn, err := DialSyslog(ctx, target, tlsConfig)
		if err == nil {
			o.FromSeq, err = l.Ship(ctx, conn, o)
			conn.Close()
			if err == nil || ctx.Err() != nil {
				return o.FromSeq, err
			}
			backoff = time.Second
		}
		if !o.Follow {
			return o.FromSeq, err
		}
		l.log.Warn("audit: shipping to SIEM failed; retrying", "target", target, "from_seq", o.FromSeq, "err", err)
		select {
		case <-ctx.Done():
			return o.FromSeq, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// DialSyslog connects to a syslog receiver at "tcp://host:port" or
// "tls://host:port".
func DialSyslog(ctx context.Context, target string, tlsConfig *tls.Config) (net.Conn, error) {
	scheme, addr, ok := strings.Cut(target, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("syslog target %q: want tcp://host:port or tls://host:port", target)
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	switch scheme {
	case "tcp":
		return d.DialContext(ctx, "tcp", addr)
	case "tls":
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if tlsConfig != nil {
			cfg = tlsConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		return td.DialContext(ctx, "tcp", addr)
	}
	return nil, errors.New("syslog target must start with tcp:// or tls://")
}

// syslogFrame is one octet-counted RFC 5424 message: facility 13 (log
// audit), severity informational for "ok" and notice otherwise, the action
// as MSGID, the chain position as structured data, the record's JSON as MSG.
func syslogFrame(r Record, hostname, app string) ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	severity := 6
	if r.Result != ResultOK {
		severity = 5
	}
	msg := fmt.Sprintf(`<%d>1 %s %s %s - %s [hesar@%s workspace="%d" seq="%d" id="%d" result="%s"] %s`,
		13*8+severity, r.At.UTC().Format("2006-01-02T15:04:05.000000Z"), headerField(hostname, 255), headerField(app, 48),
		headerField(r.Action, 32), syslogEnterprise, r.WorkspaceID, r.Seq, r.ID, sdValue(r.Result), body)
	return fmt.Appendf(nil, "%d %s", len(msg), msg), nil
}

// headerField keeps a syslog header field to printable US-ASCII without
// spaces, at most n bytes, "-" when empty (RFC 5424 section 6).
func headerField(s string, n int) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// sdValue escapes a structured-data parameter value.
func sdValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(s)
}
