package superid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
)

// trustedKey is an RSA key published by a local JWKS server, so tests can
// sign with the trusted key under any algorithm and header.
type trustedKey struct {
	key     *rsa.PrivateKey
	x5t     string
	url     string
	fetches atomic.Int32
}

const testIssuer = "https://sod.superoffice.com"

func newTrustedKey(t testing.TB) *trustedKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha1.Sum(der) // any stable thumbprint will do for matching
	tk := &trustedKey{key: key, x5t: base64.RawURLEncoding.EncodeToString(sum[:])}
	body, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "x5t": tk.x5t,
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": "AQAB",
	}}})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tk.fetches.Add(1)
		_, _ = w.Write(body)
	}))
	t.Cleanup(hs.Close)
	tk.url = hs.URL
	return tk
}

func (tk *trustedKey) sign(t testing.TB, method jwt.SigningMethod, key any, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	tok.Header["x5t"] = tk.x5t
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

var testNow = time.Unix(1581665207, 0)

// superIDClaims is the DOCS example payload, at testNow.
func superIDClaims() map[string]any {
	p := superid.ClaimPrefix
	return map[string]any{
		"sub":                          "tony@superoffice.com",
		p + "associateid":              "5",
		p + "identityprovider":         "central-superid",
		p + "email":                    "tony@superoffice.com",
		p + "upn":                      "tony@superoffice.com",
		p + "is_administrator":         "False",
		p + "ctx":                      "Cust26759",
		p + "company_name":             "Tonys Developer Network",
		p + "serial":                   "1801550193",
		p + "netserver_url":            "https://sod.superoffice.com/Cust26759/Remote/Services86/",
		p + "webapi_url":               "https://sod.superoffice.com/Cust26759/api/",
		p + "system_token":             "SuperOffice DevNet Node OIDC-8k8Q7DmBgo",
		"iat":                          "1581665207",
		p + "initials":                 "TY",
		p + "so_primary_email_address": "tony@superoffice.com",
		"nonce":                        "n-0S6_WzA2Mj",
		"nbf":                          1581665147,
		"exp":                          1581665507,
		"iss":                          testIssuer,
		"aud":                          "6cf25376616343b38d14ddcd804f2891",
	}
}

func verifier(t testing.TB, tk *trustedKey, now time.Time) *superid.Client {
	t.Helper()
	c, err := superid.New(superid.Config{
		Environment: superid.SOD, ClientID: "6cf25376616343b38d14ddcd804f2891", ClientSecret: "s",
		KeySet: superid.NewKeySet(tk.url, nil), Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	return c
}

func TestVerifyIDTokenTypedClaims(t *testing.T) {
	tk := newTrustedKey(t)
	c := verifier(t, tk, testNow)
	got, err := c.VerifyIDToken(context.Background(), tk.sign(t, jwt.SigningMethodRS256, tk.key, superIDClaims()), superid.WithNonce("n-0S6_WzA2Mj"))
	require.NoError(t, err)
	want := superid.Claims{
		Subject: "tony@superoffice.com", ContextIdentifier: "Cust26759",
		SystemUserToken: "SuperOffice DevNet Node OIDC-8k8Q7DmBgo",
		WebAPIURL:       "https://sod.superoffice.com/Cust26759/api/",
		NetServerURL:    "https://sod.superoffice.com/Cust26759/Remote/Services86/",
		Serial:          "1801550193", Email: "tony@superoffice.com", UPN: "tony@superoffice.com",
		PrimaryEmail: "tony@superoffice.com", CompanyName: "Tonys Developer Network", Initials: "TY",
		IdentityProvider: "central-superid", AssociateID: 5, IsAdministrator: false,
		Nonce: "n-0S6_WzA2Mj", Issuer: testIssuer, Audience: []string{"6cf25376616343b38d14ddcd804f2891"},
		IssuedAt: time.Unix(1581665207, 0), NotBefore: time.Unix(1581665147, 0), Expiry: time.Unix(1581665507, 0),
	}
	g := *got
	assert.Equal(t, want.Audience, g.Audience)
	assert.True(t, g.IssuedAt.Equal(want.IssuedAt), "IssuedAt %v", g.IssuedAt)
	assert.True(t, g.NotBefore.Equal(want.NotBefore), "NotBefore %v", g.NotBefore)
	assert.True(t, g.Expiry.Equal(want.Expiry), "Expiry %v", g.Expiry)
	g.Audience, want.Audience = nil, nil
	g2, _ := json.Marshal(g)
	w2, _ := json.Marshal(want)
	assert.JSONEq(t, string(w2), string(g2))
	m, err := got.Map()
	require.NoError(t, err)
	assert.Equal(t, "1581665207", m["iat"])
	assert.Len(t, m, len(superIDClaims()))
	var extra struct {
		Admin string `json:"http://schemes.superoffice.net/identity/is_administrator"`
	}
	require.NoError(t, got.Unmarshal(&extra))
	assert.Equal(t, "False", extra.Admin)
}

func TestVerifyIDTokenRules(t *testing.T) {
	tk := newTrustedKey(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&tk.key.PublicKey)
	with := func(edit func(m map[string]any)) map[string]any {
		m := superIDClaims()
		edit(m)
		return m
	}
	rs := func(m map[string]any) string { return tk.sign(t, jwt.SigningMethodRS256, tk.key, m) }
	valid := rs(superIDClaims())
	parts := strings.Split(valid, ".")
	tampered := with(func(m map[string]any) { m[superid.ClaimPrefix+"ctx"] = "Cust1" })
	tp, _ := json.Marshal(tampered)
	tamperedToken := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tp) + "." + parts[2]
	noneToken := tk.sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, superIDClaims())

	cases := []struct {
		name  string
		raw   string
		nonce string
		now   time.Time
		want  error
	}{
		{"valid", valid, "n-0S6_WzA2Mj", testNow, nil},
		{"valid without nonce check", valid, "", testNow, nil},
		{"alg none", noneToken, "", testNow, superid.ErrSignature},
		{"alg none without signature", parts[0][:0] + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", "", testNow, superid.ErrSignature},
		{"HS256 keyed with the RSA public key", tk.sign(t, jwt.SigningMethodHS256, pubDER, superIDClaims()), "", testNow, superid.ErrSignature},
		{"RS384 by the trusted key", tk.sign(t, jwt.SigningMethodRS384, tk.key, superIDClaims()), "", testNow, superid.ErrSignature},
		{"PS256 by the trusted key", tk.sign(t, jwt.SigningMethodPS256, tk.key, superIDClaims()), "", testNow, superid.ErrSignature},
		{"ES256", tk.sign(t, jwt.SigningMethodES256, ecKey, superIDClaims()), "", testNow, superid.ErrSignature},
		{"tampered payload", tamperedToken, "", testNow, superid.ErrSignature},
		{"signed by another key under the trusted x5t", tk.sign(t, jwt.SigningMethodRS256, otherKey, superIDClaims()), "", testNow, superid.ErrSignature},
		{"wrong iss", rs(with(func(m map[string]any) { m["iss"] = "https://online.superoffice.com" })), "", testNow, superid.ErrIssuer},
		{"iss with /login", rs(with(func(m map[string]any) { m["iss"] = testIssuer + "/login" })), "", testNow, superid.ErrIssuer},
		{"missing iss", rs(with(func(m map[string]any) { delete(m, "iss") })), "", testNow, superid.ErrIssuer},
		{"wrong aud", rs(with(func(m map[string]any) { m["aud"] = "someone-else" })), "", testNow, superid.ErrAudience},
		{"missing aud", rs(with(func(m map[string]any) { delete(m, "aud") })), "", testNow, superid.ErrAudience},
		{"aud list of the client id alone", rs(with(func(m map[string]any) { m["aud"] = []string{"6cf25376616343b38d14ddcd804f2891"} })), "", testNow, nil},
		{"aud list with client id, no azp", rs(with(func(m map[string]any) { m["aud"] = []string{"x", "6cf25376616343b38d14ddcd804f2891"} })), "", testNow, superid.ErrAudience},
		{"aud list with client id, azp another", rs(with(func(m map[string]any) {
			m["aud"] = []string{"x", "6cf25376616343b38d14ddcd804f2891"}
			m["azp"] = "x"
		})), "", testNow, superid.ErrAudience},
		{"aud list with client id, azp the client id", rs(with(func(m map[string]any) {
			m["aud"] = []string{"x", "6cf25376616343b38d14ddcd804f2891"}
			m["azp"] = "6cf25376616343b38d14ddcd804f2891"
		})), "", testNow, nil},
		{"aud list without client id, azp the client id", rs(with(func(m map[string]any) {
			m["aud"] = []string{"x", "y"}
			m["azp"] = "6cf25376616343b38d14ddcd804f2891"
		})), "", testNow, superid.ErrAudience},
		{"azp of the wrong type", rs(with(func(m map[string]any) { m["azp"] = map[string]any{} })), "", testNow, superid.ErrMalformedToken},
		{"missing exp", rs(with(func(m map[string]any) { delete(m, "exp") })), "", testNow, superid.ErrMissingClaim},
		{"expired past leeway", valid, "", time.Unix(1581665507, 0).Add(superid.DefaultLeeway + time.Second), superid.ErrExpired},
		{"expired within leeway", valid, "", time.Unix(1581665507, 0).Add(superid.DefaultLeeway - time.Second), nil},
		{"nbf in the future", rs(with(func(m map[string]any) {
			m["nbf"] = testNow.Add(10 * time.Minute).Unix()
			m["exp"] = testNow.Add(time.Hour).Unix()
		})), "", testNow, superid.ErrNotYetValid},
		{"iat in the future", rs(with(func(m map[string]any) {
			delete(m, "nbf")
			m["iat"] = fmt.Sprint(testNow.Add(10 * time.Minute).Unix())
			m["exp"] = testNow.Add(time.Hour).Unix()
		})), "", testNow, superid.ErrNotYetValid},
		{"iat slightly ahead, within leeway", rs(with(func(m map[string]any) { m["iat"] = fmt.Sprint(testNow.Add(time.Minute).Unix()) })), "", testNow, nil},
		{"nonce mismatch", valid, "another-nonce", testNow, superid.ErrNonce},
		{"nonce missing", rs(with(func(m map[string]any) { delete(m, "nonce") })), "n-0S6_WzA2Mj", testNow, superid.ErrMissingClaim},
		{"oversized", rs(with(func(m map[string]any) { m["pad"] = strings.Repeat("x", superid.MaxTokenSize) })), "", testNow, superid.ErrMalformedToken},
		{"exp of the wrong type", rs(with(func(m map[string]any) { m["exp"] = "soon" })), "", testNow, superid.ErrMalformedToken},
		{"is_administrator of the wrong type", rs(with(func(m map[string]any) { m[superid.ClaimPrefix+"is_administrator"] = "maybe" })), "", testNow, superid.ErrMalformedToken},
		{"two segments", parts[0] + "." + parts[1], "", testNow, superid.ErrMalformedToken},
		{"line break in the signature", valid[:len(valid)-5] + "\n" + valid[len(valid)-5:], "", testNow, superid.ErrMalformedToken},
		{"non-zero trailing bits in the signature", valid[:len(valid)-1] + flipLastBits(valid[len(valid)-1:]), "", testNow, superid.ErrMalformedToken},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("RS256")) + "." + parts[1] + "." + parts[2], "", testNow, superid.ErrMalformedToken},
		{"payload an array", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + "." + parts[2], "", testNow, superid.ErrMalformedToken},
		{"payload null, signed: no claims, so no iss", rs(nil), "", testNow, superid.ErrIssuer},
		{"claim names match exactly: NONCE is not nonce", rs(with(func(m map[string]any) {
			m["NONCE"] = m["nonce"]
			delete(m, "nonce")
		})), "n-0S6_WzA2Mj", testNow, superid.ErrMalformedToken},
		{"claim names match exactly: Iss beside iss", rs(with(func(m map[string]any) { m["Iss"] = "https://evil.example" })), "", testNow, superid.ErrMalformedToken},
		{"claim names match exactly: a case variant of a custom claim", rs(with(func(m map[string]any) {
			m["HTTP://schemes.superoffice.net/identity/CTX"] = "Cust1"
		})), "", testNow, superid.ErrMalformedToken},
		{"unknown claims are kept, not refused", rs(with(func(m map[string]any) { m["x-other"] = map[string]any{"a": []int{1}} })), "", testNow, nil},
		{"aud of the wrong type", rs(with(func(m map[string]any) { m["aud"] = 5 })), "", testNow, superid.ErrMalformedToken},
		{"associateid not an integer", rs(with(func(m map[string]any) { m[superid.ClaimPrefix+"associateid"] = "five" })), "", testNow, superid.ErrMalformedToken},
		{"empty", "", "", testNow, superid.ErrMalformedToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := verifier(t, tk, tc.now)
			_, err := c.VerifyIDToken(context.Background(), tc.raw, superid.WithNonce(tc.nonce))
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, superid.ErrInvalidToken)
			var e *superid.Error
			require.ErrorAs(t, err, &e)
			assert.True(t, strings.HasPrefix(err.Error(), "superid: "), "message %q", err)
			assert.NotContains(t, err.Error(), parts[2], "error message holds the token")
		})
	}
}

