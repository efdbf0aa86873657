package attachment

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// classify runs detection as an upload does: the streaming sniffer fed in
// small pieces (so markers straddle writes), then the zip directory check.
func classify(t *testing.T, name string, content []byte) verdict {
	t.Helper()
	sn := newSniffer(name)
	for p := content; len(p) > 0; {
		k := min(len(p), 7)
		sn.Write(p[:k])
		p = p[k:]
	}
	v := sn.finish()
	if v.container == containerZip && !v.Dangerous {
		var err error
		if v, err = refineZip(v, name, bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// Zip builds an archive; entries named with a leading "!" are stored, the
// rest deflated.
func Zip(t testing.TB, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(entries); i += 2 {
		h := &zip.FileHeader{Name: entries[i], Method: zip.Deflate}
		if strings.HasPrefix(h.Name, "!") {
			h.Name, h.Method = h.Name[1:], zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(entries[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	docxTypes = `<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	docmTypes = `<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>`
	ole2Magic = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
)

func TestDetection(t *testing.T) {
	pad := strings.Repeat("\x00", 600)
	for _, tc := range []struct {
		name, file, content string
		wantType            string
		dangerous           bool
	}{
		{"exe posing as pdf", "invoice.pdf", "MZ\x90\x00" + pad, "application/x-msdownload", true},
		{"elf", "report", "\x7fELF\x02\x01" + pad, "application/x-executable", true},
		{"mach-o", "a.png", "\xcf\xfa\xed\xfe" + pad, "application/x-mach-binary", true},
		{"java class", "a.txt", "\xca\xfe\xba\xbe" + pad, "application/java-vm", true},
		{"pdf", "x.bin", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + pad, "application/pdf", false},
		{"png", "x", "\x89PNG\r\n\x1a\n" + pad, "image/png", false},
		{"jpeg", "x.jpg", "\xff\xd8\xff\xe0" + pad, "image/jpeg", false},
		{"gif", "x.gif", "GIF89a" + pad, "image/gif", false},
		{"webp", "x.webp", "RIFF\x00\x00\x00\x00WEBPVP8 " + pad, "image/webp", false},
		{"mp4", "x.mp4", "\x00\x00\x00\x18ftypmp42" + pad, "video/mp4", false},
		{"plain text", "notes.txt", "hello\nworld\n", "text/plain; charset=utf-8", false},
		{"persian text", "نامه.txt", strings.Repeat("سلام دنیا ", 80), "text/plain; charset=utf-8", false},
		{"unknown binary", "blob.dat", "\x00\x01\x02\x03" + pad, "application/octet-stream", false},
		{"shebang", "run", "#!/bin/sh\nrm -rf /\n", "text/x-script", true},
		{"text named .bat", "run.bat", "@echo off\n", "text/plain; charset=utf-8", true},
		{"text named .JS", "a.JS", "alert(1)\n", "text/plain; charset=utf-8", true},
		{"html", "page.txt", "<!DOCTYPE html><html><script>alert(1)</script>", "text/html", true},
		{"html with space", "p", "\n  <HTML lang=fa>", "text/html", true},
		{"html by name", "p.htm", "just text\n", "text/plain; charset=utf-8", true},
		{"svg", "logo.png", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "image/svg+xml", true},
		{"svg behind a prolog", "logo", `<?xml version="1.0"?>` + strings.Repeat("<!-- pad -->", 80) + `<svg onload="alert(1)"/>`, "image/svg+xml", true},
		{"xhtml", "x.xml", `<?xml version="1.0"?>` + strings.Repeat(" ", 600) + `<html xmlns="http://www.w3.org/1999/xhtml"/>`, "application/xml", true},
		{"plain xml", "invoice.xml", `<?xml version="1.0"?><invoice total="10"/>`, "application/xml", false},
		{"zip", "a.zip", string(Zip(t, "a.txt", "hi", "b/c.csv", "1,2")), "application/zip", false},
		{"docx", "a.docx", string(Zip(t, "[Content_Types].xml", docxTypes, "word/document.xml", "<w/>")), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
		{"docm", "a.docx", string(Zip(t, "[Content_Types].xml", docxTypes, "word/vbaProject.bin", "vba")), macro.ContentType, true},
		{"docm, stored, upper case", "a.zip", string(Zip(t, "!WORD/VBAPROJECT.BIN", "vba")), macro.ContentType, true},
		{"vba part renamed, types deflated", "a.docx", string(Zip(t, "[Content_Types].xml", docmTypes, "word/x.bin", "vba")), macro.ContentType, true},
		{"zip holding an exe", "photos.zip", string(Zip(t, "photo.jpg", "x", "photo.jpg.exe", "MZ")), "application/zip", true},
		{"apk", "game.zip", string(Zip(t, "classes.dex", "dex\n", "AndroidManifest.xml", "<m/>")), "application/vnd.android.package-archive", true},
		{"jar by name", "tool.jar", string(Zip(t, "META-INF/MANIFEST.MF", "Main-Class: X")), "application/zip", true},
		{"odt", "a.odt", string(Zip(t, "!mimetype", "application/vnd.oasis.opendocument.text", "content.xml", "<x/>")), "application/vnd.oasis.opendocument.text", false},
		{"odt with basic macros", "a.odt", string(Zip(t, "!mimetype", "application/vnd.oasis.opendocument.text", "Basic/Standard/Module1.xml", "<x/>")), "application/vnd.oasis.opendocument.text", true},
		{"legacy doc", "a.doc", ole2Magic + pad, "application/msword", false},
		{"legacy xls with vba", "a.xls", ole2Magic + pad + "_\x00V\x00B\x00A\x00_\x00P\x00R\x00O\x00J\x00E\x00C\x00T\x00_\x00C\x00U\x00R\x00", macro.ContentType, true},
		{"msi", "setup.msi", ole2Magic + pad, "application/x-ole-storage", true},
		{"msi posing as pdf", "a.pdf", ole2Magic + pad, "application/x-ole-storage", true},
		{"ppt", "deck.ppt", ole2Magic + pad, "application/x-ole-storage", true},
	} {
		v := classify(t, tc.file, []byte(tc.content))
		if v.ContentType != tc.wantType || v.Dangerous != tc.dangerous {
			t.Errorf("%s: got %q dangerous=%v (%s), want %q dangerous=%v", tc.name, v.ContentType, v.Dangerous, v.Reason, tc.wantType, tc.dangerous)
		}
		if v.Dangerous && v.Reason == "" {
			t.Errorf("%s: dangerous without a reason", tc.name)
		}
	}
}

func TestEarlyVerdictNeedsOnlyTheHead(t *testing.T) {
	sn := newSniffer("x.pdf")
	sn.Write([]byte("MZ"))
	if _, ok := sn.early(); ok {
		t.Fatal("verdict before the head is complete")
	}
	sn.Write(make([]byte, sniffLen))
	if v, ok := sn.early(); !ok || !v.Dangerous {
		t.Fatalf("early verdict %+v, %v", v, ok)
	}
}

func TestPolicyParsing(t *testing.T) {
	for in, want := range map[string]Policy{
		``:         DefaultPolicy(),
		`{}`:       DefaultPolicy(),
		`not json`: DefaultPolicy(),
		`{"attachments":{"max_bytes":1000,"dangerous":"download-only"}}`: {MaxBytes: 1000, Dangerous: DownloadOnly},
		`{"attachments":{"max_bytes":-5,"dangerous":"allow"}}`:           DefaultPolicy(),
		`{"attachments":{"max_bytes":1e30}}`:                             DefaultPolicy(),
		`{"attachments":{"max_bytes":99999999999}}`:                      {MaxBytes: CeilingMaxBytes, Dangerous: Block},
	} {
		if got := ParsePolicy([]byte(in)); got != want {
			t.Errorf("ParsePolicy(%s) = %+v, want %+v", in, got, want)
		}
	}
}
