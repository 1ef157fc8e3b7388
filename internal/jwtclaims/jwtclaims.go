// Package jwtclaims holds lax JWT claim types shared by superid and
// systemuser.
//
// SuperID writes iat and every custom claim as JSON strings ("1581665207",
// "False", "5") while nbf and exp are numbers. golang-jwt's NumericDate and
// plain Go bools and ints refuse that, and a map[string]any loses the types,
// so these small named types absorb both spellings (as go-oidc's jsonTime
// and stringAsBool do) and embed into typed claims structs.
//
// Every UnmarshalJSON here returns an error for input it does not
// understand; none of them panics, whatever the input.
package jwtclaims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
)

// maxUnix bounds accepted dates to years 0001-9999, so that a hostile value
// cannot overflow time arithmetic.
const maxUnix = 253402300799

var errType = errors.New("jwtclaims: unexpected JSON type")

// Time is a JWT NumericDate (seconds since the Unix epoch) that accepts a
// JSON number (1581665207, 1581665207.5) or a string holding one
// ("1581665207"), as SuperID sends iat. It converts to *jwt.NumericDate
// without copying: (*jwt.NumericDate)(t).
type Time jwt.NumericDate

// NewTime returns t as a *Time, truncated to whole seconds like
// jwt.NewNumericDate.
func NewTime(t time.Time) *Time { return (*Time)(jwt.NewNumericDate(t)) }

// UnmarshalJSON accepts a number or a string of a number. An empty string
// is an error: a date claim that is present must say something. null, as
// encoding/json does for its own types, changes nothing.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, err := jsonobj.Unquote(b)
		if err != nil {
			return fmt.Errorf("jwtclaims: date: %w", err)
		}
		b = []byte(strings.TrimSpace(s))
	}
	tm, err := parseSeconds(b)
	if err != nil {
		return err
	}
	t.Time = tm
	return nil
}

// parseSeconds reads a decimal number of seconds, integral or not, with
// exact nanoseconds for the common integral case.
func parseSeconds(b []byte) (time.Time, error) {
	if n, ok := smallInt(b); ok {
		if n > maxUnix {
			return time.Time{}, fmt.Errorf("jwtclaims: date %d out of range", n)
		}
		return time.Unix(n, 0), nil
	}
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > maxUnix || n < -maxUnix {
			return time.Time{}, fmt.Errorf("jwtclaims: date %d out of range", n)
		}
		return time.Unix(n, 0), nil
	}
	if s == "" || !json.Valid(b) || s[0] == '"' || s[0] == '{' || s[0] == '[' ||
		s == "true" || s == "false" || s == "null" {
		return time.Time{}, fmt.Errorf("jwtclaims: date %.40q is not a number of seconds", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > maxUnix || f < -maxUnix {
		return time.Time{}, fmt.Errorf("jwtclaims: date %.40q is not a number of seconds in range", s)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// smallInt reads 1 to 18 decimal digits without allocating; anything
// else (signs, longer numbers) is left to strconv.
func smallInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// MarshalJSON writes a JSON number of seconds, with a fraction only when
// the time has one.
func (t Time) MarshalJSON() ([]byte, error) {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	if ns == 0 {
		return strconv.AppendInt(nil, sec, 10), nil
	}
	var out []byte
	if sec < 0 {
		// time keeps a floored second and a positive fraction: -0.5 is
		// (-1, 500000000).
		out = append(out, '-')
		sec, ns = -(sec + 1), 1e9-ns
	}
	out = strconv.AppendInt(out, sec, 10)
	frac := strconv.AppendInt(nil, 1e9+ns, 10)[1:] // nine digits, zero-padded
	return append(append(out, '.'), bytes.TrimRight(frac, "0")...), nil
}

// Registered holds the registered claims of RFC 7519 with lax dates. It
// implements jwt.Claims, so a struct that embeds it can be handed to
// jwt.ParseWithClaims and validated by golang-jwt (exp, nbf, iat, iss, aud).
type Registered struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  jwt.ClaimStrings `json:"aud,omitempty"`
	ExpiresAt *Time            `json:"exp,omitempty"`
	NotBefore *Time            `json:"nbf,omitempty"`
	IssuedAt  *Time            `json:"iat,omitempty"`
	ID        string           `json:"jti,omitempty"`
}

var _ jwt.Claims = Registered{}

// GetExpirationTime implements jwt.Claims.
func (r Registered) GetExpirationTime() (*jwt.NumericDate, error) {
	return (*jwt.NumericDate)(r.ExpiresAt), nil
}

// GetNotBefore implements jwt.Claims.
func (r Registered) GetNotBefore() (*jwt.NumericDate, error) {
	return (*jwt.NumericDate)(r.NotBefore), nil
}

// GetIssuedAt implements jwt.Claims.
func (r Registered) GetIssuedAt() (*jwt.NumericDate, error) {
	return (*jwt.NumericDate)(r.IssuedAt), nil
}

// GetIssuer implements jwt.Claims.
func (r Registered) GetIssuer() (string, error) { return r.Issuer, nil }

// GetSubject implements jwt.Claims.
func (r Registered) GetSubject() (string, error) { return r.Subject, nil }

// GetAudience implements jwt.Claims.
func (r Registered) GetAudience() (jwt.ClaimStrings, error) { return r.Audience, nil }

// Bool is a boolean claim that SuperID sends as "True" or "False". It
// accepts a JSON bool, or a string "true"/"false" in any case, "1"/"0", or
// "" (false, as an empty claim says nothing is granted).
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null":
		return nil
	case "true":
		*v = true
		return nil
	case "false":
		*v = false
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("jwtclaims: bool: %w", errType)
	}
	s, err := jsonobj.Unquote(b)
	if err != nil {
		return fmt.Errorf("jwtclaims: bool: %w", err)
	}
	switch s = strings.TrimSpace(s); {
	case strings.EqualFold(s, "true"), s == "1":
		*v = true
	case strings.EqualFold(s, "false"), s == "0", s == "":
		*v = false
	default:
		return fmt.Errorf("jwtclaims: bool %.40q is not true or false", s)
	}
	return nil
}

// Int is an integer claim that SuperID sends as a string ("5"). It accepts
// a JSON integer or a string holding one; "" is 0.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (v *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, err := jsonobj.Unquote(b)
		if err != nil {
			return fmt.Errorf("jwtclaims: int: %w", err)
		}
		if s = strings.TrimSpace(s); s == "" {
			*v = 0
			return nil
		}
		b = []byte(s)
	}
	if n, ok := smallInt(b); ok {
		*v = Int(n)
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("jwtclaims: int %.40q is not an integer", b)
	}
	*v = Int(n)
	return nil
}

// String is a text claim that also accepts a JSON number or bool, kept as
// written (5 becomes "5"), in case a claim documented as a string arrives
// unquoted. null leaves it empty.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (v *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("jwtclaims: string: %w", errType)
	}
	switch b[0] {
	case '"':
		s, err := jsonobj.Unquote(b)
		if err != nil {
			return fmt.Errorf("jwtclaims: string: %w", err)
		}
		*v = String(s)
		return nil
	case '{', '[':
		return fmt.Errorf("jwtclaims: string: %w", errType)
	}
	if string(b) == "null" {
		return nil
	}
	if !json.Valid(b) {
		return fmt.Errorf("jwtclaims: string: invalid JSON")
	}
	*v = String(b)
	return nil
}
