package webapi

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
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
		var v Time
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if v.IsZero() != tc.zero {
			t.Errorf("%s: IsZero = %v", tc.in, v.IsZero())
		}
		if !tc.zero {
			_, off := v.Zone()
			if tc.offset == -1 && v.Location() != Unspecified || tc.offset >= 0 && off != tc.offset {
				t.Errorf("%s: location %v offset %d", tc.in, v.Location(), off)
			}
		}
		b, err := json.Marshal(v)
		if err != nil || string(b) != tc.out {
			t.Errorf("%s: wrote %s (%v), want %s", tc.in, b, err, tc.out)
		}
	}
	for _, bad := range []string{`"yesterday"`, `"2002-13-07T14:52:00"`, `5`, `"2002-08-07T14:52:00+25:00"`, `{`} {
		var v Time
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestTimeKeepsUnspecifiedThroughArithmetic(t *testing.T) {
	v, err := ParseTime("2002-08-07T14:52:00")
	if err != nil {
		t.Fatal(err)
	}
	later := Time{v.Add(90 * time.Minute)}
	if got := later.String(); got != "2002-08-07T16:22:00" {
		t.Errorf("got %s", got)
	}
	utc := Time{time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)}
	if got := utc.String(); got != "2024-01-02T03:04:05.1234567Z" {
		t.Errorf("7 digits: got %s", got)
	}
	if _, err := json.Marshal(Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 accepted")
	}
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
		var ts TimeSpan
		if err := json.Unmarshal([]byte(`"`+tc.in+`"`), &ts); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if ts.Duration != tc.d {
			t.Errorf("%s: %v, want %v", tc.in, ts.Duration, tc.d)
		}
		b, _ := json.Marshal(ts)
		if string(b) != `"`+tc.back+`"` {
			t.Errorf("%s: wrote %s, want %q", tc.in, b, tc.back)
		}
	}
	for _, bad := range []string{"1:2", "24:00:00", "00:60:00", "x.01:00:00", "PT", "P1H", "00:00:xx", "1.2.3:00:00"} {
		if _, err := ParseTimeSpan(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	var ts TimeSpan
	if err := json.Unmarshal([]byte("5"), &ts); err == nil {
		t.Error("number accepted")
	}
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
		if err != nil || again.Duration/100 != ts.Duration/100 {
			t.Errorf("%q -> %s -> %v (%v)", s, ts, again.Duration, err)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2002-08-07T14:52:00", "2021-03-04T05:06:07+02:00", "0001-01-01T00:00:00", "1990-05-17"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil || v.Year() < 1 || v.Year() > 9999 {
			return
		}
		again, err := ParseTime(v.String())
		if err != nil || !again.Truncate(100).Equal(v.Truncate(100)) {
			t.Errorf("%q -> %s -> %v (%v)", s, v, again, err)
		}
	})
}

