package audit_test

import (
	"sync/atomic"
	"testing"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

// The benchmarks run at concurrency 32 (16 goroutines per core on the
// 2-core target): the load a busy instance puts on the audit log when
// every ticket view is recorded.
const benchParallelism = 16

// BenchmarkWrite is an audited read: one record in a write of its own.
func BenchmarkWrite(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, kind, audit.Options{})
			var n atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := e.log.Write(ctx, e.entry(int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			e.seal(b)
		})
	}
}

// BenchmarkRecord is an audited change: Record inside the caller's write,
// beside a row of its own (the change).
func BenchmarkRecord(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, kind, audit.Options{})
			var n atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					err := e.db.Write(ctx, func(tx *db.Tx) error { return e.log.Record(ctx, tx, e.entry(i)) })
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			e.seal(b)
		})
	}
}

// BenchmarkSeal chains records already written.
func BenchmarkSeal(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, kind, audit.Options{})
			for i := range b.N {
				if err := e.log.Write(ctx, e.entry(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			e.seal(b)
		})
	}
}
