package attachment

import (
	"bytes"
	"unicode/utf8"
)

// Type detection lives here, in the domain, rather than in the HTTP layer
// with net/http's DetectContentType: whether a file is dangerous is a
// security decision the upload service must make before it stores
// anything, and DetectContentType knows neither executables (ELF, Mach-O),
// nor compound documents, nor SVG, nor scripts. The file's own bytes decide
// its type; the client's name and Content-Type never make a file safer.
// The name can only make it more dangerous (a text file called run.bat).

// sniffLen is how much of the start of a file the magic numbers look at.
const sniffLen = 512

// Container kinds that get a deeper look than their first bytes.
const (
	containerZip  = "zip"  // entries scanned for VBA projects, executables
	containerOLE2 = "ole2" // scanned for a VBA project storage
	containerXML  = "xml"  // scanned for SVG or XHTML content
)

// verdict is what detection concluded about a file.
type verdict struct {
	ContentType string
	Dangerous   bool
	// Reason names the dangerous class, for the error a blocked upload
	// gets ("a Windows executable").
	Reason    string
	container string
}

func danger(ct, reason string) verdict {
	return verdict{ContentType: ct, Dangerous: true, Reason: reason}
}

func safe(ct string) verdict { return verdict{ContentType: ct} }

// signature is a magic number at an offset.
type signature struct {
	offset int
	magic  string
	v      verdict
}

var (
	exe     = danger("application/x-msdownload", "a Windows executable")
	elf     = danger("application/x-executable", "a Linux executable")
	macho   = danger("application/x-mach-binary", "a macOS executable")
	javaBin = danger("application/java-vm", "a Java class or macOS universal binary")
	script  = danger("text/x-script", "a script")
	html    = danger("text/html", "an HTML document")
	svg     = danger("image/svg+xml", "an SVG image")
	macro   = danger("application/vnd.ms-office.macroEnabled", "a macro-enabled Office document")
)

// signatures are checked in order; the first match wins.
var signatures = []signature{
	{0, "MZ", exe},
	{0, "\x7fELF", elf},
	{0, "\xfe\xed\xfa\xce", macho}, {0, "\xfe\xed\xfa\xcf", macho},
	{0, "\xce\xfa\xed\xfe", macho}, {0, "\xcf\xfa\xed\xfe", macho},
	{0, "\xca\xfe\xba\xbe", javaBin},
	{0, "dex\n", danger("application/vnd.android.dex", "an Android executable")},
	{0, "\x00asm", danger("application/wasm", "a WebAssembly module")},
	{0, "L\x00\x00\x00\x01\x14\x02\x00", danger("application/x-ms-shortcut", "a Windows shortcut")},
	{0, "ITSF", danger("application/vnd.ms-htmlhelp", "a compiled HTML help file")},
	{0, "%PDF-", safe("application/pdf")},
	{0, "\x89PNG\r\n\x1a\n", safe("image/png")},
	{0, "\xff\xd8\xff", safe("image/jpeg")},
	{0, "GIF87a", safe("image/gif")}, {0, "GIF89a", safe("image/gif")},
	{0, "BM", safe("image/bmp")},
	{0, "II*\x00", safe("image/tiff")}, {0, "MM\x00*", safe("image/tiff")},
	{0, "\x00\x00\x01\x00", safe("image/vnd.microsoft.icon")},
	{0, "PK\x03\x04", verdict{ContentType: "application/zip", container: containerZip}},
	{0, "PK\x05\x06", safe("application/zip")}, // empty archive
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", verdict{ContentType: "application/x-ole-storage", container: containerOLE2}},
	{0, "\x1f\x8b", safe("application/gzip")},
	{0, "BZh", safe("application/x-bzip2")},
	{0, "\xfd7zXZ\x00", safe("application/x-xz")},
	{0, "7z\xbc\xaf\x27\x1c", safe("application/x-7z-compressed")},
	{0, "Rar!\x1a\x07", safe("application/vnd.rar")},
	{257, "ustar", safe("application/x-tar")},
	{0, "OggS", safe("application/ogg")},
	{0, "fLaC", safe("audio/flac")},
	{0, "ID3", safe("audio/mpeg")},
	{0, "\x1a\x45\xdf\xa3", safe("video/webm")},
	{0, "{\\rtf", safe("application/rtf")},
}

// sniffHead classifies a file by its first bytes (up to sniffLen).
func sniffHead(head []byte) verdict {
	for _, s := range signatures {
		if len(head) >= s.offset+len(s.magic) && string(head[s.offset:s.offset+len(s.magic)]) == s.magic {
			return s.v
		}
	}
	if v, ok := sniffRIFFAndISO(head); ok {
		return v
	}
	if len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0 && head[1] != 0xff {
		return safe("audio/mpeg") // MPEG audio frame sync
	}
	if text, ok := textOf(head); ok {
		return sniffText(text)
	}
	return safe("application/octet-stream")
}

func sniffRIFFAndISO(head []byte) (verdict, bool) {
	if len(head) >= 12 && string(head[:4]) == "RIFF" {
		switch string(head[8:12]) {
		case "WEBP":
			return safe("image/webp"), true
		case "WAVE":
			return safe("audio/wav"), true
		case "AVI ":
			return safe("video/x-msvideo"), true
		}
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch string(head[8:12]) {
		case "qt  ":
			return safe("video/quicktime"), true
		case "M4A ":
			return safe("audio/mp4"), true
		case "heic", "heix", "mif1":
			return safe("image/heic"), true
		case "avif":
			return safe("image/avif"), true
		}
		return safe("video/mp4"), true
	}
	return verdict{}, false
}

// textOf returns the head as UTF-8 text without a byte-order mark, if it is
// text: valid UTF-8 (a rune cut at the end of the head is fine) with no
// control characters but tab, newline, carriage return, form feed and
// escape.
func textOf(head []byte) ([]byte, bool) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b || c == 0x7f {
				return nil, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			if !utf8.FullRune(head[i:]) && len(head) >= sniffLen {
				break // cut by the sniff window
			}
			return nil, false
		}
		i += n
	}
	return head, true
}

// htmlStarts are the openings browsers sniff as HTML (the WHATWG list).
var htmlStarts = []string{
	"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font", "<table",
	"<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--",
}

func sniffText(text []byte) verdict {
	t := bytes.ToLower(bytes.TrimLeft(text, " \t\r\n\f"))
	if bytes.HasPrefix(t, []byte("#!")) {
		return script
	}
	if bytes.HasPrefix(t, []byte("<svg")) || bytes.HasPrefix(t, []byte("<!doctype svg")) {
		return svg
	}
	for _, h := range htmlStarts {
		if bytes.HasPrefix(t, []byte(h)) && len(t) > len(h) && (t[len(h)] == ' ' || t[len(h)] == '>') {
			// "<!--" opens both HTML and XML: look for an XML prolog or
			// an SVG root further on before calling it HTML.
			if h == "<!--" && (bytes.Contains(t, []byte("<svg")) || bytes.Contains(t, []byte("<?xml"))) {
				break
			}
			return html
		}
	}
	if bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!--")) {
		if bytes.Contains(t, []byte("<svg")) {
			return svg
		}
		return verdict{ContentType: "application/xml", container: containerXML}
	}
	return safe("text/plain; charset=utf-8")
}
