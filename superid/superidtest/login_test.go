package superidtest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/superid/superidtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const redirect = "https://partner.example/callback?tab=1"

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newServer(t *testing.T, opts ...superidtest.Option) (*superidtest.Server, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Now()}
	srv := superidtest.NewServer(append([]superidtest.Option{superidtest.WithHeadlessLogin(), superidtest.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(srv.Close)
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, a := range []superidtest.App{
		{ClientID: "sys", ClientSecret: "sys-secret", Name: "Sys App", RedirectURLs: []string{redirect}, SystemUser: true, PublicKey: &key.PublicKey},
		{ClientID: "web", ClientSecret: "web:secret", RedirectURLs: []string{redirect}},
	} {
		require.NoError(t, srv.RegisterApp(a))
	}
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust42", Serial: "1801550193"}))
	for _, u := range []superidtest.User{
		{Username: "admin@cust42.example", Password: "a", ContextIdentifier: "Cust42", Administrator: true},
		{Username: "user@cust42.example", Password: "u", ContextIdentifier: "Cust42"},
	} {
		require.NoError(t, srv.AddUser(u))
	}
	return srv, clk
}

func noRedirects(srv *superidtest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// authorize runs a headless authorization and returns the redirect's
// query.
func authorize(t *testing.T, srv *superidtest.Server, path string, q url.Values) url.Values {
	t.Helper()
	resp, err := noRedirects(srv).Get(srv.URL + path + "?" + q.Encode())
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "authorize: %s", b)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "https://partner.example/callback", loc.Scheme+"://"+loc.Host+loc.Path, "redirected to %s", loc)
	require.Equal(t, "1", loc.Query().Get("tab"), "redirected to %s", loc)
	return loc.Query()
}

func authQuery(client, user, challenge, method string) url.Values {
	q := url.Values{"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"nn"}, "login_hint": {user}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
	}
	if method != "" {
		q.Set("code_challenge_method", method)
	}
	return q
}

type tokenResponse struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

func token(t *testing.T, srv *superidtest.Server, form url.Values, basic ...string) (int, tokenResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login/common/oauth/tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var tr tokenResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	return resp.StatusCode, tr
}

func codeForm(client, secret, code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code}, "redirect_uri": {redirect}}
	if secret != "" {
		f.Set("client_secret", secret)
	}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// payload decodes an id_token's claims as sent, with numbers kept apart
// from strings, after checking its signature against the emulator's key.
func payload(t *testing.T, srv *superidtest.Server, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return srv.PublicKey(), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	require.NoError(t, err, "id_token")
	assert.IsType(t, "", tok.Header["x5t"], "the header's x5t")
	parts := strings.Split(raw, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	return m
}

const p = "http://schemes.superoffice.net/identity/"

func TestCodeFlowS256AndIDTokenShape(t *testing.T) {
	srv, clk := newServer(t)
	verifier := strings.Repeat("v", 43)
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "admin@cust42.example", s256(verifier), "S256"))
	require.Equal(t, "st", q.Get("state"), "callback query %v", q)
	require.NotEmpty(t, q.Get("code"), "callback query %v", q)
	status, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier))
	require.Equal(t, http.StatusOK, status, "token response %+v", tr)
	assert.Equal(t, "Bearer", tr.TokenType)
	assert.Equal(t, 3600, tr.ExpiresIn)
	assert.NotEmpty(t, tr.RefreshToken)
	assert.True(t, strings.HasPrefix(tr.AccessToken, "8A:Cust42."), "access token %q", tr.AccessToken)
	m := payload(t, srv, tr.IDToken)
	iat, ok := m["iat"].(string)
	require.True(t, ok, "iat is %T, SuperID sends a string", m["iat"])
	now := clk.Now().Unix()
	nbf, _ := m["nbf"].(json.Number).Int64()
	exp, _ := m["exp"].(json.Number).Int64()
	assert.Equal(t, strconv.FormatInt(now, 10), iat)
	assert.Equal(t, now-60, nbf)
	assert.Equal(t, now+300, exp)
	for k, want := range map[string]string{
		"iss": srv.URL, "aud": "sys", "sub": "admin@cust42.example", "nonce": "nn",
		p + "ctx": "Cust42", p + "is_administrator": "True", p + "serial": "1801550193",
		p + "webapi_url": srv.WebAPIURL("Cust42"), p + "netserver_url": srv.NetServerURL("Cust42"),
		p + "email": "admin@cust42.example", p + "upn": "admin@cust42.example",
	} {
		assert.Equal(t, want, m[k], k)
	}
	for _, k := range []string{p + "associateid", p + "company_name", p + "initials", p + "identityprovider", p + "so_primary_email_address", p + "system_token"} {
		assert.IsType(t, "", m[k], k)
	}
	tok, err := srv.Approve("Cust42", "sys")
	require.NoError(t, err)
	assert.Equal(t, tok, m[p+"system_token"])
	assert.True(t, strings.HasPrefix(tok, "Sys App-"), "system token %q", tok)

	// Single use.
	status, tr = token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier))
	assert.Equal(t, http.StatusBadRequest, status, "second use")
	assert.Equal(t, "invalid_grant", tr.Error, "second use")
}

