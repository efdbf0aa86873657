package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hesar/hesar/internal/db"
)

// formatV1 is the first byte of every field ciphertext.
const formatV1 = 0x01

// headerLen is format byte + 4-byte key version.
const headerLen = 1 + 4

// ErrDecrypt is returned for any ciphertext that cannot be opened: unknown
// format or key version, truncated input, or a bad tag (tampered, or moved to
// another row or column).
var ErrDecrypt = errors.New("cannot decrypt value")

// Field names one encrypted column of one row; it becomes the AAD.
type Field struct {
	Workspace int64
	Table     string
	Column    string
	Row       int64
	// Restricted seals under the workspace's restricted key, kept for the
	// originals of masked values (card numbers and the like).
	Restricted bool
}

func (f Field) purpose() string {
	if f.Restricted {
		return purposeRestricted
	}
	return purposeData
}

func (f Field) aad() []byte {
	b := make([]byte, 0, 48)
	b = append(b, "hesar/field/v1\x00"...)
	b = append(b, f.purpose()...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(f.Workspace))
	b = append(b, f.Table...)
	b = append(b, 0)
	b = append(b, f.Column...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, uint64(f.Row))
}

// Seal encrypts plaintext for field f under the workspace's active data key.
func (k *Keyring) Seal(ctx context.Context, f Field, plaintext string) ([]byte, error) {
	set, err := k.sealSet(ctx, f)
	if err != nil {
		return nil, err
	}
	aead := set.versions[set.active]
	out := make([]byte, headerLen+aead.NonceSize(), headerLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:headerLen], set.active)
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, []byte(plaintext), f.aad()), nil
}

// Open decrypts a value sealed for field f.
func (k *Keyring) Open(ctx context.Context, f Field, ciphertext []byte) (string, error) {
	if len(ciphertext) < headerLen || ciphertext[0] != formatV1 {
		return "", fmt.Errorf("%w: %s.%s: unknown format", ErrDecrypt, f.Table, f.Column)
	}
	version := binary.BigEndian.Uint32(ciphertext[1:headerLen])
	wk, err := k.keys(ctx, f.Workspace)
	if err != nil {
		return "", err
	}
	aead, ok := wk.aead(f.purpose(), version)
	if !ok {
		if wk, err = k.reload(ctx, f.Workspace); err != nil {
			return "", err
		}
		if aead, ok = wk.aead(f.purpose(), version); !ok {
			return "", fmt.Errorf("%w: %s.%s: unknown key version %d", ErrDecrypt, f.Table, f.Column, version)
		}
	}
	body := ciphertext[headerLen:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return "", fmt.Errorf("%w: %s.%s: truncated", ErrDecrypt, f.Table, f.Column)
	}
	plain, err := aead.Open(nil, body[:aead.NonceSize()], body[aead.NonceSize():], f.aad())
	if err != nil {
		return "", fmt.Errorf("%w: %s.%s: authentication failed", ErrDecrypt, f.Table, f.Column)
	}
	return string(plain), nil
}

func (wk *workspaceKeys) aead(purpose string, version uint32) (cipher.AEAD, bool) {
	set := wk.sets[purpose]
	if set == nil {
		return nil, false
	}
	a, ok := set.versions[version]
	return a, ok
}

// sealSet returns the key set new values of f are sealed with, creating the
// restricted key of a workspace made before it existed.
func (k *Keyring) sealSet(ctx context.Context, f Field) (*keySet, error) {
	wk, err := k.keys(ctx, f.Workspace)
	if err != nil {
		return nil, err
	}
	if set := wk.sets[f.purpose()]; set != nil && set.active != 0 {
		return set, nil
	}
	err = k.db.Write(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspace_keys WHERE workspace_id = $1 AND purpose = $2`, f.Workspace, f.purpose()).Scan(&n); err != nil || n > 0 {
			return err
		}
		return k.insertKey(ctx, tx, f.Workspace, f.purpose(), 1)
	})
	if err != nil {
		return nil, err
	}
	if wk, err = k.reload(ctx, f.Workspace); err != nil {
		return nil, err
	}
	if set := wk.sets[f.purpose()]; set != nil && set.active != 0 {
		return set, nil
	}
	return nil, fmt.Errorf("workspace %d has no active %s key", f.Workspace, f.purpose())
}

// BlindIndex returns a keyed hash of an already-normalized value, for
// equality lookups (login email, customer match) without storing plaintext.
// domain separates uses (for example "user.email" and "customer.email").
func (k *Keyring) BlindIndex(ctx context.Context, workspaceID int64, domain, normalized string) ([]byte, error) {
	wk, err := k.keys(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, wk.blind)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return m.Sum(nil)[:16], nil
}

// SearchTokens maps normalized words to 64-bit keyed hashes for the postings
// table.
func (k *Keyring) SearchTokens(ctx context.Context, workspaceID int64, words []string) ([]int64, error) {
	wk, err := k.keys(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(words))
	m := hmac.New(sha256.New, wk.search)
	for i, w := range words {
		m.Reset()
		m.Write([]byte(w))
		out[i] = int64(binary.BigEndian.Uint64(m.Sum(nil)))
	}
	return out, nil
}

// TokenHash returns the keyed hash under which an API token secret is
// stored and looked up. It is instance-wide: the workspace is not known
// until the token is found.
func (k *Keyring) TokenHash(secret string) []byte {
	return hmacSum(k.tokenKey, []byte(secret))
}
