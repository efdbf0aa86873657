package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

var (
	mastersMu sync.Mutex
	masters   = map[string][]byte{} // the master key of each shared database
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, keyring.MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// sharedKeyring opens a keyring on the package's database of the kind, with
// the master key that database was first opened with.
func sharedKeyring(t *testing.T, kind string) (*db.DB, *keyring.Keyring) {
	t.Helper()
	d := testutil.DB(t, kind)
	mastersMu.Lock()
	master, ok := masters[kind]
	if !ok {
		master = randomKey(t)
		masters[kind] = master
	}
	mastersMu.Unlock()
	k, err := keyring.Open(ctx, d, master)
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	return d, k
}

// newWorkspace creates a workspace with its keys and returns its id.
func newWorkspace(t *testing.T, d *db.DB, k *keyring.Keyring) int64 {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := hex.EncodeToString(suffix)
	ws, err := workspace.New(workspace.Opts{DB: d, Keys: k}).Create(ctx, "ws-"+tag, "Workspace "+tag)
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return ws.ID
}

// eachKind runs fn on every database kind with a fresh workspace.
func eachKind(t *testing.T, fn func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64)) {
	t.Helper()
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			d, k := sharedKeyring(t, kind)
			fn(t, d, k, newWorkspace(t, d, k))
		})
	}
}

func seal(t *testing.T, k *keyring.Keyring, f keyring.Field, plain string) []byte {
	t.Helper()
	ct, err := k.Seal(ctx, f, plain)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return ct
}

// mustNotOpen checks that ct does not open as f: an error wrapping
// ErrDecrypt and no plaintext.
func mustNotOpen(t *testing.T, k *keyring.Keyring, f keyring.Field, ct []byte, what string) {
	t.Helper()
	got, err := k.Open(ctx, f, ct)
	if !errors.Is(err, keyring.ErrDecrypt) {
		t.Errorf("%s: Open returned err = %v, want ErrDecrypt", what, err)
	}
	if got != "" {
		t.Errorf("%s: Open returned plaintext %q alongside its error", what, got)
	}
}

func TestSealedValuesOpenToTheSamePlaintext(t *testing.T) {
	plaintexts := map[string]string{
		"empty":      "",
		"ascii":      "customer@example.com",
		"persian":    "سلام، می‌خواهم سفارشم را لغو کنم ۱۲۳",
		"binary":     string([]byte{0, 0xff, 0xfe, '\n', 0}),
		"long":       strings.Repeat("پیام طولانی ", 10_000),
		"restricted": "4111 1111 1111 1111",
	}
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		for name, plain := range plaintexts {
			f := keyring.Field{Workspace: ws, Table: "messages", Column: "body", Row: 42, Restricted: name == "restricted"}
			ct := seal(t, k, f, plain)
			if len(plain) >= 8 && bytes.Contains(ct, []byte(plain)) {
				t.Errorf("%s: ciphertext contains the plaintext", name)
			}
			got, err := k.Open(ctx, f, ct)
			if err != nil {
				t.Errorf("%s: open: %v", name, err)
			} else if got != plain {
				t.Errorf("%s: opened %q, want %q", name, got, plain)
			}
		}
	})
}

func TestSealingTheSameValueTwiceGivesDifferentCiphertext(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		f := keyring.Field{Workspace: ws, Table: "customers", Column: "email", Row: 7}
		seen := map[string]bool{}
		for range 100 {
			ct := string(seal(t, k, f, "same@example.com"))
			if seen[ct] {
				t.Fatal("sealing the same value produced the same ciphertext twice: equal values would be visible in the database")
			}
			seen[ct] = true
		}
	})
}

func TestTamperedCiphertextIsRejected(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		f := keyring.Field{Workspace: ws, Table: "tickets", Column: "subject", Row: 9}
		ct := seal(t, k, f, "refund for order 1234")
		for i := range ct {
			for _, mask := range []byte{0x01, 0x80} {
				bad := bytes.Clone(ct)
				bad[i] ^= mask
				mustNotOpen(t, k, f, bad, "byte "+strconv.Itoa(i)+" flipped")
			}
		}
		mustNotOpen(t, k, f, append(bytes.Clone(ct), 0), "byte appended")
	})
}

