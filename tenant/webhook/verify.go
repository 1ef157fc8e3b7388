package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Sentinels that errors.Is finds in the errors of Verify and the Handler.
// Their messages name what is wrong and never quote a secret, a signature
// or the body.
var (
	// ErrNoSecret: the secret to verify with is empty. SuperOffice signs
	// only when the webhook has a secret, so an empty one would accept
	// anything; it is refused instead.
	ErrNoSecret = errors.New("webhook: no secret to verify the signature with")
	// ErrNoSignature: the request carries no X-SuperOffice-Signature.
	ErrNoSignature = errors.New("webhook: missing X-SuperOffice-Signature")
	// ErrMalformedSignature: the signature is not standard base64 of 32
	// bytes.
	ErrMalformedSignature = errors.New("webhook: malformed signature (want standard base64 of an HMAC-SHA256)")
	// ErrBadSignature: the signature does not match the body and secret:
	// the body was changed, or it was signed with another secret.
	ErrBadSignature = errors.New("webhook: signature does not match the body")
)

// SignatureHeader is the header SuperOffice puts the signature in. Header
// names are matched without regard to case.
const SignatureHeader = "X-SuperOffice-Signature"

// Verify checks signature, the value of the X-SuperOffice-Signature
// header, against body, the raw request body as received: SuperOffice
// sends the standard base64 (with padding) of HMAC-SHA256 keyed with the
// UTF-8 bytes of the webhook's secret over exactly these bytes. Nothing
// else is signed, so the body must not be re-serialized first. The
// comparison takes constant time.
func Verify(secret, body []byte, signature string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if signature == "" {
		return ErrNoSignature
	}
	// A 32-byte HMAC is 44 characters of padded base64; anything else
	// cannot match. got has room for the 33 bytes that 44 characters
	// without padding decode to.
	if len(signature) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return ErrMalformedSignature
	}
	var got [sha256.Size + 1]byte
	n, err := base64.StdEncoding.Decode(got[:], []byte(signature))
	if err != nil || n != sha256.Size {
		return ErrMalformedSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	var want [sha256.Size]byte
	if !hmac.Equal(mac.Sum(want[:0]), got[:n]) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the signature SuperOffice sends for body under secret: the
// standard base64 of HMAC-SHA256. Tests and emulators use it to sign what
// they send.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
