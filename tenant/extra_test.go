package tenant

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"reflect"
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

// The emulator's GET v1/Contact/default and v1/Person/default bodies.
var (
	contactDefault = mustRead("testdata/contact_default.json")
	personDefault  = mustRead("testdata/person_default.json")
)

func mustRead(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// decodeCase runs the one-pass decoder and the reflective one on in, and
// reports whether the one pass took it, failing t where the two differ.
func decodeCase[P any](t *testing.T, in []byte, index map[string]int, known map[string]bool) (fast bool, err error) {
	t.Helper()
	want, wantExtra, wantErr := decodeEntity[P](in, known)
	got, gotExtra, err := decodeMembers[P](in, index)
	if err == nil {
		if wantErr != nil {
			t.Fatalf("%q: one pass decodes it, the reflective decoder fails: %v", in, wantErr)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotExtra, wantExtra) {
			t.Fatalf("%q:\none pass   %+v %q\nreflective %+v %q", in, got, gotExtra, want, wantExtra)
		}
	}
	// What callers get: the one pass, or the reflective decoder's result.
	got, gotExtra, gotErr := decodeFast[P](in, index, known)
	if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotExtra, wantExtra) {
		t.Fatalf("%q: decodeFast %+v %q %v, reflective %+v %q %v", in, got, gotExtra, gotErr, want, wantExtra, wantErr)
	}
	return err == nil, wantErr
}

func TestDecodeFast(t *testing.T) {
	deep := strings.Repeat("[", 9999) + strings.Repeat("]", 9999)
	tests := []struct {
		name string
		in   string
		fast bool // the one pass takes it, rather than leaving it to the reflective decoder
		err  bool
	}{
		{name: "emulator's default contact", in: contactDefault, fast: true},
		{name: "emulator's default person", in: personDefault, fast: true},
		{name: "empty", in: ` { } `, fast: true},
		{name: "every field type", fast: true, in: `{"ContactId":-42,"Name":"A \"B\" \u00e6 \ud83d\ude00","NoMailing":true,"Xstop":false,` +
			`"Emails":[{"Value":"a@b","Description":"d"},{}],"Associate":{"AssociateId":1,"name":"x","Deleted":true,"Unknown":[{}]},` +
			`"CustomFields":{"a":"1","a":"2","b":"x"},"CreatedDate":"2002-08-07T14:52:00","UpdatedDate":"2020-01-02T03:04:05.1234567+02:00",` +
			`"Address":{"x":[1,-0.5e3,true,null]},"Interests":[]}`},
		{name: "nulls", fast: true, in: `{"ContactId":null,"Name":null,"NoMailing":null,"Emails":null,"Associate":null,` +
			`"CustomFields":null,"CreatedDate":null,"Address":null}`},
		{name: "empty containers", fast: true, in: `{"Emails":[],"Associate":{},"CustomFields":{},"CreatedDate":""}`},
		{name: "any case", fast: true, in: `{"contactid":1,"NAME":"n","uRlS":[],"noMAILING":true,"customFIELDS":{"K":"v"}}`},
		{name: "escaped names", fast: true, in: `{"Na\u006de":"n","\u0041ddress":1,"a\"b":2}`},
		{name: "Extra is no field", fast: true, in: `{"Extra":{"a":1}}`},
		{name: "long unknown name", in: `{"` + strings.Repeat("n", 65) + `":1}`},
		{name: "control character in a name", in: "{\"a\x00\":1}", err: true},
		{name: "escaped control character in a name", in: `{"a\u0000":1,"\n":2}`},
		{name: "invalid UTF-8 in a string", fast: true, in: "{\"Name\":\"a\xffb\",\"Description\":\"\xed\xa0\x80\"}"},
		{name: "repeated unknown member", fast: true, in: `{"a":1,"Address":2,"a":3}`},
		{name: "largest ints", fast: true, in: `{"ContactId":999999999999999999,"Associate":{"Rank":-999999999999999999}}`},
		{name: "smallest int64", in: `{"Associate":{"Rank":-9223372036854775808}}`},
		{name: "19-digit int", in: `{"ContactId":1000000000000000000}`},
		{name: "-0", fast: true, in: `{"ContactId":-0}`},
		{name: "value 9998 deep", fast: true, in: `{"a":` + deep[1:len(deep)-1] + `}`},
		{name: "value 9999 deep", in: `{"a":` + deep + `}`},
		{name: "value 10000 deep", in: `{"a":[` + deep + `]}`, err: true},
		{name: "known field 10000 deep", in: `{"Emails":[` + deep + `]}`, err: true},
		{name: "repeated string", in: `{"Name":"a","Name":"b"}`},
		{name: "repeated in another case", in: `{"Name":"a","NAME":"b"}`},
		{name: "repeated in a nested object", in: `{"Associate":{"AssociateId":1,"associateid":2}}`},
		{name: "bad literal in a nested object's unknown member", in: `{"Country":{"x":[nul]}}`, err: true},
		{name: "repeated object merges", in: `{"Associate":{"Name":"a"},"Associate":{"Rank":1}}`},
		{name: "repeated slice reuses elements", in: `{"Emails":[{"Value":"a","Description":"d"}],"Emails":[{"Value":"b"}]}`},
		{name: "repeated map merges", in: `{"CustomFields":{"a":"1"},"CustomFields":{"b":"2"}}`},
		{name: "null after a value", in: `{"Name":"a","Name":null,"Associate":{},"Associate":null}`},
		{name: "long s folds to s", in: "{\"Xſtop\":true}"},
		{name: "Kelvin sign folds to k", in: "{\"\u212Aey\":1}"},
		{name: "other non-ASCII name", in: `{"Näme":1}`},
		{name: "string for int", in: `{"ContactId":"1"}`, err: true},
		{name: "fraction for int", in: `{"ContactId":1.0}`, err: true},
		{name: "exponent for int", in: `{"ContactId":1e2}`, err: true},
		{name: "overflow", in: `{"ContactId":9223372036854775808}`, err: true},
		{name: "leading zero", in: `{"ContactId":01}`, err: true},
		{name: "plus sign", in: `{"ContactId":+1}`, err: true},
		{name: "int for string", in: `{"Name":1}`, err: true},
		{name: "string for bool", in: `{"NoMailing":"true"}`, err: true},
		{name: "int for bool", in: `{"NoMailing":1}`, err: true},
		{name: "object for string", in: `{"Name":{}}`, err: true},
		{name: "array for object", in: `{"Associate":[]}`, err: true},
		{name: "bad time", in: `{"CreatedDate":"yesterday"}`, err: true},
		{name: "number for time", in: `{"CreatedDate":0}`, err: true},
		{name: "bad escape", in: `{"Name":"\x"}`, err: true},
		{name: "control character", in: "{\"Name\":\"a\nb\"}", err: true},
		{name: "bad literal in Extra", in: `{"a":[tru]}`, err: true},
		{name: "bad number in Extra", in: `{"a":-}`, err: true},
		{name: "bad escape in Extra", in: `{"a":{"b":"\q"}}`, err: true},
		{name: "bad literal for bool", in: `{"NoMailing":tru}`, err: true},
		{name: "bad null", in: `{"Name":nul}`, err: true},
		{name: "trailing garbage", in: `{} x`, err: true},
		{name: "two objects", in: `{}{}`, err: true},
		{name: "unterminated", in: `{"Name":"a"`, err: true},
		{name: "null", in: `null`},
		{name: "array", in: `[]`, err: true},
		{name: "empty input", in: ``, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type plain Contact
			fast, err := decodeCase[plain](t, []byte(tt.in), contactIndex, contactFields)
			if fast != tt.fast {
				t.Errorf("one pass took it: %v, want %v", fast, tt.fast)
			}
			if (err != nil) != tt.err {
				t.Errorf("error %v, want one: %v", err, tt.err)
			}
			type plainPerson Person
			decodeCase[plainPerson](t, []byte(tt.in), personIndex, personFields)
		})
	}
}

