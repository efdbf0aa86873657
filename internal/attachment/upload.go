package attachment

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/ticket"
)

// copyBuf is the size of one read from the upload.
const copyBuf = 32 << 10

// Upload stores a file on the ticket with this number, visible to everyone
// who can see the ticket. See Attach.
func (s *Service) Upload(ctx context.Context, scope access.Scope, ticketNumber int64, name string, r io.Reader) (Attachment, error) {
	return s.Attach(ctx, scope, ticketNumber, NewAttachment{Name: name, Size: -1}, r)
}

// Attach streams r into a new attachment of the ticket with this number.
// The ticket must be visible to the scope (errs.ErrNotFound otherwise).
// Customers may attach to their tickets; staff need ticket.reply for a
// file the customer will see (ticket-level or on a reply) and ticket.note
// for a file on a note (errs.ErrForbidden otherwise). Too large a file is a
// *TooLargeError; a dangerous one under a blocking policy, or an empty one,
// is an *errs.Invalid on "file". On any failure nothing is kept.
func (s *Service) Attach(ctx context.Context, scope access.Scope, number int64, in NewAttachment, r io.Reader) (Attachment, error) {
	t, err := s.tickets.Get(ctx, scope, number)
	if err != nil {
		return Attachment{}, err
	}
	if err := s.mayUpload(ctx, scope, t, in.MessageID); err != nil {
		return Attachment{}, err
	}
	ws := scope.WorkspaceID
	pol, err := s.Policy(ctx, ws)
	if err != nil {
		return Attachment{}, err
	}
	if in.Size > pol.MaxBytes {
		return Attachment{}, &TooLargeError{Max: pol.MaxBytes}
	}
	name := SanitizeName(in.Name)
	// The id and salt come first: they are bound into the file's key and
	// every chunk's AAD.
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Attachment{}, err
	}
	salt := make([]byte, keyring.FileSaltSize)
	if _, err := rand.Read(salt); err != nil {
		return Attachment{}, err
	}
	aead, version, err := s.keys.FileCipher(ctx, ws, id, salt, 0)
	if err != nil {
		return Attachment{}, err
	}
	hdr, key := fileHeader(version, id), StorageKey(ws, id)
	v, size, err := s.store(ctx, key, aead, hdr, name, pol, r)
	if err != nil {
		return Attachment{}, err
	}
	kept := false
	defer func() {
		if !kept {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
		}
	}()
	if v.container == containerZip {
		if v, err = s.inspect(ctx, key, aead, hdr, size, name, v); err != nil {
			return Attachment{}, err
		}
	}
	switch {
	case v.Dangerous && pol.Dangerous == Block:
		return Attachment{}, blocked(v)
	case size == 0:
		return Attachment{}, errs.Field("file", "is empty")
	}
	nameEnc, err := s.keys.Seal(ctx, nameField(ws, id), name)
	if err != nil {
		return Attachment{}, err
	}
	a := Attachment{ID: id, WorkspaceID: ws, TicketID: t.ID, TicketNumber: t.Number, MessageID: in.MessageID, Name: name,
		ContentType: v.ContentType, Size: size, Dangerous: v.Dangerous}
	a.AuthorType, a.AuthorID = actorOf(scope)
	now := db.Now()
	for attempt := 1; ; attempt++ {
		err = s.db.Write(ctx, func(tx *db.Tx) error {
			// The file was sealed under a key version chosen when the upload
			// began; if a rotation retired it meanwhile, the file could never
			// be read again: refuse rather than store it.
			if err := s.keys.CheckUsable(ctx, tx, ws, version); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO attachments (id, workspace_id, ticket_id, message_id, name_enc, content_type,
				size_bytes, dangerous, key_version, salt, storage_key, author_type, author_id, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				id, ws, t.ID, db.NullID(in.MessageID), nameEnc, a.ContentType, size, db.Bool(a.Dangerous), int64(version), salt, key,
				a.AuthorType, a.AuthorID, now)
			return err
		})
		if !errors.Is(err, keyring.ErrKeyRetired) || attempt == 3 {
			break
		}
		// A rotation finished while this file streamed in. Its key is
		// still in hand, so the file moves to the active version, as
		// re-encryption would have moved it, rather than fail.
		c, rerr := s.resealUpload(ctx, ws, id, key, aead, hdr, size)
		if rerr != nil {
			err = rerr
			break
		}
		_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
		version, salt, key = c.version, c.salt, c.key
		if aead, _, err = s.keys.FileCipher(ctx, ws, id, salt, version); err != nil {
			break
		}
		hdr = fileHeader(version, id)
		// The name was sealed with the retired version too: a row whose
		// name cannot be opened would spoil the ticket's whole file list.
		if nameEnc, err = s.keys.Seal(ctx, nameField(ws, id), name); err != nil {
			break
		}
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("record attachment %d: %w", id, err)
	}
	kept = true
	a.CreatedAt = db.Time(now)
	return a, nil
}

