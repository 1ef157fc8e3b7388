package webapi

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// unmarshalEnum reads an ordinary enum of type typ. A JSON string is kept
// as it is (names this package does not know pass through). A number,
// which .NET's StringEnumConverter writes for a value that has no name,
// becomes the name of the member with that code, or else its decimal text,
// which keeps the value. set is false for null, which by the convention of
// encoding/json leaves the value as it was.
func unmarshalEnum(b []byte, typ string, table []enumCode) (s string, set bool, err error) {
	if string(b) == "null" {
		return "", false, nil
	}
	s, ok, err := jsonString(b)
	if err != nil {
		return "", false, fmt.Errorf("webapi: %s: %w", typ, err)
	}
	if ok {
		return s, true, nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return "", false, fmt.Errorf("webapi: %s is neither a name nor an integer: %.40s", typ, b)
	}
	for _, c := range table {
		if c.code == n {
			return c.name, true, nil
		}
	}
	return strconv.FormatInt(n, 10), true, nil
}
