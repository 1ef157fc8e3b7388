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
	switch {
	case key == nil || key.N == nil:
		return "", badKey("nil key")
	case systemUserToken == "":
		return "", errEmptyToken
	}
	msg := systemUserToken + "." + t.UTC().Format(timestampLayout)
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", badKey("cannot sign with this key")
	}
	return msg + "." + base64.StdEncoding.EncodeToString(sig), nil
}
