package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Time is a date and time as the web API writes it: RFC 3339 with up to 7
// fractional digits, or without a zone (then UTC), with
// "0001-01-01T00:00:00" (or null) for no time.
type Time struct{ time.Time }

const (
	zeroTime   = `"0001-01-01T00:00:00"`
	localTimes = "2006-01-02T15:04:05.999999999"
)

// UnmarshalJSON accepts RFC 3339, a time without zone (as UTC), "" and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, localTimes} {
		if v, err := time.Parse(layout, str); err == nil {
			t.Time = v
			return nil
		}
	}
	_, err := time.Parse(time.RFC3339Nano, str)
	return err
}

// MarshalJSON writes RFC 3339 in UTC, or "0001-01-01T00:00:00" for the
// zero time, as .NET does.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(zeroTime), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Associate is a SuperOffice user (or resource) as entities refer to one.
type Associate struct {
	AssociateID int `json:"AssociateId"`
	Name        string
	PersonID    int `json:"PersonId"`
	Rank        int
	Tooltip     string
	Type        string
	GroupIdx    int
	FullName    string
	FormalName  string
	Deleted     bool
	EjUserID    int `json:"EjUserId"`
	UserName    string
}

// ListItem is an entry of a list (a category, a business...).
type ListItem struct {
	ID      int `json:"Id"`
	Value   string
	Tooltip string
}

// Country is a country as entities refer to one.
type Country struct {
	CountryID               int `json:"CountryId"`
	Name                    string
	CurrencyID              int `json:"CurrencyId"`
	EnglishName             string
	TwoLetterISOCountry     string
	ThreeLetterISOCountry   string
	ImageDescription        string
	OrgNrText               string
	InterAreaPrefix         string
	DialInPrefix            string
	ZipPrefix               string
	DomainName              string
	AddressLayoutID         int `json:"AddressLayoutId"`
	DomesticAddressLayoutID int `json:"DomesticAddressLayoutId"`
	ForeignAddressLayoutID  int `json:"ForeignAddressLayoutId"`
	Rank                    int
	Tooltip                 string
	Deleted                 bool
}

// EntityElement is one e-mail address, phone number or URL.
type EntityElement struct {
	Value         string
	StrippedValue string
	Description   string
}

// Extra holds the fields of an entity that this package has no Go field
// for, exactly as received, so that an entity read and written back (a PUT
// replaces the whole entity) loses nothing.
type Extra map[string]json.RawMessage

// knownFields lists the JSON names (lower case) of t's fields.
func knownFields(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[strings.ToLower(name)] = true
	}
	return m
}

// extraFields returns the members of the JSON object b that known lacks,
// matched as encoding/json matches names (known holds lower-case names),
// each value a copy of its raw bytes; a repeated name keeps its last value.
//
// b must be JSON that json.Unmarshal has accepted: the scan only finds
// where members begin and end, without validating, so that a member with a
// Go field costs neither a copy nor an allocation (a map of every member
// costs both). Malformed input gives an error, never a panic.
func extraFields(b []byte, known map[string]bool) (Extra, error) {
	i := skipSpace(b, 0)
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return nil, nil // as json leaves a map nil
	}
	if i == len(b) || b[i] != '{' {
		return nil, errors.New("tenant: entity JSON is not an object")
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return nil, nil
	}
	var extra Extra
	for {
		kEnd, ok := skipString(b, i)
		if !ok {
			return nil, malformedAt(i)
		}
		key := b[i:kEnd]
		if i = skipSpace(b, kEnd); i == len(b) || b[i] != ':' {
			return nil, malformedAt(i)
		}
		vStart := skipSpace(b, i+1)
		vEnd, ok := skipValue(b, vStart)
		if !ok {
			return nil, malformedAt(vStart)
		}
		name, isExtra, err := unknownMember(key, known)
		if err != nil {
			return nil, err
		}
		if isExtra {
			if extra == nil {
				extra = Extra{}
			}
			// A copy: an Unmarshaler must not retain b.
			extra[name] = append(json.RawMessage(nil), b[vStart:vEnd]...)
		}
		if i = skipSpace(b, vEnd); i == len(b) {
			return nil, malformedAt(i)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return extra, nil
		default:
			return nil, malformedAt(i)
		}
	}
}

func malformedAt(i int) error {
	return fmt.Errorf("tenant: malformed entity JSON at offset %d", i)
}

// unknownMember reports whether known lacks the member whose key is the
// JSON string quoted, and if so its name.
func unknownMember(quoted []byte, known map[string]bool) (name string, unknown bool, err error) {
	raw := quoted[1 : len(quoted)-1]
	// Entities' names are short ASCII: lower-case them on the stack, as map
	// lookups by string(bytes) do not allocate.
	var lower [64]byte
	if len(raw) <= len(lower) {
		plain := true
		for i, c := range raw {
			if c >= utf8.RuneSelf || c == '\\' {
				plain = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if plain {
			if known[string(lower[:len(raw)])] || known[string(raw)] {
				return "", false, nil
			}
			return string(raw), true, nil
		}
	}
	// encoding/json unescapes a name (and replaces invalid UTF-8) before
	// matching it, so "Na\u006de" is Name.
	var s string // not name, which &s would move to the heap on every call
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		s = string(raw)
	} else if err := json.Unmarshal(quoted, &s); err != nil {
		return "", false, fmt.Errorf("tenant: entity JSON member name %s: %w", quoted, err)
	}
	if known[s] || known[strings.ToLower(s)] {
		return "", false, nil
	}
	return s, true, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the JSON string that starts at b[i].
func skipString(b []byte, i int) (end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; ; {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return 0, false
		}
		q += j
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for b[q-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) (end int, ok bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		// Valid JSON nests properly, so counting depth suffices; strings
		// are skipped whole, as they may hold brackets.
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	// A number or literal runs to the next delimiter.
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	return j, j > i
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// withExtra appends extra's members (but those known) to the JSON object b.
func withExtra(b []byte, extra Extra, known map[string]bool) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if !known[strings.ToLower(k)] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for _, k := range keys {
		v := extra[k]
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		if !json.Valid(v) {
			return nil, fmt.Errorf("tenant: Extra[%q] is not valid JSON", k)
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
