package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
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

// extraFields returns the members of the JSON object b that known lacks.
func extraFields(b []byte, known map[string]bool) (Extra, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var extra Extra
	for k, v := range all {
		if known[k] || known[strings.ToLower(k)] {
			continue
		}
		if extra == nil {
			extra = Extra{}
		}
		extra[k] = v
	}
	return extra, nil
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
