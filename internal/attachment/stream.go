package attachment

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hesar/hesar/internal/keyring"
)

// Attachment content is stored with the STREAM construction (Hoang,
// Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its
// Nonce-Reuse Misuse-Resistance", 2015), the shape age and Tink use:
//
//	blob    = header || chunk_0 || … || chunk_n
//	header  = "HSAT" || format (1) || key version (4, BE) || file id (8, BE)
//	chunk_i = AES-256-GCM(file key, nonce_i, plaintext_i, AAD = header)
//	nonce_i = i as 11 bytes BE || 0x01 on the last chunk, 0x00 otherwise
//
// Every plaintext chunk but the last holds exactly chunkSize bytes; the last
// holds 0..chunkSize (it is empty only for an empty file). Because the
// counter and the last-chunk flag are in the nonce, reordering, dropping,
// truncating at a chunk boundary or appending after the last chunk all fail
// authentication; the header in the AAD (and the per-file key) keeps a
// chunk from moving to another file. Memory use is one chunk whatever the
// file size.
const (
	chunkSize    = 64 << 10
	formatV1     = 1
	headerSize   = 4 + 1 + 4 + 8
	counterBytes = 11
)

var magic = []byte("HSAT")

// ErrCorrupt means stored content failed authentication: it was tampered
// with, truncated, extended, swapped with another file's, or read with the
// wrong key. It wraps keyring.ErrDecrypt so adapters treat it like any
// other decryption failure.
var ErrCorrupt = fmt.Errorf("attachment content failed authentication: %w", keyring.ErrDecrypt)

// fileHeader is the blob header of file id sealed under key version.
func fileHeader(version uint32, fileID int64) []byte {
	h := make([]byte, 0, headerSize)
	h = append(h, magic...)
	h = append(h, formatV1)
	h = binary.BigEndian.AppendUint32(h, version)
	return binary.BigEndian.AppendUint64(h, uint64(fileID))
}

func chunkNonce(i uint64, last bool) [12]byte {
	var n [12]byte
	// 11-byte counter: the top 3 bytes stay zero, as 2^64 chunks is far
	// beyond any file.
	binary.BigEndian.PutUint64(n[counterBytes-8:counterBytes], i)
	if last {
		n[counterBytes] = 1
	}
	return n
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// sealer encrypts a plaintext stream into w. Close seals the last chunk; it
// does not close w.
type sealer struct {
	w      io.Writer
	aead   cipher.AEAD
	aad    []byte
	buf    []byte // plaintext of the chunk being filled; room for the tag
	next   uint64
	closed bool
	err    error
}

func newSealer(w io.Writer, aead cipher.AEAD, header []byte) (*sealer, error) {
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	return &sealer{w: w, aead: aead, aad: header, buf: make([]byte, 0, chunkSize+aead.Overhead())}, nil
}

func (s *sealer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, errors.New("write after close")
	}
	written := 0
	for len(p) > 0 {
		if len(s.buf) == chunkSize {
			// Only now, with more data waiting, is it certain that this
			// full chunk is not the last one.
			if err := s.flush(false); err != nil {
				return written, err
			}
		}
		k := min(chunkSize-len(s.buf), len(p))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		written += k
	}
	return written, nil
}

func (s *sealer) flush(last bool) error {
	nonce := chunkNonce(s.next, last)
	out := s.aead.Seal(s.buf[:0], nonce[:], s.buf, s.aad) // in place
	if _, err := s.w.Write(out); err != nil {
		s.err = err
		return err
	}
	s.next++
	s.buf = s.buf[:0]
	return nil
}

// Close seals what is buffered as the last chunk (empty for an empty file).
func (s *sealer) Close() error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return nil
	}
	s.closed = true
	return s.flush(true)
}

// opener decrypts a sealed stream. Read returns plaintext only from chunks
// that have authenticated; at the first chunk that does not (or when the
// stream ends without its last chunk, or goes on after it) it returns an
// error wrapping ErrCorrupt and never any of that chunk's bytes. A caller
// that has already passed earlier chunks on (an HTTP download) must treat
// the error as fatal to the whole transfer.
type opener struct {
	r      *bufio.Reader
	aead   cipher.AEAD
	aad    []byte
	buf    []byte
	plain  []byte // unread plaintext of the current chunk
	next   uint64
	begun  bool // header checked
	done   bool // last chunk authenticated
	err    error
	closer io.Closer
}

