package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// partner is a partner web app mounted under a path prefix (so an
// absolute-path bug fails) with LoginHandler and CallbackHandler, against
// an emulator with one tenant, an administrator and a plain user.
type partner struct {
	srv    *superidtest.Server
	app    *httptest.Server
	client *superid.Client
	logins chan *superid.Login
	errs   chan error
}

const prefix = "/partner"

func setup(t *testing.T, headless bool, mode superid.ResponseMode) *partner {
	t.Helper()
	var opts []superidtest.Option
	if headless {
		opts = append(opts, superidtest.WithHeadlessLogin())
	}
	srv := superidtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	p := &partner{srv: srv, logins: make(chan *superid.Login, 4), errs: make(chan error, 4)}
	mux := http.NewServeMux()
	p.app = httptest.NewServer(mux)
	t.Cleanup(p.app.Close)

	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	must(t, srv.RegisterApp(superidtest.App{
		ClientID: "partner-app", ClientSecret: "partner-secret", Name: "Partner App",
		RedirectURLs: []string{p.app.URL + prefix + "/callback"}, SystemUser: true, PublicKey: &key.PublicKey,
	}))
	must(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345", CompanyName: "Tenant <AS>"}))
	must(t, srv.AddUser(superidtest.User{Username: "admin@tenant.example", Password: "pw-admin", ContextIdentifier: "Cust12345", Administrator: true}))
	must(t, srv.AddUser(superidtest.User{Username: "user@tenant.example", Password: "pw-user", ContextIdentifier: "Cust12345"}))

	c, err := superid.New(superid.Config{
		Environment: srv.Environment(), ClientID: "partner-app", ClientSecret: "partner-secret",
		RedirectURL: p.app.URL + prefix + "/callback", HTTPClient: srv.Client(),
	})
	must(t, err)
	p.client = c
	var loginOpts []superid.AuthCodeOption
	if mode != "" {
		loginOpts = append(loginOpts, superid.WithResponseMode(mode))
	}
	mux.Handle(prefix+"/login", c.LoginHandler(loginOpts...))
	mux.Handle(prefix+"/callback", c.CallbackHandler(
		func(w http.ResponseWriter, r *http.Request, l *superid.Login) {
			p.logins <- l
			fmt.Fprintf(w, "welcome %s of %s", l.Claims.Subject, l.Claims.ContextIdentifier)
		},
		func(w http.ResponseWriter, r *http.Request, err error) {
			p.errs <- err
			superid.RenderError(w, err)
		}))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	actionRE = regexp.MustCompile(`<form[^>]* action="([^"]*)"`)
)

// form reads a page's form: its action (resolved against base) and
// hidden fields.
func form(t *testing.T, base *url.URL, page string) (string, url.Values) {
	t.Helper()
	m := actionRE.FindStringSubmatch(page)
	require.NotNil(t, m, "no form in page:\n%s", page)
	action, err := base.Parse(html.UnescapeString(m[1]))
	must(t, err)
	v := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return action.String(), v
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

func (p *partner) login(t *testing.T) *superid.Login {
	t.Helper()
	select {
	case l := <-p.logins:
		return l
	case err := <-p.errs:
		require.NoError(t, err, "login failed")
	default:
		require.Fail(t, "no login") // the handlers run before the response returns
	}
	return nil
}

func checkAdminLogin(t *testing.T, p *partner, l *superid.Login) {
	t.Helper()
	c := l.Claims
	assert.Equal(t, "Cust12345", c.ContextIdentifier)
	assert.Equal(t, "admin@tenant.example", c.Subject)
	assert.True(t, c.IsAdministrator, "IsAdministrator")
	assert.NotZero(t, c.AssociateID, "AssociateID")
	tok, err := p.srv.Approve("Cust12345", "partner-app") // same token once approved
	must(t, err)
	assert.True(t, strings.HasPrefix(tok, "Partner App-"), "emulator's token %q", tok)
	assert.True(t, c.SystemUserToken == tok, "the system user token is not the emulator's") // a credential: not printed
	assert.Equal(t, p.srv.WebAPIURL("Cust12345"), c.WebAPIURL)
	assert.Equal(t, "Tenant <AS>", c.CompanyName)
	assert.True(t, strings.HasPrefix(l.Token.AccessToken, "8A:Cust12345."), "access token of the tenant")
	assert.NotEmpty(t, l.Token.RefreshToken, "refresh token")
	assert.NotEmpty(t, l.IDToken, "id_token")
}

func TestFullLoginHeadless(t *testing.T) {
	p := setup(t, true, "")
	resp, err := browser(t).Get(p.app.URL + prefix + "/login?tenant=Cust12345&login_hint=admin@tenant.example")
	must(t, err)
	b := body(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, b)
	require.Contains(t, b, "welcome admin@tenant.example of Cust12345")
	checkAdminLogin(t, p, p.login(t))

	authz := p.srv.Requests(superidtest.EndpointAuthorize)
	q, _ := url.ParseQuery(authz[len(authz)-1].RawQuery)
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.NotEmpty(t, q.Get("code_challenge"), "code_challenge")
	assert.NotEmpty(t, q.Get("nonce"), "nonce")
	assert.NotEmpty(t, q.Get("state"), "state")
	assert.Equal(t, "tenant:Cust12345", q.Get("acr_values"))
	assert.Equal(t, "openid", q.Get("scope"))
	tr := p.srv.Requests(superidtest.EndpointToken)
	form, _ := url.ParseQuery(string(tr[len(tr)-1].Body))
	assert.True(t, form.Get("client_secret") == "partner-secret", "client_secret_post")
	assert.NotEmpty(t, form.Get("code_verifier"), "code_verifier")
	assert.Empty(t, tr[len(tr)-1].Header.Get("Authorization"), "Authorization header")
}

// TestFullLoginHTMLForms signs in through the emulator's pages, as a
// browser would: sign-in form, then the administrator's approval.
func TestFullLoginHTMLForms(t *testing.T) {
	p := setup(t, false, "")
	b := browser(t)
	resp, err := b.Get(p.app.URL + prefix + "/login")
	must(t, err)
	page := body(t, resp)
	for _, id := range []string{`id="username"`, `id="password"`, `id="signin"`, `<label for="username">`} {
		require.Contains(t, page, id, "sign-in page")
	}
	action, v := form(t, resp.Request.URL, page)

	v.Set("username", "admin@tenant.example")
	v.Set("password", "wrong")
	v.Set("action", "signin")
	resp, err = b.PostForm(action, v)
	must(t, err)
	require.Contains(t, body(t, resp), `id="error"`, "wrong password")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "wrong password")

	v.Set("password", "pw-admin")
	resp, err = b.PostForm(action, v)
	must(t, err)
	page = body(t, resp)
	require.Contains(t, page, `id="approve"`)
	require.Contains(t, page, `id="deny"`)
	action, v = form(t, resp.Request.URL, page)
	v.Set("action", "approve")
	resp, err = b.PostForm(action, v)
	must(t, err)
	require.Contains(t, body(t, resp), "welcome admin@tenant.example of Cust12345", "after approval")
	checkAdminLogin(t, p, p.login(t))

	// Once approved, a plain user signs in without the approve page and
	// the id_token carries the same system user token.
	b2 := browser(t)
	resp, err = b2.Get(p.app.URL + prefix + "/login")
	must(t, err)
	action, v = form(t, resp.Request.URL, body(t, resp))
	v.Set("username", "user@tenant.example")
	v.Set("password", "pw-user")
	v.Set("action", "signin")
	resp, err = b2.PostForm(action, v)
	must(t, err)
	require.Contains(t, body(t, resp), "welcome user@tenant.example", "plain user")
	l := p.login(t)
	admin, _ := p.srv.Approve("Cust12345", "partner-app")
	assert.False(t, l.Claims.IsAdministrator, "plain user is administrator")
	assert.True(t, l.Claims.SystemUserToken == admin, "plain user's system user token differs")
}

func TestFullLoginFormPost(t *testing.T) {
	p := setup(t, true, superid.ResponseModeFormPost)
	rec := httptest.NewRecorder()
	p.client.LoginHandler(superid.WithResponseMode(superid.ResponseModeFormPost), superid.LoginHint("admin@tenant.example")).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.app.URL+prefix+"/login", nil))
	ck := rec.Result().Cookies()
	require.Len(t, ck, 1)
	require.Equal(t, http.SameSiteNoneMode, ck[0].SameSite)
	require.True(t, ck[0].Secure, "Secure")
	require.True(t, ck[0].HttpOnly, "HttpOnly")
	loc := rec.Header().Get("Location")
	u, _ := url.Parse(loc)
	require.Equal(t, "form_post", u.Query().Get("response_mode"))
	resp, err := p.srv.Client().Get(loc)
	must(t, err)
	page := body(t, resp)
	base, _ := url.Parse(loc)
	action, v := form(t, base, page)
	require.Equal(t, p.app.URL+prefix+"/callback", action)
	require.NotEmpty(t, v.Get("code"), "code")
	require.NotEmpty(t, v.Get("state"), "state")
	req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ck[0])
	rec = httptest.NewRecorder()
	p.app.Config.Handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "callback: %s", rec.Body)
	checkAdminLogin(t, p, p.login(t))
}