// resealUpload copies the just-stored blob key of file id, sealed with
// aead under a version retired since, to a new blob under the active
// version.
func (s *Service) resealUpload(ctx context.Context, ws, id int64, key string, aead cipher.AEAD, hdr []byte, size int64) (sealedCopy, error) {
	active, err := s.keys.ActiveFileVersion(ctx, ws)
	if err != nil {
		return sealedCopy{}, err
	}
	rc, err := s.blobs.Open(ctx, key)
	if err != nil {
		return sealedCopy{}, err
	}
	op := newOpener(rc, aead, hdr)
	defer op.Close()
	return s.reseal(ctx, ws, id, op, size, active)
}

// mayUpload applies the rules of AddMessage to files: what a customer will
// see needs the right to reply, a note's file the right to write notes.
func (s *Service) mayUpload(ctx context.Context, scope access.Scope, t ticket.Ticket, messageID int64) error {
	if t.Status == ticket.StatusClosed {
		return errs.Field("ticket", "ticket #%d is closed; open a new ticket instead", t.Number)
	}
	mayReply := scope.IsCustomer() || scope.Can(access.TicketReply)
	if messageID == 0 {
		if !mayReply {
			return errs.ErrForbidden
		}
		return nil
	}
	var kind, authorType string
	var authorID int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT kind, author_type, author_id FROM messages WHERE id = $1 AND ticket_id = $2 AND workspace_id = $3`,
		messageID, t.ID, scope.WorkspaceID).Scan(&kind, &authorType, &authorID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && scope.IsCustomer() && kind != string(ticket.KindReply)) {
		return errs.Field("message_id", "is not a message of this ticket")
	}
	if err != nil {
		return err
	}
	if at, aid := actorOf(scope); at != authorType || aid != authorID {
		return errs.ErrForbidden // files go only on your own messages
	}
	if kind == string(ticket.KindNote) && !scope.Can(access.TicketNote) || kind == string(ticket.KindReply) && !mayReply {
		return errs.ErrForbidden
	}
	return nil
}

// store streams r through the size limit and the type sniffer into a new
// sealed blob, and commits it. On failure the partial blob is discarded.
func (s *Service) store(ctx context.Context, key string, aead cipher.AEAD, hdr []byte, name string, pol Policy, r io.Reader) (verdict, int64, error) {
	bw, err := s.blobs.Create(ctx, key)
	if err != nil {
		return verdict{}, 0, err
	}
	v, size, err := s.pump(bw, aead, hdr, name, pol, r)
	if err == nil {
		err = bw.Close()
	}
	if err != nil {
		_ = bw.Abort()
		return verdict{}, 0, err
	}
	return v, size, nil
}

func (s *Service) pump(w io.Writer, aead cipher.AEAD, hdr []byte, name string, pol Policy, r io.Reader) (verdict, int64, error) {
	sealed, err := newSealer(w, aead, hdr)
	if err != nil {
		return verdict{}, 0, err
	}
	sn := newSniffer(name)
	buf := make([]byte, copyBuf)
	lr := io.LimitReader(r, pol.MaxBytes+1) // one byte over tells "too large"
	var total int64
	for {
		n, rerr := lr.Read(buf)
		if n > 0 {
			if total += int64(n); total > pol.MaxBytes {
				return verdict{}, 0, &TooLargeError{Max: pol.MaxBytes}
			}
			sn.Write(buf[:n])
			// An executable is refused on its first bytes, not after
			// megabytes more of it have been encrypted and written.
			if v, ok := sn.early(); ok && v.Dangerous && pol.Dangerous == Block {
				return verdict{}, 0, blocked(v)
			}
			if _, err := sealed.Write(buf[:n]); err != nil {
				return verdict{}, 0, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return verdict{}, 0, fmt.Errorf("read upload: %w", rerr)
		}
	}
	if err := sealed.Close(); err != nil {
		return verdict{}, 0, err
	}
	return sn.finish(), total, nil
}

// inspect reads a stored zip's directory back (see zipcheck.go) and
// returns v refined by it. A store without random access keeps the
// streaming verdict.
func (s *Service) inspect(ctx context.Context, key string, aead cipher.AEAD, hdr []byte, size int64, name string, v verdict) (verdict, error) {
	if v.Dangerous {
		return v, nil
	}
	rc, err := s.blobs.Open(ctx, key)
	if err != nil {
		return v, err
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		return v, nil
	}
	return refineZip(v, name, newOpenerAt(ra, aead, hdr, size), size)
}

// refineZip applies what a zip's directory says to the streaming verdict
// v. An archive that does not parse keeps v (Office cannot open it either,
// and the streaming scan has seen its local headers); a ZIP64 archive,
// whose directory Hesar does not read, counts as dangerous.
func refineZip(v verdict, name string, ra io.ReaderAt, size int64) (verdict, error) {
	iv, err := inspectZip(ra, size)
	switch {
	case errors.Is(err, errZip64):
		return danger("application/zip", "a ZIP64 archive, which Hesar does not inspect"), nil
	case errors.Is(err, ErrCorrupt):
		return v, err // our own fresh blob does not read back
	case err != nil:
		return v, nil
	}
	return applyName(name, iv), nil
}

func blocked(v verdict) error {
	return errs.Field("file", "is %s (%s): executables, scripts, HTML, SVG and macro-enabled documents are not accepted in this workspace", v.Reason, v.ContentType)
}
