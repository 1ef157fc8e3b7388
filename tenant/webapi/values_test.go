package webapi

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTimeReadsEveryFormAndWritesItBack(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		zero    bool
		offset  int // seconds east of UTC; -1: Unspecified
	}{
		{`"2002-08-07T14:52:00"`, `"2002-08-07T14:52:00"`, false, -1},
		{`"2020-10-05T09:52:01.9342965"`, `"2020-10-05T09:52:01.9342965"`, false, -1},
		{`"2021-03-04T05:06:07+02:00"`, `"2021-03-04T05:06:07+02:00"`, false, 7200},
		{`"2021-03-04T05:06:07-05:30"`, `"2021-03-04T05:06:07-05:30"`, false, -19800},
		{`"2002-03-31T16:00:00.000Z"`, `"2002-03-31T16:00:00Z"`, false, 0},
		{`"0001-01-01T00:00:00"`, `"0001-01-01T00:00:00"`, true, 0},
		{`"0001-01-01T00:00:00Z"`, `"0001-01-01T00:00:00"`, true, 0},
		{`null`, `"0001-01-01T00:00:00"`, true, 0},
		{`""`, `"0001-01-01T00:00:00"`, true, 0},
		{`"1990-05-17"`, `"1990-05-17T00:00:00"`, false, -1},
		{`"2002-08-07T14:52:00\u002B01:00"`, `"2002-08-07T14:52:00+01:00"`, false, 3600},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v Time
			require.NoError(t, json.Unmarshal([]byte(tc.in), &v))
			assert.Equal(t, tc.zero, v.IsZero(), "IsZero")
			if !tc.zero {
				_, off := v.Zone()
				if tc.offset == -1 {
					assert.Same(t, Unspecified, v.Location())
				} else {
					assert.Equal(t, tc.offset, off, "offset")
				}
			}
			b, err := json.Marshal(v)
			require.NoError(t, err)
			assert.Equal(t, tc.out, string(b))
		})
	}
	for _, bad := range []string{`"yesterday"`, `"2002-13-07T14:52:00"`, `5`, `"2002-08-07T14:52:00+25:00"`, `{`} {
		var v Time
		assert.Error(t, json.Unmarshal([]byte(bad), &v), bad)
	}
}

// TestTimeReadsOffsetsWithoutAColonAndTimesWithoutSeconds covers the forms
// the web API writes with SO-TimeZone: includeTZOffset (PROTOCOL 12): an
// offset without a colon is read, and written back in that form.
func TestTimeReadsOffsetsWithoutAColonAndTimesWithoutSeconds(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		want    time.Time
	}{
		{`"2018-12-24T07:34:45-0500"`, `"2018-12-24T07:34:45-0500"`, time.Date(2018, 12, 24, 12, 34, 45, 0, time.UTC)},
		{`"2018-12-24T07:34:45.25+0130"`, `"2018-12-24T07:34:45.25+0130"`, time.Date(2018, 12, 24, 6, 4, 45, 25e7, time.UTC)},
		{`"2018-12-24T07:34:45+0000"`, `"2018-12-24T07:34:45+0000"`, time.Date(2018, 12, 24, 7, 34, 45, 0, time.UTC)},
		{`"2018-12-24T07:34-0500"`, `"2018-12-24T07:34:00-0500"`, time.Date(2018, 12, 24, 12, 34, 0, 0, time.UTC)},
		{`"2018-12-24T07:34+02:00"`, `"2018-12-24T07:34:00+02:00"`, time.Date(2018, 12, 24, 5, 34, 0, 0, time.UTC)},
		{`"2018-12-24T07:34Z"`, `"2018-12-24T07:34:00Z"`, time.Date(2018, 12, 24, 7, 34, 0, 0, time.UTC)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v Time
			require.NoError(t, json.Unmarshal([]byte(tc.in), &v))
			assert.True(t, tc.want.Equal(v.Time), "read %v, want %v", v.Time, tc.want)
			b, err := json.Marshal(v)
			require.NoError(t, err)
			assert.Equal(t, tc.out, string(b))
			// Arithmetic keeps the form, as it keeps Unspecified.
			assert.Equal(t, tc.out[:len(`"2018-12-24T07`)], `"`+Time{v.Add(time.Nanosecond)}.String()[:len(`2018-12-24T07`)])
		})
	}
	v, err := ParseTime("2018-12-24T07:34")
	require.NoError(t, err)
	assert.Same(t, Unspecified, v.Location())
	assert.Equal(t, "2018-12-24T07:34:00", v.String())

	// A time in a location of its own is written with a colon, whatever
	// the zone's abbreviation.
	assert.Equal(t, "2018-12-24T07:34:45-05:00", Time{time.Date(2018, 12, 24, 7, 34, 45, 0, time.FixedZone("EST", -5*3600))}.String())

	for _, bad := range []string{"2018-12-24T07:34:45-05", "2018-12-24T07:34:45+2500", "2018-12-24T07:34:45-0099", "2018-12-24T07-0500", "2018-12-24T07:34.5-0500"} {
		_, err := ParseTime(bad)
		assert.Error(t, err, bad)
	}
}

