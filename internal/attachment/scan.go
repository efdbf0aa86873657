package attachment

import (
	"bytes"
	"strings"
)

// runnableExt are extensions of files that run, install or carry macros
// when opened: dangerous as attachments and inside archives.
var runnableExt = setOf(`
	exe com scr pif cpl dll sys drv ocx msi msp msm msc mst appx appxbundle msix msixbundle application gadget xbap
	bat cmd ps1 psm1 psd1 ps1xml psc1 vbs vbe js jse mjs wsf wsh wsc sct hta jar class apk aab dex xap
	sh bash zsh csh ksh fish command tool run elf app dmg pkg deb rpm py pyw pyc pl rb php lua
	lnk url scf reg inf iqy slk settingcontent-ms library-ms search-ms appref-ms diagcab
	iso img vhd vhdx udf chm
	docm dotm xlsm xltm xlam xla pptm potm ppam ppsm sldm one onepkg`)

// dangerousExt make an attachment dangerous whatever its content: the
// runnable ones, the ones a browser renders with active content (only
// when opened directly, so not counted inside archives), and PowerPoint 97
// files, whose macros no scan can see. A name never makes a file safe,
// only more dangerous.
var dangerousExt = union(runnableExt, setOf(`html htm xhtml xht shtml mht mhtml svg svgz xsl xslt ppt pps pot`))

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func union(a, b map[string]bool) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// Markers whose presence anywhere in a container makes it dangerous. They
// are matched case-insensitively (OPC part names are case-insensitive) and
// across chunk boundaries. In a zip, entry names are never compressed, so
// a VBA project shows in its local file header and the central directory.
var (
	zipMarkers  = []string{"vbaproject.bin", "macroenabled"}
	ole2Markers = []string{utf16("_vba_project")} // Word (Macros/VBA) and Excel (_VBA_PROJECT_CUR)
	xmlMarkers  = []string{"<svg", "www.w3.org/2000/svg", "www.w3.org/1999/xhtml", "<?xml-stylesheet"}
)

// utf16 spells an ASCII string as UTF-16LE, as OLE2 directory entries do.
func utf16(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		b.WriteByte(0)
	}
	return b.String()
}

// markerScan finds any of a set of lower-case markers in a stream, folding
// ASCII case, including a marker split between two writes.
type markerScan struct {
	markers [][]byte
	found   int // index+1 of the first marker found
	tail    []byte
	buf     []byte
	maxLen  int
}

func newMarkerScan(markers []string) *markerScan {
	m := &markerScan{}
	for _, s := range markers {
		m.markers = append(m.markers, []byte(s))
		m.maxLen = max(m.maxLen, len(s))
	}
	return m
}

func (m *markerScan) Write(p []byte) {
	if m.found != 0 || len(p) == 0 {
		return
	}
	m.buf = append(m.buf[:0], m.tail...)
	for _, c := range p {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		m.buf = append(m.buf, c)
	}
	for i, mk := range m.markers {
		if bytes.Contains(m.buf, mk) {
			m.found = i + 1
			return
		}
	}
	keep := min(len(m.buf), m.maxLen-1)
	m.tail = append(m.tail[:0], m.buf[len(m.buf)-keep:]...)
}

// sniffer watches an upload as it streams: the first sniffLen bytes decide
// the type, and containers are scanned to the end for markers.
type sniffer struct {
	name    string
	head    []byte
	decided bool
	v       verdict
	scan    *markerScan
}

func newSniffer(name string) *sniffer { return &sniffer{name: name, head: make([]byte, 0, sniffLen)} }

func (s *sniffer) Write(p []byte) {
	if !s.decided {
		k := min(sniffLen-len(s.head), len(p))
		s.head = append(s.head, p[:k]...)
		p = p[k:]
		if len(s.head) < sniffLen {
			return
		}
		s.decide()
	}
	if s.scan != nil {
		s.scan.Write(p)
	}
}

func (s *sniffer) decide() {
	s.decided = true
	s.v = sniffHead(s.head)
	switch s.v.container {
	case containerZip:
		s.scan = newMarkerScan(zipMarkers)
	case containerOLE2:
		s.scan = newMarkerScan(ole2Markers)
	case containerXML:
		s.scan = newMarkerScan(xmlMarkers)
	}
	if s.scan != nil {
		s.scan.Write(s.head)
	}
}

// early returns the verdict on the content's first bytes once they are in:
// enough to refuse an executable without reading the rest of it.
func (s *sniffer) early() (verdict, bool) {
	if !s.decided {
		return verdict{}, false
	}
	return applyName(s.name, s.v), true
}

// finish returns the verdict on the whole stream.
func (s *sniffer) finish() verdict {
	if !s.decided {
		s.decide()
	}
	v := s.v
	if s.scan != nil && s.scan.found != 0 {
		switch v.container {
		case containerZip, containerOLE2:
			v = macro
		case containerXML:
			v = svg
			if s.scan.found > 2 {
				v = danger("application/xml", "an XML document with active content (XHTML or a stylesheet)")
			}
		}
		v.container = s.v.container
	}
	if v.container == containerOLE2 && !v.Dangerous {
		v = ole2ByName(extension(s.name))
	}
	return applyName(s.name, v)
}

// ole2ByName names a compound document without a VBA project. Its name
// only picks the label; anything but a legacy Word, Excel or Outlook file
// stays dangerous: MSI installers are compound documents too, and a
// PowerPoint 97 file stores its VBA compressed, where no scan can see it.
func ole2ByName(ext string) verdict {
	v := verdict{container: containerOLE2}
	switch ext {
	case "doc", "dot":
		v.ContentType = "application/msword"
	case "xls", "xlt":
		v.ContentType = "application/vnd.ms-excel"
	case "msg":
		v.ContentType = "application/vnd.ms-outlook"
	default:
		v = danger("application/x-ole-storage", "a compound document that may hold macros or an installer")
		v.container = containerOLE2
	}
	return v
}

// applyName makes v dangerous when the file's name says it runs.
func applyName(name string, v verdict) verdict {
	if ext := extension(name); !v.Dangerous && dangerousExt[ext] {
		v.Dangerous, v.Reason = true, "a ."+ext+" file"
	}
	return v
}
