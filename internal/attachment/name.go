package attachment

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on file names, in characters.
const (
	MaxNameRunes = 200
	// maxExtRunes is the longest extension kept whole when a long name is
	// shortened; longer "extensions" are just part of the name.
	maxExtRunes = 16
)

// DefaultName replaces a name that sanitizes to nothing.
const DefaultName = "attachment"

// SanitizeName turns a client-supplied file name into one that is safe to
// store, show and offer as a download name: no directories (either
// separator), no control or bidirectional-override characters (which make
// "\u202Eexe.pdf" display as "fdp.exe"), no characters Windows refuses, no
// leading dots (hidden files), no trailing dots or spaces (Windows strips
// them, turning "a.exe." into "a.exe"), no reserved device names, at most
// MaxNameRunes characters with the extension kept, NFC-normalized. It
// never fails: a name with nothing left is DefaultName.
func SanitizeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			b.WriteByte(' ') // tabs, newlines, line and paragraph separators, NBSP
		case dropRune(r):
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	// Normalize after filtering: dropping a character can bring a base
	// letter and its combining mark together.
	name = trimName(norm.NFC.String(b.String()))
	if name == "" {
		return DefaultName
	}
	if reservedDevice(name) {
		name = "_" + name
	}
	return shorten(name)
}

// trimName removes leading dots and spaces and trailing dots and spaces.
func trimName(s string) string {
	s = strings.TrimLeft(s, ". ")
	return strings.TrimRight(s, ". ")
}

// dropRune reports characters that never belong in a file name: controls
// and the invisible formatting characters that reorder or hide text.
// ZWNJ and ZWJ (U+200C, U+200D) stay: Persian words need them.
func dropRune(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C: // LRM, RLM, ALM
		return true
	case r == 0x200B, r == 0x2060, r == 0xFEFF, r == 0x00AD: // invisible spaces and hyphen
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// shorten cuts name to MaxNameRunes characters, keeping a short extension.
func shorten(name string) string {
	if utf8.RuneCountInString(name) <= MaxNameRunes {
		return name
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && utf8.RuneCountInString(name[i:]) <= maxExtRunes {
		base, ext = name[:i], name[i:]
	}
	keep := MaxNameRunes - utf8.RuneCountInString(ext)
	runes := []rune(base)
	base = strings.TrimRight(string(runes[:keep]), ". ")
	if base == "" {
		return trimName(ext)
	}
	return base + ext
}

// reservedDevice reports names Windows maps to devices (CON, NUL.txt …).
func reservedDevice(name string) bool {
	stem, _, _ := strings.Cut(strings.ToUpper(name), ".")
	stem = strings.TrimRight(stem, " ")
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) && stem[3] >= '0' && stem[3] <= '9' {
		return true
	}
	return false
}

// extension returns the lower-case extension of a sanitized name, without
// the dot ("" when there is none).
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}
