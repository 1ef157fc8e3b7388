package webapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// flagBit is one member of a flag enum: its name and bit value. The
// generated tables are plain static data (no init-time work).
type flagBit struct {
	name string
	bits uint64
}

// Flags joins flag enum members into one value, as the server writes
// them: Flags(ETableRightSelect, ETableRightUpdate) is "Select, Update".
// Empty members are skipped.
func Flags[T ~string](members ...T) T {
	var b strings.Builder
	for _, m := range members {
		if m == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(m))
	}
	return T(b.String())
}

// flagBits adds up the bits of the names in s; ok is false when a name is
// not in the table (it may be a number, which counts too).
func flagBits(s string, table []flagBit) (bits uint64, ok bool) {
	ok = true
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, f := range table {
			if strings.EqualFold(f.name, name) {
				bits |= f.bits
				found = true
				break
			}
		}
		if !found {
			if n, err := strconv.ParseUint(name, 10, 64); err == nil {
				bits |= n
				continue
			}
			ok = false
		}
	}
	return bits, ok
}

// hasFlags reports whether set includes flag: by bits when both are known,
// else by name.
func hasFlags(set, flag string, table []flagBit) bool {
	sb, ok1 := flagBits(set, table)
	fb, ok2 := flagBits(flag, table)
	if ok1 && ok2 {
		return sb&fb == fb
	}
	names := map[string]bool{}
	for n := range strings.SplitSeq(set, ",") {
		names[strings.ToLower(strings.TrimSpace(n))] = true
	}
	for n := range strings.SplitSeq(flag, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" && !names[n] {
			return false
		}
	}
	return true
}

// unmarshalFlags reads a flag enum: a JSON string is kept as it is (names
// this package does not know pass through); a number, as the JavaScript
// client sends, becomes the names of its single-bit members, with any bits
// left over as a decimal number.
func unmarshalFlags[T ~string](b []byte, table []flagBit) (T, error) {
	if string(b) == "null" {
		return "", nil
	}
	if s, ok, err := jsonString(b); ok {
		if err != nil {
			return "", fmt.Errorf("webapi: %s: %w", reflect.TypeFor[T]().Name(), err)
		}
		return T(s), nil
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return "", valueError[T](fmt.Sprintf("%.40s (neither member names nor a number)", b))
	}
	return T(flagNames(n, table)), nil
}

// marshalFlags writes a flag enum. The server reads member names or one
// integer, but not both in one value ("Select, 65536" is refused), so
// names go as they are, and a value that holds a number (bits no member
// names, as unmarshalFlags keeps them) goes as the integer of all its
// bits, or as names if every bit has one. A number together with a name
// this package does not know has no form the server reads: an error.
func marshalFlags[T ~string](f T, table []flagBit) ([]byte, error) {
	s := string(f)
	if !hasNumber(s) {
		return json.Marshal(s)
	}
	bits, ok := flagBits(s, table)
	if !ok {
		return nil, fmt.Errorf("webapi: %s %.80q mixes a number with a name this package does not know; the web API reads names or one number", reflect.TypeFor[T]().Name(), s)
	}
	if names := flagNames(bits, table); !hasNumber(names) {
		return json.Marshal(names)
	}
	return strconv.AppendUint(nil, bits, 10), nil
}

// hasNumber reports whether one of the comma-separated parts of s is a
// number rather than a name.
func hasNumber(s string) bool {
	for part := range strings.SplitSeq(s, ",") {
		if _, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64); err == nil {
			return true
		}
	}
	return false
}

// flagNames writes bits as member names: the zero member for 0, else one
// single-bit member per bit in bit order (the longest name where members
// alias, so Select rather than R), and what is left as a number.
func flagNames(n uint64, table []flagBit) string {
	if n == 0 {
		for _, f := range table {
			if f.bits == 0 {
				return f.name
			}
		}
		return "0"
	}
	var names []string
	rest := n
	for bit := uint64(1); bit != 0 && bit <= n; bit <<= 1 {
		if n&bit == 0 {
			continue
		}
		best := ""
		for _, f := range table {
			if f.bits == bit && len(f.name) > len(best) {
				best = f.name
			}
		}
		if best != "" {
			names = append(names, best)
			rest &^= bit
		}
	}
	if rest != 0 {
		names = append(names, strconv.FormatUint(rest, 10))
	}
	return strings.Join(names, ", ")
}
