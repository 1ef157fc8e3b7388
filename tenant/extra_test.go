package tenant

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// extraFieldsMap is the reference for extraFields: the map-based pass it
// replaced, which decodes every member a second time.
func extraFieldsMap(b []byte, known map[string]bool) (Extra, error) {
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

func sameExtra(a, b Extra) bool {
	return maps.EqualFunc(a, b, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) })
}

func TestExtraFields(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		known map[string]bool   // contactFields if nil
		want  map[string]string // nil: no Extra
		err   bool
	}{
		{name: "empty object", in: `{}`},
		{name: "empty object, spaced", in: " \t\r\n{ \n } \n"},
		{name: "null", in: `null`},
		{name: "null, spaced", in: ` null `},
		{name: "only known", in: `{"ContactId":1,"Name":"A","Emails":[{"Value":"a@b"}],"Associate":null}`},
		{name: "known in any case", in: `{"contactid":1,"NAME":"A","nAmE":"B","URLS":[]}`},
		{name: "escaped known name", in: `{"Na\u006de":"A","N\u0041ME":"B","\u0055rls":[]}`},
		{name: "escaped unknown name", in: `{"Addr\u0065ss":{}}`, want: map[string]string{"Address": `{}`}},
		{name: "escaped quote and backslash in names", in: `{"a\"b":1,"c\\":2,"\\\"":3}`,
			want: map[string]string{`a"b`: `1`, `c\`: `2`, `\"`: `3`}},
		{name: "non-ASCII names", in: `{"Näme":1,"NAME\u00c4":2}`, want: map[string]string{"Näme": `1`, "NAMEÄ": `2`}},
		{name: "non-ASCII name lower-cased to a known one", known: map[string]bool{"kelvin": true},
			in: "{\"\u212Aelvin\":1,\"\\u212Aelvin\":2,\"\u212AELVIN\":3,\"Kelvin\u212A\":4}", want: map[string]string{"Kelvin\u212A": `4`}},
		{name: "long names", in: `{"` + strings.Repeat("N", 65) + `":1,"` + strings.Repeat("x", 65) + `":2}`,
			want: map[string]string{strings.Repeat("N", 65): `1`, strings.Repeat("x", 65): `2`}},
		{name: "long known name", known: map[string]bool{strings.Repeat("n", 65): true},
			in: `{"` + strings.Repeat("N", 65) + `":1,"` + strings.Repeat("n", 65) + `":2}`},
		{name: "invalid UTF-8 name", in: "{\"N\xffme\":1}", want: map[string]string{"N\uFFFDme": `1`}},
		{name: "Extra is no field", in: `{"Extra":{"a":1}}`, want: map[string]string{"Extra": `{"a":1}`}},
		{name: "every type", in: `{"Name":"x","s":"str","n":-1.5e+3,"z":0,"t":true,"f":false,"u":null,"o":{"a":[1,{"b":null}]},"a":[[],{},"",0]}`,
			want: map[string]string{"s": `"str"`, "n": `-1.5e+3`, "z": `0`, "t": `true`, "f": `false`, "u": `null`,
				"o": `{"a":[1,{"b":null}]}`, "a": `[[],{},"",0]`}},
		{name: "brackets and quotes inside strings", in: `{"o":{"x":"}","y":["]{\"",{"z":"\\"}]},"Name":"}{","s":"\\\"}"}`,
			want: map[string]string{"o": `{"x":"}","y":["]{\"",{"z":"\\"}]}`, "s": `"\\\"}"`}},
		{name: "whitespace everywhere", in: "{\n  \"Name\" :\t\"A\" ,\r\n  \"o\" : { \"a\" : [ 1 , 2 ] } ,\n  \"n\":1 \n}",
			want: map[string]string{"o": `{ "a" : [ 1 , 2 ] }`, "n": `1`}},
		{name: "last of a repeated name wins", in: `{"a":1,"Name":"x","a":[2],"Name":"y"}`, want: map[string]string{"a": `[2]`}},
		{name: "repeat spelled differently", in: `{"a":1,"\u0061":2}`, want: map[string]string{"a": `2`}},
		{name: "names differing in case are distinct", in: `{"Foo":1,"foo":2}`, want: map[string]string{"Foo": `1`, "foo": `2`}},
		{name: "array", in: `[{"a":1}]`, err: true},
		{name: "string", in: `"{}"`, err: true},
		{name: "number", in: `1`, err: true},
		{name: "empty input", in: ``, err: true},
		{name: "unterminated object", in: `{"a":1`, err: true},
		{name: "unterminated name", in: `{"a`, err: true},
		{name: "no colon", in: `{"a" 1}`, err: true},
		{name: "no value", in: `{"a":}`, err: true},
		{name: "no comma", in: `{"a":1 "b":2}`, err: true},
		{name: "unterminated string", in: `{"a":"x}`, err: true},
		{name: "unterminated array", in: `{"a":[1,{}`, err: true},
		{name: "name not a string", in: `{a:1}`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			known := tt.known
			if known == nil {
				known = contactFields
			}
			got, err := extraFields([]byte(tt.in), known)
			if tt.err {
				if err == nil {
					t.Fatalf("no error; Extra %v", got)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var want Extra
			for k, v := range tt.want {
				if want == nil {
					want = Extra{}
				}
				want[k] = json.RawMessage(v)
			}
			if !sameExtra(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("Extra = %q, want %q", got, want)
			}
			// The expectations are the old pass's.
			ref, refErr := extraFieldsMap([]byte(tt.in), known)
			if (refErr != nil) != tt.err || !sameExtra(ref, want) {
				t.Fatalf("the map-based pass gives %q, %v", ref, refErr)
			}
		})
	}
}

func TestExtraFieldsCopiesValues(t *testing.T) {
	b := []byte(`{"Name":"A","Address":{"Line":"x"}}`)
	extra, err := extraFields(b, contactFields)
	must(t, err)
	for i := range b {
		b[i] = ' '
	}
	if string(extra["Address"]) != `{"Line":"x"}` {
		t.Fatalf("Extra aliases the input: %q", extra["Address"])
	}
}

// TestExtraFieldsKnownCostNothing keeps members with a Go field free of
// allocations, whatever their case.
func TestExtraFieldsKnownCostNothing(t *testing.T) {
	b := []byte(`{"ContactId":5,"Name":"Acme","department":"","Emails":[{"Value":"a@b","Description":"}"}],` +
		`"Associate":{"AssociateId":1},"CustomFields":{"x":"y"},"UPDATEDDATE":"0001-01-01T00:00:00","Xstop":false}`)
	allocs := testing.AllocsPerRun(100, func() {
		extra, err := extraFields(b, contactFields)
		if err != nil || extra != nil {
			t.Fatal(extra, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations for known members", allocs)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzExtraFields checks the scanner against the map-based pass on any
// valid JSON, and that it never panics on the rest.
func FuzzExtraFields(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `"x"`, `1`,
		`{"ContactId":5,"Name":"Acme","Address":{"Postal":{"Address1":"Street 1"}},"Interests":[]}`,
		`{"Na\u006de":"A","n\u0041me":1,"Addr\u0065ss":null,"a\"b":"}","c\\":["]"]}`,
		"{ \"a\" : [ 1 , { \"b\" : \"\\\\\" } ] ,\n\"A\":-0.5e-3, \"a\":true}",
		"{\"N\xffme\":1,\"Näme\":false}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := extraFields(b, contactFields)
		if !json.Valid(b) {
			return // anything but a panic
		}
		want, wantErr := extraFieldsMap(b, contactFields)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: error %v, the map-based pass %v", b, err, wantErr)
		}
		if !sameExtra(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%q: Extra = %q, the map-based pass %q", b, got, want)
		}
	})
}