// TestTimeErrorNamesTheField checks that a date the package cannot read
// fails the response with an error that names the JSON member it is in.
func TestTimeErrorNamesTheField(t *testing.T) {
	var p PersonEntity
	err := json.Unmarshal([]byte(`{"Firstname":"a","Consents":[{"Registered":"2018-12-24T07:34:45-0500"},{"Updated":"2018-13-01T00:00:00"}]}`), &p)
	var te *json.UnmarshalTypeError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "Consents.Updated", te.Field)
	assert.Contains(t, err.Error(), "Consents.Updated")
	assert.Contains(t, err.Error(), `"2018-13-01T00:00:00"`)
	assert.Contains(t, err.Error(), "month out of range")

	var c ContactEntity
	err = json.Unmarshal([]byte(`{"CreatedDate":5}`), &c)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "CreatedDate", te.Field)

	// Timespans, enums and flags name their field too.
	var a AppointmentEntity
	require.ErrorAs(t, json.Unmarshal([]byte(`{"Type":true}`), &a), &te)
	assert.Equal(t, "Type", te.Field)
	err = json.Unmarshal([]byte(`{"AlarmLeadTime":"soon"}`), &a)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "AlarmLeadTime", te.Field)
	assert.Contains(t, err.Error(), `"soon"`)
	require.ErrorAs(t, json.Unmarshal([]byte(`{"AlarmLeadTime":5}`), &a), &te)
	assert.Equal(t, "AlarmLeadTime", te.Field)
	var r TableRight
	require.ErrorAs(t, json.Unmarshal([]byte(`{"Mask":-1}`), &r), &te)
	assert.Equal(t, "Mask", te.Field)
}

func TestTimeKeepsUnspecifiedThroughArithmetic(t *testing.T) {
	v, err := ParseTime("2002-08-07T14:52:00")
	require.NoError(t, err)
	later := Time{v.Add(90 * time.Minute)}
	assert.Equal(t, "2002-08-07T16:22:00", later.String())
	utc := Time{time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}
	assert.Equal(t, "2024-01-02T03:04:05.1234567Z", utc.String(), "7 digits")
	_, err = json.Marshal(Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Error(t, err, "year 10000")
}

func TestTimeSpan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		d    time.Duration
		back string
	}{
		{"01:02:03", time.Hour + 2*time.Minute + 3*time.Second, "01:02:03"},
		{"1.02:03:04", 26*time.Hour + 3*time.Minute + 4*time.Second, "1.02:03:04"},
		{"00:00:00.5000000", 500 * time.Millisecond, "00:00:00.5000000"},
		{"-00:30:00", -30 * time.Minute, "-00:30:00"},
		{"3:04:05:06", 76*time.Hour + 5*time.Minute + 6*time.Second, "3.04:05:06"},
		{"PT1H30M", 90 * time.Minute, "01:30:00"},
		{"P1DT1S", 24*time.Hour + time.Second, "1.00:00:01"},
		{"00:00:00", 0, "00:00:00"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var ts TimeSpan
			require.NoError(t, json.Unmarshal([]byte(`"`+tc.in+`"`), &ts))
			assert.Equal(t, tc.d, ts.Duration)
			b, err := json.Marshal(ts)
			require.NoError(t, err)
			assert.Equal(t, `"`+tc.back+`"`, string(b))
		})
	}
	for _, bad := range []string{"1:2", "24:00:00", "00:60:00", "x.01:00:00", "PT", "P1H", "00:00:xx", "1.2.3:00:00"} {
		_, err := ParseTimeSpan(bad)
		assert.Error(t, err, bad)
	}
	var ts TimeSpan
	assert.Error(t, json.Unmarshal([]byte("5"), &ts), "number accepted")
	require.NoError(t, json.Unmarshal([]byte(`"\u00301:02:03"`), &ts), "JSON escapes")
	assert.Equal(t, time.Hour+2*time.Minute+3*time.Second, ts.Duration)
}

