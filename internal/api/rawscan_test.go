package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

// TestNoPlaintextReachesTheDatabase writes values carrying unique markers
// through the API, then reads the raw storage (the SQLite file with its WAL,
// every PostgreSQL table as text, and a pg_dump) and fails if any marker is
// there. Names, emails, phones, subjects and bodies must all be ciphertext.
func TestNoPlaintextReachesTheDatabase(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, path := testutil.NewDatabase(t, kind)
			dataDir := t.TempDir()
			if path != "" {
				dataDir = filepath.Dir(path)
			}
			ctx := context.Background()
			a, err := app.Open(ctx, app.Config{DataDir: dataDir, DatabaseURL: url}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := testutil.NewFixture(t, a)
			srv := testutil.Server(t, a)
			c := client{t, srv.URL, f.Tokens["admin"]}

			markers := map[string]string{
				"customer name":  "Zarathustra Qumquat",
				"customer email": "qumquat.marker@example.org",
				"customer phone": "+98 912 555 019977",
				"subject":        "Xylophage refund",
				"body":           "my passport number is K77441199",
				"persian body":   "نشانی منزل خیابان ولیعصر پلاک ۹۹۱",
				"note":           "internal note about Vexillology",
				"user name":      "Agent Quillfeather",
				"user email":     "quillfeather@staff.example",
				"organization":   "Blorptech Holdings",
			}
			c.must(201, "POST", "/api/v1/organizations", map[string]any{"name": markers["organization"]}, nil)
			c.must(201, "POST", "/api/v1/users", map[string]any{"email": markers["user email"], "name": markers["user name"], "role": "agent"}, nil)
			var tk ticketJSON
			c.must(201, "POST", "/api/v1/tickets", map[string]any{
				"subject": markers["subject"], "body": markers["body"],
				"customer": map[string]any{"email": markers["customer email"], "name": markers["customer name"], "phone": markers["customer phone"]},
			}, &tk)
			c.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": markers["persian body"]}, nil)
			c.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"kind": "note", "body": markers["note"]}, nil)

			// Read back through the API: the markers are really there.
			var got ticketJSON
			c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil, &got)
			if got.Subject != markers["subject"] {
				t.Fatalf("subject did not round trip")
			}

			var dumps [][]byte
			if kind == "sqlite" {
				a.Close() // checkpoint nothing on purpose: the WAL is scanned too
				entries, _ := os.ReadDir(dataDir)
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(dataDir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					dumps = append(dumps, b)
				}
				if len(dumps) < 2 {
					t.Fatalf("expected the database and its WAL in %s", dataDir)
				}
			} else {
				dumps = append(dumps, pgTablesAsText(t, url))
				if pgDump, err := exec.LookPath("pg_dump"); err == nil {
					out, err := exec.Command(pgDump, "--data-only", url).Output()
					if err != nil {
						t.Fatalf("pg_dump: %v", err)
					}
					dumps = append(dumps, out)
				} else if os.Getenv("CI") == "true" {
					t.Fatal("pg_dump not installed")
				}
				a.Close()
			}
			for what, marker := range markers {
				variants := []string{marker, strings.ToLower(marker)}
				// The last word alone too, when long enough not to occur
				// by chance in random bytes.
				if last := strings.Fields(marker)[len(strings.Fields(marker))-1]; len(last) >= 6 {
					variants = append(variants, last)
				}
				for _, variant := range variants {
					for _, d := range dumps {
						if bytes.Contains(d, []byte(variant)) {
							t.Errorf("%s %q found in plaintext in the raw database", what, variant)
						}
					}
				}
			}
		})
	}
}

// pgTablesAsText renders every row of every table as JSON text.
func pgTablesAsText(t *testing.T, url string) []byte {
	t.Helper()
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var buf bytes.Buffer
	for _, table := range tables {
		r, err := conn.Query(`SELECT row_to_json(x)::text FROM ` + table + ` x`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var line string
			if err := r.Scan(&line); err != nil {
				t.Fatal(err)
			}
			buf.WriteString(line)
			buf.WriteByte('\n')
		}
		r.Close()
	}
	if buf.Len() == 0 {
		t.Fatal("no rows read from PostgreSQL")
	}
	return buf.Bytes()
}
