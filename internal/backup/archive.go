package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"filippo.io/age"
)

// archiveWriter puts entries into the tar stream, each with its SHA-256 in
// a PAX record.
type archiveWriter struct {
	tw  *tar.Writer
	now time.Time
}

func (w *archiveWriter) header(name string, size int64, sum []byte) *tar.Header {
	return &tar.Header{
		Name: name, Size: size, Mode: 0o600, ModTime: w.now, Typeflag: tar.TypeReg,
		Format:     tar.FormatPAX,
		PAXRecords: map[string]string{paxSHA256: hex.EncodeToString(sum)},
	}
}

// putBytes writes a small entry held in memory.
func (w *archiveWriter) putBytes(name string, data []byte) error {
	sum := sha256.Sum256(data)
	if err := w.tw.WriteHeader(w.header(name, int64(len(data)), sum[:])); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}

// putStream writes size bytes from r under a hash computed beforehand,
// and fails if what it copies does not match it.
func (w *archiveWriter) putStream(name string, size int64, sum []byte, r io.Reader) error {
	if err := w.tw.WriteHeader(w.header(name, size, sum)); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.CopyN(w.tw, io.TeeReader(r, h), size); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !bytes.Equal(h.Sum(nil), sum) {
		return fmt.Errorf("%s changed while it was being copied", name)
	}
	return nil
}

// entry is one archive member handed to a walk callback. Body yields the
// content; the walker checks the hash once the callback returns, reading
// whatever the callback left unread.
type entry struct {
	Name string
	Size int64
	Body io.Reader
}

// ageReader tags every failure of the decrypting reader as corruption:
// age authenticates each chunk, so a read error there means the bytes on
// disk are not the ones that were written.
type ageReader struct{ r io.Reader }

func (a ageReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && err != io.EOF {
		err = corrupt("decryption failed (%v)", err)
	}
	return n, err
}

// decrypt opens the age layer, mapping its errors to ErrWrongKey and
// ErrCorrupt.
func decrypt(src io.Reader, ids []age.Identity) (io.Reader, error) {
	if len(ids) == 0 {
		return nil, errors.New("no identity or passphrase given to decrypt the archive")
	}
	r, err := age.Decrypt(src, ids...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrWrongKey
		}
		return nil, corrupt("not a readable age file (%v)", err)
	}
	return ageReader{r}, nil
}

// walkState accumulates what the manifest will be checked against.
type walkState struct {
	tables    map[string]*tableSeen
	order     []string
	blobs     BlobManifest
	blobSum   hash.Hash
	master    *FileManifest
	masterKey []byte
}

type tableSeen struct {
	h     hash.Hash
	rows  int64
	parts int
}

// walk reads an archive from start to end, handing every table part and
// blob to fn, checking each entry against its own hash and everything
// against the manifest. It returns the manifest only when all of it held.
func walk(src io.Reader, ids []age.Identity, fn func(e entry) error) (*Manifest, []byte, error) {
	plain, err := decrypt(src, ids)
	if err != nil {
		return nil, nil, err
	}
	tr := tar.NewReader(plain)
	st := &walkState{tables: map[string]*tableSeen{}, blobSum: sha256.New()}
	first := true
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, nil, corrupt("the archive ends without its manifest (truncated?)")
		}
		if err != nil {
			return nil, nil, asCorrupt(err, "unreadable tar stream")
		}
		if first {
			if err := checkVersion(hdr, tr); err != nil {
				return nil, nil, err
			}
			first = false
			continue
		}
		if hdr.Name == manifestEntry {
			m, err := st.finish(hdr, tr)
			return m, st.masterKey, err
		}
		if err := st.entry(hdr, tr, fn); err != nil {
			return nil, nil, err
		}
	}
}

// asCorrupt keeps an ErrCorrupt as it is and wraps anything else in one.
func asCorrupt(err error, what string) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return corrupt("%s (%v)", what, err)
}

func checkVersion(hdr *tar.Header, tr *tar.Reader) error {
	if hdr.Name != versionEntry || hdr.Size > 64 {
		return corrupt("not a Hesar backup (first entry is %q)", hdr.Name)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return asCorrupt(err, "VERSION")
	}
	if string(b) != versionText {
		return fmt.Errorf("archive format %q is not supported by this build (it reads %q): use a newer hesar", strings.TrimSpace(string(b)), strings.TrimSpace(versionText))
	}
	return nil
}