func TestPKCE(t *testing.T) {
	srv, _ := newServer(t)
	verifier := strings.Repeat("w", 50)
	for _, tc := range []struct {
		name, challenge, method, verifier string
		ok                                bool
	}{
		{"S256 right", s256(verifier), "S256", verifier, true},
		{"S256 wrong verifier", s256(verifier), "S256", verifier + "x", false},
		{"S256 no verifier", s256(verifier), "S256", "", false},
		{"plain right", verifier, "plain", verifier, true},
		{"plain by default", verifier, "", verifier, true},
		{"plain given the S256 value", s256(verifier), "plain", verifier, false},
		{"no PKCE", "", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "user@cust42.example", tc.challenge, tc.method))
			status, tr := token(t, srv, codeForm("web", "web:secret", q.Get("code"), tc.verifier))
			if tc.ok {
				assert.Equal(t, http.StatusOK, status, "%+v", tr)
			} else {
				assert.NotEqual(t, http.StatusOK, status)
				assert.Equal(t, "invalid_grant", tr.Error)
			}
		})
	}
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	srv, clk := newServer(t)
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "user@cust42.example", "", ""))
	clk.Add(10*time.Minute + time.Second)
	status, tr := token(t, srv, codeForm("web", "web:secret", q.Get("code"), ""))
	assert.Equal(t, http.StatusBadRequest, status, "expired code")
	assert.Equal(t, "invalid_grant", tr.Error, "expired code")
}

func TestTokenEndpointClientAuth(t *testing.T) {
	srv, _ := newServer(t)
	code := func() string {
		return authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "user@cust42.example", "", "")).Get("code")
	}
	// client_secret_basic, with a secret that needs form-encoding.
	f := codeForm("web", "", code(), "")
	f.Del("client_id")
	status, tr := token(t, srv, f, "web", "web:secret")
	assert.Equal(t, http.StatusOK, status, "basic: %+v", tr)
	status, tr = token(t, srv, codeForm("web", "wrong", code(), ""))
	assert.Equal(t, http.StatusUnauthorized, status, "wrong secret")
	assert.Equal(t, "invalid_client", tr.Error, "wrong secret")
	status, tr = token(t, srv, codeForm("sys", "sys-secret", code(), ""))
	assert.Equal(t, http.StatusBadRequest, status, "code of another client")
	assert.Equal(t, "invalid_grant", tr.Error, "code of another client")
	bad := codeForm("web", "web:secret", code(), "")
	bad.Set("redirect_uri", "https://partner.example/other")
	status, tr = token(t, srv, bad)
	assert.Equal(t, http.StatusBadRequest, status, "other redirect_uri")
	assert.Equal(t, "invalid_grant", tr.Error, "other redirect_uri")
	bad = codeForm("web", "web:secret", "x", "")
	bad.Set("grant_type", "password")
	status, tr = token(t, srv, bad)
	assert.Equal(t, http.StatusBadRequest, status, "password grant")
	assert.Equal(t, "unsupported_grant_type", tr.Error, "password grant")
}