func FuzzParseTimeSpan(f *testing.F) {
	for _, s := range []string{"01:02:03", "1.02:03:04", "-00:00:00.1", "PT1H", "3:04:05:06"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimeSpan(s)
		if err != nil {
			return
		}
		again, err := ParseTimeSpan(ts.String())
		require.NoError(t, err, "%q -> %s", s, ts)
		assert.Equal(t, ts.Duration/100, again.Duration/100, "%q -> %s", s, ts)
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2002-08-07T14:52:00", "2021-03-04T05:06:07+02:00", "0001-01-01T00:00:00", "1990-05-17",
		"2018-12-24T07:34:45-0500", "2018-12-24T07:34"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil || v.Year() < 1 || v.Year() > 9999 {
			return
		}
		again, err := ParseTime(v.String())
		require.NoError(t, err, "%q -> %s", s, v)
		assert.True(t, again.Truncate(100).Equal(v.Truncate(100)), "%q -> %s -> %v", s, v, again)
	})
}

func TestFlagEnums(t *testing.T) {
	var r ETableRight
	require.NoError(t, json.Unmarshal([]byte(`"Select, Update, Delete"`), &r))
	assert.True(t, r.Has(ETableRightSelect))
	assert.True(t, r.Has(ETableRightUpdate))
	assert.False(t, r.Has(ETableRightInsert))
	assert.True(t, r.Has(Flags(ETableRightSelect, ETableRightDelete)), "Has of two members")
	// A composite member counts by its bits.
	assert.True(t, ETableRightFULL.Has(ETableRightSelect))
	b, ok := r.Bits()
	assert.True(t, ok)
	assert.NotZero(t, b)

	// Unknown names pass through and are kept when written.
	var u ETableRight
	require.NoError(t, json.Unmarshal([]byte(`"Select, Teleport"`), &u))
	out, err := json.Marshal(u)
	require.NoError(t, err)
	assert.Equal(t, `"Select, Teleport"`, string(out))
	_, ok = u.Bits()
	assert.False(t, ok, "Bits ok with an unknown name")
	assert.True(t, u.Has("Teleport"))
	assert.False(t, u.Has("Fly"))

	// A number, as the JavaScript client sends, becomes names.
	sel, _ := ETableRightSelect.Bits()
	upd, _ := ETableRightUpdate.Bits()
	var n ETableRight
	require.NoError(t, json.Unmarshal([]byte(jsonNumber(sel|upd|1<<40)), &n))
	assert.True(t, n.Has(ETableRightSelect))
	assert.True(t, n.Has(ETableRightUpdate))
	assert.Contains(t, string(n), "1099511627776")
	require.NoError(t, json.Unmarshal([]byte(jsonNumber(sel|upd)), &n))
	assert.Equal(t, ETableRight("Select, Update"), n, "the longer of aliased names, in bit order")
	require.NoError(t, json.Unmarshal([]byte("0"), &n))
	assert.Equal(t, ETableRightNone, n)
	assert.Error(t, json.Unmarshal([]byte(`true`), &n), "bool accepted")
	assert.Equal(t, ETableRight(""), Flags[ETableRight]())
	assert.Equal(t, ETableRight("Select, Update"), Flags(ETableRightSelect, "", ETableRightUpdate))
}