// entry checks one member and passes it to fn.
func (st *walkState) entry(hdr *tar.Header, tr *tar.Reader, fn func(e entry) error) error {
	want := hdr.PAXRecords[paxSHA256]
	if want == "" {
		return corrupt("%s has no checksum", hdr.Name)
	}
	h := sha256.New()
	var extra io.Writer = io.Discard
	var lines *lineCounter
	switch {
	case strings.HasPrefix(hdr.Name, tablesDir):
		table, _, ok := strings.Cut(strings.TrimPrefix(hdr.Name, tablesDir), "/")
		if !ok || table == "" {
			return corrupt("unexpected entry %s", hdr.Name)
		}
		ts := st.tables[table]
		if ts == nil {
			ts = &tableSeen{h: sha256.New()}
			st.tables[table] = ts
			st.order = append(st.order, table)
		} else if st.order[len(st.order)-1] != table {
			return corrupt("parts of table %s are not together", table)
		}
		ts.parts++
		lines = &lineCounter{}
		extra = io.MultiWriter(ts.h, lines)
		defer func() { ts.rows += lines.n }()
	case strings.HasPrefix(hdr.Name, blobsDir):
	case hdr.Name == masterEntry:
		var buf bytes.Buffer
		extra = &buf
		defer func() { st.masterKey = buf.Bytes() }()
	default:
		return corrupt("unexpected entry %s", hdr.Name)
	}
	body := io.TeeReader(tr, io.MultiWriter(h, extra))
	if fn != nil && hdr.Name != masterEntry {
		if err := fn(entry{Name: hdr.Name, Size: hdr.Size, Body: body}); err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return asCorrupt(err, hdr.Name)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return corrupt("%s hash mismatch", hdr.Name)
	}
	switch {
	case strings.HasPrefix(hdr.Name, blobsDir):
		st.blobs.Count++
		st.blobs.Bytes += hdr.Size
		fmt.Fprintf(st.blobSum, "%s %d %s\n", strings.TrimPrefix(hdr.Name, blobsDir), hdr.Size, got)
	case hdr.Name == masterEntry:
		st.master = &FileManifest{Name: masterEntry, SHA256: got}
	}
	return nil
}

// finish reads the manifest and compares it with what was seen.
func (st *walkState) finish(hdr *tar.Header, tr *tar.Reader) (*Manifest, error) {
	raw, err := io.ReadAll(io.LimitReader(tr, 64<<20))
	if err != nil {
		return nil, asCorrupt(err, "manifest")
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != hdr.PAXRecords[paxSHA256] {
		return nil, corrupt("manifest.json hash mismatch")
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, corrupt("manifest.json is not valid (%v)", err)
	}
	if _, err := tr.Next(); err != io.EOF {
		return nil, corrupt("entries after the manifest")
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("archive format %d is not supported by this build (it reads %d)", m.Format, FormatVersion)
	}
	if len(m.Tables) != len(st.order) {
		return nil, corrupt("manifest lists %d tables, the archive holds %d", len(m.Tables), len(st.order))
	}
	for i, t := range m.Tables {
		seen := st.tables[t.Name]
		if st.order[i] != t.Name || seen == nil {
			return nil, corrupt("table %s is missing or out of order", t.Name)
		}
		if got := hex.EncodeToString(seen.h.Sum(nil)); got != t.SHA256 {
			return nil, corrupt("tables/%s hash mismatch", t.Name)
		}
		if seen.rows != t.Rows || seen.parts != t.Parts {
			return nil, corrupt("table %s has %d rows in %d parts, the manifest says %d in %d", t.Name, seen.rows, seen.parts, t.Rows, t.Parts)
		}
	}
	b := st.blobs
	b.Digest = hex.EncodeToString(st.blobSum.Sum(nil))
	if b.Count != m.Blobs.Count || b.Bytes != m.Blobs.Bytes || b.Digest != m.Blobs.Digest {
		return nil, corrupt("attachment files do not match the manifest (%d files, %d bytes; manifest: %d, %d)", b.Count, b.Bytes, m.Blobs.Count, m.Blobs.Bytes)
	}
	if (m.MasterKey == nil) != (st.master == nil) || (m.MasterKey != nil && m.MasterKey.SHA256 != st.master.SHA256) {
		return nil, corrupt("master key entry does not match the manifest")
	}
	return &m, nil
}

// lineCounter counts rows (newlines) going past.
type lineCounter struct{ n int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
