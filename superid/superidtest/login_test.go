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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/go-superoffice/superoffice/superid/superidtest"
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
		if err := srv.RegisterApp(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust42", Serial: "1801550193"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []superidtest.User{
		{Username: "admin@cust42.example", Password: "a", ContextIdentifier: "Cust42", Administrator: true},
		{Username: "user@cust42.example", Password: "u", ContextIdentifier: "Cust42"},
	} {
		if err := srv.AddUser(u); err != nil {
			t.Fatal(err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, b)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != "https://partner.example/callback" || loc.Query().Get("tab") != "1" {
		t.Fatalf("redirected to %s", loc)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if _, ok := tok.Header["x5t"].(string); !ok {
		t.Errorf("header lacks x5t: %v", tok.Header)
	}
	parts := strings.Split(raw, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

const p = "http://schemes.superoffice.net/identity/"

func TestCodeFlowS256AndIDTokenShape(t *testing.T) {
	srv, clk := newServer(t)
	verifier := strings.Repeat("v", 43)
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "admin@cust42.example", s256(verifier), "S256"))
	if q.Get("state") != "st" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	status, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier))
	if status != http.StatusOK || tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.RefreshToken == "" ||
		!strings.HasPrefix(tr.AccessToken, "8A:Cust42.") {
		t.Fatalf("token response %d %+v", status, tr)
	}
	m := payload(t, srv, tr.IDToken)
	iat, ok := m["iat"].(string)
	if !ok {
		t.Fatalf("iat is %T, SuperID sends a string", m["iat"])
	}
	now := clk.Now().Unix()
	nbf, _ := m["nbf"].(json.Number).Int64()
	exp, _ := m["exp"].(json.Number).Int64()
	if iat != json.Number(iat).String() || nbf != now-60 || exp != now+300 {
		t.Errorf("iat %q nbf %d exp %d, now %d", iat, nbf, exp, now)
	}
	for k, want := range map[string]string{
		"iss": srv.URL, "aud": "sys", "sub": "admin@cust42.example", "nonce": "nn",
		p + "ctx": "Cust42", p + "is_administrator": "True", p + "serial": "1801550193",
		p + "webapi_url": srv.WebAPIURL("Cust42"), p + "netserver_url": srv.NetServerURL("Cust42"),
		p + "email": "admin@cust42.example", p + "upn": "admin@cust42.example",
	} {
		if m[k] != want {
			t.Errorf("%s = %#v, want %q", k, m[k], want)
		}
	}
	for _, k := range []string{p + "associateid", p + "company_name", p + "initials", p + "identityprovider", p + "so_primary_email_address", p + "system_token"} {
		if _, ok := m[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, m[k])
		}
	}
	if tok, _ := srv.Approve("Cust42", "sys"); m[p+"system_token"] != tok || !strings.HasPrefix(tok, "Sys App-") {
		t.Errorf("system_token %v, approval %q", m[p+"system_token"], tok)
	}

	// Single use.
	if status, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier)); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Errorf("second use: %d %+v", status, tr)
	}
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
			if (status == http.StatusOK) != tc.ok || (!tc.ok && tr.Error != "invalid_grant") {
				t.Errorf("got %d %+v", status, tr)
			}
		})
	}
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	srv, clk := newServer(t)
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "user@cust42.example", "", ""))
	clk.Add(10*time.Minute + time.Second)
	if status, tr := token(t, srv, codeForm("web", "web:secret", q.Get("code"), "")); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Errorf("expired code: %d %+v", status, tr)
	}
}

func TestTokenEndpointClientAuth(t *testing.T) {
	srv, _ := newServer(t)
	code := func() string {
		return authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "user@cust42.example", "", "")).Get("code")
	}
	// client_secret_basic, with a secret that needs form-encoding.
	f := codeForm("web", "", code(), "")
	f.Del("client_id")
	if status, tr := token(t, srv, f, "web", "web:secret"); status != http.StatusOK {
		t.Errorf("basic: %d %+v", status, tr)
	}
	if status, tr := token(t, srv, codeForm("web", "wrong", code(), "")); status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("wrong secret: %d %+v", status, tr)
	}
	if status, tr := token(t, srv, codeForm("sys", "sys-secret", code(), "")); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Errorf("code of another client: %d %+v", status, tr)
	}
	bad := codeForm("web", "web:secret", code(), "")
	bad.Set("redirect_uri", "https://partner.example/other")
	if status, tr := token(t, srv, bad); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Errorf("other redirect_uri: %d %+v", status, tr)
	}
	bad = codeForm("web", "web:secret", "x", "")
	bad.Set("grant_type", "password")
	if status, tr := token(t, srv, bad); status != http.StatusBadRequest || tr.Error != "unsupported_grant_type" {
		t.Errorf("password grant: %d %+v", status, tr)
	}
}

func TestRefreshGrant(t *testing.T) {
	srv, _ := newServer(t)
	q := authorize(t, srv, "/login/Cust42/oauth/authorize", authQuery("sys", "admin@cust42.example", "", ""))
	_, tr := token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), ""))
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"sys"}, "client_secret": {"sys-secret"}}
	status, r := token(t, srv, refresh)
	if status != http.StatusOK || r.AccessToken == tr.AccessToken || r.RefreshToken != "" || r.IDToken == "" {
		t.Fatalf("refresh: %d %+v", status, r)
	}
	if m := payload(t, srv, r.IDToken); m["nonce"] != nil || m[p+"system_token"] == nil {
		t.Errorf("refreshed id_token: %v", m)
	}
	srv.RevokeApproval("Cust42", "sys")
	if status, r := token(t, srv, refresh); status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Errorf("refresh after the approval was withdrawn: %d %+v", status, r)
	}
}

