package jwtclaims

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{`1581665207`, time.Unix(1581665207, 0), false},
		{`"1581665207"`, time.Unix(1581665207, 0), false},
		{`" 1581665207 "`, time.Unix(1581665207, 0), false},
		{`1581665207.5`, time.Unix(1581665207, 5e8), false},
		{`"1581665207.25"`, time.Unix(1581665207, 25e7), false},
		{`1.581665207e9`, time.Unix(1581665207, 0), false},
		{`0`, time.Unix(0, 0), false},
		{`""`, time.Time{}, true},
		{`"abc"`, time.Time{}, true},
		{`"0x10"`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{}`, time.Time{}, true},
		{`[1]`, time.Time{}, true},
		{`"\"1\""`, time.Time{}, true},
		{`1e300`, time.Time{}, true},
		{`99999999999999999999`, time.Time{}, true},
		{`"NaN"`, time.Time{}, true},
		{`"Inf"`, time.Time{}, true},
	} {
		var got Time
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.in, got.Time, tc.want)
		}
	}
}

func TestTimeMarshalRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{time.Unix(1581665207, 0), time.Unix(1581665207, 5e8)} {
		b, err := json.Marshal(Time{Time: tm})
		if err != nil {
			t.Fatal(err)
		}
		var back Time
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !back.Equal(tm) {
			t.Errorf("%s: got %v, want %v", b, back.Time, tm)
		}
	}
	if b, _ := json.Marshal(NewTime(time.Unix(1581665207, 0))); string(b) != "1581665207" {
		t.Errorf("integral time marshals as %s", b)
	}
}

func TestBool(t *testing.T) {
	for in, want := range map[string]bool{
		`true`: true, `false`: false, `"True"`: true, `"False"`: false, `"TRUE"`: true,
		`"true"`: true, `"1"`: true, `"0"`: false, `""`: false, `" False "`: false,
	} {
		var got Bool
		if err := json.Unmarshal([]byte(in), &got); err != nil || bool(got) != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`"yes"`, `1`, `{}`, `"Truee"`, `[true]`} {
		var got Bool
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	got := Bool(true)
	if err := json.Unmarshal([]byte(`null`), &got); err != nil || !got {
		t.Errorf("null: got %v, %v; want unchanged", got, err)
	}
}

func TestInt(t *testing.T) {
	for in, want := range map[string]int64{
		`5`: 5, `"5"`: 5, `" 42 "`: 42, `"-3"`: -3, `""`: 0, `0`: 0,
	} {
		var got Int
		if err := json.Unmarshal([]byte(in), &got); err != nil || int64(got) != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{`5.5`, `"5.0"`, `"five"`, `true`, `{}`, `"99999999999999999999"`} {
		var got Int
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`"Cust1"`: "Cust1", `5`: "5", `true`: "true", `null`: "", `"a\"b"`: `a"b`,
		`"\u0041\n"`: "A\n", `"café"`: "café", "\"\xff\"": "\ufffd", `"Tony's <Network>"`: "Tony's <Network>",
	} {
		var got String
		if err := json.Unmarshal([]byte(in), &got); err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`{}`, `[]`} {
		var got String
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// superIDClaims is how superid embeds Registered; the test runs it through
// golang-jwt's validator to prove the jwt.Claims implementation is wired.
type superIDClaims struct {
	Registered
	Admin Bool `json:"http://schemes.superoffice.net/identity/is_administrator"`
	ID    Int  `json:"http://schemes.superoffice.net/identity/associateid"`
}

func TestRegisteredWithValidator(t *testing.T) {
	payload := `{"sub":"tony@superoffice.com","iat":"1581665207","nbf":1581665147,"exp":1581665507,
		"iss":"https://sod.superoffice.com","aud":"6cf25376616343b38d14ddcd804f2891",
		"http://schemes.superoffice.net/identity/is_administrator":"False",
		"http://schemes.superoffice.net/identity/associateid":"5"}`
	var c superIDClaims
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		t.Fatal(err)
	}
	if c.Admin || c.ID != 5 || c.IssuedAt == nil || c.IssuedAt.Unix() != 1581665207 {
		t.Fatalf("decoded %+v", c)
	}
	at := func(sec int64) func() time.Time { return func() time.Time { return time.Unix(sec, 0) } }
	opts := func(now int64) *jwt.Validator {
		return jwt.NewValidator(jwt.WithTimeFunc(at(now)), jwt.WithIssuer("https://sod.superoffice.com"),
			jwt.WithAudience("6cf25376616343b38d14ddcd804f2891"), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	}
	if err := opts(1581665300).Validate(c); err != nil {
		t.Fatalf("valid claims refused: %v", err)
	}
	if err := opts(1581665600).Validate(c); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("after exp: %v", err)
	}
	if err := opts(1581665100).Validate(c); !errors.Is(err, jwt.ErrTokenNotValidYet) {
		t.Errorf("before nbf: %v", err)
	}
	c.NotBefore = nil
	if err := opts(1581665200).Validate(c); !errors.Is(err, jwt.ErrTokenUsedBeforeIssued) {
		t.Errorf("before iat: %v", err)
	}
	c.ExpiresAt = nil
	if err := opts(1581665300).Validate(c); !errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		t.Errorf("no exp: %v", err)
	}
}

func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"iat":"1581665207","nbf":1581665147,"exp":1581665507,"aud":"x","a":"True","n":"5","s":5}`,
		`{"iat":1.5e9,"aud":["a","b"],"a":true,"n":-1,"s":"x"}`,
		`{"exp":"","a":"","n":""}`, `{"iat":"-1"}`, `{"exp":1e308}`, `null`, `{"iat":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c struct {
			Registered
			A Bool   `json:"a"`
			N Int    `json:"n"`
			S String `json:"s"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		for _, d := range []*Time{c.ExpiresAt, c.NotBefore, c.IssuedAt} {
			if d == nil {
				continue
			}
			if d.Unix() > maxUnix || d.Unix() < -maxUnix {
				t.Fatalf("date %v out of range accepted", d.Time)
			}
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatalf("marshal %v: %v", d.Time, err)
			}
			var back Time
			if err := json.Unmarshal(out, &back); err != nil || back.Unix() != d.Unix() {
				t.Fatalf("round trip %s: %v %v", out, back.Time, err)
			}
		}
		_ = jwt.NewValidator(jwt.WithIssuedAt(), jwt.WithExpirationRequired()).Validate(c)
	})
}
