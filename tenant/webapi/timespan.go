package webapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeSpan is a .NET TimeSpan: a duration the server sends as "hh:mm:ss",
// "d.hh:mm:ss" or either with 7 fractional digits ("00:00:00.5000000").
// It is sent in the same form (.NET's "c" format), which the server
// reads; it also reads ISO 8601 durations ("PT1H30M"), which some clients
// send.
type TimeSpan struct {
	time.Duration
}

// ParseTimeSpan parses [-][d.]hh:mm:ss[.fffffff], d:hh:mm:ss, or an ISO
// 8601 duration (PnDTnHnMnS).
func ParseTimeSpan(s string) (TimeSpan, error) {
	if s == "" {
		return TimeSpan{}, nil
	}
	orig := s
	bad := func() (TimeSpan, error) {
		return TimeSpan{}, fmt.Errorf("webapi: timespan %q is not [-][d.]hh:mm:ss[.fffffff]", orig)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if strings.HasPrefix(s, "P") {
		d, err := parseISODuration(s)
		if err != nil {
			return bad()
		}
		if neg {
			d = -d
		}
		return TimeSpan{d}, nil
	}
	parts := strings.Split(s, ":")
	var days int64
	switch len(parts) {
	case 3:
		if i := strings.IndexByte(parts[0], '.'); i >= 0 {
			n, err := strconv.ParseInt(parts[0][:i], 10, 64)
			if err != nil {
				return bad()
			}
			days, parts[0] = n, parts[0][i+1:]
		}
	case 4: // d:hh:mm:ss, .NET's "g" format
		n, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return bad()
		}
		days, parts = n, parts[1:]
	default:
		return bad()
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	secs, frac, _ := strings.Cut(parts[2], ".")
	sec, err3 := strconv.ParseInt(secs, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || days < 0 || days > 106751 {
		return bad()
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		ns = n
	}
	// .NET's range is 100 times a Duration's: past MaxInt64 the sum
	// would wrap round to a negative value.
	secTotal := days*86400 + h*3600 + m*60 + sec
	const maxSec = math.MaxInt64 / int64(time.Second)
	if secTotal > maxSec || secTotal == maxSec && ns > math.MaxInt64%int64(time.Second) {
		return bad()
	}
	d := time.Duration(secTotal)*time.Second + time.Duration(ns)
	if neg {
		d = -d
	}
	return TimeSpan{d}, nil
}

func parseISODuration(s string) (time.Duration, error) {
	s = strings.TrimPrefix(s, "P")
	if s == "" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("bad duration")
	}
	var d time.Duration
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			inTime, s = true, s[1:]
			continue
		}
		i := strings.IndexAny(s, "DHMS")
		if i <= 0 {
			return 0, fmt.Errorf("bad duration")
		}
		// Digits and a decimal point only: ParseFloat also takes signs,
		// exponents, Inf and NaN, which no duration has.
		if strings.Trim(s[:i], "0123456789.") != "" {
			return 0, fmt.Errorf("bad duration")
		}
		f, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, err
		}
		var unit time.Duration
		switch {
		case s[i] == 'D' && !inTime:
			unit = 24 * time.Hour
		case s[i] == 'H' && inTime:
			unit = time.Hour
		case s[i] == 'M' && inTime:
			unit = time.Minute
		case s[i] == 'S' && inTime:
			unit = time.Second
		default:
			return 0, fmt.Errorf("bad duration")
		}
		// float64(MaxInt64) rounds up to 2^63, which is already too much.
		v := f * float64(unit)
		if v >= math.MaxInt64 || time.Duration(v) > math.MaxInt64-d {
			return 0, fmt.Errorf("duration out of range")
		}
		d += time.Duration(v)
		s = s[i+1:]
	}
	return d, nil
}

// String formats ts as .NET's "c" format: [-][d.]hh:mm:ss[.fffffff].
func (ts TimeSpan) String() string {
	// Unsigned, so that the most negative Duration, which has no
	// positive counterpart, still has its magnitude.
	d := uint64(ts.Duration)
	var b strings.Builder
	if ts.Duration < 0 {
		b.WriteByte('-')
		d = -d
	}
	const day, hour, minute, second = uint64(24 * time.Hour), uint64(time.Hour), uint64(time.Minute), uint64(time.Second)
	days := d / day
	d -= days * day
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	h := d / hour
	d -= h * hour
	m := d / minute
	d -= m * minute
	s := d / second
	d -= s * second
	fmt.Fprintf(&b, "%02d:%02d:%02d", h, m, s)
	if ticks := d / 100; ticks > 0 {
		fmt.Fprintf(&b, ".%07d", ticks)
	}
	return b.String()
}

// MarshalJSON writes ts as a JSON string in .NET's "c" format.
func (ts TimeSpan) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, ts.String()), nil
}

// UnmarshalJSON reads a JSON string in any form ParseTimeSpan takes; null
// is zero. A value it cannot read is a *json.UnmarshalTypeError, which
// encoding/json completes with the JSON members that lead to it, so the
// error names the field.
func (ts *TimeSpan) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*ts = TimeSpan{}
		return nil
	}
	s, ok, err := jsonString(b)
	if !ok || err != nil {
		return valueError[TimeSpan](fmt.Sprintf("%.40s (a timespan must be a JSON string)", b))
	}
	v, err := ParseTimeSpan(s)
	if err != nil {
		return valueError[TimeSpan](fmt.Sprintf("timespan %.40q (neither [-][d.]hh:mm:ss[.fffffff] nor an ISO 8601 duration)", s))
	}
	*ts = v
	return nil
}
