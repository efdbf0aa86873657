package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// FileSaltSize is the length of the random salt stored with each file.
const FileSaltSize = 16

// FileCipher returns the AEAD that seals the content of one stored file
// (an attachment), derived with HKDF from the workspace's data key of the
// given version (0: the active one) and the file's own salt and id, so every
// file has its own key. It also returns the version used, which the caller
// stores with the file.
func (k *Keyring) FileCipher(ctx context.Context, workspaceID, fileID int64, salt []byte, version uint32) (cipher.AEAD, uint32, error) {
	if len(salt) != FileSaltSize {
		return nil, 0, fmt.Errorf("file salt must be %d bytes", FileSaltSize)
	}
	wk, err := k.keys(ctx, workspaceID)
	if err != nil {
		return nil, 0, err
	}
	set := wk.sets[purposeData]
	if version == 0 {
		version = set.active
	}
	raw, ok := set.raw[version]
	if !ok {
		if wk, err = k.reload(ctx, workspaceID); err != nil {
			return nil, 0, err
		}
		if raw, ok = wk.sets[purposeData].raw[version]; !ok {
			return nil, 0, fmt.Errorf("%w: file %d: unknown key version %d", ErrDecrypt, fileID, version)
		}
	}
	key, err := hkdf.Key(sha256.New, raw, salt, fmt.Sprintf("hesar file v1/%d/%d", workspaceID, fileID), 32)
	if err != nil {
		return nil, 0, err
	}
	aead, err := newAEAD(key)
	return aead, version, err
}

// ActiveFileVersion returns the data key version new files are sealed
// under, read from the database rather than the cache: re-encrypting files
// must target the version a rotation has just made, even one made by
// another process.
func (k *Keyring) ActiveFileVersion(ctx context.Context, workspaceID int64) (uint32, error) {
	wk, err := k.reload(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	set := wk.sets[purposeData]
	if set == nil {
		return 0, fmt.Errorf("workspace %d has no data key", workspaceID)
	}
	return set.active, nil
}
