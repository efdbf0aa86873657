package keyring_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/keyring"
)

func writeKeyFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
		t.Fatal(err)
	}
}

func TestMissingMasterKeyFileIsCreatedPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not", "yet", "master.key")
	key, src, err := keyring.LoadMaster(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != keyring.MasterKeySize {
		t.Errorf("key is %d bytes, want %d", len(key), keyring.MasterKeySize)
	}
	if !src.Created || src.Path != path {
		t.Errorf("source = %+v, want created at %s", src, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("new key file has mode %v, want 0600", perm)
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil || dir.Mode().Perm()&0o077 != 0 {
		t.Errorf("key directory is open to others (%v, %v)", dir.Mode().Perm(), err)
	}

	again, src, err := keyring.LoadMaster(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, key) {
		t.Error("reading the key file back gave another key: every encrypted value would be lost")
	}
	if src.Created {
		t.Error("second load claims it created the key")
	}
	if bytes.Equal(key, make([]byte, keyring.MasterKeySize)) {
		t.Error("generated master key is all zeros")
	}
}

func TestMasterKeyReadableByOthersIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			writeKeyFile(t, path, keyring.NewMasterKey(), mode)
			key, _, err := keyring.LoadMaster(path, "")
			if err == nil {
				t.Fatal("a key file readable by others was accepted")
			}
			if !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("error %q does not tell the operator to chmod 600", err)
			}
			if key != nil {
				t.Error("a key was returned alongside the error")
			}
		})
	}
}

func TestOwnerOnlyMasterKeyIsAccepted(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o400} {
		path := filepath.Join(t.TempDir(), "master.key")
		writeKeyFile(t, path, keyring.NewMasterKey(), mode)
		if _, _, err := keyring.LoadMaster(path, ""); err != nil {
			t.Errorf("mode %v: %v", mode, err)
		}
	}
}

func TestMalformedMasterKeyIsRefused(t *testing.T) {
	cases := map[string]string{
		"not base64":      "this is not base64!!!\n",
		"too short":       base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"too long":        base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"empty":           "",
		"url-safe base64": strings.Repeat("-_", 22) + "\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			writeKeyFile(t, path, content, 0o600)
			if key, _, err := keyring.LoadMaster(path, ""); err == nil {
				t.Errorf("file accepted, key %x", key)
			}
			if key, _, err := keyring.LoadMaster(filepath.Join(t.TempDir(), "unused.key"), content); content != "" && err == nil {
				t.Errorf("environment value accepted, key %x", key)
			}
		})
	}
}

func TestMasterKeyFromEnvironmentWinsOverFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	writeKeyFile(t, path, keyring.NewMasterKey(), 0o600)
	fromFile, _, err := keyring.LoadMaster(path, "")
	if err != nil {
		t.Fatal(err)
	}
	env := keyring.NewMasterKey()
	key, src, err := keyring.LoadMaster(path, env)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(env))
	if !bytes.Equal(key, want) || bytes.Equal(key, fromFile) {
		t.Error("the environment's key was not the one used")
	}
	if src.Path != "" || src.Created {
		t.Errorf("source = %+v, want the environment", src)
	}

	absent := filepath.Join(dir, "absent.key")
	if _, _, err := keyring.LoadMaster(absent, env); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Error("a key file was created although the environment supplied the key")
	}
}

func TestNewMasterKeysAreDistinct(t *testing.T) {
	a, b := keyring.NewMasterKey(), keyring.NewMasterKey()
	if a == b {
		t.Error("two generated master keys are equal")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a))
	if err != nil || len(raw) != keyring.MasterKeySize {
		t.Errorf("NewMasterKey = %q: decodes to %d bytes (%v), want %d", a, len(raw), err, keyring.MasterKeySize)
	}
}