func TestSystemTokenOnlyAfterApproval(t *testing.T) {
	srv, _ := newServer(t)
	// A plain user cannot approve: access_denied until an administrator has.
	q := authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "user@cust42.example", "", ""))
	if q.Get("error") != "access_denied" || q.Get("state") != "st" {
		t.Fatalf("plain user before approval: %v", q)
	}
	// An app without system-user rights never gets a system_token.
	q = authorize(t, srv, "/login/common/oauth/authorize", authQuery("web", "admin@cust42.example", "", ""))
	_, tr := token(t, srv, codeForm("web", "web:secret", q.Get("code"), ""))
	if m := payload(t, srv, tr.IDToken); m[p+"system_token"] != nil {
		t.Errorf("app without system-user rights got %v", m[p+"system_token"])
	}
	if _, err := srv.Approve("Cust42", "sys"); err != nil {
		t.Fatal(err)
	}
	q = authorize(t, srv, "/login/common/oauth/authorize", authQuery("sys", "user@cust42.example", "", ""))
	_, tr = token(t, srv, codeForm("sys", "sys-secret", q.Get("code"), ""))
	if m := payload(t, srv, tr.IDToken); m[p+"system_token"] == nil || m[p+"is_administrator"] != "False" {
		t.Errorf("plain user after approval: %v", m)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	srv, _ := newServer(t)
	get := func(q url.Values) *http.Response {
		resp, err := noRedirects(srv).Get(srv.URL + "/login/common/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	q := authQuery("web", "user@cust42.example", "", "")
	q.Set("redirect_uri", "https://evil.example/cb")
	if resp := get(q); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("unregistered redirect_uri: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	q = authQuery("nobody", "user@cust42.example", "", "")
	if resp := get(q); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}
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
		if got := authorize(t, srv, "/login/common/oauth/authorize", q); got.Get("error") != want || got.Get("state") != "st" {
			t.Errorf("%s: got %v, want error %s", name, got, want)
		}
	}
}

func TestAuthorizeByPOSTAndFormPost(t *testing.T) {
	srv, _ := newServer(t)
	q := authQuery("web", "user@cust42.example", "", "")
	q.Set("response_mode", "form_post")
	q.Set("state", `"><script>x</script>`)
	resp, err := noRedirects(srv).PostForm(srv.URL+"/Login/common/oauth/authorize", q)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="https://partner.example/callback?tab=1"`) {
		t.Fatalf("form_post page %d:\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "<script>x") || !strings.Contains(page, `name="code"`) {
		t.Errorf("form_post page not escaped or lacks the code:\n%s", page)
	}
}

// tokenQuery posts to the token endpoint with query in the URL and body as
// the form, as SuperOffice's own example (auth-code-flow.md) and its Node
// sample send some parameters.
func tokenQuery(t *testing.T, srv *superidtest.Server, query, body url.Values) (int, tokenResponse) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login/common/oauth/tokens?"+query.Encode(), strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, tr
}

func TestTokenParametersInTheQueryString(t *testing.T) {
	srv, _ := newServer(t)
	verifier := strings.Repeat("q", 43)
	q := authorize(t, srv, "/login/Cust42/oauth/authorize", authQuery("sys", "admin@cust42.example", s256(verifier), "S256"))
	status, tr := tokenQuery(t, srv, codeForm("sys", "sys-secret", q.Get("code"), verifier), nil)
	if status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code in the query string: %d %+v", status, tr)
	}
	// Refresh half in the query, half in the body.
	status, r := tokenQuery(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
		url.Values{"client_id": {"sys"}, "client_secret": {"sys-secret"}})
	if status != http.StatusOK || r.AccessToken == "" {
		t.Fatalf("refresh in the query string: %d %+v", status, r)
	}
	// The body wins over the query string.
	status, r = tokenQuery(t, srv, url.Values{"client_secret": {"wrong"}, "grant_type": {"password"}},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"sys"}, "client_secret": {"sys-secret"}})
	if status != http.StatusOK {
		t.Fatalf("body and query: %d %+v", status, r)
	}
}

// An emulator mounted under a path prefix gets its sign-in form back: the
// form posts to the authorize endpoint under the prefix.
func TestSignInFormUnderAPathPrefix(t *testing.T) {
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	em, err := superidtest.New(hs.URL+"/so", superidtest.WithKeySize(1024))
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/so/", http.StripPrefix("/so", em))
	if err := em.RegisterApp(superidtest.App{ClientID: "web", ClientSecret: "s", RedirectURLs: []string{redirect}}); err != nil {
		t.Fatal(err)
	}
	if err := em.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust42"}); err != nil {
		t.Fatal(err)
	}
	if err := em.AddUser(superidtest.User{Username: "u@cust42.example", Password: "pw", ContextIdentifier: "Cust42"}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.URL + "/so/login/common/oauth/authorize?" + authQuery("web", "", "", "").Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`action="([^"]+)"[\s\S]*name="flow" value="([^"]+)"`).FindStringSubmatch(string(b))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-in page %d:\n%s", resp.StatusCode, b)
	}
	resp, err = client.PostForm(hs.URL+html.UnescapeString(m[1]), url.Values{"flow": {m[2]}, "username": {"u@cust42.example"}, "password": {"pw"}, "action": {"signin"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("form posted to %s: %d, Location %q", m[1], resp.StatusCode, resp.Header.Get("Location"))
	}
}