// startLogin runs LoginHandler and the headless emulator by hand and
// returns the login cookie and the callback URL SuperID sent back.
func startLogin(t *testing.T, p *partner, user string) (*http.Cookie, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.client.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.app.URL+prefix+"/login?login_hint="+url.QueryEscape(user), nil))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	require.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite)
	require.True(t, cookies[0].HttpOnly, "HttpOnly")
	require.Positive(t, cookies[0].MaxAge)
	noFollow := *p.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(rec.Header().Get("Location"))
	must(t, err)
	body(t, resp)
	require.Equal(t, http.StatusFound, resp.StatusCode, "authorize")
	return cookies[0], resp.Header.Get("Location")
}

func callback(p *partner, target string, ck *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if ck != nil {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	p.app.Config.Handler.ServeHTTP(rec, req)
	return rec
}

func (p *partner) err(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.errs:
		return err
	case l := <-p.logins:
		require.Fail(t, "unexpected login", "%+v", l.Claims.Subject)
	default:
		require.Fail(t, "no error") // the handlers run before the response returns
	}
	return nil
}

func TestCallbackRejects(t *testing.T) {
	p := setup(t, true, "")

	t.Run("missing cookie", func(t *testing.T) {
		_, target := startLogin(t, p, "admin@tenant.example")
		rec := callback(p, target, nil)
		assert.ErrorIs(t, p.err(t), superid.ErrLoginState)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	t.Run("state mismatch", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		u, _ := url.Parse(target)
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		callback(p, u.String(), ck)
		assert.ErrorIs(t, p.err(t), superid.ErrLoginState)
	})
	t.Run("cookie of another login", func(t *testing.T) {
		ck, _ := startLogin(t, p, "admin@tenant.example")
		_, target := startLogin(t, p, "admin@tenant.example")
		callback(p, target, ck)
		assert.ErrorIs(t, p.err(t), superid.ErrLoginState)
	})
	t.Run("tampered cookie", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		b := []byte(ck.Value)
		b[len(b)/2] ^= 1
		ck.Value = string(b)
		callback(p, target, ck)
		assert.ErrorIs(t, p.err(t), superid.ErrLoginState)
	})
	t.Run("replayed state", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		rec := callback(p, target, ck)
		require.Equal(t, http.StatusOK, rec.Code, "first callback: %s", rec.Body)
		p.login(t)
		callback(p, target, ck)
		err := p.err(t)
		assert.ErrorIs(t, err, superid.ErrLoginState)
		assert.ErrorContains(t, err, "already used")
	})
	t.Run("code replayed under a fresh login", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		callback(p, target, ck)
		p.login(t)
		// A new login's cookie and state, but the old, used code.
		ck2, target2 := startLogin(t, p, "admin@tenant.example")
		u, _ := url.Parse(target)
		u2, _ := url.Parse(target2)
		q := u2.Query()
		q.Set("code", u.Query().Get("code"))
		u2.RawQuery = q.Encode()
		callback(p, u2.String(), ck2)
		err := p.err(t)
		assert.ErrorIs(t, err, superid.ErrTokenRequest)
		var e *superid.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "invalid_grant", e.Code)
	})
	t.Run("error response", func(t *testing.T) {
		p.srv.RevokeApproval("Cust12345", "partner-app")
		ck, target := startLogin(t, p, "user@tenant.example") // not an administrator, app not approved
		u, _ := url.Parse(target)
		require.Equal(t, "access_denied", u.Query().Get("error"), "emulator answered %s", target)
		q := u.Query()
		q.Set("error_description", `<script>alert("x")</script>`)
		u.RawQuery = q.Encode()
		rec := callback(p, u.String(), ck)
		err := p.err(t)
		assert.ErrorIs(t, err, superid.ErrAccessDenied)
		assert.ErrorIs(t, err, superid.ErrAuthorization)
		var e *superid.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "access_denied", e.Code)
		assert.Equal(t, http.StatusForbidden, rec.Code)
		assert.NotContains(t, rec.Body.String(), "<script>", "error page not escaped")
		assert.Contains(t, rec.Body.String(), "&lt;script&gt;")
	})
	t.Run("other SuperID error", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		u, _ := url.Parse(target)
		q := url.Values{"state": {u.Query().Get("state")}, "error": {"invalid_request"}}
		u.RawQuery = q.Encode()
		callback(p, u.String(), ck)
		err := p.err(t)
		assert.NotErrorIs(t, err, superid.ErrAccessDenied)
		assert.ErrorIs(t, err, superid.ErrAuthorization)
	})
}

