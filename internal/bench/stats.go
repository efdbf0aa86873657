package bench

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result is what one operation measured.
type Result struct {
	Op         string  `json:"op"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Throughput float64 `json:"throughput_per_s"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

// Percentile returns the p-th percentile (0–100) of sorted latencies by the
// nearest-rank method: the smallest sample that at least p percent of the
// samples do not exceed. Unlike interpolation it always names a latency
// some request really had, which is what a p99 target is about.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize turns one operation's raw latencies into a Result. It sorts
// latencies in place.
func summarize(op string, latencies []time.Duration, errors int, elapsed time.Duration) Result {
	slices.Sort(latencies)
	r := Result{Op: op, Requests: len(latencies), Errors: errors}
	if elapsed > 0 {
		r.Throughput = round(float64(len(latencies))/elapsed.Seconds(), 1)
	}
	r.P50 = ms(Percentile(latencies, 50))
	r.P95 = ms(Percentile(latencies, 95))
	r.P99 = ms(Percentile(latencies, 99))
	r.Max = ms(Percentile(latencies, 100))
	return r
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, places int) float64 {
	f := math.Pow(10, float64(places))
	return math.Round(v*f) / f
}

// rssMB reads this process's resident memory from /proc (Linux only); ok
// is false elsewhere.
func rssMB() (mb float64, ok bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, found := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !found {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
		if err != nil {
			return 0, false
		}
		return round(kb/1024, 1), true
	}
	return 0, false
}

// thousands formats n with comma separators, for progress lines.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
