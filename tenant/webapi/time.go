package webapi

import (
	"bytes"
	"fmt"
	"strconv"
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
// offset-less form (into Unspecified), values with an offset or Z, and
// "0001-01-01T00:00:00", .NET's DateTime.MinValue, which the server uses
// for "no date" and which is the zero Time. It writes a zero Time as
// "0001-01-01T00:00:00", a time in Unspecified without an offset, and every
// other time in RFC 3339 with its offset, with at most 7 fractional digits
// (.NET's 100 ns resolution).
type Time struct {
	time.Time
}

const (
	layoutLocal  = "2006-01-02T15:04:05.9999999"
	layoutOffset = "2006-01-02T15:04:05.9999999Z07:00"
	zeroDate     = "0001-01-01T00:00:00"
)

// ParseTime parses a date and time in any form the web API uses: with or
// without an offset, with up to 7 (or 9) fractional digits, or a bare date
// ("2021-03-04"). Offset-less values are in Unspecified.
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
	if hasOffset(s) {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Time{}, fmt.Errorf("webapi: date %q: %w", s, err)
		}
		return parsed(t), nil
	}
	// The layout has no fraction: Go accepts one after the seconds anyway.
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, Unspecified)
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

// hasOffset reports whether a datetime string ends in Z or ±hh:mm.
func hasOffset(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	i := strings.LastIndexAny(s, "+-")
	return i > len("2006-01-02") // past the date's own dashes
}

// String formats t as it is sent.
func (t Time) String() string {
	switch {
	case t.IsZero():
		return zeroDate
	case t.Location() == Unspecified:
		return t.Format(layoutLocal)
	}
	return t.Format(layoutOffset)
}

// MarshalJSON writes t as described on Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
		return nil, fmt.Errorf("webapi: year %d is out of range for the web API", t.Year())
	}
	b := make([]byte, 0, len(layoutOffset)+2)
	b = append(b, '"')
	switch {
	case t.IsZero():
		b = append(b, zeroDate...)
	case t.Location() == Unspecified:
		b = t.AppendFormat(b, layoutLocal)
	default:
		b = t.AppendFormat(b, layoutOffset)
	}
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON string in any form ParseTime takes; null and
// "" are the zero Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("webapi: date is not a JSON string: %.40s", b)
	}
	s := b[1 : len(b)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		u, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("webapi: date: %w", err)
		}
		s = []byte(u)
	}
	v, err := ParseTime(string(s))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