func TestUserDeclinesApproval(t *testing.T) {
	p := setup(t, false, "")
	b := browser(t)
	resp, err := b.Get(p.app.URL + prefix + "/login")
	must(t, err)
	action, v := form(t, resp.Request.URL, body(t, resp))
	v.Set("username", "admin@tenant.example")
	v.Set("password", "pw-admin")
	v.Set("action", "signin")
	resp, err = b.PostForm(action, v)
	must(t, err)
	action, v = form(t, resp.Request.URL, body(t, resp))
	v.Set("action", "deny")
	resp, err = b.PostForm(action, v)
	must(t, err)
	page := body(t, resp)
	assert.ErrorIs(t, p.err(t), superid.ErrAccessDenied)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, page)
}

func TestRefreshAndTokenSource(t *testing.T) {
	p := setup(t, true, "")
	ck, target := startLogin(t, p, "admin@tenant.example")
	callback(p, target, ck)
	l := p.login(t)
	ctx := context.Background()
	r, err := p.client.Refresh(ctx, l.Token.RefreshToken)
	must(t, err)
	assert.NotEqual(t, l.Token.AccessToken, r.Token.AccessToken, "a new access token")
	assert.True(t, strings.HasPrefix(r.Token.AccessToken, "8A:Cust12345."), "access token of the tenant")
	assert.True(t, r.Token.RefreshToken == l.Token.RefreshToken, "the refresh token is kept")
	require.NotNil(t, r.Claims)
	assert.True(t, r.Claims.SystemUserToken == l.Claims.SystemUserToken, "system user token differs")
	_, err = p.client.Refresh(ctx, "not-a-refresh-token")
	assert.ErrorIs(t, err, superid.ErrTokenRequest)
	expired := *l.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	ts := p.client.TokenSource(ctx, &expired)
	tok, err := ts.Token()
	must(t, err)
	assert.NotEqual(t, l.Token.AccessToken, tok.AccessToken, "token source did not refresh")
	assert.True(t, tok.Valid(), "refreshed token valid")
	again, err := ts.Token()
	must(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "token source did not reuse a valid token")
	var _ oauth2.TokenSource = ts

	// A refused refresh is a *superid.Error with SuperID's status, like
	// Refresh's, so callers can tell "sign in again" from "SuperID is down".
	bad := oauth2.Token{RefreshToken: "not-a-refresh-token", Expiry: time.Now().Add(-time.Minute)}
	_, err = p.client.TokenSource(ctx, &bad).Token()
	assert.ErrorIs(t, err, superid.ErrTokenRequest)
	var e *superid.Error
	require.ErrorAs(t, err, &e)
	assert.GreaterOrEqual(t, e.StatusCode, 400)
	assert.Less(t, e.StatusCode, 500)
}

