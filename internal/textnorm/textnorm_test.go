package textnorm_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/textnorm"
)

func TestWordsNormalizeAsUsersType(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"arabic yeh folds to persian", "علي", []string{"علی"}},
		{"arabic alef maksura folds to persian yeh", "مصطفى", []string{"مصطفی"}},
		{"arabic kaf folds to persian", "كتاب", []string{"کتاب"}},
		{"teh marbuta folds to heh", "مدرسة", []string{"مدرسه"}},
		{"hamza forms fold", "أحمد إيران آب مؤمن", []string{"احمد", "ایران", "اب", "مومن"}},
		{"persian digits become ascii", "۱۲۳۴", []string{"1234"}},
		{"arabic-indic digits become ascii", "٤٥٦", []string{"456"}},
		{"mixed digit scripts make one number", "۱2٣", []string{"123"}},
		{"zwnj joins the word", "می\u200cروم", []string{"میروم"}},
		{"zwj and tatweel vanish", "کــتـ\u200dاب", []string{"کتاب"}},
		{"directional marks vanish", "\u200fسلام\u200e", []string{"سلام"}},
		{"arabic diacritics vanish", "مُحَمَّد", []string{"محمد"}},
		{"kasra vanishes", "کِتاب", []string{"کتاب"}},
		{"latin lower-cased", "Hello WORLD", []string{"hello", "world"}},
		{"fullwidth folded by nfkc", "ＨＥＬＬＯ", []string{"hello"}},
		{"ligature folded by nfkc", "ﬁle", []string{"file"}},
		{"arabic presentation forms folded by nfkc", "ﺳﻼﻡ", []string{"سلام"}},
		{"ascii punctuation splits", "refund,order#1234!now.please", []string{"refund", "order", "1234", "now", "please"}},
		{"persian punctuation splits", "سلام،دنیا؟خوبی؛بله", []string{"سلام", "دنیا", "خوبی", "بله"}},
		{"email splits into parts", "ali.rezaei@example.com", []string{"ali", "rezaei", "example", "com"}},
		{"whitespace of all kinds splits", "a\tbc\nde\u00a0fg\u3000hi", []string{"bc", "de", "fg", "hi"}},
		{"single letters dropped", "a b c I am", []string{"am"}},
		{"single persian letter dropped", "من و تو", []string{"من", "تو"}},
		{"single digits kept", "5 ۵ ٧", []string{"5", "5", "7"}},
		{"empty", "", nil},
		{"only punctuation", " ,.;!؟ ", nil},
		{"duplicates kept in order", "the cat the", []string{"the", "cat", "the"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := textnorm.Words(c.in); !slices.Equal(got, c.want) {
				t.Errorf("Words(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestSpellingVariantsMatch(t *testing.T) {
	// What a customer writes and what an agent searches for must meet.
	pairs := [][2]string{
		{"می‌روم", "میروم"},
		{"علي", "علی"},
		{"كيك", "کیک"},
		{"سفارش ۱۲۳", "سفارش 123"},
		{"سفارش ١٢٣", "سفارش 123"},
		{"مُحَمَّد", "محمد"},
		{"REFUND", "refund"},
	}
	for _, p := range pairs {
		if a, b := textnorm.Words(p[0]), textnorm.Words(p[1]); !slices.Equal(a, b) {
			t.Errorf("Words(%q) = %q but Words(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
}

func TestLongWordsAreCapped(t *testing.T) {
	for name, word := range map[string]string{
		"ascii":   strings.Repeat("a", 200),
		"persian": strings.Repeat("ب", 200),
	} {
		t.Run(name, func(t *testing.T) {
			got := textnorm.Words(word + " tail")
			if len(got) != 2 || got[1] != "tail" {
				t.Fatalf("Words = %q, want the capped word then %q", got, "tail")
			}
			w := got[0]
			if len(w) > 64 || len(w) < 32 {
				t.Errorf("capped word is %d bytes, want at most 64 (and not cut to nothing)", len(w))
			}
			if !strings.HasPrefix(word, w) {
				t.Errorf("capped word %q is not a prefix of the original", w)
			}
			if !utf8.ValidString(w) {
				t.Errorf("capped word %q is not valid UTF-8", w)
			}
			if again := textnorm.Words(word + "zzz"); again[0] != w {
				t.Errorf("two words sharing a long prefix capped differently: %q, %q", again[0], w)
			}
		})
	}
}

func TestUniqueWordsKeepFirstSeenOrder(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"the cat the dog cat", []string{"the", "cat", "dog"}},
		{"علي علی على", []string{"علی"}},
		{"Refund REFUND refund", []string{"refund"}},
		{"", nil},
	}
	for _, c := range cases {
		got := textnorm.UniqueWords(c.in)
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("UniqueWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEmailIsTrimmedAndCaseFolded(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ali@example.com", "ali@example.com"},
		{"  Ali@Example.COM \n", "ali@example.com"},
		{"\tSUPPORT@ACME.IO", "support@acme.io"},
		{"re\u0301sume\u0301@example.com", "résumé@example.com"}, // NFC: one spelling per address
		{"", ""},
	}
	for _, c := range cases {
		if got := textnorm.Email(c.in); got != c.want {
			t.Errorf("Email(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if textnorm.Email("Ali@Example.com") != textnorm.Email("ali@EXAMPLE.com ") {
		t.Error("two spellings of one address normalize differently")
	}
}

func FuzzWords(f *testing.F) {
	for _, seed := range []string{
		"", "hello world", "می‌روم به مدرسة", "علي ۱۲۳ ٤٥٦", "مُحَمَّد", "ＨＥＬＬＯ ﬁle",
		"a b c 5", "refund,order#1234!", strings.Repeat("ب", 80), "\xff\xfe bad utf8 \xc3",
		"İstanbul ß ΣΑΣ", "e\u0301 \u0301\u0301",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := textnorm.Words(s)
		for _, w := range words {
			if w == "" {
				t.Fatalf("Words(%q) contains an empty word", s)
			}
			if strings.IndexFunc(w, unicode.IsSpace) >= 0 {
				t.Fatalf("Words(%q) contains %q, which has a space", s, w)
			}
			if len(w) > 64 {
				t.Fatalf("Words(%q) contains a word of %d bytes", s, len(w))
			}
			// Words are built rune by rune, so even invalid input (whose
			// bad bytes separate words) gives valid UTF-8.
			if !utf8.ValidString(w) {
				t.Fatalf("Words(%q) contains invalid UTF-8 %q", s, w)
			}
		}
		// Searching for a word found in a text finds that same word.
		if again := textnorm.Words(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Fatalf("not idempotent: Words(%q) = %q, but Words of that joined = %q", s, words, again)
		}
		unique := textnorm.UniqueWords(s)
		seen := map[string]bool{}
		for _, w := range unique {
			if seen[w] || !slices.Contains(words, w) {
				t.Fatalf("UniqueWords(%q) = %q: duplicate or foreign word %q", s, unique, w)
			}
			seen[w] = true
		}
		if len(seen) != len(slices.Compact(slices.Sorted(slices.Values(words)))) {
			t.Fatalf("UniqueWords(%q) = %q lost words of %q", s, unique, words)
		}
	})
}
