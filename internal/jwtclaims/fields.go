package jwtclaims

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

var errSyntax = errors.New("jwtclaims: malformed JSON object")

// Fields calls fn with the name and raw value of each member of the JSON
// object b, in order, and stops at fn's first error. Names are given as
// written (a name with escapes is unescaped first); values are the raw JSON
// text, for the UnmarshalJSON methods of this package.
//
// It exists for speed: typed claims whose UnmarshalJSON uses it decode in
// one pass instead of encoding/json's reflective field matching, which
// costs more than the RSA signature check for SuperID's long claim names.
// Called from encoding/json, b has already been validated; called directly,
// it reports malformed input as an error, and never panics.
func Fields(b []byte, fn func(name, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errSyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return errSyntax
		}
		return nil
	}
	for {
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			s, err := unquote(b[i:end])
			if err != nil {
				return errSyntax
			}
			name = []byte(s)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errSyntax
		}
		start := skipSpace(b, i+1)
		end, err = skipValue(b, start, 0)
		if err != nil {
			return err
		}
		if err := fn(name, b[start:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return errSyntax
			}
			return nil
		default:
			return errSyntax
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string literal at b[i]. It
// jumps from quote to quote (bytes.IndexByte is vectorised); a quote ends
// the literal unless an odd number of backslashes precedes it.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errSyntax
	}
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errSyntax
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 64

// skipValue returns the index just past the JSON value at b[i]. It checks
// structure (brackets, strings, separators) but leaves literal validity to
// the UnmarshalJSON that reads the value.
func skipValue(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("jwtclaims: JSON nested deeper than %d", maxDepth)
	}
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		closing := byte('}')
		if b[i] == '[' {
			closing = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, nil
		}
		for {
			var err error
			if closing == '}' {
				if i, err = skipString(b, i); err != nil {
					return 0, err
				}
				if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
					return 0, errSyntax
				}
				i = skipSpace(b, i+1)
			}
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
			if i = skipSpace(b, i); i >= len(b) {
				return 0, errSyntax
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case closing:
				return i + 1, nil
			default:
				return 0, errSyntax
			}
		}
	}
	start := i
	for i < len(b) {
		c := b[i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		if c == '"' || c == '{' || c == '[' || c == ':' {
			return 0, errSyntax
		}
		i++
	}
	if i == start {
		return 0, errSyntax
	}
	return i, nil
}

// DecodeField sets the registered claim named name from its raw JSON
// value, and reports whether name was one. Typed claims that decode with
// Fields call it for every member.
func (r *Registered) DecodeField(name, value []byte) (bool, error) {
	var err error
	switch string(name) {
	case "iss":
		r.Issuer, err = stringValue(value)
	case "sub":
		r.Subject, err = stringValue(value)
	case "jti":
		r.ID, err = stringValue(value)
	case "aud":
		r.Audience = nil
		switch {
		case len(value) > 0 && value[0] == '"':
			var a string
			if a, err = unquote(value); err == nil {
				r.Audience = jwt.ClaimStrings{a}
			}
		case string(value) != "null":
			err = r.Audience.UnmarshalJSON(value)
		}
	case "exp":
		r.ExpiresAt, err = timeValue(value)
	case "nbf":
		r.NotBefore, err = timeValue(value)
	case "iat":
		r.IssuedAt, err = timeValue(value)
	default:
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("jwtclaims: claim %s: %w", name, err)
	}
	return true, nil
}

// stringValue reads a JSON string; null is "".
func stringValue(v []byte) (string, error) {
	if string(v) == "null" {
		return "", nil
	}
	if len(v) == 0 || v[0] != '"' {
		return "", errType
	}
	return unquote(v)
}

func timeValue(v []byte) (*Time, error) {
	if string(v) == "null" {
		return nil, nil
	}
	t := new(Time)
	if err := t.UnmarshalJSON(v); err != nil {
		return nil, err
	}
	return t, nil
}

// Header decodes a JOSE header (a small JSON object) into the map that
// jwt.Token.Header holds: string members directly, anything else through
// encoding/json.
func Header(b []byte) (map[string]any, error) {
	h := make(map[string]any, 4)
	err := Fields(b, func(name, v []byte) error {
		if len(v) > 0 && v[0] == '"' {
			s, err := unquote(v)
			if err != nil {
				return err
			}
			h[string(name)] = s
			return nil
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		h[string(name)] = x
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}
