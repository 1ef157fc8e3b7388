package systemuser

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignVerifies(t *testing.T) {
	k := testKey()
	const token = "SuperOffice DevNet Node OIDC-8k8Q7DmBgo" // spaces are part of it
	at := time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC)
	signed, err := Sign(k, token, at)
	require.NoError(t, err)
	i := strings.LastIndexByte(signed, '.')
	signedPart, sig64 := signed[:i], signed[i+1:]
	require.Equal(t, token+".202501311405", signedPart)
	sig, err := base64.StdEncoding.DecodeString(sig64)
	require.NoError(t, err, "signature is not standard base64")
	sum := sha256.Sum256([]byte(signedPart))
	require.NoError(t, rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig), "signature does not verify with the public key")
	// Deterministic, and bound to the token bytes.
	again, err := Sign(k, token, at.Add(59*time.Second))
	require.NoError(t, err)
	assert.Equal(t, signed, again, "same minute, different signature")
	other, err := Sign(k, token+" ", at)
	require.NoError(t, err)
	assert.NotEqual(t, sig64, other[strings.LastIndexByte(other, '.')+1:], "a trailing space did not change the signature")
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
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(signed, "Tok.202412312359."), "in %s: signed %q, want timestamp 202412312359", loc, signed[:17])
	}
	// 24-hour clock: 14:05 is 1405, not 0205.
	signed, err := Sign(k, "Tok", time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(signed, "Tok.202501311405."), "signed %q, want a 24-hour timestamp", signed[:17])
	// The local zone of the process does not matter either.
	old := time.Local
	time.Local = time.FixedZone("X", -7*3600)
	defer func() { time.Local = old }()
	signed, err = Sign(k, "Tok", time.Date(2025, 1, 31, 14, 5, 0, 0, time.UTC).Local())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(signed, "Tok.202501311405."), "with TZ set: signed %q", signed[:17])
}

func TestSignErrors(t *testing.T) {
	_, err := Sign(nil, "tok", time.Now())
	assert.ErrorIs(t, err, ErrInvalidKey, "nil key")
	_, err = Sign(testKey(), "", time.Now())
	assert.ErrorIs(t, err, ErrInvalidArgument, "empty token")
	assert.ErrorContains(t, err, "systemuser: ", "empty token")
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
