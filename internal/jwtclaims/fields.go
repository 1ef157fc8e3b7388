package jwtclaims

import (
	"encoding/json"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
)

// DecodeField sets the registered claim named name from its raw JSON
// value, and reports whether name was one. Typed claims that decode with
// jsonobj.Members call it for every member.
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
			if a, err = jsonobj.Unquote(value); err == nil {
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
	return jsonobj.Unquote(v)
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
	err := jsonobj.Members(b, func(name, v []byte) error {
		if len(v) > 0 && v[0] == '"' {
			s, err := jsonobj.Unquote(v)
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
