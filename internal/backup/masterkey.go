package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/keyring"
)

// putMasterKey seals the master key for its own recipient (a passphrase
// apart from the archive's, so that whoever can read the archive still
// cannot read the data without it) and stores it as master.key.age.
func putMasterKey(aw *archiveWriter, key []byte, r age.Recipient) (*FileManifest, error) {
	var sealed bytes.Buffer
	w, err := age.Encrypt(&sealed, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(key); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.putBytes(masterEntry, sealed.Bytes()); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sealed.Bytes())
	return &FileManifest{Name: masterEntry, SHA256: hex.EncodeToString(sum[:])}, nil
}

// OpenMasterKey decrypts an archive's master.key.age with its passphrase.
func OpenMasterKey(sealed []byte, passphrase string) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, errors.New("this archive does not include the master key")
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), id)
	if err != nil {
		return nil, fmt.Errorf("open the archived master key: wrong master key passphrase (%v)", err)
	}
	key, err := io.ReadAll(io.LimitReader(r, keyring.MasterKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("open the archived master key: %w", err)
	}
	if len(key) != keyring.MasterKeySize {
		return nil, fmt.Errorf("the archived master key has %d bytes, want %d", len(key), keyring.MasterKeySize)
	}
	return key, nil
}
