// Package jsonobj walks the top-level members of a JSON object: the one
// scanner that superid's id_token claims, the JWT header and tenant's
// entity Extra share.
//
// It exists for speed. encoding/json validates a document, skips over it
// again before calling an UnmarshalJSON method, and matches names by
// reflection; decoding every member once more into a map for the names a
// struct lacks costs a copy and an allocation per member. Members does one
// pass with no reflection: names and values are slices of the input, and a
// member the caller ignores costs nothing.
//
// It never panics, and it reports malformed input as an error rather than
// trusting that encoding/json has seen it first. Errors name no package:
// callers say what the object was.
package jsonobj

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Members calls fn with the name and raw value of each member of the JSON
// object b, in order (a repeated name each time), and stops at fn's first
// error, which it returns as is.
//
// A name is given as encoding/json reads it: sliced from b when written
// plainly (no escapes, valid UTF-8: the common case, which allocates
// nothing), otherwise unescaped with each invalid UTF-8 byte replaced by
// U+FFFD. A value is its raw JSON text, without the space around it; both
// alias b, so fn copies what it keeps.
//
// Members checks structure (strings, brackets, separators, nothing after
// the object) but leaves the literals inside values (numbers, true, false,
// null) to whoever reads them. Nesting has no limit: the walk keeps one bit
// per open bracket, not a stack frame.
func Members(b []byte, fn func(name, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("JSON is not an object at offset %d", i)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return end(b, i+1)
	}
	for {
		nameEnd, err := skipString(b, i)
		if err != nil {
			return err
		}
		name := b[i+1 : nameEnd-1]
		if !plain(name) {
			s, err := Unquote(b[i:nameEnd])
			if err != nil {
				return malformed(i)
			}
			name = []byte(s)
		}
		if i = skipSpace(b, nameEnd); i >= len(b) || b[i] != ':' {
			return malformed(i)
		}
		start := skipSpace(b, i+1)
		valueEnd, err := skipValue(b, start)
		if err != nil {
			return err
		}
		if err := fn(name, b[start:valueEnd]); err != nil {
			return err
		}
		if i = skipSpace(b, valueEnd); i >= len(b) {
			return malformed(i)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return end(b, i+1)
		default:
			return malformed(i)
		}
	}
}

// Unquote returns the contents of the JSON string literal b as
// encoding/json reads them. A plain literal (no escapes or control
// characters, valid UTF-8) is converted directly; the rest go through
// encoding/json, which unescapes and replaces invalid UTF-8.
func Unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		in := b[1 : len(b)-1]
		simple := utf8.Valid(in)
		for _, c := range in {
			if c == '\\' || c == '"' || c < 0x20 {
				simple = false
				break
			}
		}
		if simple {
			return string(in), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// plain reports whether the member name name reads as written: no
// escapes, valid UTF-8. bytes.IndexByte is vectorised, and OR-ing eight
// bytes at a time tells ASCII (all of SuperID's and the web API's names)
// from the rest faster than utf8.Valid, which the rest still need.
func plain(name []byte) bool {
	if bytes.IndexByte(name, '\\') >= 0 {
		return false
	}
	var or uint64
	s := name
	for ; len(s) >= 8; s = s[8:] {
		or |= binary.LittleEndian.Uint64(s)
	}
	for _, c := range s {
		or |= uint64(c)
	}
	return or&0x8080808080808080 == 0 || utf8.Valid(name)
}

func malformed(i int) error {
	return fmt.Errorf("malformed JSON object at offset %d", i)
}

// end checks that only space follows the object, which ends at b[i].
func end(b []byte, i int) error {
	if i = skipSpace(b, i); i != len(b) {
		return malformed(i)
	}
	return nil
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
		return 0, malformed(i)
	}
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, malformed(len(b))
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

// skipMemberName returns the index of the value of the member whose name
// starts at b[i], past the colon and space.
func skipMemberName(b []byte, i int) (int, error) {
	i, err := skipString(b, i)
	if err != nil {
		return 0, err
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return 0, malformed(i)
	}
	return skipSpace(b, i+1), nil
}

// skipValue returns the index just past the JSON value at b[i]. Instead
// of recursing into arrays and objects, which would let hostile input
// exhaust the stack, it records in one bit per open bracket whether it is
// an object's; the first 64 levels fit in a word on the stack.
func skipValue(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '"' {
		return skipString(b, i) // most values, without the machinery below
	}
	var first [1]uint64
	isObject := first[:]
	depth := 0
	var err error
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return 0, malformed(i)
		}
		switch c := b[i]; c {
		case '"':
			if i, err = skipString(b, i); err != nil {
				return 0, err
			}
		case '{', '[':
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			if i = skipSpace(b, i+1); i < len(b) && b[i] == closing {
				i++
				break
			}
			w, bit := depth/64, uint64(1)<<(depth%64)
			if w == len(isObject) {
				isObject = append(isObject, 0)
			}
			isObject[w] &^= bit
			if c == '{' {
				isObject[w] |= bit
				if i, err = skipMemberName(b, i); err != nil {
					return 0, err
				}
			}
			depth++
			continue
		default:
			// A literal runs to the next delimiter.
			start := i
			for ; i < len(b); i++ {
				c := b[i]
				if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					break
				}
				if c == '"' || c == '{' || c == '[' || c == ':' {
					return 0, malformed(i)
				}
			}
			if i == start {
				return 0, malformed(i)
			}
		}
		// A value ended just before b[i]: close the brackets it ends, and
		// find where the next value starts.
	next:
		for {
			if depth == 0 {
				return i, nil
			}
			d := depth - 1
			object := isObject[d/64]>>(d%64)&1 == 1
			if i = skipSpace(b, i); i >= len(b) {
				return 0, malformed(i)
			}
			switch c := b[i]; {
			case c == ',':
				i = skipSpace(b, i+1)
				if object {
					if i, err = skipMemberName(b, i); err != nil {
						return 0, err
					}
				}
				break next
			case c == '}' && object, c == ']' && !object:
				depth--
				i++
			default:
				return 0, malformed(i)
			}
		}
	}
}
