package password

// Repetitive passwords: repeats ("aaaaaaaaaaaa", "abcabcabcabc"), sequences
// ("abcdefghijkl", "123456789012") and keyboard walks ("qwertyuiopas",
// "1qaz2wsx3edc"). zxcvbn left these off its list because it matches them
// as patterns, so they are tested here.

// lines are the runs a sequence or keyboard walk follows, forwards or
// backwards. Digits repeat so that a sequence can wrap (…8901…).
var lines = [][]rune{
	[]rune("01234567890123456789"),
	[]rune("abcdefghijklmnopqrstuvwxyz"),
	[]rune("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"), // Persian alphabet, folded forms
	// US keyboard rows, shifted digit row, slanted columns, keypad.
	[]rune("`1234567890-="),
	[]rune("~!@#$%^&*()_+"),
	[]rune("qwertyuiop[]\\"),
	[]rune("asdfghjkl;'"),
	[]rune("zxcvbnm,./"),
	[]rune("1qaz"), []rune("2wsx"), []rune("3edc"), []rune("4rfv"), []rune("5tgb"),
	[]rune("6yhn"), []rune("7ujm"), []rune("8ik,"), []rune("9ol."), []rune("0p;/"),
	[]rune("147"), []rune("258"), []rune("369"), []rune("159"), []rune("357"),
}

type linePos struct{ line, idx int }

// onLines indexes every rune of lines by where it stands.
var onLines = func() map[rune][]linePos {
	m := map[rune][]linePos{}
	for li, l := range lines {
		for i, r := range l {
			m[r] = append(m[r], linePos{li, i})
		}
	}
	return m
}()

// minRun is the shortest piece of a line or repeat that counts.
const minRun = 3

// walk reports whether rs is made wholly of runs of at least minRun runes,
// each a repeat of one rune or a stretch of a line read either way:
// "qwerty123", "1qaz2wsx3edc", "aaa111bbb222".
func walk(rs []rune) bool {
	n := len(rs)
	if n < minRun {
		return false
	}
	reach := make([]bool, n+1)
	reach[0] = true
	mark := func(from, to int) { // runs rs[from:e] for e in [from+minRun, to]
		for e := from + minRun; e <= to; e++ {
			reach[e] = true
		}
	}
	for i := 0; i < n; i++ {
		if !reach[i] {
			continue
		}
		k := i + 1
		for k < n && rs[k] == rs[i] {
			k++
		}
		mark(i, k)
		for _, p := range onLines[rs[i]] {
			l := lines[p.line]
			for _, d := range [2]int{1, -1} {
				k := 1
				for i+k < n && p.idx+d*k >= 0 && p.idx+d*k < len(l) && l[p.idx+d*k] == rs[i+k] {
					k++
				}
				mark(i, i+k)
			}
		}
	}
	return reach[n]
}

// periodic reports whether rs is one unit said at least twice
// ("abcabcab"), by the shortest period from the KMP failure function.
func periodic(rs []rune) bool {
	n := len(rs)
	if n < 2 {
		return false
	}
	fail := make([]int, n)
	for i, k := 1, 0; i < n; i++ {
		for k > 0 && rs[i] != rs[k] {
			k = fail[k-1]
		}
		if rs[i] == rs[k] {
			k++
		}
		fail[i] = k
	}
	period := n - fail[n-1]
	return period*2 <= n
}

// fewDistinct reports a string of at most three different characters,
// each used three times on average ("aaaabbbbcccc", "!!!"; not "aim" or
// "barbara").
func fewDistinct(rs []rune) bool {
	seen := make(map[rune]bool, 4)
	for _, r := range rs {
		seen[r] = true
		if len(seen) > 3 {
			return false
		}
	}
	return 3*len(seen) <= len(rs)
}

// simple reports whether rs is a repeat, a sequence or a keyboard walk.
func simple(rs []rune) bool {
	return len(rs) >= minRun && (fewDistinct(rs) || periodic(rs) || walk(rs))
}

// repetitiveReason returns why s (a folded form) is repetitive, or "". A
// run with a character or two either side still counts ("abcdefghij12").
func repetitiveReason(s string) string {
	rs := []rune(s)
	if len(rs) < minRun {
		return ""
	}
	if fewDistinct(rs) {
		return "repeats the same characters or pattern"
	}
	for i := 0; i <= 2; i++ {
		for j := 0; j <= 2; j++ {
			core := rs[i : len(rs)-j]
			if len(core) < 2*minRun {
				continue
			}
			if periodic(core) {
				return "repeats the same characters or pattern"
			}
			if walk(core) {
				return "is a sequence or keyboard pattern, like abcd, 1234 or qwerty"
			}
		}
	}
	return ""
}
