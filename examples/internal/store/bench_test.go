package store

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkClaimComplete measures the store's share of processing one tenant: a claim
// (in batches of 100) and its Complete. Compare tenant-ns with BenchmarkRSASign, the
// unit of the console's crypto bound.
func BenchmarkClaimComplete(b *testing.B) {
	run := func(b *testing.B, db *testDB) {
		ctx := context.Background()
		s := db.open(b)
		for i := range 2000 {
			mustUpsert(b, s, approval(i))
		}
		now := db.clock.Now()
		tenants := 0
		start := time.Now()
		for b.Loop() {
			cs, err := s.ClaimDue(ctx, "bench", now, time.Minute, 100)
			if err != nil || len(cs) == 0 {
				b.Fatalf("claim: %d, %v", len(cs), err)
			}
			for _, c := range cs {
				// Due again at once, so that the pool never runs dry.
				if err := s.Complete(ctx, c, Result{At: now, NextRun: now, Summary: "x"}); err != nil {
					b.Fatal(err)
				}
			}
			tenants += len(cs)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(tenants), "ns/tenant")
	}
	b.Run("sqlite", func(b *testing.B) { run(b, newSQLiteDB(b)) })
	b.Run("postgres", func(b *testing.B) { run(b, newPostgresDB(b)) })
}

// BenchmarkRSASign is one RSA-2048 PKCS#1 v1.5 signature, for scale.
func BenchmarkRSASign(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.Sum256([]byte("token.202503140926"))
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}