func TestRefreshGrant(t *testing.T) {
	srv, _ := newServer(t)
	q := authorize(t, srv, "/login/Cust42/oauth/authorize", authQuery("sys", "admin@cust42.example", "", ""))
	_, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), ""))
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"sys"}, "client_secret": {"sys-secret"}}
	status, r := token(t, srv, refresh)
	require.Equal(t, http.StatusOK, status, "refresh: %+v", r)
	assert.NotEqual(t, tr.AccessToken, r.AccessToken, "a new access token")
	assert.Empty(t, r.RefreshToken, "no new refresh token")
	require.NotEmpty(t, r.IDToken)
	m := payload(t, srv, r.IDToken)
	assert.Nil(t, m["nonce"], "refreshed id_token")
	assert.NotNil(t, m[p+"system_token"], "refreshed id_token")
	srv.RevokeApproval("Cust42", "sys")
	status, r = token(t, srv, refresh)
	assert.Equal(t, http.StatusBadRequest, status, "refresh after the approval was withdrawn")
	assert.Equal(t, "invalid_grant", r.Error, "refresh after the approval was withdrawn")
}

func TestSystemTokenOnlyAfterApproval(t *testing.T) {
	srv, _ := newServer(t)
	// A plain user cannot approve: access_denied until an administrator has.
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "user@cust42.example", "", ""))
	require.Equal(t, "access_denied", q.Get("error"), "plain user before approval")
	require.Equal(t, "st", q.Get("state"), "plain user before approval")
	// An app without system-user rights never gets a system_token.
	q = authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "admin@cust42.example", "", ""))
	_, tr := token(t, srv, codeForm("web", "web:secret", q.Get("code"), ""))
	assert.Nil(t, payload(t, srv, tr.IDToken)[p+"system_token"], "an app without system-user rights")
	_, err := srv.Approve("Cust42", "sys")
	require.NoError(t, err)
	q = authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "user@cust42.example", "", ""))
	_, tr = token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), ""))
	m := payload(t, srv, tr.IDToken)
	assert.NotNil(t, m[p+"system_token"], "plain user after approval")
	assert.Equal(t, "False", m[p+"is_administrator"], "plain user after approval")
}

