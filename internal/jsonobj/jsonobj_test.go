package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// members collects what Members reports, as name=value pairs.
func members(b []byte) ([]string, error) {
	var got []string
	err := Members(b, func(name, value []byte) error {
		got = append(got, string(name)+"="+string(value))
		return nil
	})
	return got, err
}

func TestMembers(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	for _, tt := range []struct {
		name, in string
		want     []string
	}{
		{"empty", `{}`, nil},
		{"spaced", " \t\r\n{ \n } \n", nil},
		{"every type", `{"s":"str","n":-1.5e+3,"t":true,"f":false,"u":null,"o":{"a":[1,{"b":null}]},"a":[[],{},"",0]}`,
			[]string{`s="str"`, `n=-1.5e+3`, `t=true`, `f=false`, `u=null`, `o={"a":[1,{"b":null}]}`, `a=[[],{},"",0]`}},
		{"space around values kept out", "{ \"a\" :\t[ 1 , 2 ] ,\r\n\"b\" : { } }", []string{`a=[ 1 , 2 ]`, `b={ }`}},
		{"brackets and quotes inside strings", `{"o":{"x":"}","y":["]{\"",{"z":"\\"}]},"s":"\\\"}"}`,
			[]string{`o={"x":"}","y":["]{\"",{"z":"\\"}]}`, `s="\\\"}"`}},
		{"in order, repeats each time", `{"b":1,"a":2,"b":3}`, []string{`b=1`, `a=2`, `b=3`}},
		{"escaped names unescaped", `{"Na\u006de":1,"a\"b":2,"c\\":3,"\/":4}`, []string{`Name=1`, `a"b=2`, `c\=3`, `/=4`}},
		{"invalid UTF-8 replaced per byte", "{\"N\xff\xfeme\":1}", []string{"N\uFFFD\uFFFDme=1"}},
		{"lone surrogate replaced", `{"\ud800":1}`, []string{"\uFFFD=1"}},
		{"non-ASCII names as written", `{"Näme":1,"\u212A":2}`, []string{"Näme=1", "\u212A=2"}},
		{"deep nesting", `{"a":` + deep + `}`, []string{"a=" + deep}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMembersMalformed(t *testing.T) {
	for _, in := range []string{
		``, ` `, `null`, `[{"a":1}]`, `"{}"`, `1`, `{`, `}`, `{"a":1`, `{"a`, `{"a" 1}`, `{"a":}`, `{"a":1 "b":2}`,
		`{"a":"x}`, `{"a":[1,{}`, `{a:1}`, `{"a":1,}`, `{,"a":1}`, `{"a":1}x`, `{"a":1}{}`, `{"a":[1}`, `{"a":{"b":1]}`,
		`{"a":{1:2}}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":tr"ue"}`, `{"a":1:2}`,
		`{"\x":1}`, `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 99) + `}`,
		`{"a":` + strings.Repeat("[{\"b\":", 100) + "1" + strings.Repeat("]}", 100) + `}`,
	} {
		got, err := members([]byte(in))
		if err == nil {
			t.Errorf("%.60q: no error; members %q", in, got)
		}
	}
}

func TestMembersStopsAtFnError(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Members([]byte(`{"a":1,"b":2,"c":3}`), func(name, _ []byte) error {
		if calls++; string(name) == "b" {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Fatalf("err %v after %d calls, want stop after 2", err, calls)
	}
}

// TestMembersNestingUnbounded walks nesting far past what a recursive
// scanner's stack could take, and still checks every bracket.
func TestMembersNestingUnbounded(t *testing.T) {
	const n = 1 << 20
	v := strings.Repeat(`[{"a":`, n) + "1" + strings.Repeat("}]", n)
	got, err := members([]byte(`{"v":` + v + `}`))
	if err != nil || len(got) != 1 || len(got[0]) != len("v=")+len(v) {
		t.Fatalf("%d members, %v", len(got), err)
	}
	bad := []byte(`{"v":` + v + `}`)
	i := len(bad) - 2*(n/3) // a ']' deep inside, at an even distance from the end
	if bad[i] != ']' {
		t.Fatalf("byte %d is %q", i, bad[i])
	}
	bad[i] = '}'
	if _, err := members(bad); err == nil {
		t.Fatal("a mismatched bracket deep inside passed")
	}
}

// TestMembersPlainNamesAllocateNothing keeps the common path free of
// allocations, values nested up to 64 levels included.
func TestMembersPlainNamesAllocateNothing(t *testing.T) {
	b := []byte(`{"sub":"x","http://schemes.superoffice.net/identity/ctx":"Cust1","Näme":1,` +
		`"o":{"a":[1,{"b":"}"}],"c":` + strings.Repeat("[", 62) + strings.Repeat("]", 62) + `}}`)
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		if err := Members(b, func(_, _ []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// TestPlain puts a backslash, a valid non-ASCII rune and an invalid byte
// at every place of names up to 20 bytes long, so that both plain's word
// loop and its byte tail see each.
func TestPlain(t *testing.T) {
	for n := range 21 {
		name := strings.Repeat("a", n)
		if !plain([]byte(name)) {
			t.Fatalf("%q is not plain", name)
		}
		for at := range n {
			for s, want := range map[string]bool{`\`: false, "\xff": false, "é": true, "\u212A": true} {
				in := name[:at] + s + name[at+1:]
				if got := plain([]byte(in)); got != want {
					t.Errorf("plain(%q) = %v, want %v", in, got, want)
				}
			}
		}
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`""`: "", `"Cust1"`: "Cust1", `"a\"b"`: `a"b`, `"\u0041\n"`: "A\n", `"café"`: "café",
		"\"\xff\"": "\ufffd", `"\ud800"`: "\ufffd", `"Tony's <Network>"`: "Tony's <Network>",
	} {
		if got, err := Unquote([]byte(in)); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `"`, `x`, `"a`, `"\x"`, "\"a\nb\"", `"a"b"`, `1`} {
		if got, err := Unquote([]byte(in)); err == nil {
			t.Errorf("%q: no error; got %q", in, got)
		}
	}
}

// FuzzMembers checks Members against encoding/json's decoder: on every
// valid JSON object it must report the same names, in the same order,
// with the same raw values; on anything else it must return, with an
// error or not, without panicking.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "d\"e":"x\\"y", "f":null,"g":true,"h":{"i":[]}} `,
		`{"a":1,}`, `{"a"}`, `{"a":"\u0041"}`, `[1]`, `{"a":[[[[[[[[[[[[1]]]]]]]]]]]]}`, `{"a":1}x`,
		`{"iat":"1581665207","aud":["x"],"exp":1.5}`, "{\"N\xffme\":1,\"Na\\u006de\":2,\"a\":3,\"a\":4}",
		`{"\ud800\udc00":{"\ud800":[]}}`, `{"a":{"b":[{"c":{}}]},"d":[[],[{}]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []string
		err := Members(b, func(name, value []byte) error {
			got = append(got, string(name), string(value))
			return nil
		})
		want, ok := decoderMembers(b)
		if !ok {
			return // not a JSON object: any outcome but a panic is fine
		}
		if err != nil {
			t.Fatalf("Members refused valid object %q: %v", b, err)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("%q: Members %q, encoding/json %q", b, got, want)
		}
	})
}

// decoderMembers lists the names and raw values of the JSON object b as
// encoding/json reads them, or reports that b is no valid JSON object.
func decoderMembers(b []byte) ([]string, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, tok.(string), string(v))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}
