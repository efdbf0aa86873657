package bench

import (
	"testing"
	"time"
)

func TestPercentileUsesNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p0", []time.Duration{7}, 0, 7},
		{"single p99", []time.Duration{7}, 99, 7},
		{"p0 is the minimum", hundred, 0, 1 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"p50 of ten", ten, 50, 5},
		{"p95 of ten rounds up to the last", ten, 95, 10},
		{"p91 of ten", ten, 91, 10},
		{"p90 of ten", ten, 90, 9},
		{"p11 of ten", ten, 11, 2},
	}
	for _, c := range cases {
		if got := Percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: Percentile(p=%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

func TestSummarizeSortsAndReportsMilliseconds(t *testing.T) {
	lat := []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	r := summarize("get", lat, 1, 2*time.Second)
	want := Result{Op: "get", Requests: 4, Errors: 1, Throughput: 2, P50: 2, P95: 4, P99: 4, Max: 4}
	if r != want {
		t.Errorf("summarize = %+v, want %+v", r, want)
	}
}

func TestThousandsGroupsDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 4100: "4,100", 1234567: "1,234,567", -12000: "-12,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
