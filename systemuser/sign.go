package systemuser

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// timestampLayout is .NET's "yyyyMMddHHmm": 24-hour clock, no separators.
const timestampLayout = "200601021504"

// Sign returns the signed system user token that the exchange expects:
//
//	systemUserToken + "." + t.UTC() as yyyyMMddHHmm + "." + base64(signature)
//
// where the signature is RSASSA-PKCS1-v1_5 with SHA-256 over the UTF-8
// bytes before the last dot, in standard, padded base64. The token is
// signed byte for byte (it may contain spaces). t is converted to UTC
// whatever its location. Signing is deterministic: the same key, token and
// minute give the same result. An empty token is refused with
// ErrInvalidArgument, a key that cannot sign with ErrInvalidKey.
func Sign(key *rsa.PrivateKey, systemUserToken string, t time.Time) (string, error) {
	b, err := appendSigned(nil, key, systemUserToken, t)
	return string(b), err
}

// appendSigned appends the signed token to dst, in one allocation when dst
// has no room.
func appendSigned(dst []byte, key *rsa.PrivateKey, token string, t time.Time) ([]byte, error) {
	if key == nil || key.N == nil {
		return dst, badKey("nil key")
	}
	if token == "" {
		return dst, errEmptyToken
	}
	sigLen := key.Size()
	start := len(dst)
	dst = growTo(dst, len(token)+1+len(timestampLayout)+1+base64.StdEncoding.EncodedLen(sigLen))
	dst = append(dst, token...)
	dst = append(dst, '.')
	dst = t.UTC().AppendFormat(dst, timestampLayout)
	sum := sha256.Sum256(dst[start:])
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return dst[:start], badKey("cannot sign with this key")
	}
	dst = append(dst, '.')
	return base64.StdEncoding.AppendEncode(dst, sig), nil
}

func growTo(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}