// FuzzDecodeFast checks the one-pass decoder against the reflective one
// on any input: the same result or both an error, for Contact and Person.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range []string{
		contactDefault, personDefault,
		`{}`, `null`, `[]`, ``, `{} x`,
		`{"ContactId":null,"Name":null,"NoMailing":null,"Emails":null,"Associate":null,"CreatedDate":null,"Contact":null}`,
		`{"Name":"a","name":"b","Associate":{"Name":"a"},"associate":{"Rank":1},"Emails":[{"Value":"a"}],"Emails":[{}]}`,
		`{"contactid":1,"NAME":"n","noMAILING":true,"CONTACT":{"contactid":2},"Na\u006de":"x"}`,
		`{"ContactId":"1","PersonId":1.5,"Rank":1e2,"NoMailing":1,"Name":{}}`,
		`{"ContactId":9223372036854775807,"PersonId":-9223372036854775809,"Xstop":tru}`,
		"{\"Name\":\"a\xffb\",\"N\xffme\":1,\"Xſtop\":true,\"\u212Aey\":1}",
		`{"Name":"\ud83d\ude00\u00e6\"\\\/\b\f\n\r\t","CreatedDate":"2020-01-02T03:04:05Z","UpdatedDate":""}`,
		`{"a":[[[[{"b":[{"c":null}]}]]]],"Address":{"x":[1,-0.5e-3,true]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		type plain Contact
		decodeCase[plain](t, b, contactIndex, contactFields)
		type plainPerson Person
		decodeCase[plainPerson](t, b, personIndex, personFields)
		// And what decodes encodes as json.Marshal would.
		var c Contact
		if c.decodeJSON(b) != nil {
			return
		}
		got, err := c.encodeJSON()
		want, wantErr := json.Marshal(&c)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("%q: encoded %q %v, json.Marshal %q %v", b, got, err, want, wantErr)
		}
	})
}

// TestEncodeAsJSONMarshal keeps an entity's own encoding, which Client.Do
// sends as is, byte for byte what json.Marshal makes of it.
func TestEncodeAsJSONMarshal(t *testing.T) {
	for _, extra := range []string{
		`{"a" : [ 1 , {"b":null} ] }`,
		` "<a href=\"x\">&amp;</a>" `,
		"\"line\u2028para\u2029\"",
		"\"a\xffb\xe2\x80\"",
		"\t-0.5e+3\n",
		`"\u003c\u2028"`,
	} {
		c := &Contact{Name: "<A & B>", Extra: Extra{"X": json.RawMessage(extra), "Y": json.RawMessage(`{"y":"a b"}`)}}
		p := &Person{Firstname: "\u2028", Extra: Extra{"X": json.RawMessage(extra)}}
		for _, e := range []entityEncoder{c, p} {
			got, err := e.encodeJSON()
			must(t, err)
			want, err := json.Marshal(e)
			must(t, err)
			if !bytes.Equal(got, want) {
				t.Errorf("%q:\nown          %q\njson.Marshal %q", extra, got, want)
			}
		}
	}
	for _, e := range []entityEncoder{(*Contact)(nil), (*Person)(nil)} {
		got, err := e.encodeJSON()
		if err != nil || string(got) != "null" {
			t.Errorf("nil %T: %q, %v", e, got, err)
		}
	}
	if _, err := (&Contact{Extra: Extra{"X": json.RawMessage(`{"a":tru}`)}}).encodeJSON(); err == nil {
		t.Error("invalid JSON in Extra was encoded")
	}
}
