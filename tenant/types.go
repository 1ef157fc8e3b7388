package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
)

// Time is a date and time as the web API writes it: RFC 3339 with up to 7
// fractional digits, or without an offset (then in Unspecified), with
// "0001-01-01T00:00:00" (or null) for no time. It is written back in the
// form it was read: a Time in Unspecified without an offset.
type Time struct{ time.Time }

// Unspecified is the location of a Time the server sent without an offset
// ("2002-08-07T14:52:00", its default): a wall-clock time in the tenant's
// or the requested SO-TimeZone, whose offset is not known. It has offset 0,
// so t.Hour() and friends give the wall clock as sent. A Time in
// Unspecified is sent back without an offset, so that the server reads it
// as it wrote it, and not as UTC; operations that keep the location (Add,
// Truncate, AddDate) keep that. webapi.Unspecified is the same location.
var Unspecified = time.FixedZone("Unspecified", 0)

const (
	zeroTime     = `"0001-01-01T00:00:00"`
	localTimes   = "2006-01-02T15:04:05.9999999"       // .NET's 100 ns at most
	offsetTimes  = "2006-01-02T15:04:05.9999999Z07:00" // the same, with the offset
	localLayouts = "2006-01-02T15:04:05.999999999"     // for reading: more digits too
)

// UnmarshalJSON accepts RFC 3339, a time without offset (into
// Unspecified), "" and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	str, err := jsonobj.Unquote(b)
	if err != nil {
		return err
	}
	// One layout, chosen by the string's end: a failed Parse builds an
	// error, which costs more than the parse, and most dates come without
	// an offset.
	if hasOffset(str) {
		v, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return err
		}
		t.Time = v
		return nil
	}
	v, err := time.ParseInLocation(localLayouts, str, Unspecified)
	if err != nil {
		return err
	}
	t.Time = v
	if v.Equal(time.Date(1, 1, 1, 0, 0, 0, 0, Unspecified)) {
		t.Time = time.Time{} // .NET's DateTime.MinValue: no time
	}
	return nil
}

// hasOffset reports whether a date and time ends in Z or ±hh:mm.
func hasOffset(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	return strings.LastIndexAny(s, "+-") > len("2006-01-02") // past the date's own dashes
}

// MarshalJSON writes "0001-01-01T00:00:00" for the zero time, as .NET
// does, a time in Unspecified without an offset, and any other time in
// RFC 3339 with its offset; at most 7 fractional digits.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(zeroTime), nil
	}
	layout := offsetTimes
	if t.Location() == Unspecified {
		layout = localTimes
	}
	// A formatted time needs no escaping: quote it by hand.
	b := make([]byte, 0, len(offsetTimes)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"'), nil
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
	for name := range fieldIndex(t) {
		m[name] = true
	}
	return m
}

// extraFields returns the members of the JSON object b that known lacks,
// matched as encoding/json matches names (known holds lower-case names),
// each value a copy of its raw bytes; a repeated name keeps its last value.
//
// It scans rather than decoding b again into a map, so that a member with
// a Go field costs neither a copy nor an allocation.
func extraFields(b []byte, known map[string]bool) (Extra, error) {
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("null")) {
		return nil, nil // as json leaves a map nil
	}
	var extra Extra
	err := jsonobj.Members(b, func(name, value []byte) error {
		if knownName(name, known) {
			return nil
		}
		if extra == nil {
			extra = Extra{}
		}
		// A copy: an Unmarshaler must not retain b.
		extra[string(name)] = append(json.RawMessage(nil), value...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: entity: %w", err)
	}
	return extra, nil
}

// knownName reports whether known has the member name name, which is
// unescaped already, exactly or in lower case.
func knownName(name []byte, known map[string]bool) bool {
	// Entities' names are short ASCII: lower-case them on the stack, as map
	// lookups by string(bytes) do not allocate.
	var lower [64]byte
	if len(name) <= len(lower) {
		ascii := true
		for i, c := range name {
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if ascii {
			return known[string(lower[:len(name)])]
		}
	}
	s := string(name)
	return known[s] || known[strings.ToLower(s)]
}

// withExtra appends extra's members (but those known) to the JSON object b,
// which json.Marshal made.
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
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		// Compacted and escaped as json.Marshal would, so that Client.Do
		// can send the entity's encoding as is.
		n := buf.Len()
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("tenant: Extra[%q] is not valid JSON", k)
		}
		if w := buf.Bytes()[n:]; bytes.ContainsAny(w, "<>&\u2028\u2029") {
			w = bytes.Clone(w)
			buf.Truncate(n)
			json.HTMLEscape(&buf, w)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