func newOpener(r io.Reader, aead cipher.AEAD, header []byte) *opener {
	o := &opener{r: bufio.NewReader(r), aead: aead, aad: header, buf: make([]byte, chunkSize+aead.Overhead())}
	if c, ok := r.(io.Closer); ok {
		o.closer = c
	}
	return o
}

func (o *opener) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		switch {
		case o.err != nil:
			return 0, o.err
		case o.done:
			return 0, io.EOF
		}
		o.err = o.readChunk()
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

// Close closes the underlying blob, if it can be closed.
func (o *opener) Close() error {
	if o.closer != nil {
		return o.closer.Close()
	}
	return nil
}

func (o *opener) readChunk() error {
	if !o.begun {
		h := make([]byte, len(o.aad))
		if _, err := io.ReadFull(o.r, h); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return corrupt("header truncated")
			}
			return err
		}
		if !bytes.Equal(h, o.aad) {
			// Another file's blob, another key version, or not ours.
			return corrupt("header does not match the attachment")
		}
		o.begun = true
	}
	n, err := io.ReadFull(o.r, o.buf)
	last := false
	switch {
	case err == io.EOF:
		return corrupt("stream ends before its last chunk")
	case err == io.ErrUnexpectedEOF:
		last = true // a short chunk can only be the last one
	case err != nil:
		return err
	default:
		// A full chunk is the last one exactly when nothing follows it.
		if _, perr := o.r.Peek(1); perr == io.EOF {
			last = true
		} else if perr != nil {
			return perr
		}
	}
	if n < o.aead.Overhead() {
		return corrupt("chunk %d too short", o.next)
	}
	nonce := chunkNonce(o.next, last)
	plain, err := o.aead.Open(o.buf[:0], nonce[:], o.buf[:n], o.aad)
	if err != nil {
		return corrupt("chunk %d", o.next)
	}
	o.next++
	o.plain, o.done = plain, last
	return nil
}

// openerAt gives random access to the plaintext of a sealed blob of known
// plaintext size, decrypting one chunk at a time; container inspection
// (zip central directories) reads through it.
type openerAt struct {
	ra     io.ReaderAt
	aead   cipher.AEAD
	aad    []byte
	size   int64
	buf    []byte
	plain  []byte
	cached int64
	begun  bool
}

func newOpenerAt(ra io.ReaderAt, aead cipher.AEAD, header []byte, size int64) *openerAt {
	return &openerAt{ra: ra, aead: aead, aad: header, size: size, buf: make([]byte, chunkSize+aead.Overhead()), cached: -1}
}

func (o *openerAt) lastChunk() int64 {
	if o.size == 0 {
		return 0
	}
	return (o.size - 1) / chunkSize
}

func (o *openerAt) load(idx int64) error {
	if idx == o.cached {
		return nil
	}
	if !o.begun {
		h := make([]byte, len(o.aad))
		if _, err := o.ra.ReadAt(h, 0); err != nil {
			return corrupt("header unreadable: %v", err)
		}
		if !bytes.Equal(h, o.aad) {
			return corrupt("header does not match the attachment")
		}
		o.begun = true
	}
	last := idx == o.lastChunk()
	plainLen := int64(chunkSize)
	if last {
		plainLen = o.size - idx*chunkSize
	}
	ct := o.buf[:plainLen+int64(o.aead.Overhead())]
	off := int64(len(o.aad)) + idx*int64(chunkSize+o.aead.Overhead())
	if n, err := o.ra.ReadAt(ct, off); n < len(ct) {
		return corrupt("chunk %d unreadable: %v", idx, err)
	}
	nonce := chunkNonce(uint64(idx), last)
	plain, err := o.aead.Open(ct[:0], nonce[:], ct, o.aad)
	if err != nil {
		o.cached = -1
		return corrupt("chunk %d", idx)
	}
	o.plain, o.cached = plain, idx
	return nil
}

func (o *openerAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	total := 0
	for len(p) > 0 && off < o.size {
		idx := off / chunkSize
		if err := o.load(idx); err != nil {
			return total, err
		}
		k := copy(p, o.plain[off-idx*chunkSize:])
		p, off, total = p[k:], off+int64(k), total+k
	}
	if len(p) > 0 {
		return total, io.EOF
	}
	return total, nil
}