func TestFlagEnums(t *testing.T) {
	var r ETableRight
	if err := json.Unmarshal([]byte(`"Select, Update, Delete"`), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Has(ETableRightSelect) || !r.Has(ETableRightUpdate) || r.Has(ETableRightInsert) {
		t.Errorf("Has on %q is wrong", r)
	}
	if !r.Has(Flags(ETableRightSelect, ETableRightDelete)) {
		t.Error("Has of two members")
	}
	// A composite member counts by its bits.
	full := ETableRightFULL
	if !full.Has(ETableRightSelect) {
		t.Errorf("%q does not have Select", full)
	}
	if b, ok := r.Bits(); !ok || b == 0 {
		t.Errorf("Bits = %d, %v", b, ok)
	}
	// Unknown names pass through and are kept when written.
	var u ETableRight
	if err := json.Unmarshal([]byte(`"Select, Teleport"`), &u); err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(u); string(out) != `"Select, Teleport"` {
		t.Errorf("wrote %s", out)
	}
	if _, ok := u.Bits(); ok {
		t.Error("Bits ok with an unknown name")
	}
	if !u.Has("Teleport") || u.Has("Fly") {
		t.Error("Has by name")
	}
	// A number, as the JavaScript client sends, becomes names.
	sel, _ := ETableRightSelect.Bits()
	upd, _ := ETableRightUpdate.Bits()
	var n ETableRight
	if err := json.Unmarshal([]byte(jsonNumber(sel|upd|1<<40)), &n); err != nil {
		t.Fatal(err)
	}
	if !n.Has(ETableRightSelect) || !n.Has(ETableRightUpdate) || !strings.Contains(string(n), "1099511627776") {
		t.Errorf("number read as %q", n)
	}
	if err := json.Unmarshal([]byte(jsonNumber(sel|upd)), &n); err != nil || n != "Select, Update" {
		t.Errorf("number read as %q (%v), want the longer of aliased names in bit order", n, err)
	}
	if err := json.Unmarshal([]byte("0"), &n); err != nil || n != ETableRightNone {
		t.Errorf("0 read as %q", n)
	}
	if err := json.Unmarshal([]byte(`true`), &n); err == nil {
		t.Error("bool accepted")
	}
	if Flags[ETableRight]() != "" || Flags(ETableRightSelect, "", ETableRightUpdate) != "Select, Update" {
		t.Error("Flags joins wrongly")
	}
}

// TestOrdinaryEnums checks that an ordinary enum sent as a number, as .NET
// writes a value that has no name, decodes instead of failing the whole
// response, and that what it decodes to is written back and read again
// unchanged.
func TestOrdinaryEnums(t *testing.T) {
	var a AppointmentEntity
	if err := json.Unmarshal([]byte(`{"AppointmentId":5,"Type":7}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.AppointmentID != 5 || a.Type != AppointmentTypeBookingForChecklist {
		t.Errorf("read %d, %q", a.AppointmentID, a.Type)
	}
	for _, tc := range []struct{ in, want string }{
		{`"Note"`, "Note"},
		{`3`, "Note"},
		{`"Teleport"`, "Teleport"},       // unknown names pass through
		{`42`, "42"},                     // a code no member has keeps its value
		{`"in\u0044iary\/"`, "inDiary/"}, // JSON escapes, \/ too
	} {
		var v AppointmentType
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil || string(v) != tc.want {
			t.Errorf("%s: read %q (%v), want %q", tc.in, v, err, tc.want)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back AppointmentType
		if err := json.Unmarshal(b, &back); err != nil || back != v {
			t.Errorf("%s: wrote %s, read back %q (%v)", tc.in, b, back, err)
		}
	}
	var e TicketPriorityEscalateEvent
	if err := json.Unmarshal([]byte(`-1`), &e); err != nil || e != TicketPriorityEscalateEventNone {
		t.Errorf("-1 read as %q (%v)", e, err)
	}
	// The spec gives no codes for WebApiPatchOp: a number is kept as text.
	var op WebAPIPatchOp
	if err := json.Unmarshal([]byte(`2`), &op); err != nil || op != "2" {
		t.Errorf("2 read as %q (%v)", op, err)
	}
	// null leaves the value as it was, as for a plain string.
	v := AppointmentTypeNote
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || v != AppointmentTypeNote {
		t.Errorf("null made it %q (%v)", v, err)
	}
	for _, bad := range []string{`true`, `1.5`, `{}`, `99999999999999999999`} {
		var v AppointmentType
		if err := json.Unmarshal([]byte(bad), &v); err == nil || !strings.Contains(err.Error(), "AppointmentType") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func jsonNumber(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestPolymorphicHolders(t *testing.T) {
	var a AnyFieldInfo
	if err := json.Unmarshal([]byte(`{"FieldType":"Checkbox","FieldName":"x"}`), &a); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Value.(*FieldInfoBool); !ok || a.Value.Base().FieldName != "x" {
		t.Errorf("decoded %T", a.Value)
	}
	if err := json.Unmarshal([]byte(`{"FieldType":"Hologram","FieldName":"y"}`), &a); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Value.(*FieldInfoBase); !ok {
		t.Errorf("unknown discriminator decoded as %T", a.Value)
	}
	// Encoding fills in an empty discriminator, without touching the value.
	v := &FieldInfoBool{}
	b, err := json.Marshal(AnyFieldInfo{v})
	if err != nil || !strings.Contains(string(b), `"FieldType":"Checkbox"`) || v.FieldType != "" {
		t.Errorf("wrote %s (%v), value now %q", b, err, v.FieldType)
	}
	if b, _ := json.Marshal(AnyFieldInfo{}); string(b) != "null" {
		t.Errorf("empty holder wrote %s", b)
	}
	if err := json.Unmarshal([]byte(`null`), &a); err != nil || a.Value != nil {
		t.Errorf("null: %v %v", a.Value, err)
	}
	if err := json.Unmarshal([]byte(`[1]`), &a); err == nil {
		t.Error("array accepted")
	}
}

// .NET writes an enum as its number when it has no name for it, and the
// discriminator is an enum: a number must pick the subtype of that code,
// or the base for a code no subtype has, not fail the whole response.
func TestPolymorphicHolderReadsANumericDiscriminator(t *testing.T) {
	var a AnyFieldInfo
	if err := json.Unmarshal([]byte(`{"FieldType":6,"FieldName":"x"}`), &a); err != nil {
		t.Fatal(err)
	}
	if v, ok := a.Value.(*FieldInfoBool); !ok || v.FieldType != CustomFieldTypeCheckbox || v.FieldName != "x" {
		t.Errorf("code 6 decoded as %T %+v", a.Value, a.Value)
	}
	if err := json.Unmarshal([]byte(`{"FieldType":999}`), &a); err != nil {
		t.Fatal(err)
	}
	if v, ok := a.Value.(*FieldInfoBase); !ok || v.FieldType != "999" {
		t.Errorf("unknown code decoded as %T %+v", a.Value, a.Value)
	}
}

// A .NET TimeSpan reaches 10675199 days, a Duration only 106751: a value
// past that, or an ISO duration that is not a finite count, is an error,
// not a Duration wrapped round to some other value.
func TestTimeSpanOutOfRange(t *testing.T) {
	for _, bad := range []string{"106751.23:59:59", "-106751.23:59:59", "106751.23:47:17", "PT1e30H", "PTNaNH", "PTInfS", "P106752D", "P106751DT24H", "PT-5H", "P-1D", "PT0x10S"} {
		if ts, err := ParseTimeSpan(bad); err == nil {
			t.Errorf("%q: no error, read as %v", bad, ts.Duration)
		}
	}
	for _, ok := range []string{"106751.23:47:16.8547758", "-106751.23:47:16.8547758", "P106751D", "PT1.5S"} {
		if _, err := ParseTimeSpan(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	// The most negative Duration has no positive counterpart: it is still
	// written as a TimeSpan the server (and ParseTimeSpan) reads.
	ts := TimeSpan{math.MinInt64}
	back, err := ParseTimeSpan(ts.String())
	if err != nil || back.Duration/100 != ts.Duration/100 {
		t.Errorf("%v wrote %q, read back %v (%v)", ts.Duration, ts.String(), back.Duration, err)
	}
}

// Only .NET's DateTime.MinValue, in any of its forms, is the zero Time: a
// string that merely starts like it is an error or the time it says.
func TestTimeMinValuePrefixIsNotEnough(t *testing.T) {
	for _, bad := range []string{"0001-01-01T00:00:00garbage", "0001-01-01T00:00:00 ", "0001-01-01T00:00:00+99:00"} {
		if v, err := ParseTime(bad); err == nil {
			t.Errorf("%q: no error, read as %v", bad, v.Time)
		}
	}
	v, err := ParseTime("0001-01-01T00:00:00.5")
	if err != nil || v.IsZero() || v.Nanosecond() != 5e8 || v.Location() != Unspecified {
		t.Errorf("half a second after MinValue: %v (%v)", v.Time, err)
	}
	for _, zero := range []string{"0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000000", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00-05:00", "0001-01-01"} {
		if v, err := ParseTime(zero); err != nil || !v.IsZero() || v.Location() != time.UTC {
			t.Errorf("%q: %v (%v), want the zero Time", zero, v.Time, err)
		}
	}
}
