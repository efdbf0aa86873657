package dlp

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds seeds a fuzz target with the unit-test style samples and every
// line of the corpus.
func addSeeds(f *testing.F) {
	for _, s := range []string{
		"", "6037 9912 3456 7893 05/27 123", "cvv2 ۱۲۳", "IR11 0170 0000 0012 3456 7890 01",
		"کد ملی 0012345679", "001-234567-9", "شبا ۱۱۰۱۷۰۰۰۰۰۰۰۱۲۳۴۵۶۷۸۹۰۰۱", "• 6037991234567893",
		"6037991234567893 6037991234567893", "\xff6037991234567893\xfe",
	} {
		f.Add(s)
	}
	file, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if _, text, ok := strings.Cut(sc.Text(), "\t"); ok {
			f.Add(text)
		}
	}
}

// checkFindings fails unless findings are in range, ordered, non-overlapping
// and, for valid UTF-8 input, cut on character boundaries.
func checkFindings(t *testing.T, text string, found []Finding) {
	t.Helper()
	end := 0
	for _, f := range found {
		if f.Start < end || f.End <= f.Start || f.End > len(text) {
			t.Fatalf("finding %+v out of order or range (previous end %d, len %d) in %q", f, end, len(text), text)
		}
		if utf8.ValidString(text) && (!utf8.ValidString(text[f.Start:f.End]) || !utf8.RuneStart(text[f.Start]) ||
			f.End < len(text) && !utf8.RuneStart(text[f.End])) {
			t.Fatalf("finding %+v cuts a character in %q", f, text)
		}
		end = f.End
	}
}

func FuzzScan(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		checkFindings(t, text, Scan(text))
	})
}

func FuzzMask(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		masked, found := Mask(text)
		checkFindings(t, text, found)
		if utf8.ValidString(text) && !utf8.ValidString(masked) {
			t.Fatalf("Mask(%q) = %q, not valid UTF-8", text, masked)
		}
		var cards []string
		for _, c := range found {
			if c.Kind == KindCard {
				cards = append(cards, string(appendASCIIDigits(nil, text[c.Start:c.End])))
			}
		}
		for _, run := range digitRuns(masked) {
			if len(run) >= 13 && len(run) <= 19 && slices.Contains(cards, run) {
				t.Fatalf("Mask(%q) = %q still holds card %s", text, masked, run)
			}
		}
		if again, refound := Mask(masked); again != masked {
			t.Fatalf("Mask not idempotent:\n in    %q\n once  %q\n twice %q\n found %+v", text, masked, again, refound)
		}
	})
}

// digitRuns returns the digits (as ASCII) of each token of s, and of each
// run of digit-only tokens linked by single separators, so a card survives
// neither whole nor in its groups. A masked token ends a run: its digits are
// not next to each other any more.
func digitRuns(s string) []string {
	var runs []string
	toks := tokenize(s, nil)
	for _, t := range toks {
		runs = append(runs, string(appendASCIIDigits(nil, s[t.start:t.end])))
	}
	for a := 0; a < len(toks); a++ {
		if !toks[a].pure {
			continue
		}
		b := a
		for b+1 < len(toks) && toks[b].link != linkNone && toks[b+1].pure {
			b++
		}
		runs = append(runs, string(appendASCIIDigits(nil, s[toks[a].start:toks[b].end])))
		a = b
	}
	return runs
}

func appendASCIIDigits(dst []byte, s string) []byte {
	for _, v := range appendDigits(nil, s) {
		dst = append(dst, '0'+v)
	}
	return dst
}
