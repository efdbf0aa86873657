package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// Purposes of per-workspace keys.
const (
	purposeData       = "data"       // versioned, rotated; encrypts fields
	purposeRestricted = "restricted" // versioned, rotated; originals of masked values
	purposeIndex      = "index"      // stable; blind indexes and search tokens
)

// fieldPurposes are the versioned purposes that seal field values.
var fieldPurposes = []string{purposeData, purposeRestricted}

// Key states. New values are sealed under the active version; older
// versions stay readable until re-encryption has moved every value off
// them, then they are retired and their key material deleted.
const (
	stateActive  = "active"
	stateDecrypt = "decrypt-only"
	stateRetired = "retired"
)

// keyCacheTTL bounds how long an instance keeps sealing under a data key
// another instance has rotated away from.
const keyCacheTTL = 30 * time.Second

// ErrWrongMasterKey means the master key does not belong to this database.
var ErrWrongMasterKey = errors.New("the master key does not match this database: start Hesar with the key file it was created with (HESAR_MASTER_KEY_FILE); without it the encrypted data cannot be read")

// Keyring holds the master key and the unwrapped workspace keys in memory.
type Keyring struct {
	db       *db.DB
	master   cipher.AEAD
	check    []byte // the master key's check value
	tokenKey []byte

	mu sync.RWMutex
	ws map[int64]*workspaceKeys
}

type workspaceKeys struct {
	sets     map[string]*keySet // by purpose: data, restricted
	blind    []byte
	search   []byte
	loadedAt time.Time
}

// keySet is the versions of one field purpose.
type keySet struct {
	active   uint32
	versions map[uint32]cipher.AEAD
	raw      map[uint32][]byte // for deriving per-file keys
}

// Open checks the master key against the database (recording its check
// value on first use) and returns a keyring ready to use.
func Open(ctx context.Context, d *db.DB, master []byte) (*Keyring, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes", MasterKeySize)
	}
	aead, err := newAEAD(derive(master, "hesar master wrap v1"))
	if err != nil {
		return nil, err
	}
	k := &Keyring{db: d, master: aead, check: masterCheck(master), ws: map[int64]*workspaceKeys{}}
	// Record the check value on first use; then compare what is stored
	// (another process may have recorded it first).
	if err := insertSetting(ctx, d, "master_key_check", masterCheck(master)); err != nil {
		return nil, fmt.Errorf("record master key check: %w", err)
	}
	stored, err := readSetting(ctx, d, "master_key_check")
	if err != nil {
		return nil, fmt.Errorf("read master key check: %w", err)
	}
	if subtle.ConstantTimeCompare(stored, masterCheck(master)) != 1 {
		return nil, ErrWrongMasterKey
	}
	// The API token hash key is random and stored wrapped, not derived from
	// the master key, so that rotating the master key keeps tokens valid.
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	if err := insertSetting(ctx, d, tokenKeySetting, k.wrapInstance(tokenKeySetting, raw)); err != nil {
		return nil, fmt.Errorf("record token key: %w", err)
	}
	wrapped, err := readSetting(ctx, d, tokenKeySetting)
	if err != nil {
		return nil, err
	}
	if k.tokenKey, err = k.unwrapInstance(tokenKeySetting, wrapped); err != nil {
		return nil, err
	}
	return k, nil
}

// tokenKeySetting names the wrapped API token hash key.
const tokenKeySetting = "api_token_key"

func insertSetting(ctx context.Context, d *db.DB, name string, value []byte) error {
	return d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO instance_settings (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, name, value, db.Now())
		return err
	})
}

func readSetting(ctx context.Context, d *db.DB, name string) ([]byte, error) {
	var v []byte
	err := d.Read().QueryRowContext(ctx, `SELECT value FROM instance_settings WHERE name = $1`, name).Scan(&v)
	return v, err
}

func (k *Keyring) wrapInstance(name string, raw []byte) []byte {
	nonce := make([]byte, k.master.NonceSize())
	_, _ = rand.Read(nonce)
	return k.master.Seal(nonce, nonce, raw, []byte("hesar/instance-key/"+name))
}

func (k *Keyring) unwrapInstance(name string, wrapped []byte) ([]byte, error) {
	n := k.master.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("instance key %s: too short", name)
	}
	raw, err := k.master.Open(nil, wrapped[:n], wrapped[n:], []byte("hesar/instance-key/"+name))
	if err != nil {
		return nil, fmt.Errorf("unwrap instance key %s: %w", name, ErrWrongMasterKey)
	}
	return raw, nil
}

