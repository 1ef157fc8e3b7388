package superid

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// FuzzIDTokenClaims fuzzes the id_token claims decoder directly: through
// VerifyIDToken a decoded token still needs a valid signature, which a
// fuzzer never produces. Any input must end in a result or an error, never a
// panic; a decoded token must validate (or not) without a panic; and the
// string claims of a payload whose names pass typed must read as
// encoding/json reads them by exact name.
func FuzzIDTokenClaims(f *testing.F) {
	p := ClaimPrefix
	for _, s := range []string{
		`{"sub":"tony@superoffice.com","iat":"1581665207","nbf":1581665147,"exp":1581665507,` +
			`"iss":"https://sod.superoffice.com","aud":"6cf25376616343b38d14ddcd804f2891","nonce":"n",` +
			`"` + p + `ctx":"Cust26759","` + p + `associateid":"5","` + p + `is_administrator":"False",` +
			`"` + p + `system_token":"SuperOffice DevNet Node OIDC-8k8Q7DmBgo","azp":"x"}`,
		`{"aud":["a","b"],"azp":"a","exp":"1e3","` + p + `associateid":5,"` + p + `is_administrator":true}`,
		`{"nonce":5,"azp":null,"` + p + `ctx":{"a":[1]},"iat":"-1"}`,
		`{"exp":1e308,"nbf":"x","` + p + `associateid":"99999999999999999999"}`,
		`{"\u006eonce":"esc\"aped","` + p + `webapi_url":"https:\/\/x"}`,
		`{"nonce":"a","NONCE":"b","` + p + `CTX":"Cust1"}`,
		`{}`, `null`, `[]`, `{"a":}`, `{"a":1,}`, ``,
	} {
		f.Add([]byte(s))
	}
	now := time.Unix(1581665207, 0)
	v := jwt.NewValidator(jwt.WithIssuer("https://sod.superoffice.com"), jwt.WithAudience("a"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return now }))
	f.Fuzz(func(t *testing.T, b []byte) {
		set := claimSet{}
		if json.Unmarshal(b, &set) != nil {
			return
		}
		c, err := set.typed()
		if err != nil {
			return
		}
		_ = v.Validate(c)
		out := c.claims("")
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &m))
		for name, got := range map[string]string{
			"sub": out.Subject, "iss": out.Issuer, "nonce": out.Nonce, "azp": c.AuthorizedParty,
			p + "ctx": out.ContextIdentifier, p + "system_token": out.SystemUserToken, p + "webapi_url": out.WebAPIURL,
		} {
			var want string
			if raw, ok := m[name]; ok && json.Unmarshal(raw, &want) == nil {
				require.Equal(t, want, got, "%s in %q: encoding/json reads it otherwise", name, b)
			}
		}
	})
}
