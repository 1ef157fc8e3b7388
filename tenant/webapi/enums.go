package webapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// enumCode is one member of an ordinary enum: its name and the integer
// .NET gives it. The generated tables are plain static data.
type enumCode struct {
	name string
	code int64
}

// jsonString reads a JSON string; ok is false when b is not one.
func jsonString(b []byte) (s string, ok bool, err error) {
	switch {
	case len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && !bytes.ContainsAny(b[1:len(b)-1], "\\\""):
		return string(b[1 : len(b)-1]), true, nil // the usual case, without unquoting
	case len(b) > 0 && b[0] == '"':
		// JSON's escapes, not Go's: strconv.Unquote refuses \/ and splits
		// surrogate pairs.
		err := json.Unmarshal(b, &s)
		return s, true, err
	}
	return "", false, nil
}

// unmarshalEnum reads an ordinary enum. A JSON string is kept as it is
// (names this package does not know pass through). A number, which .NET's
// StringEnumConverter writes for a value that has no name, becomes the
// name of the member with that code, or else its decimal text, which keeps
// the value. set is false for null, which by the convention of
// encoding/json leaves the value as it was.
func unmarshalEnum[T ~string](b []byte, table []enumCode) (v T, set bool, err error) {
	if string(b) == "null" {
		return "", false, nil
	}
	s, ok, err := jsonString(b)
	if err != nil {
		return "", false, fmt.Errorf("webapi: %s: %w", reflect.TypeFor[T]().Name(), err)
	}
	if ok {
		return T(s), true, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return "", false, valueError[T](fmt.Sprintf("%.40s (neither a member name nor an integer)", b))
	}
	for _, c := range table {
		if c.code == n {
			return T(c.name), true, nil
		}
	}
	return T(strconv.FormatInt(n, 10)), true, nil
}

// valueError is the error of a JSON value that a T cannot hold, described
// by what. It is a *json.UnmarshalTypeError, to which encoding/json adds
// the struct and the path of JSON members that lead to the value, so that
// one bad value in a large response names its field: "json: cannot
// unmarshal date "2018-13-01" (month out of range) into Go struct field
// PersonEntity.BirthDate of type webapi.Time".
func valueError[T any](what string) error {
	return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[T]()}
}