func TestTruncatedCiphertextIsRejected(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		f := keyring.Field{Workspace: ws, Table: "tickets", Column: "subject", Row: 9}
		ct := seal(t, k, f, "")
		for n := range len(ct) {
			mustNotOpen(t, k, f, ct[:n], "first "+strconv.Itoa(n)+" bytes")
		}
		mustNotOpen(t, k, f, nil, "nil")
	})
}

func TestUnknownFormatOrKeyVersionIsRejected(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		f := keyring.Field{Workspace: ws, Table: "tickets", Column: "subject", Row: 9}
		ct := seal(t, k, f, "hello")
		if ct[0] != 0x01 {
			t.Fatalf("format byte = %#x, want 0x01", ct[0])
		}
		if v := binary.BigEndian.Uint32(ct[1:5]); v != 1 {
			t.Fatalf("key version of a new workspace's value = %d, want 1", v)
		}
		for _, format := range []byte{0x00, 0x02, 0xff} {
			bad := bytes.Clone(ct)
			bad[0] = format
			mustNotOpen(t, k, f, bad, "format byte "+strconv.Itoa(int(format)))
		}
		for _, version := range []uint32{0, 2, 99, 1 << 31} {
			bad := bytes.Clone(ct)
			binary.BigEndian.PutUint32(bad[1:5], version)
			mustNotOpen(t, k, f, bad, "key version "+strconv.FormatUint(uint64(version), 10))
		}
	})
}

func TestValueMovedElsewhereDoesNotOpen(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		other := newWorkspace(t, d, k)
		f := keyring.Field{Workspace: ws, Table: "customers", Column: "email", Row: 1001}
		ct := seal(t, k, f, "ali@example.com")
		moved := map[string]func(keyring.Field) keyring.Field{
			"another row":        func(f keyring.Field) keyring.Field { f.Row = 1002; return f },
			"another column":     func(f keyring.Field) keyring.Field { f.Column = "name"; return f },
			"another table":      func(f keyring.Field) keyring.Field { f.Table = "users"; return f },
			"another workspace":  func(f keyring.Field) keyring.Field { f.Workspace = other; return f },
			"the restricted key": func(f keyring.Field) keyring.Field { f.Restricted = true; return f },
			// The separators in the AAD keep "customers"+"email" apart
			// from "customerse"+"mail".
			"a shifted boundary": func(f keyring.Field) keyring.Field { f.Table, f.Column = "customerse", "mail"; return f },
		}
		for what, move := range moved {
			mustNotOpen(t, k, move(f), ct, "moved to "+what)
		}
		if got, err := k.Open(ctx, f, ct); err != nil || got != "ali@example.com" {
			t.Errorf("value in its own place: %q, %v", got, err)
		}
	})
}

func TestWrongMasterKeyIsRefused(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			d := testutil.FreshDB(t, kind)
			right := randomKey(t)
			k, err := keyring.Open(ctx, d, right)
			if err != nil {
				t.Fatal(err)
			}
			newWorkspace(t, d, k)
			if _, err := keyring.Open(ctx, d, randomKey(t)); !errors.Is(err, keyring.ErrWrongMasterKey) {
				t.Errorf("open with another master key: err = %v, want ErrWrongMasterKey", err)
			}
			if _, err := keyring.Open(ctx, d, right); err != nil {
				t.Errorf("reopen with the right master key: %v", err)
			}
			if _, err := keyring.Open(ctx, d, right[:16]); err == nil {
				t.Error("a 16-byte master key was accepted")
			}
		})
	}
}