// TestVerifyIDTokenNamesNotFolded: a claim is read only under its own
// name, so neither a Unicode case variant ("ſub" folds to "sub" in
// encoding/json's struct matching) nor a payload of many claims changes
// what the next verification reads.
func TestVerifyIDTokenNamesNotFolded(t *testing.T) {
	tk := newTrustedKey(t)
	c := verifier(t, tk, testNow)
	m := superIDClaims()
	delete(m, "sub")
	m["\u017fub"] = "evil@example.com"
	for i := range 100 {
		m[fmt.Sprintf("x-%d", i)] = i
	}
	got, err := c.VerifyIDToken(context.Background(), tk.sign(t, jwt.SigningMethodRS256, tk.key, m))
	require.NoError(t, err)
	assert.Empty(t, got.Subject)
	raw, err := got.Map()
	require.NoError(t, err)
	assert.Equal(t, "evil@example.com", raw["\u017fub"])

	got, err = c.VerifyIDToken(context.Background(), tk.sign(t, jwt.SigningMethodRS256, tk.key, superIDClaims()))
	require.NoError(t, err)
	assert.Equal(t, "tony@superoffice.com", got.Subject)
	assert.JSONEq(t, string(mustJSON(t, superIDClaims())), string(got.Raw()))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestVerifyIDTokenUnknownKey(t *testing.T) {
	tk := newTrustedKey(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(superIDClaims()))
	tok.Header["x5t"] = "not-a-published-thumbprint"
	raw, _ := tok.SignedString(other)
	c := verifier(t, tk, testNow)
	_, err := c.VerifyIDToken(context.Background(), raw)
	require.ErrorIs(t, err, superid.ErrUnknownKey)
	require.ErrorIs(t, err, superid.ErrInvalidToken)
}

func TestVerifyIDTokenSizeCapBeforeParsing(t *testing.T) {
	tk := newTrustedKey(t)
	c := verifier(t, tk, testNow)
	_, err := c.VerifyIDToken(context.Background(), strings.Repeat("a", superid.MaxTokenSize+1))
	require.ErrorIs(t, err, superid.ErrMalformedToken)
	assert.Zero(t, tk.fetches.Load(), "an oversized token caused key fetches")
}

// FuzzVerifyIDToken feeds arbitrary tokens through the whole check. The
// key set holds a random modulus (no key generation, which is slow under
// the fuzzer's instrumentation), so no input may ever be accepted; every
// input must end in a typed error, never a panic. The payload is decoded
// and validated, but a token never verifies here: the claims decoding has
// its own target, FuzzIDTokenClaims.
func FuzzVerifyIDToken(f *testing.F) {
	n := make([]byte, 256)
	_, _ = rand.Read(n)
	n[0] |= 0x80
	n[255] |= 1
	body, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "x5t": "x5t-1", "n": base64.RawURLEncoding.EncodeToString(n), "e": "AQAB",
	}}})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer hs.Close()
	c, err := superid.New(superid.Config{
		Environment: superid.SOD, ClientID: "6cf25376616343b38d14ddcd804f2891", ClientSecret: "s",
		KeySet: superid.NewKeySet(hs.URL, hs.Client()), Now: func() time.Time { return testNow },
	})
	require.NoError(f, err)
	seg := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	sig := base64.RawURLEncoding.EncodeToString(n)
	header := seg(map[string]string{"alg": "RS256", "typ": "JWT", "x5t": "x5t-1"})
	f.Add(header + "." + seg(superIDClaims()) + "." + sig)
	f.Add(seg(map[string]string{"alg": "RS256", "kid": "k"}) + "." + seg(superIDClaims()) + "." + sig)
	f.Add(header + "." + seg(map[string]any{"iat": "x", "exp": []int{1}, "aud": map[string]int{}}) + "." + sig)
	f.Add(header + "." + seg(map[string]any{"iat": "1e3", "nbf": "12", "exp": 1e300}) + "." + sig)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := c.VerifyIDToken(context.Background(), raw)
		require.Error(t, err, "accepted %q", raw)
		require.ErrorIs(t, err, superid.ErrInvalidToken)
	})
}

