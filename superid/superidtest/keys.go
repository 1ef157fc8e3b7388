package superidtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// signingKey is one SuperID signing key with the self-signed certificate
// whose SHA-1 thumbprint is its x5t, as SuperID publishes.
type signingKey struct {
	key  *rsa.PrivateKey
	cert []byte // DER
	x5t  string
	kid  string
}

// RotateKey adds a new signing key: it signs every token from now on, and
// the JWKS publishes it beside the older keys (see RetireKeys).
func (e *Emulator) RotateKey() error {
	key, err := rsa.GenerateKey(rand.Reader, e.keyBits)
	if err != nil {
		return fmt.Errorf("superidtest: generate signing key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "SuperOffice Online Emulator Federated Login"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(50, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("superidtest: create certificate: %w", err)
	}
	sum := sha1.Sum(der)
	k := &signingKey{key: key, cert: der, x5t: base64.RawURLEncoding.EncodeToString(sum[:])}
	if e.withKID {
		k.kid = fmt.Sprintf("%X", sum[:])
	}
	e.mu.Lock()
	e.keys = append(e.keys, k)
	e.mu.Unlock()
	return nil
}

// RetireKeys removes every signing key but the current one from the JWKS,
// as SuperID does some time after a rotation.
func (e *Emulator) RetireKeys() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = e.keys[len(e.keys)-1:]
}

// PublicKey returns the public half of the current signing key.
func (e *Emulator) PublicKey() *rsa.PublicKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &e.keys[len(e.keys)-1].key.PublicKey
}

// SignJWT signs claims with the current key (RS256, header typ, alg, x5t
// and, WithKeyID, kid), exactly as SuperID signs its tokens. Tests use it to
// mint tokens with any claims they need.
func (e *Emulator) SignJWT(claims map[string]any) (string, error) {
	e.mu.Lock()
	k := e.keys[len(e.keys)-1]
	e.mu.Unlock()
	return signJWT(k, claims)
}

// jwtHeader is a JWT's header as SuperID writes it: kid only when the key
// has one.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ"`
	X5t string `json:"x5t"`
}

func signJWT(k *signingKey, claims any) (string, error) {
	h, err := json.Marshal(jwtHeader{Alg: "RS256", Kid: k.kid, Typ: "JWT", X5t: k.x5t})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("superidtest: encode claims: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sig, err := rsaSign(k.key, []byte(signing))
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (e *Emulator) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	env := e.env
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                env.Issuer(),
		"authorization_endpoint":                env.AuthorizeURL(),
		"token_endpoint":                        env.TokenURL(),
		"jwks_uri":                              env.JWKSURL(),
		"scopes_supported":                      []string{"openid"},
		"response_modes_supported":              []string{"form_post", "fragment", "query"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"grant_types_supported":                 []string{"implicit", "authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
	})
}

func (e *Emulator) serveJWKS(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	keys := make([]map[string]any, 0, len(e.keys))
	for _, k := range e.keys {
		jwk := map[string]any{
			"kty": "RSA",
			"use": "sig",
			"alg": "RS256",
			"n":   base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
			"x5t": k.x5t,
			"x5c": []string{base64.StdEncoding.EncodeToString(k.cert)},
		}
		if k.kid != "" {
			jwk["kid"] = k.kid
		}
		keys = append(keys, jwk)
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}
