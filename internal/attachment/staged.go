package attachment

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Several files with one message, all or nothing.
//
// Attach needs the message to exist first, so a message whose third file
// is refused would keep the message (already mailed to the customer) and
// its first two files. Staging turns that round: each file is streamed
// in, typed, checked against the policy and sealed into its blob as it
// arrives, but no row points at it yet, so nobody can see it. Only when
// every file has passed does the message's own write run, and Record puts
// the files' rows in that same transaction: the message and its files are
// committed together or not at all. Whatever fails, Commit (or Discard)
// removes the staged blobs. A crash in between leaves sealed blobs no row
// names, unreadable (their salt is only ever stored in a row) and swept
// like an interrupted re-encryption's.

// MaxFilesPerMessage is how many files one message may carry.
const MaxFilesPerMessage = 10

// MessageLimit is the most all the files of one message may hold
// together: four times the per-file limit (100 MiB by default), never
// more than the ceiling of one file nor less than one whole file.
func MessageLimit(p Policy) int64 {
	return max(p.MaxBytes, min(4*p.MaxBytes, CeilingMaxBytes))
}

// Staged is a file streamed in, checked and sealed, not yet recorded.
type Staged struct {
	ws, id      int64
	name        string
	nameEnc     []byte
	contentType string
	size        int64
	dangerous   bool
	version     uint32
	salt        []byte
	key         string
	aead        cipher.AEAD
	hdr         []byte
}

// Name is the file's sanitized name.
func (f *Staged) Name() string { return f.name }

// Size is the file's length in bytes.
func (f *Staged) Size() int64 { return f.size }

// StageError is a refused file, named. Err is the *TooLargeError or the
// *errs.Invalid on "file" that Attach would have returned.
type StageError struct {
	Name string
	Err  error
}

func (e *StageError) Error() string { return fmt.Sprintf("file %q: %v", e.Name, e.Err) }
func (e *StageError) Unwrap() error { return e.Err }

// Stage streams r into a sealed blob of workspace scope.WorkspaceID under
// pol, the workspace's policy (Policy), with the checks of Attach: too
// large, dangerous under a blocking policy or empty is a *StageError and
// nothing is kept. Which ticket and message the file joins, and whether
// the scope may write there, is decided by the write that records it.
func (s *Service) Stage(ctx context.Context, scope access.Scope, pol Policy, name string, r io.Reader) (*Staged, error) {
	if !scope.IsCustomer() && !scope.Can(access.TicketReply) && !scope.Can(access.TicketNote) {
		return nil, errs.ErrForbidden
	}
	ws := scope.WorkspaceID
	f := &Staged{ws: ws, name: SanitizeName(name)}
	refused := func(err error) error { return &StageError{Name: f.name, Err: err} }
	var err error
	if f.id, err = s.db.IDs().Next(ctx); err != nil {
		return nil, err
	}
	f.salt = make([]byte, keyring.FileSaltSize)
	if _, err := rand.Read(f.salt); err != nil {
		return nil, err
	}
	if f.aead, f.version, err = s.keys.FileCipher(ctx, ws, f.id, f.salt, 0); err != nil {
		return nil, err
	}
	f.hdr, f.key = fileHeader(f.version, f.id), StorageKey(ws, f.id)
	v, size, err := s.store(ctx, f.key, f.aead, f.hdr, f.name, pol, r)
	if err != nil {
		var tooLarge *TooLargeError
		var inv *errs.Invalid
		if errors.As(err, &tooLarge) || errors.As(err, &inv) {
			return nil, refused(err)
		}
		return nil, err
	}
	kept := false
	defer func() {
		if !kept {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), f.key)
		}
	}()
	if v.container == containerZip {
		if v, err = s.inspect(ctx, f.key, f.aead, f.hdr, size, f.name, v); err != nil {
			return nil, err
		}
	}
	switch {
	case v.Dangerous && pol.Dangerous == Block:
		return nil, refused(blocked(v))
	case size == 0:
		return nil, refused(errs.Field("file", "is empty"))
	}
	if f.nameEnc, err = s.keys.Seal(ctx, nameField(ws, f.id), f.name); err != nil {
		return nil, err
	}
	f.contentType, f.size, f.dangerous = v.ContentType, size, v.Dangerous
	kept = true
	return f, nil
}

// Discard removes staged files that will not be recorded.
func (s *Service) Discard(ctx context.Context, files []*Staged) {
	for _, f := range files {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), f.key)
	}
}

// Recorder returns what records files inside the write that creates their
// message (ticket.NewMessage.InWrite, ticket.NewTicket.InWrite): that write
// has checked that the scope may write the message, so the files, by the
// message's author, are as visible as it is.
func (s *Service) Recorder(scope access.Scope, files []*Staged) func(ctx context.Context, tx *db.Tx, ticketID, messageID int64) error {
	return func(ctx context.Context, tx *db.Tx, ticketID, messageID int64) error {
		authorType, authorID := actorOf(scope)
		now := db.Now()
		for _, f := range files {
			if f.ws != scope.WorkspaceID {
				return errors.New("attachment: a file staged for another workspace")
			}
			// As in Attach: a version retired while the file streamed in
			// could never be read again. Commit moves the files and retries.
			if err := s.keys.CheckUsable(ctx, tx, f.ws, f.version); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO attachments (id, workspace_id, ticket_id, message_id, name_enc, content_type,
				size_bytes, dangerous, key_version, salt, storage_key, author_type, author_id, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				f.id, f.ws, ticketID, db.NullID(messageID), f.nameEnc, f.contentType, f.size, db.Bool(f.dangerous), int64(f.version),
				f.salt, f.key, authorType, authorID, now)
			if err != nil {
				return fmt.Errorf("record attachment %d: %w", f.id, err)
			}
		}
		return nil
	}
}

// Commit runs write, which must record files through Recorder in its
// transaction, and keeps the files when it succeeds; when it fails they
// are removed. If a key rotation retired the version the files were sealed
// under, they move to the active version and write runs again (up to
// three times in all): a write that failed has left nothing behind, so it
// is safe to repeat.
func (s *Service) Commit(ctx context.Context, files []*Staged, write func() error) error {
	kept := false
	defer func() {
		if !kept {
			s.Discard(ctx, files)
		}
	}()
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil {
			kept = true
			return nil
		}
		if !errors.Is(err, keyring.ErrKeyRetired) || attempt == 3 || len(files) == 0 {
			return err
		}
		if err := s.moveStaged(ctx, files); err != nil {
			return err
		}
	}
}

// moveStaged re-seals staged files, names and contents, under the
// workspace's active version.
func (s *Service) moveStaged(ctx context.Context, files []*Staged) error {
	for _, f := range files {
		var err error
		// The name was sealed with the version of its day too.
		if f.nameEnc, err = s.keys.Seal(ctx, nameField(f.ws, f.id), f.name); err != nil {
			return err
		}
		active, err := s.keys.ActiveFileVersion(ctx, f.ws)
		if err != nil {
			return err
		}
		if f.version == active {
			continue
		}
		c, err := s.resealUpload(ctx, f.ws, f.id, f.key, f.aead, f.hdr, f.size)
		if err != nil {
			return err
		}
		_ = s.blobs.Delete(context.WithoutCancel(ctx), f.key)
		f.version, f.salt, f.key = c.version, c.salt, c.key
		if f.aead, _, err = s.keys.FileCipher(ctx, f.ws, f.id, f.salt, f.version); err != nil {
			return err
		}
		f.hdr = fileHeader(f.version, f.id)
	}
	return nil
}
