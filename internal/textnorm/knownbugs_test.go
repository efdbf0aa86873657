package textnorm_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/textnorm"
)

// These tests state promises Words does not keep yet. They are skipped
// unless HESAR_KNOWN_BUGS=1; each names the bug it shows.

func TestLongMixedScriptWordIsCappedOnARuneBoundary(t *testing.T) {
	// One ASCII letter shifts the two-byte Persian letters so that byte 64
	// falls inside one of them.
	for _, word := range []string{"a" + strings.Repeat("ب", 100), "0" + strings.Repeat("ب", 40) + "000"} {
		got := textnorm.Words(word)
		if len(got) != 1 {
			t.Fatalf("Words(%q) = %q, want one word", word, got)
		}
		if !utf8.ValidString(got[0]) {
			t.Errorf("capped word %+q is not valid UTF-8", got[0])
		}
		if again := textnorm.Words(got[0]); !slices.Equal(again, got) {
			t.Errorf("capped word %+q normalizes again to %+q: Words is not a fixed point", got[0], again)
		}
	}
}

func TestWordsOfWordsAreTheSameWords(t *testing.T) {
	for _, s := range []string{
		"\u1100\u0300\u1161",         // jamo ᄀ + grave + ᅡ: two letters, then one syllable
		"\u1100\u200c\u1161\u11a8ab", // ZWNJ between jamo
	} {
		words := textnorm.Words(s)
		if again := textnorm.Words(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Errorf("Words(%+q) = %+q, but Words of that = %+q", s, words, again)
		}
	}
}
