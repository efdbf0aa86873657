package attachment

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("ب", 300)
	for in, want := range map[string]string{
		"invoice.pdf":                   "invoice.pdf",
		"../../etc/passwd":              "passwd",
		`a\b\c.txt`:                     "c.txt",
		"C:\\Users\\x\\evil.exe":        "evil.exe",
		"\u202Eexe.pdf":                 "exe.pdf",
		"photo\u202Egpj.exe":            "photogpj.exe",
		"\u2066x\u2069.txt":             "x.txt",
		"":                              DefaultName,
		"..":                            DefaultName,
		"/":                             DefaultName,
		".bashrc":                       "bashrc",
		"report.exe.  ..":               "report.exe",
		"a\x00b\x1f\x7fc.txt":           "abc.txt",
		"tab\there.txt":                 "tab here.txt",
		`what?<>:"|*.txt`:               "what_______.txt",
		"CON":                           "_CON",
		"nul.txt":                       "_nul.txt",
		"com1.log":                      "_com1.log",
		"console.txt":                   "console.txt",
		"نامه\u200cها.pdf":              "نامه\u200cها.pdf", // ZWNJ stays
		"e\u0301.txt":                   "é.txt",            // NFC
		"bad\xff\xfeutf8.txt":           "badutf8.txt",
		long + ".pdf":                   strings.Repeat("ب", 196) + ".pdf",
		strings.Repeat("x", 300):        strings.Repeat("x", 200),
		"a." + strings.Repeat("y", 250): "a." + strings.Repeat("y", 198),
	} {
		if got := SanitizeName(in); got != want {
			t.Errorf("SanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `a\b\c.txt`, "\u202Eexe.pdf", "", ".", " . ", "CON.txt",
		strings.Repeat("ا", 250) + ".docx", "x\u0301\u200b\u0301", "a.\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeName(in)
		switch {
		case out == "":
			t.Fatal("empty")
		case !utf8.ValidString(out):
			t.Fatalf("%q: invalid UTF-8", out)
		case utf8.RuneCountInString(out) > MaxNameRunes:
			t.Fatalf("%q: %d characters", out, utf8.RuneCountInString(out))
		case strings.ContainsAny(out, `/\<>:"|?*`):
			t.Fatalf("%q: separator or reserved character", out)
		case strings.HasPrefix(out, ".") || strings.HasPrefix(out, " "):
			t.Fatalf("%q: leading dot or space", out)
		case strings.HasSuffix(out, ".") || strings.HasSuffix(out, " "):
			t.Fatalf("%q: trailing dot or space", out)
		case reservedDevice(out):
			t.Fatalf("%q: reserved device name", out)
		}
		for _, r := range out {
			if unicode.Is(unicode.Cc, r) || dropRune(r) {
				t.Fatalf("%q: holds %U", out, r)
			}
		}
		if again := SanitizeName(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}