// derive returns a 32-byte purpose key from secret via HKDF-SHA256.
func derive(secret []byte, info string) []byte {
	key, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce; 32 is always fine
	}
	return key
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func hmacSum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// CreateWorkspaceKeys generates and stores the first data key and the index
// key of a new workspace, inside the transaction that creates it.
func (k *Keyring) CreateWorkspaceKeys(ctx context.Context, tx *db.Tx, workspaceID int64) error {
	for _, purpose := range []string{purposeData, purposeRestricted, purposeIndex} {
		if err := k.insertKey(ctx, tx, workspaceID, purpose, 1); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keyring) insertKey(ctx context.Context, tx *db.Tx, workspaceID int64, purpose string, version uint32) error {
	// A process still running on a master key that another process has
	// rotated away from must not wrap new keys with it: they would be
	// unreadable after the restart with the new key.
	var stored []byte
	if err := tx.QueryRowContext(ctx, `SELECT value FROM instance_settings WHERE name = 'master_key_check'`).Scan(&stored); err != nil {
		return fmt.Errorf("read master key check: %w", err)
	}
	if subtle.ConstantTimeCompare(stored, k.check) != 1 {
		return fmt.Errorf("the master key was rotated by another process; restart Hesar with the new key (HESAR_MASTER_KEY_FILE): %w", ErrWrongMasterKey)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	wrapped := k.wrap(workspaceID, purpose, version, raw)
	_, err := tx.ExecContext(ctx,
		`INSERT INTO workspace_keys (workspace_id, purpose, version, wrapped, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		workspaceID, purpose, int64(version), wrapped, stateActive, db.Now())
	return err
}

func wrapAAD(workspaceID int64, purpose string, version uint32) []byte {
	return fmt.Appendf(nil, "hesar/workspace-key/%d/%s/%d", workspaceID, purpose, version)
}

func (k *Keyring) wrap(workspaceID int64, purpose string, version uint32, raw []byte) []byte {
	nonce := make([]byte, k.master.NonceSize())
	_, _ = rand.Read(nonce)
	return k.master.Seal(nonce, nonce, raw, wrapAAD(workspaceID, purpose, version))
}

func (k *Keyring) unwrap(workspaceID int64, purpose string, version uint32, wrapped []byte) ([]byte, error) {
	n := k.master.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("wrapped key too short")
	}
	raw, err := k.master.Open(nil, wrapped[:n], wrapped[n:], wrapAAD(workspaceID, purpose, version))
	if err != nil {
		return nil, fmt.Errorf("unwrap %s key v%d of workspace %d: %w", purpose, version, workspaceID, ErrWrongMasterKey)
	}
	return raw, nil
}

// keys returns the workspace's unwrapped keys, loading them on first use.
func (k *Keyring) keys(ctx context.Context, workspaceID int64) (*workspaceKeys, error) {
	k.mu.RLock()
	wk := k.ws[workspaceID]
	k.mu.RUnlock()
	if wk != nil && time.Since(wk.loadedAt) < keyCacheTTL {
		return wk, nil
	}
	return k.reload(ctx, workspaceID)
}

// reload reads the workspace's keys from the database, replacing the cache;
// used on first use and when a value names a key version not yet seen
// (another instance rotated).
func (k *Keyring) reload(ctx context.Context, workspaceID int64) (*workspaceKeys, error) {
	rows, err := k.db.Read().QueryContext(ctx,
		`SELECT purpose, version, wrapped, state FROM workspace_keys WHERE workspace_id = $1 ORDER BY version`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("load workspace keys: %w", err)
	}
	defer rows.Close()
	wk := &workspaceKeys{sets: map[string]*keySet{}, loadedAt: time.Now()}
	for rows.Next() {
		var purpose, state string
		var version int64
		var wrapped []byte
		if err := rows.Scan(&purpose, &version, &wrapped, &state); err != nil {
			return nil, err
		}
		if state == stateRetired {
			continue // key material is gone on purpose
		}
		raw, err := k.unwrap(workspaceID, purpose, uint32(version), wrapped)
		if err != nil {
			return nil, err
		}
		if purpose == purposeIndex {
			wk.blind = derive(raw, "hesar blind index v1")
			wk.search = derive(raw, "hesar search token v1")
			continue
		}
		aead, err := newAEAD(derive(raw, "hesar field v1"))
		if err != nil {
			return nil, err
		}
		set := wk.sets[purpose]
		if set == nil {
			set = &keySet{versions: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
			wk.sets[purpose] = set
		}
		set.versions[uint32(version)] = aead
		set.raw[uint32(version)] = raw
		if state == stateActive && uint32(version) > set.active {
			set.active = uint32(version)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if wk.sets[purposeData] == nil || wk.sets[purposeData].active == 0 || wk.blind == nil {
		return nil, fmt.Errorf("workspace %d has no keys", workspaceID)
	}
	k.mu.Lock()
	k.ws[workspaceID] = wk
	k.mu.Unlock()
	return wk, nil
}