// TestVerifyIDTokenOneSpelling: encoding/base64 skips CR and LF, so a line
// break inside the signature segment (outside the signed input) would let
// one signed token be accepted under many spellings, which RFC 7515's
// compact form (base64url segments and dots, nothing else) does not allow.
func TestVerifyIDTokenOneSpelling(t *testing.T) {
	tk := newTrustedKey(t)
	c := verifier(t, tk, testNow)
	valid := tk.sign(t, jwt.SigningMethodRS256, tk.key, superIDClaims())
	_, err := c.VerifyIDToken(context.Background(), valid)
	require.NoError(t, err)
	dot := strings.LastIndexByte(valid, '.')
	for _, variant := range []string{
		valid[:dot+5] + "\n" + valid[dot+5:],
		valid[:dot+5] + "\r\n" + valid[dot+5:],
		valid + "\n",
		valid[:len(valid)-1] + flipLastBits(valid[len(valid)-1:]),
	} {
		_, err := c.VerifyIDToken(context.Background(), variant)
		assert.ErrorIs(t, err, superid.ErrMalformedToken, "%q", variant[dot:dot+10])
	}
}

// flipLastBits returns the base64url digit that differs from d only in
// its lowest bit: for the last digit of a 256-byte signature (two unused
// bits) that is the same bytes spelled another way.
func flipLastBits(d string) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(digits, d[0])
	return string(digits[i^1])
}
