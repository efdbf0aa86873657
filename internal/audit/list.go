package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Filter narrows List and Export. Zero fields match everything.
type Filter struct {
	ActorKind string
	ActorID   int64
	// ActorIDs, when not nil, keeps only records by these staff users (a
	// supervisor's departments); an empty list keeps none.
	ActorIDs   []int64
	Action     string // exact, or a prefix ending in "." ("ticket.")
	TargetKind string
	TargetID   int64
	Since      time.Time // at or after
	Until      time.Time // before
	Before     int64     // cursor: only records with a smaller seq (List is newest first)
	Limit      int       // List only: default 50, at most 1000
}

// where returns the filter's SQL conditions, numbering placeholders after
// the n arguments already taken.
func (f Filter) where(n int) (string, []any) {
	var b strings.Builder
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		fmt.Fprintf(&b, " AND "+cond, n+len(args))
	}
	if f.ActorKind != "" {
		add("actor_kind = $%d", f.ActorKind)
	}
	if f.ActorID != 0 {
		add("actor_id = $%d", f.ActorID)
	}
	if f.ActorIDs != nil {
		if len(f.ActorIDs) == 0 {
			b.WriteString(" AND 1 = 0")
		} else {
			b.WriteString(" AND actor_kind = 'user' AND actor_id IN (")
			for i, id := range f.ActorIDs {
				if i > 0 {
					b.WriteString(", ")
				}
				args = append(args, id)
				fmt.Fprintf(&b, "$%d", n+len(args))
			}
			b.WriteString(")")
		}
	}
	if strings.HasSuffix(f.Action, ".") {
		// substr is the same on both databases; LIKE is not (case, escapes).
		args = append(args, f.Action)
		fmt.Fprintf(&b, " AND substr(action, 1, %d) = $%d", len(f.Action), n+len(args))
	} else if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.TargetKind != "" {
		add("target_kind = $%d", f.TargetKind)
	}
	if f.TargetID != 0 {
		add("target_id = $%d", f.TargetID)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until.UnixMicro())
	}
	return b.String(), args
}

// List returns the workspace's sealed records matching f, newest first,
// with their IP addresses and user agents decrypted. Pass the last Seq as
// f.Before for the next page. Records appear once sealed (about a second).
func (l *Log) List(ctx context.Context, workspaceID int64, f Filter) ([]Record, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	extra, args := f.where(1)
	args = append([]any{workspaceID}, args...)
	if f.Before > 0 {
		args = append(args, f.Before)
		extra += fmt.Sprintf(" AND seq < $%d", len(args))
	}
	rows, err := l.db.Read().QueryContext(ctx, `SELECT `+columns+` FROM audit_log WHERE workspace_id = $1 AND seq IS NOT NULL`+extra+
		fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		if err := l.open(ctx, r); err != nil {
			return nil, err
		}
		out = append(out, r.Record)
	}
	return out, rows.Err()
}

// each calls fn for every sealed record matching f from seq after+1 on,
// oldest first, a page at a time (never the whole log in memory).
func (l *Log) each(ctx context.Context, workspaceID, after int64, f Filter, fn func(Record) error) (last int64, err error) {
	extra, args := f.where(2)
	it := &chainIter{ctx: ctx, q: l.db.Read(), ws: workspaceID, after: after, extra: extra, args: args}
	if f.Before > 0 {
		it.until = f.Before - 1
	}
	last = after
	for r := it.next(); r != nil; r = it.next() {
		if err := l.open(ctx, r); err != nil {
			return last, err
		}
		if err := fn(r.Record); err != nil {
			return last, err
		}
		last = r.Seq
	}
	return last, it.err
}

// Export writes the workspace's sealed records matching f to w, oldest
// first, as "jsonl" (one JSON object a line) or "csv" (with a header row;
// cells that a spreadsheet would run as a formula are prefixed with ').
func (l *Log) Export(ctx context.Context, workspaceID int64, f Filter, format string, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(Record) error
	var cw *csv.Writer
	switch format {
	case "jsonl", "":
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		write = func(r Record) error { return enc.Encode(r) }
	case "csv":
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		write = func(r Record) error {
			cw.Write(csvRow(r)) //nolint:errcheck // cw.Error below
			return cw.Error()
		}
	default:
		return fmt.Errorf("unknown export format %q: use jsonl or csv", format)
	}
	if _, err := l.each(ctx, workspaceID, 0, f, write); err != nil {
		return err
	}
	if cw != nil {
		if cw.Flush(); cw.Error() != nil {
			return cw.Error()
		}
	}
	return bw.Flush()
}

// csvHeader names Export's CSV columns.
var csvHeader = []string{"id", "seq", "at", "actor_kind", "actor_id", "token_id", "session_id", "action",
	"target_kind", "target_id", "result", "ip", "user_agent", "request_id", "details", "hash"}

func csvRow(r Record) []string {
	details := ""
	if len(r.Details) > 0 {
		b, _ := json.Marshal(r.Details)
		details = string(b)
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	cells := []string{i(r.ID), i(r.Seq), r.At.UTC().Format(time.RFC3339Nano), r.ActorKind, i(r.ActorID), i(r.TokenID), i(r.SessionID), r.Action,
		r.TargetKind, i(r.TargetID), r.Result, r.IP, r.UserAgent, r.RequestID, details, hex.EncodeToString(r.Hash)}
	for k, c := range cells {
		cells[k] = csvSafe(c)
	}
	return cells
}

// csvSafe defuses a cell a spreadsheet would read as a formula (CSV
// injection): a user agent of "=HYPERLINK(…)" stays text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// jsonRecord is a record's JSON form, in exports and when shipped.
type jsonRecord struct {
	ID          int64             `json:"id"`
	Seq         int64             `json:"seq"`
	WorkspaceID int64             `json:"workspace_id"`
	At          time.Time         `json:"at"`
	ActorKind   string            `json:"actor_kind"`
	ActorID     int64             `json:"actor_id,omitempty"`
	TokenID     int64             `json:"token_id,omitempty"`
	SessionID   int64             `json:"session_id,omitempty"`
	Action      string            `json:"action"`
	TargetKind  string            `json:"target_kind,omitempty"`
	TargetID    int64             `json:"target_id,omitempty"`
	Result      string            `json:"result"`
	IP          string            `json:"ip,omitempty"`
	UserAgent   string            `json:"user_agent,omitempty"`
	RequestID   string            `json:"request_id,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Hash        string            `json:"hash"`
}

// MarshalJSON writes the record with snake_case names and a hex hash.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonRecord{
		ID: r.ID, Seq: r.Seq, WorkspaceID: r.WorkspaceID, At: r.At.UTC(), ActorKind: r.ActorKind, ActorID: r.ActorID,
		TokenID: r.TokenID, SessionID: r.SessionID, Action: r.Action, TargetKind: r.TargetKind, TargetID: r.TargetID,
		Result: r.Result, IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, Details: r.Details, Hash: hex.EncodeToString(r.Hash),
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	hash, err := hex.DecodeString(j.Hash)
	if err != nil {
		return fmt.Errorf("audit record hash: %w", err)
	}
	*r = Record{
		Entry: Entry{WorkspaceID: j.WorkspaceID, ActorKind: j.ActorKind, ActorID: j.ActorID, TokenID: j.TokenID, SessionID: j.SessionID,
			Action: j.Action, TargetKind: j.TargetKind, TargetID: j.TargetID, Result: j.Result, IP: j.IP, UserAgent: j.UserAgent,
			RequestID: j.RequestID, Details: j.Details, At: j.At},
		ID: j.ID, Seq: j.Seq, Hash: hash,
	}
	return nil
}