// TestFlagsWithUnnamedBitsAreWrittenAsOneInteger: the server reads flag
// names or one integer, never a mix like "Select, 65536" (PROTOCOL 12).
func TestFlagsWithUnnamedBitsAreWrittenAsOneInteger(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   ETableRight
		want string
	}{
		{"names", "Select, Update", `"Select, Update"`},
		{"names as read, case and all", "select,RI", `"select,RI"`},
		{"unknown names", "Select, Teleport", `"Select, Teleport"`},
		{"a bit no member names", "Select, 65536", `65537`},
		{"only a number", "65536", `65536`},
		{"a number whose bits all have names", "Select, 2", `"Select, Update"`},
		{"zero", "0", `"None"`},
		{"empty", "", `""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}

	// What a number with unnamed bits was read as is written as that number.
	var r TableRight
	require.NoError(t, json.Unmarshal([]byte(`{"Mask":1099511627779,"Reason":"x"}`), &r))
	assert.Contains(t, string(r.Mask), "Select")
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"Mask":1099511627779,"Reason":"x"}`, string(b))

	// A number with a name this package does not know has no form the
	// server reads.
	_, err = json.Marshal(ETableRight("Teleport, 65536"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ETableRight")
}

// TestOrdinaryEnums checks that an ordinary enum sent as a number, as .NET
// writes a value that has no name, decodes instead of failing the whole
// response, and that what it decodes to is written back and read again
// unchanged.
func TestOrdinaryEnums(t *testing.T) {
	var a AppointmentEntity
	require.NoError(t, json.Unmarshal([]byte(`{"AppointmentId":5,"Type":7}`), &a))
	assert.Equal(t, int64(5), a.AppointmentID)
	assert.Equal(t, AppointmentTypeBookingForChecklist, a.Type)
	for _, tc := range []struct{ in, want string }{
		{`"Note"`, "Note"},
		{`3`, "Note"},
		{`"Teleport"`, "Teleport"},       // unknown names pass through
		{`42`, "42"},                     // a code no member has keeps its value
		{`"in\u0044iary\/"`, "inDiary/"}, // JSON escapes, \/ too
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v AppointmentType
			require.NoError(t, json.Unmarshal([]byte(tc.in), &v))
			assert.Equal(t, tc.want, string(v))
			b, err := json.Marshal(v)
			require.NoError(t, err)
			var back AppointmentType
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, v, back)
		})
	}
	var e TicketPriorityEscalateEvent
	require.NoError(t, json.Unmarshal([]byte(`-1`), &e))
	assert.Equal(t, TicketPriorityEscalateEventNone, e)
	// The spec gives no codes for WebApiPatchOp: a number is kept as text.
	var op WebAPIPatchOp
	require.NoError(t, json.Unmarshal([]byte(`2`), &op))
	assert.Equal(t, WebAPIPatchOp("2"), op)
	// null leaves the value as it was, as for a plain string.
	v := AppointmentTypeNote
	require.NoError(t, json.Unmarshal([]byte(`null`), &v))
	assert.Equal(t, AppointmentTypeNote, v)
	for _, bad := range []string{`true`, `1.5`, `{}`, `99999999999999999999`} {
		var v AppointmentType
		err := json.Unmarshal([]byte(bad), &v)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "AppointmentType", bad)
		}
	}
}

