package dlp

import (
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpCPU(t *testing.T) {
	msg := benchMessage()
	for k := 0; k < 3; k++ {
		n := 20000
		c0 := cpuNow()
		for i := 0; i < n; i++ {
			Mask(msg)
		}
		t.Logf("Mask CPU/op: %v (%d bytes)", (cpuNow()-c0)/time.Duration(n), len(msg))
	}
}

var sink int

func TestTmpBaseline(t *testing.T) {
	msg := benchMessage()
	n := 20000
	c0 := cpuNow()
	for i := 0; i < n; i++ {
		for _, r := range msg {
			if r > 'a' {
				sink++
			}
		}
	}
	t.Logf("rune loop CPU/op: %v", (cpuNow()-c0)/time.Duration(n))
	c0 = cpuNow()
	for i := 0; i < n; i++ {
		tokenize(msg, nil)
	}
	t.Logf("tokenize CPU/op: %v", (cpuNow()-c0)/time.Duration(n))
	c0 = cpuNow()
	for i := 0; i < n; i++ {
		findKeywords(msg, nil)
	}
	t.Logf("keywords CPU/op: %v", (cpuNow()-c0)/time.Duration(n))
	s := newScanner(msg)
	c0 = cpuNow()
	for i := 0; i < n; i++ {
		s.found = s.found[:0]
		s.ibans()
	}
	t.Logf("ibans CPU/op: %v", (cpuNow()-c0)/time.Duration(n))
	c0 = cpuNow()
	for i := 0; i < n; i++ {
		s.found = s.found[:0]
		s.cardLast = s.cardLast[:0]
		s.cards()
		s.shebas()
		s.secrets()
		s.nationalIDs()
	}
	t.Logf("rules CPU/op: %v", (cpuNow()-c0)/time.Duration(n))
}

func BenchmarkTmpKeywords(b *testing.B) {
	msg := benchMessage()
	for b.Loop() {
		findKeywords(msg, nil)
	}
}
