package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a decoded field Value.
type Kind int

// The kinds of Value. Encoded values carry their kind in a moniker
// ("[I:6]" is an Int); plain JSON values get theirs from their JSON type,
// with a string in ISO 8601 time form read as a DateTime.
const (
	KindNull     Kind = iota // JSON null
	KindString               // a string (strings are never encoded)
	KindBool                 // JSON true or false
	KindInt                  // [I:6], or a JSON integer
	KindFloat                // [F:123.4] or [D:1234.5], or a JSON number with a fraction
	KindMoney                // [M:123.45]
	KindDate                 // [D:09.11.2017]
	KindDateTime             // [DT:09/16/2025 14:22:14.0000000], or a JSON ISO 8601 string
	KindTime                 // [T:14:52]
	KindTimeSpan             // [TS:500]
	KindIntArray             // [A:3,4,5], or a JSON array of integers
	KindBinary               // [B:...]
	KindJSON                 // any other JSON (an object, a mixed array)
)

var kindNames = [...]string{"null", "string", "bool", "int", "float", "money", "date", "datetime", "time",
	"timespan", "intarray", "binary", "json"}

// String returns the kind's name: "int", "datetime"...
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one decoded field value of FieldValues or Values.
type Value struct {
	Kind Kind
	// Text is the value as text: the string, or an encoded value's text
	// after its moniker ("6" of "[I:6]"), or a plain JSON value's literal.
	Text string
	// Int is set for KindInt, KindBool (1 for true) and KindTimeSpan (the
	// number as sent; SuperOffice does not document its unit).
	Int int64
	// Float is set for KindFloat, KindMoney and KindInt.
	Float float64
	// Time is set for KindDate, KindDateTime and KindTime (on 0000-01-01).
	// Encoded times carry no zone and are returned as UTC; an ISO 8601
	// string keeps the offset it has.
	Time time.Time
	// Ints is set for KindIntArray.
	Ints []int64
	// Raw is the value as sent.
	Raw json.RawMessage
}

// DecodeValues decodes the FieldValues or Values of an Event, whether
// SuperOffice sent them encoded ("[I:6]") or as plain JSON (6): both
// arrive in the payloads, created and changed events using the first and
// deleted events the second. Empty input gives an empty map.
func DecodeValues(raw json.RawMessage) (map[string]Value, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return map[string]Value{}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("webhook: field values are not a JSON object: %w", err)
	}
	out := make(map[string]Value, len(m))
	for k, r := range m {
		v, err := DecodeValue(r)
		if err != nil {
			return nil, fmt.Errorf("webhook: field value %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// DecodeValue decodes one field value. A string in the encoded form
// "[moniker:text]" with a known moniker is decoded as ParseEncoded does;
// when its text does not parse as the moniker says, it is kept as a
// plain string (strings are not encoded, so a name may look like one).
func DecodeValue(raw json.RawMessage) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Value{}, fmt.Errorf("empty JSON value")
	}
	v := Value{Raw: raw}
	switch raw[0] {
	case 'n':
		if string(raw) != "null" {
			return Value{}, fmt.Errorf("invalid JSON value")
		}
		v.Kind = KindNull
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return Value{}, err
		}
		v.Kind, v.Text = KindBool, string(raw)
		if b {
			v.Int = 1
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, err
		}
		if ev, err := ParseEncoded(s); err == nil {
			ev.Raw = raw
			return ev, nil
		}
		v.Kind, v.Text = KindString, s
		if t, err := parseISOTime(s); err == nil {
			v.Kind, v.Time = KindDateTime, t
		}
	case '[':
		var ints []int64
		if err := json.Unmarshal(raw, &ints); err == nil {
			v.Kind, v.Ints, v.Text = KindIntArray, ints, string(raw)
			break
		}
		if !json.Valid(raw) {
			return Value{}, fmt.Errorf("invalid JSON value")
		}
		v.Kind, v.Text = KindJSON, string(raw)
	case '{':
		if !json.Valid(raw) {
			return Value{}, fmt.Errorf("invalid JSON value")
		}
		v.Kind, v.Text = KindJSON, string(raw)
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return Value{}, err
		}
		v.Text = n.String()
		if i, err := n.Int64(); err == nil {
			v.Kind, v.Int, v.Float = KindInt, i, float64(i)
			break
		}
		f, err := n.Float64()
		if err != nil {
			return Value{}, fmt.Errorf("number %s out of range", n)
		}
		v.Kind, v.Float = KindFloat, f
	}
	return v, nil
}

// The layouts of encoded dates and times: the invariant culture's
// (month first, with slashes), and the day-first and ISO forms the
// documentation also shows.
var (
	dateLayouts     = []string{"01/02/2006", "02.01.2006", "2006-01-02"}
	dateTimeLayouts = []string{"01/02/2006 15:04:05", "01/02/2006 15:04", "02.01.2006 15:04:05", "02.01.2006 15:04",
		"2006-01-02T15:04:05", "2006-01-02 15:04:05", time.RFC3339Nano}
	timeLayouts = []string{"15:04:05", "15:04"}
)

// ParseEncoded decodes one value SuperOffice's CultureDataFormatter
// encoded: "[moniker:text]" with the monikers I (int), F (double), D (date,
// or a double in older documentation), DT (date and time), M (money), T
// (time), TS (time span), A (int array, "3,4,5") and B (binary, kept as
// text). Anything else is an error naming what is wrong.
func ParseEncoded(s string) (Value, error) {
	if len(s) < 4 || s[0] != '[' || s[len(s)-1] != ']' {
		return Value{}, fmt.Errorf("webhook: not an encoded value (want [moniker:value])")
	}
	moniker, text, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return Value{}, fmt.Errorf("webhook: encoded value has no moniker")
	}
	v := Value{Text: text}
	bad := func(what string) (Value, error) {
		return Value{}, fmt.Errorf("webhook: encoded %s value %q is not %s", moniker, truncate(text), what)
	}
	switch moniker {
	case "I":
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad("an integer")
		}
		v.Kind, v.Int, v.Float = KindInt, i, float64(i)
	case "F", "M":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return bad("a number")
		}
		v.Kind, v.Float = KindFloat, f
		if moniker == "M" {
			v.Kind = KindMoney
		}
	case "D":
		if t, ok := parseLayouts(dateLayouts, text); ok {
			v.Kind, v.Time = KindDate, t
			break
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return bad("a date")
		}
		v.Kind, v.Float = KindFloat, f
	case "DT":
		t, ok := parseLayouts(dateTimeLayouts, text)
		if !ok {
			return bad("a date and time")
		}
		v.Kind, v.Time = KindDateTime, t
	case "T":
		t, ok := parseLayouts(timeLayouts, text)
		if !ok {
			return bad("a time of day")
		}
		v.Kind, v.Time = KindTime, t
	case "TS":
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad("an integer time span")
		}
		v.Kind, v.Int = KindTimeSpan, i
	case "A":
		v.Kind, v.Ints = KindIntArray, []int64{}
		if strings.TrimSpace(text) == "" {
			break
		}
		for part := range strings.SplitSeq(text, ",") {
			i, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return bad("a list of integers")
			}
			v.Ints = append(v.Ints, i)
		}
	case "B":
		v.Kind = KindBinary
	default:
		return Value{}, fmt.Errorf("webhook: unknown encoded-value moniker %q", truncate(moniker))
	}
	return v, nil
}

func parseLayouts(layouts []string, s string) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