func TestValuesAndIndexesSurviveARestart(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		f := keyring.Field{Workspace: ws, Table: "users", Column: "email", Row: 5}
		ct := seal(t, k, f, "agent@example.com")
		idx, err := k.BlindIndex(ctx, ws, "user.email", "agent@example.com")
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := k.SearchTokens(ctx, ws, []string{"refund"})
		if err != nil {
			t.Fatal(err)
		}

		_, restarted := sharedKeyring(t, d.Dialect().String())
		if got, err := restarted.Open(ctx, f, ct); err != nil || got != "agent@example.com" {
			t.Errorf("open after restart: %q, %v", got, err)
		}
		idx2, err := restarted.BlindIndex(ctx, ws, "user.email", "agent@example.com")
		if err != nil || !bytes.Equal(idx, idx2) {
			t.Errorf("blind index changed across a restart (%v): logins would stop matching", err)
		}
		tokens2, err := restarted.SearchTokens(ctx, ws, []string{"refund"})
		if err != nil || tokens2[0] != tokens[0] {
			t.Errorf("search token changed across a restart (%v): search would miss old tickets", err)
		}
		if !bytes.Equal(k.TokenHash("hsr_secret"), restarted.TokenHash("hsr_secret")) {
			t.Error("API token hash changed across a restart: every token would stop working")
		}
	})
}

func TestBlindIndexIsStablePerWorkspaceAndDomain(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		other := newWorkspace(t, d, k)
		index := func(ws int64, domain, value string) string {
			t.Helper()
			b, err := k.BlindIndex(ctx, ws, domain, value)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 16 {
				t.Fatalf("blind index is %d bytes, want at least 16", len(b))
			}
			return string(b)
		}
		base := index(ws, "user.email", "ali@example.com")
		if again := index(ws, "user.email", "ali@example.com"); again != base {
			t.Error("the same value gave two blind indexes: equality lookups would fail")
		}
		differs := map[string]string{
			"another workspace": index(other, "user.email", "ali@example.com"),
			"another domain":    index(ws, "customer.email", "ali@example.com"),
			"another value":     index(ws, "user.email", "ali@example.org"),
			"shifted boundary":  index(ws, "user.emaila", "li@example.com"),
		}
		for what, got := range differs {
			if got == base {
				t.Errorf("%s gave the same blind index", what)
			}
		}
		if strings.Contains(base, "ali") {
			t.Error("blind index contains the plaintext")
		}
	})
}

func TestSearchTokensAreStableAndKeyedPerWorkspace(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		other := newWorkspace(t, d, k)
		words := []string{"refund", "سفارش", "1234", "refund"}
		first, err := k.SearchTokens(ctx, ws, words)
		if err != nil {
			t.Fatal(err)
		}
		again, err := k.SearchTokens(ctx, ws, words)
		if err != nil {
			t.Fatal(err)
		}
		elsewhere, err := k.SearchTokens(ctx, other, words)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != len(words) {
			t.Fatalf("%d tokens for %d words", len(first), len(words))
		}
		for i := range words {
			if first[i] != again[i] {
				t.Errorf("word %q: tokens %d and %d on two calls", words[i], first[i], again[i])
			}
			if first[i] == elsewhere[i] {
				t.Errorf("word %q has the same token in two workspaces", words[i])
			}
		}
		if first[0] != first[3] {
			t.Error("the same word in one call gave two tokens")
		}
		if first[0] == first[1] || first[1] == first[2] || first[0] == first[2] {
			t.Errorf("different words share a token: %v", first)
		}
		none, err := k.SearchTokens(ctx, ws, nil)
		if err != nil || len(none) != 0 {
			t.Errorf("tokens of no words = %v, %v", none, err)
		}
	})
}

func TestTokenHashSeparatesSecretsAndInstances(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		a, b := k.TokenHash("hsr_aaaaaaaa"), k.TokenHash("hsr_aaaaaaab")
		if bytes.Equal(a, b) {
			t.Error("two secrets share a token hash")
		}
		if !bytes.Equal(a, k.TokenHash("hsr_aaaaaaaa")) {
			t.Error("the same secret gave two token hashes")
		}
		if len(a) < 16 {
			t.Errorf("token hash is %d bytes, want at least 16", len(a))
		}
		if bytes.Contains(a, []byte("hsr_")) {
			t.Error("token hash contains the secret")
		}
		fresh := testutil.FreshDB(t, d.Dialect().String())
		elsewhere, err := keyring.Open(ctx, fresh, randomKey(t))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, elsewhere.TokenHash("hsr_aaaaaaaa")) {
			t.Error("two instances hash a token the same way: a leaked hash would be usable elsewhere")
		}
	})
}
