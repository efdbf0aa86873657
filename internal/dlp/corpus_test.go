package dlp

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// corpusLine is one labelled message of testdata/corpus.tsv.
type corpusLine struct {
	n     int
	want  map[Kind]int // how many values of each kind the message holds
	text  string
	label string
}

// readCorpus reads testdata/corpus.tsv: "label<TAB>text" per line, label a
// comma-separated list of kinds (a kind twice for two values) or "none";
// "\n" in the text stands for a newline; lines starting with # are comments.
func readCorpus(t *testing.T) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("corpus.tsv:%d: no tab", n)
		}
		l := corpusLine{n: n, want: map[Kind]int{}, text: strings.ReplaceAll(text, `\n`, "\n"), label: label}
		if label != "none" {
			for _, k := range strings.Split(label, ",") {
				switch Kind(k) {
				case KindCard, KindCVV, KindPIN, KindIBAN, KindNationalID:
					l.want[Kind(k)]++
				default:
					t.Fatalf("corpus.tsv:%d: unknown kind %q", n, k)
				}
			}
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// tally counts true positives, false positives and false negatives.
type tally struct{ tp, fp, fn int }

func (c tally) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c tally) recall() float64    { return ratio(c.tp, c.tp+c.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestCorpusPrecisionRecall measures the rules on a corpus of realistic
// Persian and English support messages, look-alikes included. Counting is
// per value: a line labelled "card" where two cards are found scores one
// true and one false positive, so precision here is stricter than "the
// kind is in the label".
func TestCorpusPrecisionRecall(t *testing.T) {
	lines := readCorpus(t)
	if len(lines) < 120 {
		t.Fatalf("corpus has %d lines, want at least 120", len(lines))
	}
	kinds := []Kind{KindCard, KindCVV, KindPIN, KindIBAN, KindNationalID}
	per := map[Kind]*tally{}
	for _, k := range kinds {
		per[k] = &tally{}
	}
	for _, l := range lines {
		got := map[Kind]int{}
		for _, f := range Scan(l.text) {
			got[f.Kind]++
		}
		for _, k := range kinds {
			tp := min(got[k], l.want[k])
			c := per[k]
			c.tp += tp
			c.fp += got[k] - tp
			c.fn += l.want[k] - tp
			if got[k] != l.want[k] {
				t.Logf("corpus.tsv:%d [%s] found %d %s, want %d: %q", l.n, l.label, got[k], k, l.want[k], l.text)
			}
		}
	}
	var all tally
	t.Logf("%-12s %5s %4s %4s %9s %7s", "kind", "TP", "FP", "FN", "precision", "recall")
	for _, k := range kinds {
		c := per[k]
		all.tp, all.fp, all.fn = all.tp+c.tp, all.fp+c.fp, all.fn+c.fn
		t.Logf("%-12s %5d %4d %4d %9.3f %7.3f", k, c.tp, c.fp, c.fn, c.precision(), c.recall())
	}
	t.Logf("%-12s %5d %4d %4d %9.3f %7.3f   (%d lines)", "overall", all.tp, all.fp, all.fn, all.precision(), all.recall(), len(lines))
	if all.precision() < 0.95 || all.recall() < 0.95 {
		t.Errorf("overall precision %.3f, recall %.3f: both must be at least 0.95", all.precision(), all.recall())
	}
}
