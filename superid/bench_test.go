package superid_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
)

// BenchmarkVerifyIDToken is the full check of a SuperID-shaped id_token
// (keys cached): size cap, golang-jwt's Parser (header, claims, x5t
// lookup, RS256 signature), the typed claims, golang-jwt's Validator (iss,
// aud, exp, nbf, iat), azp, nonce. Compare with
// BenchmarkVerifyIDTokenBaseline, the bare signature check of the same
// token.
func BenchmarkVerifyIDToken(b *testing.B) {
	tk := newTrustedKey(b)
	raw := tk.sign(b, jwt.SigningMethodRS256, tk.key, superIDClaims())
	c := verifier(b, tk, testNow)
	ctx := context.Background()
	_, err := c.VerifyIDToken(ctx, raw, superid.WithNonce("n-0S6_WzA2Mj"))
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := c.VerifyIDToken(ctx, raw, superid.WithNonce("n-0S6_WzA2Mj")); err != nil {
			require.NoError(b, err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkVerifyIDTokenBaseline is the RSA-2048 PKCS#1 v1.5 check alone:
// SHA-256 of the signing input and rsa.VerifyPKCS1v15, with the signature
// already decoded.
func BenchmarkVerifyIDTokenBaseline(b *testing.B) {
	tk := newTrustedKey(b)
	raw := tk.sign(b, jwt.SigningMethodRS256, tk.key, superIDClaims())
	i := strings.LastIndexByte(raw, '.')
	signing := []byte(raw[:i])
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	require.NoError(b, err)
	pub := &tk.key.PublicKey
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		sum := sha256.Sum256(signing)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			require.NoError(b, err)
		}
	}
	reportCPU(b, cpu)
}

func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
