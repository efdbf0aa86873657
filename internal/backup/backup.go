// Package backup writes and reads Hesar's backup archives: a consistent
// snapshot of the database and the attachment files, taken while the
// service keeps running, in a portable form that restores into SQLite or
// PostgreSQL alike (so it is also the way from one to the other).
//
// An archive is an age-encrypted tar stream:
//
//	VERSION                     "hesar-backup 1", first, so a reader refuses a newer format at once
//	tables/<table>/<part>.jsonl one JSON object per row, tables in foreign-key order
//	blobs/<storage key>         attachment content, exactly as stored (already sealed)
//	master.key.age              only when asked for: the master key, scrypt-encrypted apart
//	manifest.json               last: versions, per-table rows and SHA-256, blob count and digest
//
// Table files are cut into parts of a few MiB so that no table is ever held
// in memory nor spooled to disk in plaintext, yet every tar entry knows its
// size up front. Every entry carries its own SHA-256 in a PAX record
// (HESAR.sha256) and the manifest binds them together: per-table hashes over
// the concatenated parts, and one digest over the ordered list of blobs, so
// a missing, reordered or altered entry is found even after extraction.
// age itself authenticates every 64 KiB chunk, so a damaged archive fails
// to decrypt before any hash is even compared.
package backup

import (
	"errors"
	"fmt"
)

// FormatVersion is the archive layout this build writes and the newest it
// reads.
const FormatVersion = 1

const (
	versionEntry  = "VERSION"
	versionText   = "hesar-backup 1\n"
	manifestEntry = "manifest.json"
	masterEntry   = "master.key.age"
	tablesDir     = "tables/"
	blobsDir      = "blobs/"
	paxSHA256     = "HESAR.sha256"
)

// Manifest describes an archive; it is its last entry.
type Manifest struct {
	Format        int    `json:"format"`
	HesarVersion  string `json:"hesar_version"`
	CreatedAt     int64  `json:"created_at"` // Unix microseconds, like every stored time
	SourceDialect string `json:"source_dialect"`
	SchemaVersion int    `json:"schema_version"`
	// Tables are in the order they are stored and restored: a table comes
	// after every table it references.
	Tables []TableManifest `json:"tables"`
	Blobs  BlobManifest    `json:"blobs"`
	// MasterKey is set only when the master key was asked to be included.
	MasterKey *FileManifest `json:"master_key,omitempty"`
}

// TableManifest describes one table's rows in the archive.
type TableManifest struct {
	Name       string   `json:"name"`
	Columns    []Column `json:"columns"`
	PrimaryKey []string `json:"primary_key"`
	Rows       int64    `json:"rows"`
	Parts      int      `json:"parts"`
	// SHA256 is over the table's parts concatenated: the table as one
	// JSON Lines file, rows ordered by primary key.
	SHA256 string `json:"sha256"`
}

// Column is one column and the kind of value it holds.
type Column struct {
	Name string `json:"name"`
	// Type is "int", "text" or "blob" (blobs are base64 in the rows).
	Type string `json:"type"`
}

// BlobManifest summarizes the attachment files.
type BlobManifest struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
	// Digest is SHA-256 over one line "<key> <size> <sha256>\n" per blob,
	// in archive order; each blob's own hash is in its tar header.
	Digest string `json:"digest"`
	// Missing lists storage keys whose rows are in the snapshot but whose
	// files were gone (erased after the snapshot began).
	Missing []string `json:"missing,omitempty"`
}

// FileManifest is one extra file's hash.
type FileManifest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// ErrCorrupt means the archive failed an integrity check: it is damaged,
// truncated or was tampered with. Nothing is restored from such an archive.
var ErrCorrupt = errors.New("archive is corrupt")

// ErrWrongKey means none of the given identities or passphrases opens the
// archive.
var ErrWrongKey = errors.New("wrong key or passphrase (or a damaged archive header): cannot decrypt the archive")

// ErrNotEmpty means a restore target already holds data.
var ErrNotEmpty = errors.New("target database is not empty")

// corrupt builds an ErrCorrupt that names what failed.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// table returns the manifest entry of name, or nil.
func (m *Manifest) table(name string) *TableManifest {
	for i := range m.Tables {
		if m.Tables[i].Name == name {
			return &m.Tables[i]
		}
	}
	return nil
}
