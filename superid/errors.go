package superid

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is against an *Error. Every
// rejection of a token also matches ErrInvalidToken; ErrAccessDenied also
// matches ErrAuthorization.
var (
	// ErrInvalidToken matches every reason a token is rejected.
	ErrInvalidToken = errors.New("superid: invalid token")
	// ErrMalformedToken: not a JWT, larger than MaxTokenSize, or claims of
	// the wrong type.
	ErrMalformedToken = errors.New("superid: malformed token")
	// ErrSignature: not RS256, or the signature does not verify.
	ErrSignature = errors.New("superid: bad token signature")
	// ErrUnknownKey: the token names a key that SuperID does not publish.
	ErrUnknownKey = errors.New("superid: token signed by an unknown key")
	// ErrIssuer: iss is missing or not the environment's issuer.
	ErrIssuer = errors.New("superid: wrong token issuer")
	// ErrAudience: aud is missing or does not name the client id, or
	// names other parties too while azp is not the client id.
	ErrAudience = errors.New("superid: wrong token audience")
	// ErrExpired: exp is past (beyond the leeway).
	ErrExpired = errors.New("superid: token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("superid: token not valid yet")
	// ErrMissingClaim: exp, or a nonce that was asked for, is absent (a
	// missing iss or aud is ErrIssuer or ErrAudience).
	ErrMissingClaim = errors.New("superid: token lacks a required claim")
	// ErrNonce: the nonce is not the one the login sent.
	ErrNonce = errors.New("superid: token nonce mismatch")

	// ErrKeySet: SuperID's keys could not be fetched.
	ErrKeySet = errors.New("superid: key set unavailable")
	// ErrTokenRequest: the token endpoint refused a code or refresh token,
	// or could not be reached.
	ErrTokenRequest = errors.New("superid: token request failed")
	// ErrAuthorization: SuperID redirected back with an error instead of
	// a code. Error.Code holds SuperID's error code.
	ErrAuthorization = errors.New("superid: authorization failed")
	// ErrAccessDenied: the user declined, or may not approve, the app.
	ErrAccessDenied = errors.New("superid: access denied")
	// ErrLoginState: the callback cannot be tied to a login this app
	// started: no or expired login cookie, a tampered cookie, a state
	// mismatch, or a state already used.
	ErrLoginState = errors.New("superid: login state invalid")
	// ErrConfig: the Config is incomplete or invalid.
	ErrConfig = errors.New("superid: invalid config")
)

// Operations an Error can come from.
const (
	opVerify   = "verify id_token"
	opKeys     = "fetch keys"
	opExchange = "exchange code"
	opRefresh  = "refresh token"
	opCallback = "callback"
	opConfig   = "config"
	opLogin    = "login"
)

// Error is the error type of this package. Match its kind with errors.Is
// and the sentinels above; use errors.As for the details. It never holds a
// token, code or secret.
type Error struct {
	// Op is what failed, such as "verify id_token" or "exchange code".
	Op string
	// Code is SuperID's OAuth error code (access_denied, invalid_grant...)
	// when SuperID sent one.
	Code string
	// Description is SuperID's error_description, as sent: plain text that
	// must be escaped before it is shown in HTML.
	Description string
	// StatusCode is the HTTP status of a failed request to SuperID, if any.
	StatusCode int
	// Err is the underlying cause; it may be nil.
	Err error

	kind error
}

func newError(op string, kind, cause error) *Error {
	return &Error{Op: op, kind: kind, Err: cause}
}

// Error returns "superid: <op>: <kind>: <details>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("superid: ")
	b.WriteString(e.Op)
	if e.kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.kind.Error(), "superid: "))
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(capString(e.Description, 200))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel for e's kind, or
// ErrInvalidToken for any rejected token, or ErrAuthorization for a denied
// access.
func (e *Error) Is(target error) bool {
	if target == nil || e.kind == nil {
		return false
	}
	if target == e.kind {
		return true
	}
	switch target {
	case ErrInvalidToken:
		switch e.kind {
		case ErrMalformedToken, ErrSignature, ErrUnknownKey, ErrIssuer, ErrAudience,
			ErrExpired, ErrNotYetValid, ErrMissingClaim, ErrNonce:
			return true
		}
	case ErrAuthorization:
		return e.kind == ErrAccessDenied
	}
	return false
}

func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
