package superidtest_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// Each behaviour PROTOCOL.md marks UNCERTAIN is tested in both settings:
// the emulator's default and the Option that picks the other answer. As in
// shapes_test.go, requests go over HTTP and answers decode into maps.

// exchangeFixture is a served emulator with a system-user app that a
// tenant has approved.
type exchangeFixture struct {
	srv   *superidtest.Server
	key   *rsa.PrivateKey
	token string // the approved system user token
	now   time.Time
}

func newExchangeFixture(t *testing.T, opts ...superidtest.Option) *exchangeFixture {
	t.Helper()
	now := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	srv := superidtest.NewServer(append([]superidtest.Option{superidtest.WithKeySize(1024),
		superidtest.WithClock(func() time.Time { return now })}, opts...)...)
	t.Cleanup(srv.Close)
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: "sys", ClientSecret: "sys-secret", SystemUser: true, PublicKey: &key.PublicKey}))
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust42", Serial: "1801550193"}))
	tok, err := srv.Approve("Cust42", "sys")
	require.NoError(t, err)
	return &exchangeFixture{srv: srv, key: key, token: tok, now: now}
}

// exchange posts the system user token signed at the fixture's time to path.
func (f *exchangeFixture) exchange(t *testing.T, path, token string) (int, map[string]any) {
	t.Helper()
	s := token + "." + f.now.Format("200601021504")
	sum := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(nil, f.key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	body, err := json.Marshal(map[string]string{"SignedSystemToken": s + "." + base64.StdEncoding.EncodeToString(sig),
		"ApplicationToken": "sys-secret", "ContextIdentifier": "Cust42", "ReturnTokenType": "JWT"})
	require.NoError(t, err)
	res, err := http.Post(f.srv.URL+path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out map[string]any
	if res.StatusCode != http.StatusNotFound {
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return res.StatusCode, out
}

const exchangePath = "/Login/api/PartnerSystemUser/Authenticate"

func TestExchangeRefusalStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []superidtest.Option
		want int
	}{
		{"default: 200 with IsSuccessful false", nil, http.StatusOK},
		{"WithExchangeFailureStatus(401)", []superidtest.Option{superidtest.WithExchangeFailureStatus(http.StatusUnauthorized)}, http.StatusUnauthorized},
		{"WithExchangeFailureStatus(400)", []superidtest.Option{superidtest.WithExchangeFailureStatus(http.StatusBadRequest)}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newExchangeFixture(t, tc.opts...)
			status, body := f.exchange(t, exchangePath, "sys-unknown-token")
			assert.Equal(t, tc.want, status)
			assert.Equal(t, false, body["IsSuccessful"])
			assert.NotEmpty(t, body["ErrorMessage"])
			assert.Nil(t, body["Token"])

			// Success is 200 in either setting.
			status, body = f.exchange(t, exchangePath, f.token)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, true, body["IsSuccessful"])
		})
	}
}

// claimsOf decodes a JWT's payload without checking it: the shape is what
// is under test here, the signature is superid's business.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestSystemUserJWTLifetime(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []superidtest.Option
		want time.Duration
	}{
		{"default: five minutes", nil, 5 * time.Minute},
		{"WithSystemUserJWTLifetime(1h)", []superidtest.Option{superidtest.WithSystemUserJWTLifetime(time.Hour)}, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newExchangeFixture(t, tc.opts...)
			status, body := f.exchange(t, exchangePath, f.token)
			require.Equal(t, http.StatusOK, status, "%v", body)
			jwt, _ := body["Token"].(string)
			c := claimsOf(t, jwt)
			iat, err := strconv.ParseInt(c["iat"].(string), 10, 64)
			require.NoError(t, err, "iat is a string of digits")
			assert.Equal(t, f.now.Unix(), iat)
			assert.Equal(t, float64(f.now.Add(tc.want).Unix()), c["exp"])
		})
	}
}

func TestSystemTokenInNonAdministratorsIDToken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []superidtest.Option
		plainGets bool
	}{
		{"default: every user once approved", nil, true},
		{"WithSystemTokenForAdministratorsOnly", []superidtest.Option{superidtest.WithSystemTokenForAdministratorsOnly()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newServer(t, tc.opts...)
			_, err := srv.Approve("Cust42", "sys")
			require.NoError(t, err)
			for user, want := range map[string]bool{"admin@cust42.example": true, "user@cust42.example": tc.plainGets} {
				q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", user, "", ""))
				_, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), ""))
				_, has := payload(t, srv, tr.IDToken)[p+"system_token"]
				assert.Equal(t, want, has, user)
			}
		})
	}
}

func TestPathCasing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []superidtest.Option
		foldsCase bool
	}{
		{"default: /login and /Login alike", nil, true},
		{"WithCaseSensitivePaths", []superidtest.Option{superidtest.WithCaseSensitivePaths()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newExchangeFixture(t, tc.opts...)
			get := func(path string) int {
				res, err := http.Get(f.srv.URL + path)
				require.NoError(t, err)
				res.Body.Close()
				return res.StatusCode
			}
			otherwise := http.StatusNotFound
			if tc.foldsCase {
				otherwise = http.StatusOK
			}
			// The documented casings are served either way.
			assert.Equal(t, http.StatusOK, get("/login/.well-known/jwks"))
			assert.Equal(t, http.StatusOK, get("/login/.well-known/openid-configuration"))
			status, body := f.exchange(t, exchangePath, f.token)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, true, body["IsSuccessful"])
			// Others only when the case folds.
			assert.Equal(t, otherwise, get("/Login/.well-known/jwks"))
			assert.Equal(t, otherwise, get("/LOGIN/.well-known/openid-configuration"))
			status, _ = f.exchange(t, "/login/api/PartnerSystemUser/Authenticate", f.token)
			assert.Equal(t, otherwise, status)
		})
	}
}
