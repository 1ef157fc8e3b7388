package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
)

const (
	clientID = "6cf25376616343b38d14ddcd804f2891"
	nonce    = "n-0S6_WzA2Mj"
)

var testNow = time.Unix(1581665207, 0)

// fixture is one SuperID-shaped id_token (the documented example payload:
// string iat, 14 string custom claims, an x5t-only header) and its key.
type fixture struct {
	key  *rsa.PrivateKey
	raw  string
	jwks *httptest.Server
}

func newFixture(b *testing.B) *fixture {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(b, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(b, err)
	sum := sha1.Sum(der)
	x5t := base64.RawURLEncoding.EncodeToString(sum[:])
	p := superid.ClaimPrefix
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"sub": "tony@superoffice.com", p + "associateid": "5", p + "identityprovider": "central-superid",
		p + "email": "tony@superoffice.com", p + "upn": "tony@superoffice.com", p + "is_administrator": "False",
		p + "ctx": "Cust26759", p + "company_name": "Tonys Developer Network", p + "serial": "1801550193",
		p + "netserver_url": "https://sod.superoffice.com/Cust26759/Remote/Services86/",
		p + "webapi_url":    "https://sod.superoffice.com/Cust26759/api/",
		p + "system_token":  "SuperOffice DevNet Node OIDC-8k8Q7DmBgo",
		"iat":               "1581665207", p + "initials": "TY", p + "so_primary_email_address": "tony@superoffice.com",
		"nonce": nonce, "nbf": 1581665147, "exp": 1581665507, "iss": string(superid.SOD), "aud": clientID,
	})
	tok.Header["x5t"] = x5t
	raw, err := tok.SignedString(key)
	require.NoError(b, err)
	body, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "x5t": x5t,
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": "AQAB",
	}}})
	require.NoError(b, err)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	b.Cleanup(hs.Close)
	return &fixture{key: key, raw: raw, jwks: hs}
}

// BenchmarkSuperID is superid's whole check, keys cached: size cap,
// golang-jwt's Parser (x5t lookup, RS256), exact claim names, golang-jwt's
// Validator (iss, aud, exp, nbf, iat), azp, nonce, typed Claims.
func BenchmarkSuperID(b *testing.B) {
	f := newFixture(b)
	c, err := superid.New(superid.Config{
		Environment: superid.SOD, ClientID: clientID, ClientSecret: "s",
		KeySet: superid.NewKeySet(f.jwks.URL, f.jwks.Client()), Now: func() time.Time { return testNow },
	})
	require.NoError(b, err)
	ctx := context.Background()
	_, err = c.VerifyIDToken(ctx, f.raw, superid.WithNonce(nonce))
	require.NoError(b, err)
	run(b, func() error {
		_, err := c.VerifyIDToken(ctx, f.raw, superid.WithNonce(nonce))
		return err
	})
}

// BenchmarkGoOIDC is go-oidc's Verify of the same token, its key given
// (a StaticKeySet: no fetch), plus the nonce comparison.
func BenchmarkGoOIDC(b *testing.B) {
	f := newFixture(b)
	v := oidc.NewVerifier(string(superid.SOD), &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&f.key.PublicKey}},
		&oidc.Config{ClientID: clientID, Now: func() time.Time { return testNow }})
	ctx := context.Background()
	run(b, func() error {
		t, err := v.Verify(ctx, f.raw)
		if err == nil && t.Nonce != nonce {
			require.Equal(b, nonce, t.Nonce)
		}
		return err
	})
}

// BenchmarkBareRSA is the RSA-2048 PKCS#1 v1.5 check alone: SHA-256 of the
// signing input and rsa.VerifyPKCS1v15, the signature already decoded.
func BenchmarkBareRSA(b *testing.B) {
	f := newFixture(b)
	i := strings.LastIndexByte(f.raw, '.')
	signing := []byte(f.raw[:i])
	sig, err := base64.RawURLEncoding.DecodeString(f.raw[i+1:])
	require.NoError(b, err)
	pub := &f.key.PublicKey
	run(b, func() error {
		sum := sha256.Sum256(signing)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	})
}

// BenchmarkVerifyRatio interleaves the three checks of the same token, one
// of each per iteration, and reports each one's time over the bare RSA
// check's: load from other processes falls on all three alike, which the
// separate benchmarks above cannot promise on a shared machine. The
// times are wall time; GC work on another core is not in them (the
// separate benchmarks' cpu-ns/op has it).
func BenchmarkVerifyRatio(b *testing.B) {
	f := newFixture(b)
	c, err := superid.New(superid.Config{
		Environment: superid.SOD, ClientID: clientID, ClientSecret: "s",
		KeySet: superid.NewKeySet(f.jwks.URL, f.jwks.Client()), Now: func() time.Time { return testNow },
	})
	require.NoError(b, err)
	v := oidc.NewVerifier(string(superid.SOD), &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&f.key.PublicKey}},
		&oidc.Config{ClientID: clientID, Now: func() time.Time { return testNow }})
	i := strings.LastIndexByte(f.raw, '.')
	signing := []byte(f.raw[:i])
	sig, err := base64.RawURLEncoding.DecodeString(f.raw[i+1:])
	require.NoError(b, err)
	ctx := context.Background()
	_, err = c.VerifyIDToken(ctx, f.raw, superid.WithNonce(nonce))
	require.NoError(b, err)

	var bare, ours, goOIDC time.Duration
	for b.Loop() {
		t0 := time.Now()
		sum := sha256.Sum256(signing)
		err1 := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, sum[:], sig)
		t1 := time.Now()
		_, err2 := c.VerifyIDToken(ctx, f.raw, superid.WithNonce(nonce))
		t2 := time.Now()
		tok, err3 := v.Verify(ctx, f.raw)
		t3 := time.Now()
		if err1 != nil || err2 != nil || err3 != nil || tok.Nonce != nonce {
			require.NoError(b, errors.Join(err1, err2, err3))
			require.Equal(b, nonce, tok.Nonce)
		}
		bare, ours, goOIDC = bare+t1.Sub(t0), ours+t2.Sub(t1), goOIDC+t3.Sub(t2)
	}
	b.ReportMetric(float64(ours)/float64(bare), "superid/bare")
	b.ReportMetric(float64(goOIDC)/float64(ours), "go-oidc/superid")
}

// run times fn and reports, besides ns/op (wall time), cpu-ns/op: the
// process's CPU time per operation, garbage collection included, which
// a shared and loaded machine disturbs less than wall time.
func run(b *testing.B, fn func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		if err := fn(); err != nil {
			require.NoError(b, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
