// Package keyring owns every key Hesar uses and the only code that encrypts,
// decrypts or hashes with them.
//
// A 32-byte master key lives outside the database (a file or the
// environment). Each workspace has versioned data keys, stored wrapped by the
// master key; purpose keys are derived from them with HKDF. Field ciphertext
// carries a format byte and the data-key version, and its AAD binds the value
// to its workspace, table, column and row, so a value copied elsewhere fails
// to decrypt. Any failure to decrypt is an error: plaintext never passes
// through.
package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// MasterSource says where the master key came from, for the operator.
type MasterSource struct {
	Path    string // file path, or "" when from the environment
	Created bool   // true when this start generated it
}

// LoadMaster reads the master key from envValue (base64) when set, else from
// the file at path, creating the file with a fresh random key (mode 0600)
// when it does not exist.
func LoadMaster(path, envValue string) ([]byte, MasterSource, error) {
	if envValue != "" {
		key, err := decodeMaster(envValue)
		if err != nil {
			return nil, MasterSource{}, fmt.Errorf("HESAR_MASTER_KEY: %w", err)
		}
		return key, MasterSource{}, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := createMaster(path)
		return key, MasterSource{Path: path, Created: true}, err
	}
	if err != nil {
		return nil, MasterSource{}, fmt.Errorf("read master key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, MasterSource{}, fmt.Errorf("master key file %s is readable by other users (mode %v): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	key, err := decodeMaster(string(raw))
	if err != nil {
		return nil, MasterSource{}, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, MasterSource{Path: path}, nil
}

func decodeMaster(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("must decode to %d bytes, got %d", MasterKeySize, len(key))
	}
	return key, nil
}

// NewMasterKey returns a fresh random master key, base64-encoded as stored.
func NewMasterKey() string {
	key := make([]byte, MasterKeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	return base64.StdEncoding.EncodeToString(key) + "\n"
}

func createMaster(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create master key directory: %w", err)
	}
	encoded := NewMasterKey()
	// O_EXCL: never overwrite a key another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	if _, err := f.WriteString(encoded); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return decodeMaster(encoded)
}