func jsonNumber(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestPolymorphicHolders(t *testing.T) {
	var a AnyFieldInfo
	require.NoError(t, json.Unmarshal([]byte(`{"FieldType":"Checkbox","FieldName":"x"}`), &a))
	require.IsType(t, &FieldInfoBool{}, a.Value)
	assert.Equal(t, "x", a.Value.Base().FieldName)
	require.NoError(t, json.Unmarshal([]byte(`{"FieldType":"Hologram","FieldName":"y"}`), &a))
	assert.IsType(t, &FieldInfoBase{}, a.Value, "unknown discriminator")
	// Encoding fills in an empty discriminator, without touching the value.
	v := &FieldInfoBool{}
	b, err := json.Marshal(AnyFieldInfo{v})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"FieldType":"Checkbox"`)
	assert.Empty(t, v.FieldType)
	b, err = json.Marshal(AnyFieldInfo{})
	require.NoError(t, err)
	assert.Equal(t, "null", string(b), "empty holder")
	require.NoError(t, json.Unmarshal([]byte(`null`), &a))
	assert.Nil(t, a.Value)
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &a), "array accepted")
}

// .NET writes an enum as its number when it has no name for it, and the
// discriminator is an enum: a number must pick the subtype of that code,
// or the base for a code no subtype has, not fail the whole response.
func TestPolymorphicHolderReadsANumericDiscriminator(t *testing.T) {
	var a AnyFieldInfo
	require.NoError(t, json.Unmarshal([]byte(`{"FieldType":6,"FieldName":"x"}`), &a))
	if assert.IsType(t, &FieldInfoBool{}, a.Value, "code 6") {
		v := a.Value.(*FieldInfoBool)
		assert.Equal(t, CustomFieldTypeCheckbox, v.FieldType)
		assert.Equal(t, "x", v.FieldName)
	}
	require.NoError(t, json.Unmarshal([]byte(`{"FieldType":999}`), &a))
	if assert.IsType(t, &FieldInfoBase{}, a.Value, "unknown code") {
		assert.Equal(t, CustomFieldType("999"), a.Value.(*FieldInfoBase).FieldType)
	}
}

// A .NET TimeSpan reaches 10675199 days, a Duration only 106751: a value
// past that, or an ISO duration that is not a finite count, is an error,
// not a Duration wrapped round to some other value.
func TestTimeSpanOutOfRange(t *testing.T) {
	for _, bad := range []string{"106751.23:59:59", "-106751.23:59:59", "106751.23:47:17", "PT1e30H", "PTNaNH", "PTInfS", "P106752D", "P106751DT24H", "PT-5H", "P-1D", "PT0x10S"} {
		ts, err := ParseTimeSpan(bad)
		assert.Error(t, err, "%q read as %v", bad, ts.Duration)
	}
	for _, ok := range []string{"106751.23:47:16.8547758", "-106751.23:47:16.8547758", "P106751D", "PT1.5S"} {
		_, err := ParseTimeSpan(ok)
		assert.NoError(t, err, ok)
	}
	// The most negative Duration has no positive counterpart: it is still
	// written as a TimeSpan the server (and ParseTimeSpan) reads.
	ts := TimeSpan{math.MinInt64}
	back, err := ParseTimeSpan(ts.String())
	require.NoError(t, err, ts.String())
	assert.Equal(t, ts.Duration/100, back.Duration/100)
}

// Only .NET's DateTime.MinValue, in any of its forms, is the zero Time: a
// string that merely starts like it is an error or the time it says.
func TestTimeMinValuePrefixIsNotEnough(t *testing.T) {
	for _, bad := range []string{"0001-01-01T00:00:00garbage", "0001-01-01T00:00:00 ", "0001-01-01T00:00:00+99:00"} {
		v, err := ParseTime(bad)
		assert.Error(t, err, "%q read as %v", bad, v.Time)
	}
	v, err := ParseTime("0001-01-01T00:00:00.5")
	require.NoError(t, err)
	assert.False(t, v.IsZero(), "half a second after MinValue")
	assert.Equal(t, 500000000, v.Nanosecond())
	assert.Same(t, Unspecified, v.Location())
	for _, zero := range []string{"0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000000", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00-05:00", "0001-01-01", "0001-01-01T00:00:00-0500", "0001-01-01T00:00"} {
		v, err := ParseTime(zero)
		require.NoError(t, err, zero)
		assert.True(t, v.IsZero(), zero)
		assert.Same(t, time.UTC, v.Location(), zero)
	}
}
