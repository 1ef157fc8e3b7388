package worker_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// BenchmarkCycle measures a first cycle over CONSOLE_BENCH_TENANTS tenants
// (default 1,000) against the in-process emulator with RSA-2048 keys, every
// tenant exchanged, and then three second cycles, each by another worker
// as another instance would run it: tickets and states come from the
// database, so they make no exchange (every tenant is due again at once).
// Run it on its own:
//
//	go test -run '^$' -bench Cycle -benchtime 1x ./console/worker/
//
// Metrics: tenants/s of the first cycle; bound_ratio, the time the RSA
// work of the same number of tenants takes alone on every core (per tenant
// the client's signature, SuperID's and the check of SuperID's) over the
// first cycle's time: a cycle that did nothing else would reach 1, so the
// rest is the cycle's own overhead; speedup, the median second cycle's
// rate over the first's; allocs/tenant of the first cycle (allocs/op
// counts the first cycle alone, too). CONSOLE_BENCH_DB=postgres runs it on
// TEST_DATABASE_URL instead of SQLite.
func BenchmarkCycle(b *testing.B) {
	n := 1000
	if s := os.Getenv("CONSOLE_BENCH_TENANTS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err, "CONSOLE_BENCH_TENANTS")
		require.Positive(b, n, "CONSOLE_BENCH_TENANTS")
	}
	const bits = 2048
	ctx := context.Background()
	b.ReportAllocs()
	var rate, ratio, speedup, allocs float64
	for b.Loop() {
		b.StopTimer()
		db := sqliteDB(b)
		if os.Getenv("CONSOLE_BENCH_DB") == "postgres" {
			db = postgresDB(b)
		}
		sc := setup(b, db, n, setupOpts{keyBits: bits, realClock: true})
		bound := cryptoWork(b, n, bits)
		w := sc.newWorker(b, nil, func(c *worker.Config) { c.Workers, c.Interval = 8, time.Millisecond })
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		start := time.Now()
		first, err := w.Cycle(ctx)
		wall := time.Since(start)
		b.StopTimer()
		runtime.ReadMemStats(&m1)
		require.NoError(b, err)
		require.Equal(b, int64(n), first.OK, "first cycle: %+v", first)

		// Three second cycles, each by a fresh worker: one cycle's rate moves
		// with the machine by a tenth and more, their median much less.
		exchanges := sc.srv.Count(superidtest.EndpointSystemUser)
		rates := make([]float64, 3)
		for i := range rates {
			other := sc.newWorker(b, nil, func(c *worker.Config) { c.Workers, c.Interval = 8, time.Millisecond })
			second, err := other.Cycle(ctx)
			require.NoError(b, err)
			require.Equal(b, int64(n), second.OK, "second cycle: %+v", second)
			require.Equal(b, exchanges, sc.srv.Count(superidtest.EndpointSystemUser), "the second cycle exchanged")
			rates[i] = second.Rate()
		}
		slices.Sort(rates)

		rate = float64(n) / wall.Seconds()
		ratio = bound.Seconds() / wall.Seconds()
		speedup = rates[1] / rate
		allocs = float64(m1.Mallocs-m0.Mallocs) / float64(n)
		b.StartTimer()
	}
	b.ReportMetric(rate, "tenants/s")
	b.ReportMetric(ratio, "bound_ratio")
	b.ReportMetric(speedup, "speedup")
	b.ReportMetric(allocs, "allocs/tenant")
}

// cryptoWork is how long the RSA work of a first cycle over n tenants
// takes alone on every core: per tenant one signature by the client (the
// signed system user token), one by SuperID (the system-user JWT) and one
// verification of the latter, with keys of bits.
func cryptoWork(b *testing.B, n, bits int) time.Duration {
	b.Helper()
	client, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(b, err)
	superID, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(b, err)
	h := sha256.Sum256([]byte("Demo-0123456789.202501011200"))
	var next atomic.Int64
	var failed atomic.Bool
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				_, err := rsa.SignPKCS1v15(rand.Reader, client, crypto.SHA256, h[:])
				sig, err2 := rsa.SignPKCS1v15(rand.Reader, superID, crypto.SHA256, h[:])
				if err != nil || err2 != nil || rsa.VerifyPKCS1v15(&superID.PublicKey, crypto.SHA256, h[:], sig) != nil {
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	require.False(b, failed.Load(), "the RSA work failed")
	return time.Since(start)
}