func TestExchangeErrors(t *testing.T) {
	p := setup(t, true, "")
	ctx := context.Background()
	_, err := p.client.Exchange(ctx, "no-such-code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
	assert.ErrorIs(t, err, superid.ErrTokenRequest)
	var e *superid.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "invalid_grant", e.Code)
	assert.Equal(t, http.StatusBadRequest, e.StatusCode)
	assert.NotContains(t, err.Error(), "partner-secret", "error holds the client secret")
	p.srv.Fail(superidtest.EndpointToken, superidtest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	_, err = p.client.Exchange(ctx, "x", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
	assert.ErrorIs(t, err, superid.ErrTokenRequest)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
	bad, err := superid.New(superid.Config{Environment: p.srv.Environment(), ClientID: "partner-app", ClientSecret: "wrong",
		RedirectURL: p.app.URL + prefix + "/callback", HTTPClient: p.srv.Client()})
	must(t, err)
	_, err = bad.Exchange(ctx, "x", superid.LoginRequest{Verifier: "v", Nonce: "n"})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "invalid_client", e.Code)
	_, err = p.client.Exchange(ctx, "x", superid.LoginRequest{Verifier: "v"})
	assert.ErrorIs(t, err, superid.ErrConfig, "no nonce")
}

func TestNewValidatesConfig(t *testing.T) {
	ok := superid.Config{Environment: superid.SOD, ClientID: "id", ClientSecret: "s"}
	for name, edit := range map[string]func(c *superid.Config){
		"no environment":  func(c *superid.Config) { c.Environment = "" },
		"bad environment": func(c *superid.Config) { c.Environment = "ftp://x" },
		"no client id":    func(c *superid.Config) { c.ClientID = "" },
		"no secret":       func(c *superid.Config) { c.ClientSecret = "" },
		"relative URL":    func(c *superid.Config) { c.RedirectURL = "/callback" },
		"short key":       func(c *superid.Config) { c.CookieKey = []byte("short") },
	} {
		cfg := ok
		edit(&cfg)
		_, err := superid.New(cfg)
		assert.ErrorIs(t, err, superid.ErrConfig, name)
	}
	_, err := superid.New(ok)
	assert.NoError(t, err, "minimal config")
}

func TestAuthCodeURL(t *testing.T) {
	c, err := superid.New(superid.Config{Environment: superid.SOD, ClientID: "id", ClientSecret: "s", RedirectURL: "https://app.example/cb"})
	must(t, err)
	raw := c.AuthCodeURL(superid.LoginRequest{State: "st", Nonce: "no", Verifier: "verifier-verifier-verifier-verifier-verifier"},
		superid.Tenant("Cust1"), superid.LoginHint("a@b.c"), superid.WithResponseMode(superid.ResponseModeFormPost))
	u, err := url.Parse(raw)
	must(t, err)
	q := u.Query()
	want := map[string]string{
		"client_id": "id", "redirect_uri": "https://app.example/cb", "response_type": "code", "scope": "openid",
		"state": "st", "nonce": "no", "code_challenge_method": "S256", "acr_values": "tenant:Cust1",
		"login_hint": "a@b.c", "response_mode": "form_post",
		"code_challenge": oauth2.S256ChallengeFromVerifier("verifier-verifier-verifier-verifier-verifier"),
	}
	for k, v := range want {
		assert.Equal(t, v, q.Get(k), k)
	}
	assert.Equal(t, superid.SOD.AuthorizeURL(), u.Scheme+"://"+u.Host+u.Path)
}

// A token endpoint that redirects must not get the secret, code, verifier
// or refresh token re-sent to the redirect's target: x/oauth2 follows a
// 307 with the same POST body unless the client stops it.
func TestTokenRequestsDoNotFollowRedirects(t *testing.T) {
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer other.Close()
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer idp.Close()
	for name, hc := range map[string]*http.Client{"default client": nil, "own client": idp.Client()} {
		t.Run(name, func(t *testing.T) {
			c, err := superid.New(superid.Config{Environment: superid.Environment(idp.URL), ClientID: "id",
				ClientSecret: "TOPSECRET", RedirectURL: "https://app.example/cb", HTTPClient: hc})
			require.NoError(t, err)
			ctx := context.Background()
			_, err = c.Exchange(ctx, "THECODE", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
			assert.ErrorIs(t, err, superid.ErrTokenRequest)
			var e *superid.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, http.StatusTemporaryRedirect, e.StatusCode)
			_, err = c.Refresh(ctx, "REFRESH")
			assert.ErrorIs(t, err, superid.ErrTokenRequest)
			_, err = c.TokenSource(ctx, &oauth2.Token{RefreshToken: "REFRESH"}).Token()
			assert.Error(t, err, "TokenSource")
			assert.Zero(t, stolen.Load(), "the redirect target received token requests")
		})
	}
	assert.Nil(t, idp.Client().CheckRedirect, "New changed the caller's HTTPClient")
}

// The code and refresh token requests ask for JSON (PROTOCOL 1.5):
// x/oauth2 sends no Accept header of its own.
func TestTokenRequestsAcceptJSON(t *testing.T) {
	var accepts []string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts = append(accepts, r.Header.Get("Accept"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"token_type":"Bearer","access_token":"8A:Cust1.x","expires_in":3600,"refresh_token":"r"}`)
	}))
	defer idp.Close()
	hc := idp.Client()
	c, err := superid.New(superid.Config{Environment: superid.Environment(idp.URL), ClientID: "id",
		ClientSecret: "s", RedirectURL: "https://app.example/cb", HTTPClient: hc})
	must(t, err)
	ctx := context.Background()
	_, err = c.Exchange(ctx, "code", superid.LoginRequest{Verifier: "v", Nonce: "n"})
	assert.ErrorIs(t, err, superid.ErrMissingClaim, "a code's answer without id_token")
	_, err = c.Refresh(ctx, "r")
	assert.NoError(t, err)
	_, err = c.TokenSource(ctx, &oauth2.Token{RefreshToken: "r"}).Token()
	assert.NoError(t, err)
	assert.Equal(t, []string{"application/json", "application/json", "application/json"}, accepts)
}

// A callback whose state does not match the login cookie may come from
// anyone (a link on another site): its error text is not shown, it is
// not SuperID's answer, and it does not end the sign-in in progress.
func TestCallbackIgnoresForgedResponses(t *testing.T) {
	p := setup(t, true, "")
	ck, target := startLogin(t, p, "admin@tenant.example")
	forged := "Forged text, call +1-555"
	for name, q := range map[string]url.Values{
		"error without state":  {"error": {"access_denied"}, "error_description": {forged}},
		"error of wrong state": {"state": {"not-the-state"}, "error": {"access_denied"}, "error_description": {forged}},
		"code of wrong state":  {"state": {"not-the-state"}, "code": {"some-code"}},
	} {
		for _, withCookie := range []bool{true, false} {
			c := ck
			if !withCookie {
				c = nil
			}
			rec := callback(p, p.app.URL+prefix+"/callback?"+q.Encode(), c)
			err := p.err(t)
			what := fmt.Sprintf("%s (cookie %v)", name, withCookie)
			assert.ErrorIs(t, err, superid.ErrLoginState, what)
			assert.NotErrorIs(t, err, superid.ErrAuthorization, what)
			assert.NotContains(t, err.Error(), "Forged", what)
			assert.NotContains(t, rec.Body.String(), "Forged", what)
			assert.NotContains(t, rec.Body.String(), "access_denied", what)
			assert.Empty(t, rec.Header().Values("Set-Cookie"), "%s: the login cookie is touched", what)
			assert.Equal(t, http.StatusBadRequest, rec.Code, what)
		}
	}
	assert.Zero(t, p.srv.Count(superidtest.EndpointToken), "token requests for forged callbacks")
	// The real answer still completes the sign-in.
	rec := callback(p, target, ck)
	require.Equal(t, http.StatusOK, rec.Code, "real callback after forged ones: %s", rec.Body)
	checkAdminLogin(t, p, p.login(t))
}

// The callback deletes the login cookie with the attributes LoginHandler
// set it with; a browser keeps a __Host- or SameSite=None; Secure cookie
// that a deletion without Secure does not match.
func TestCallbackDeletesLoginCookieAsSet(t *testing.T) {
	for _, tc := range []struct {
		name, redirect, cookie string
		mode                   superid.ResponseMode
		secure                 bool
		sameSite               http.SameSite
	}{
		{"query over https", "https://app.example/cb", "__Host-login", "", true, http.SameSiteLaxMode},
		{"form_post", "https://app.example/cb", "__Host-login", superid.ResponseModeFormPost, true, http.SameSiteNoneMode},
		{"query over http", "http://127.0.0.1:8080/cb", "", "", false, http.SameSiteLaxMode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := superid.New(superid.Config{Environment: superid.SOD, ClientID: "id", ClientSecret: "s",
				RedirectURL: tc.redirect, CookieName: tc.cookie})
			must(t, err)
			var opts []superid.AuthCodeOption
			if tc.mode != "" {
				opts = append(opts, superid.WithResponseMode(tc.mode))
			}
			rec := httptest.NewRecorder()
			c.LoginHandler(opts...).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.redirect+"/../login", nil))
			set := rec.Result().Cookies()
			loc, err := url.Parse(rec.Header().Get("Location"))
			must(t, err)
			require.Len(t, set, 1)
			require.Equal(t, tc.secure, set[0].Secure, "Secure")
			require.Equal(t, tc.sameSite, set[0].SameSite, "SameSite")
			// An error response that answers this sign-in: no code to redeem.
			form := url.Values{"state": {loc.Query().Get("state")}, "error": {"access_denied"}}
			req := httptest.NewRequest(http.MethodGet, tc.redirect+"?"+form.Encode(), nil)
			if tc.mode == superid.ResponseModeFormPost {
				req = httptest.NewRequest(http.MethodPost, tc.redirect, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.AddCookie(&http.Cookie{Name: set[0].Name, Value: set[0].Value})
			var got error
			rec = httptest.NewRecorder()
			c.CallbackHandler(func(http.ResponseWriter, *http.Request, *superid.Login) {},
				func(w http.ResponseWriter, r *http.Request, err error) { got = err }).ServeHTTP(rec, req)
			assert.ErrorIs(t, got, superid.ErrAccessDenied)
			del := rec.Result().Cookies()
			require.Len(t, del, 1, "deletion cookies %q", rec.Header().Values("Set-Cookie"))
			d := del[0]
			assert.Equal(t, set[0].Name, d.Name)
			assert.Equal(t, set[0].Path, d.Path)
			assert.Negative(t, d.MaxAge)
			assert.Empty(t, d.Value)
			assert.Equal(t, set[0].Secure, d.Secure, "Secure")
			assert.Equal(t, set[0].SameSite, d.SameSite, "SameSite")
			assert.True(t, d.HttpOnly, "HttpOnly")
		})
	}
}

// A Client not made by New, and a callback without onLogin, answer with
// ErrConfig instead of panicking.
func TestZeroClientAndNilHandlers(t *testing.T) {
	ctx := context.Background()
	var nilClient *superid.Client
	for name, c := range map[string]*superid.Client{"zero": {}, "nil": nilClient} {
		_, err := c.Exchange(ctx, "code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
		assert.ErrorIs(t, err, superid.ErrConfig, name+" Exchange")
		_, err = c.Refresh(ctx, "r")
		assert.ErrorIs(t, err, superid.ErrConfig, name+" Refresh")
		_, err = c.VerifyIDToken(ctx, "a.b.c")
		assert.ErrorIs(t, err, superid.ErrConfig, name+" VerifyIDToken")
		_, err = c.TokenSource(ctx, &oauth2.Token{}).Token()
		assert.ErrorIs(t, err, superid.ErrConfig, name+" TokenSource")
		assert.Empty(t, c.AuthCodeURL(superid.LoginRequest{State: "s", Nonce: "n", Verifier: "v"}), name+" AuthCodeURL")
		assert.Empty(t, c.Environment(), name+" Environment")
		assert.Nil(t, c.KeySet(), name+" KeySet")
		rec := httptest.NewRecorder()
		c.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, name+" LoginHandler")
		rec = httptest.NewRecorder()
		c.CallbackHandler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/cb?state=s&code=c", nil))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, name+" CallbackHandler")
	}

	p := setup(t, true, "")
	ck, target := startLogin(t, p, "admin@tenant.example")
	var got error
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.AddCookie(ck)
	p.client.CallbackHandler(nil, func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		superid.RenderError(w, err)
	}).ServeHTTP(rec, req)
	assert.ErrorIs(t, got, superid.ErrConfig, "CallbackHandler without onLogin")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Zero(t, p.srv.Count(superidtest.EndpointToken), "the code was redeemed with nowhere to deliver the login")

	// A nil ctx is refused with ErrConfig; x/oauth2 would panic on it.
	var nilCtx context.Context
	_, err := p.client.Exchange(nilCtx, "code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
	assert.ErrorIs(t, err, superid.ErrConfig, "Exchange(nil ctx)")
	_, err = p.client.Refresh(nilCtx, "r")
	assert.ErrorIs(t, err, superid.ErrConfig, "Refresh(nil ctx)")
	_, err = p.client.VerifyIDToken(nilCtx, "a.b.c")
	assert.ErrorIs(t, err, superid.ErrConfig, "VerifyIDToken(nil ctx)")
	_, err = p.client.TokenSource(nilCtx, &oauth2.Token{RefreshToken: "r"}).Token()
	assert.ErrorIs(t, err, superid.ErrConfig, "TokenSource(nil ctx)")
}
