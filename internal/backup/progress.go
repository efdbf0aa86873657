package backup

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// progressEvery is how often a long table reports; short runs print only
// one line per table.
const progressEvery = 2 * time.Second

// progress prints "tables: tickets 120,000/1,000,000 rows" lines, at most
// one every progressEvery per phase and one when a table is done.
type progress struct {
	w    io.Writer
	last time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, last: time.Now()} }

func (p *progress) rows(label string, n, total int64, unit string, done bool) {
	if p == nil || p.w == nil {
		return
	}
	if !done && time.Since(p.last) < progressEvery {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "%s %s/%s %s\n", label, thousands(n), thousands(total), unit)
}

func (p *progress) say(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

// thousands formats n as 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}