func TestAuthorizeErrors(t *testing.T) {
	srv, _ := newServer(t)
	get := func(q url.Values) *http.Response {
		resp, err := noRedirects(srv).Get(srv.URL + "/login/common/oauth/authorize?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	q := authQuery("web", "user@cust42.example", "", "")
	q.Set("redirect_uri", "https://evil.example/cb")
	resp := get(q)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "unregistered redirect_uri")
	assert.Empty(t, resp.Header.Get("Location"), "unregistered redirect_uri")
	q = authQuery("nobody", "user@cust42.example", "", "")
	assert.Equal(t, http.StatusBadRequest, get(q).StatusCode, "unknown client")
	for name, edit := range map[string]func(url.Values) string{
		"response_type": func(q url.Values) string { q.Set("response_type", "token"); return "unsupported_response_type" },
		"scope":         func(q url.Values) string { q.Set("scope", "profile"); return "invalid_scope" },
		"method": func(q url.Values) string {
			q.Set("code_challenge", "x")
			q.Set("code_challenge_method", "S512")
			return "invalid_request"
		},
		"unknown tenant": func(q url.Values) string { q.Set("acr_values", "tenant:Cust999"); return "invalid_request" },
		"other tenant": func(q url.Values) string {
			_ = srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust7"})
			q.Set("acr_values", "tenant:Cust7")
			return "access_denied"
		},
		"no login_hint": func(q url.Values) string { q.Del("login_hint"); return "login_required" },
	} {
		q := authQuery("web", "user@cust42.example", "", "")
		want := edit(q)
		got := authorize(t, srv, "/login/common/oauth/authorize", q)
		assert.Equal(t, want, got.Get("error"), name)
		assert.Equal(t, "st", got.Get("state"), name)
	}
}

func TestAuthorizeByPOSTAndFormPost(t *testing.T) {
	srv, _ := newServer(t)
	q := authQuery("web", "user@cust42.example", "", "")
	q.Set("response_mode", "form_post")
	q.Set("state", `"><script>x</script>`)
	resp, err := noRedirects(srv).PostForm(srv.URL+"/Login/common/oauth/authorize", q)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	require.Equal(t, http.StatusOK, resp.StatusCode, "form_post page:\n%s", page)
	require.Contains(t, page, `action="https://partner.example/callback?tab=1"`)
	assert.NotContains(t, page, "<script>x", "the form_post page escapes")
	assert.Contains(t, page, `name="code"`)
}

// tokenQuery posts to the token endpoint with query in the URL and body as
// the form, as SuperOffice's own example (auth-code-flow.md) and its Node
// sample send some parameters.
func tokenQuery(t *testing.T, srv *superidtest.Server, query, body url.Values) (int, tokenResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login/common/oauth/tokens?"+query.Encode(), strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var tr tokenResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	return resp.StatusCode, tr
}

func TestTokenParametersInTheQueryString(t *testing.T) {
	srv, _ := newServer(t)
	verifier := strings.Repeat("q", 43)
	q := authorize(t, srv, "/login/Cust42/oauth/authorize", authQuery("sys", "admin@cust42.example", s256(verifier), "S256"))
	status, tr := tokenQuery(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier), nil)
	require.Equal(t, http.StatusOK, status, "code in the query string: %+v", tr)
	require.NotEmpty(t, tr.RefreshToken, "code in the query string")
	// Refresh half in the query, half in the body.
	status, r := tokenQuery(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
		url.Values{"client_id": {"sys"}, "client_secret": {"sys-secret"}})
	require.Equal(t, http.StatusOK, status, "refresh in the query string: %+v", r)
	require.NotEmpty(t, r.AccessToken, "refresh in the query string")
	// The body wins over the query string.
	status, r = tokenQuery(t, srv, url.Values{"client_secret": {"wrong"}, "grant_type": {"password"}},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"sys"}, "client_secret": {"sys-secret"}})
	assert.Equal(t, http.StatusOK, status, "body and query: %+v", r)
}

// An emulator mounted under a path prefix gets its sign-in form back: the
// form posts to the authorize endpoint under the prefix.
func TestSignInFormUnderAPathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	em, err := superidtest.New(hs.URL+"/so", superidtest.WithKeySize(1024))
	require.NoError(t, err)
	mux.Handle("/so/", http.StripPrefix("/so", em))
	require.NoError(t, em.RegisterApp(superidtest.App{ClientID: "web", ClientSecret: "s", RedirectURLs: []string{redirect}}))
	require.NoError(t, em.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust42"}))
	require.NoError(t, em.AddUser(superidtest.User{Username: "u@cust42.example", Password: "pw", ContextIdentifier: "Cust42"}))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.URL + "/so/login/common/oauth/authorize?" + authQuery("web", "", "", "").Encode())
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`action="([^"]+)"[\s\S]*name="flow" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.Equal(t, http.StatusOK, resp.StatusCode, "sign-in page:\n%s", b)
	require.NotNil(t, m, "sign-in page:\n%s", b)
	resp, err = client.PostForm(hs.URL+html.UnescapeString(m[1]), url.Values{"flow": {m[2]}, "username": {"u@cust42.example"}, "password": {"pw"}, "action": {"signin"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode, "form posted to %s", m[1])
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.NotEmpty(t, loc.Query().Get("code"), "Location %q", resp.Header.Get("Location"))
}
