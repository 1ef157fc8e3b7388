package systemuser

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerifies(t *testing.T) {
	k := testKey()
	const token = "SuperOffice DevNet Node OIDC-8k8Q7DmBgo" // spaces are part of it
	at := time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC)
	signed, err := Sign(k, token, at)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(signed, '.')
	signedPart, sig64 := signed[:i], signed[i+1:]
	if want := token + ".202501311405"; signedPart != want {
		t.Fatalf("signed part = %q, want %q", signedPart, want)
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		t.Fatalf("signature is not standard base64: %v", err)
	}
	sum := sha256.Sum256([]byte(signedPart))
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify with the public key: %v", err)
	}
	// Deterministic, and bound to the token bytes.
	again, _ := Sign(k, token, at.Add(59*time.Second))
	if again != signed {
		t.Error("same minute, different signature")
	}
	other, _ := Sign(k, token+" ", at)
	if other[strings.LastIndexByte(other, '.')+1:] == sig64 {
		t.Error("a trailing space did not change the signature")
	}
}

func TestSignTimestampIsUTC(t *testing.T) {
	k := testKey()
	utc := time.Date(2024, 12, 31, 23, 59, 30, 0, time.UTC)
	for _, loc := range []*time.Location{
		time.UTC,
		time.FixedZone("IST", 5*3600+1800), // already next year locally
		time.FixedZone("HST", -10*3600),    // earlier the same day
		time.FixedZone("PM", 13*3600),      // 12-hour clock would say 12
	} {
		signed, err := Sign(k, "Tok", utc.In(loc))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(signed, "Tok.202412312359.") {
			t.Errorf("in %s: signed %q, want timestamp 202412312359", loc, signed[:17])
		}
	}
	// 24-hour clock: 14:05 is 1405, not 0205.
	signed, _ := Sign(k, "Tok", time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC))
	if !strings.HasPrefix(signed, "Tok.202501311405.") {
		t.Errorf("signed %q, want a 24-hour timestamp", signed[:17])
	}
	// The local zone of the process does not matter either.
	old := time.Local
	time.Local = time.FixedZone("X", -7*3600)
	defer func() { time.Local = old }()
	signed, _ = Sign(k, "Tok", time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC).Local())
	if !strings.HasPrefix(signed, "Tok.202501311405.") {
		t.Errorf("with TZ set: signed %q", signed[:17])
	}
}

func TestSignErrors(t *testing.T) {
	if _, err := Sign(nil, "tok", time.Now()); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := Sign(testKey(), "", time.Now()); err == nil || !strings.HasPrefix(err.Error(), "systemuser: ") {
		t.Errorf("empty token: %v", err)
	}
}

// BenchmarkSign and BenchmarkSignBare measure what Sign adds to the RSA
// operation over the same bytes (hashing is part of both).
func BenchmarkSign(b *testing.B) {
	k := testKey()
	at := time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(k, "SuperOffice DevNet Node OIDC-8k8Q7DmBgo", at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignBare(b *testing.B) {
	k := testKey()
	msg := []byte("SuperOffice DevNet Node OIDC-8k8Q7DmBgo.202501311405")
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(msg)
		if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRatio alternates Sign and the bare RSA operation in one
// loop, so that a busy machine slows both alike, and reports Sign's time
// over the bare one's as sign/bare (the target is at most 1.05).
func BenchmarkSignRatio(b *testing.B) {
	k := testKey()
	const token = "SuperOffice DevNet Node OIDC-8k8Q7DmBgo"
	at := time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC)
	msg := []byte(token + ".202501311405")
	var signT, bareT time.Duration
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so neither always gets a warm cache.
		for j := range 2 {
			start := time.Now()
			if (i+j)%2 == 0 {
				if _, err := Sign(k, token, at); err != nil {
					b.Fatal(err)
				}
				signT += time.Since(start)
			} else {
				sum := sha256.Sum256(msg)
				if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); err != nil {
					b.Fatal(err)
				}
				bareT += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(signT)/float64(bareT), "sign/bare")
}
