package webapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Unspecified is the location of a Time the server sent without an offset
// ("2002-08-07T14:52:00", its default): a wall-clock time in the tenant's
// or the requested SO-TimeZone, whose offset is not known. It has offset 0,
// so t.Hour() and friends give the wall clock as sent. A Time in Unspecified
// is sent back without an offset, so that the server reads it as it wrote
// it; operations that keep the location (Add, Truncate, AddDate) keep that.
var Unspecified = time.FixedZone("Unspecified", 0)

// Time is a date and time of the web API. It reads the server's
// offset-less form (into Unspecified), values with an offset (Z, +02:00,
// or -0500 without a colon, as the server writes with SO-TimeZone:
// includeTZOffset), values without seconds ("2021-03-04T05:06"), bare
// dates, and "0001-01-01T00:00:00", .NET's DateTime.MinValue, which the
// server uses for "no date" and which is the zero Time. It writes a zero
// Time as "0001-01-01T00:00:00", a time in Unspecified without an offset,
// a time read with an offset without a colon in that form again, and every
// other time in RFC 3339 with its offset, always with seconds and with at
// most 7 fractional digits (.NET's 100 ns resolution).
type Time struct {
	time.Time
}

const (
	layoutLocal   = "2006-01-02T15:04:05.9999999"
	layoutOffset  = "2006-01-02T15:04:05.9999999Z07:00"
	layoutCompact = "2006-01-02T15:04:05.9999999-0700"
	zeroDate      = "0001-01-01T00:00:00"
)

// ParseTime parses a date and time in any form the web API uses: with or
// without an offset (Z, ±hh:mm or ±hhmm), with or without seconds, with
// up to 7 (or 9) fractional digits, or a bare date ("2021-03-04").
// Offset-less values are in Unspecified; a value with an offset without a
// colon is in a fixed zone named like that offset ("-0500"), which String
// and MarshalJSON write in the same form.
func ParseTime(s string) (Time, error) {
	if s == "" || s == zeroDate {
		return Time{}, nil
	}
	if len(s) == len("2006-01-02") {
		t, err := time.ParseInLocation("2006-01-02", s, Unspecified)
		if err != nil {
			return Time{}, fmt.Errorf("webapi: date %q: %w", s, err)
		}
		return parsed(t), nil
	}
	clock, zone := s, ""
	if i := offsetAt(s); i >= 0 {
		clock, zone = s[:i], s[i:]
	}
	// The layouts have no fraction: Go accepts one after the seconds anyway.
	layout := "2006-01-02T15:04:05"
	if strings.Count(clock, ":") == 1 {
		layout = "2006-01-02T15:04"
	}
	var (
		t   time.Time
		err error
	)
	switch {
	case zone == "":
		t, err = time.ParseInLocation(layout, s, Unspecified)
	case strings.Contains(zone, ":") || zone == "Z" || zone == "z":
		if layout == "2006-01-02T15:04:05" {
			t, err = time.Parse(time.RFC3339Nano, s)
		} else {
			t, err = time.Parse(layout+"Z07:00", s)
		}
	default:
		t, err = time.Parse(layout+"-0700", s)
		if err == nil {
			// A zone named like the offset, so that it is written back so.
			name := t.Format("-0700")
			_, off := t.Zone()
			t = t.In(time.FixedZone(name, off))
		}
	}
	if err != nil {
		return Time{}, fmt.Errorf("webapi: date %q: %w", s, err)
	}
	return parsed(t), nil
}

// parsed is t as a Time: .NET's DateTime.MinValue, 0001-01-01T00:00:00
// on the wall clock whatever the offset, is the zero Time. It is checked
// after parsing, so that a string that only starts like it is refused.
func parsed(t time.Time) Time {
	if y, m, d := t.Date(); y == 1 && m == 1 && d == 1 && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return Time{}
	}
	return Time{t}
}

// offsetAt returns where the offset of a datetime string starts (at Z, z,
// + or -), or -1 when it has none.
func offsetAt(s string) int {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return len(s) - 1
	}
	if i := strings.LastIndexAny(s, "+-"); i > len("2006-01-02") { // past the date's own dashes
		return i
	}
	return -1
}

// compact reports whether t is written with an offset without a colon:
// its location is the fixed zone ParseTime made for such an offset.
func compact(t time.Time) bool {
	name := t.Location().String()
	return len(name) == len("-0700") && (name[0] == '+' || name[0] == '-') && name == t.Format("-0700")
}

// String formats t as it is sent.
func (t Time) String() string {
	switch {
	case t.IsZero():
		return zeroDate
	case t.Location() == Unspecified:
		return t.Format(layoutLocal)
	case compact(t.Time):
		return t.Format(layoutCompact)
	}
	return t.Format(layoutOffset)
}

// MarshalJSON writes t as described on Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
		return nil, fmt.Errorf("webapi: year %d is out of range for the web API", t.Year())
	}
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON reads a JSON string in any form ParseTime takes; null and
// "" are the zero Time. A value it cannot read is a *json.UnmarshalTypeError,
// which encoding/json completes with the JSON members that lead to it, so
// the error names the field.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	s, ok, err := jsonString(b)
	switch {
	case !ok:
		return valueError[Time](fmt.Sprintf("%.40s (a date must be a JSON string)", b))
	case err != nil:
		return fmt.Errorf("webapi: date: %w", err)
	}
	v, err := ParseTime(s)
	if err != nil {
		return valueError[Time](fmt.Sprintf("date %.40q (%s)", s, parseReason(err)))
	}
	*t = v
	return nil
}

// parseReason is why time.Parse refused a date, without the date itself.
func parseReason(err error) string {
	var pe *time.ParseError
	if errors.As(err, &pe) && pe.Message != "" {
		return strings.TrimPrefix(pe.Message, ": ")
	}
	return "not a date and time the web API writes"
}
