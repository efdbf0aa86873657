package attachment

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"path"
	"strings"
)

// The streaming marker scan catches the usual macro-enabled document. But
// Office finds a VBA project through relationships, not by its part name,
// and declares it in [Content_Types].xml, which is deflated; so once a zip
// is stored, its central directory is read back through random access to
// the sealed blob (one chunk in memory at a time) and the content types
// are inflated and checked too. The same walk finds executables and
// scripts inside archives, and names the Office and OpenDocument types.

// maxInflate caps what is inflated of one small metadata entry, so a zip
// bomb costs nothing.
const maxInflate = 1 << 20

var errNotZip = errors.New("no zip central directory")

type zipEntry struct {
	name     string // lower case, forward slashes
	method   uint16
	compSize int64
	offset   int64 // of the local file header
}

// inspectZip returns what the archive's directory says about it.
func inspectZip(ra io.ReaderAt, size int64) (verdict, error) {
	cdOff, cdSize, err := findCentralDirectory(ra, size)
	if err != nil {
		return verdict{}, err
	}
	br := bufio.NewReader(io.NewSectionReader(ra, cdOff, cdSize))
	var contentTypes, mimetype *zipEntry
	odfScripts := false
	v := safe("application/zip")
	for {
		e, err := nextEntry(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return verdict{}, err
		}
		base := path.Base(e.name)
		switch {
		case base == "vbaproject.bin":
			return macro, nil
		case base == "classes.dex" || base == "androidmanifest.xml":
			return danger("application/vnd.android.package-archive", "an Android app"), nil
		case runnableExt[extension(base)]:
			v = danger("application/zip", "an archive holding a ."+extension(base)+" file")
		case e.name == "[content_types].xml":
			contentTypes = &e
		case e.name == "mimetype":
			mimetype = &e
		case strings.HasPrefix(e.name, "basic/") || strings.HasPrefix(e.name, "scripts/"):
			odfScripts = true
		}
	}
	if contentTypes != nil {
		ct, err := readEntry(ra, *contentTypes, maxInflate)
		if err == nil {
			ct = bytes.ToLower(ct)
			if bytes.Contains(ct, []byte("macroenabled")) || bytes.Contains(ct, []byte("vbaproject")) {
				return macro, nil
			}
			if t := ooxmlType(ct); t != "" && !v.Dangerous {
				v.ContentType = t
			}
		}
	}
	if mimetype != nil {
		mt, err := readEntry(ra, *mimetype, 128)
		if t := string(bytes.TrimSpace(mt)); err == nil && strings.HasPrefix(t, "application/vnd.oasis.opendocument.") && plainType(t) {
			if odfScripts {
				return danger(t, "an OpenDocument file with macros"), nil
			}
			if !v.Dangerous {
				v.ContentType = t
			}
		}
	}
	return v, nil
}

// findCentralDirectory reads the end-of-central-directory record.
func findCentralDirectory(ra io.ReaderAt, size int64) (off, length int64, err error) {
	const eocdLen = 22
	tailLen := min(size, eocdLen+0xffff)
	tail := make([]byte, tailLen)
	if _, err := ra.ReadAt(tail, size-tailLen); err != nil && err != io.EOF {
		return 0, 0, err
	}
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < eocdLen {
		return 0, 0, errNotZip
	}
	rec := tail[i:]
	entries := binary.LittleEndian.Uint16(rec[10:])
	length = int64(binary.LittleEndian.Uint32(rec[12:]))
	off = int64(binary.LittleEndian.Uint32(rec[16:]))
	if entries == 0xffff || length == 0xffffffff || off == 0xffffffff {
		return 0, 0, errZip64
	}
	if off+length > size {
		return 0, 0, errNotZip
	}
	return off, length, nil
}

// errZip64 marks archives too large for the classic format; Hesar does not
// look inside them (see Service.inspect).
var errZip64 = errors.New("zip64 archive")

func nextEntry(br *bufio.Reader) (zipEntry, error) {
	var h [46]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return zipEntry{}, errNotZip
		}
		return zipEntry{}, err
	}
	if string(h[:4]) != "PK\x01\x02" {
		return zipEntry{}, io.EOF // digital signature or end: no more entries
	}
	nameLen := int(binary.LittleEndian.Uint16(h[28:]))
	skip := int(binary.LittleEndian.Uint16(h[30:])) + int(binary.LittleEndian.Uint16(h[32:]))
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(br, name); err != nil {
		return zipEntry{}, errNotZip
	}
	if _, err := br.Discard(skip); err != nil {
		return zipEntry{}, errNotZip
	}
	return zipEntry{
		name:     strings.ToLower(strings.ReplaceAll(string(name), `\`, "/")),
		method:   binary.LittleEndian.Uint16(h[10:]),
		compSize: int64(binary.LittleEndian.Uint32(h[20:])),
		offset:   int64(binary.LittleEndian.Uint32(h[42:])),
	}, nil
}

// readEntry returns up to limit bytes of a stored or deflated entry.
func readEntry(ra io.ReaderAt, e zipEntry, limit int64) ([]byte, error) {
	var lh [30]byte
	if _, err := ra.ReadAt(lh[:], e.offset); err != nil {
		return nil, err
	}
	if string(lh[:4]) != "PK\x03\x04" {
		return nil, errNotZip
	}
	data := e.offset + 30 + int64(binary.LittleEndian.Uint16(lh[26:])) + int64(binary.LittleEndian.Uint16(lh[28:]))
	var r io.Reader = io.NewSectionReader(ra, data, e.compSize)
	switch e.method {
	case 0:
	case 8:
		fr := flate.NewReader(r)
		defer fr.Close()
		r = fr
	default:
		return nil, errors.New("unsupported zip method")
	}
	return io.ReadAll(io.LimitReader(r, limit))
}

// ooxmlType names an Office Open XML package by its main part.
func ooxmlType(contentTypes []byte) string {
	for _, t := range []struct{ main, ct string }{
		{"wordprocessingml.document.main", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"wordprocessingml.template.main", "application/vnd.openxmlformats-officedocument.wordprocessingml.template"},
		{"spreadsheetml.sheet.main", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"spreadsheetml.template.main", "application/vnd.openxmlformats-officedocument.spreadsheetml.template"},
		{"presentationml.presentation.main", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"presentationml.slideshow.main", "application/vnd.openxmlformats-officedocument.presentationml.slideshow"},
	} {
		if bytes.Contains(contentTypes, []byte(t.main)) {
			return t.ct
		}
	}
	return ""
}

// plainType reports whether a media type read from a file is safe to store
// and send back as a Content-Type: letters, digits and . + - / only.
func plainType(t string) bool {
	if len(t) > 100 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".+-/", c)) {
			return false
		}
	}
	return true
}
