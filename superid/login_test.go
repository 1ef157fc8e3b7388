package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
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
	if err != nil {
		t.Fatal(err)
	}
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
	if m == nil {
		t.Fatalf("no form in page:\n%s", page)
	}
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
		t.Fatalf("login failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no login")
	}
	return nil
}

func checkAdminLogin(t *testing.T, p *partner, l *superid.Login) {
	t.Helper()
	c := l.Claims
	if c.ContextIdentifier != "Cust12345" || c.Subject != "admin@tenant.example" || !c.IsAdministrator || c.AssociateID == 0 {
		t.Errorf("claims: %+v", c)
	}
	tok, err := p.srv.Approve("Cust12345", "partner-app") // same token once approved
	must(t, err)
	if c.SystemUserToken == "" || c.SystemUserToken != tok || !strings.HasPrefix(tok, "Partner App-") {
		t.Errorf("system user token %q, emulator has %q", c.SystemUserToken, tok)
	}
	if c.WebAPIURL != p.srv.WebAPIURL("Cust12345") || c.CompanyName != "Tenant <AS>" {
		t.Errorf("tenant claims: %q %q", c.WebAPIURL, c.CompanyName)
	}
	if !strings.HasPrefix(l.Token.AccessToken, "8A:Cust12345.") || l.Token.RefreshToken == "" || l.IDToken == "" {
		t.Errorf("tokens: access %t refresh %t id %t", strings.HasPrefix(l.Token.AccessToken, "8A:Cust12345."), l.Token.RefreshToken != "", l.IDToken != "")
	}
}

func TestFullLoginHeadless(t *testing.T) {
	p := setup(t, true, "")
	resp, err := browser(t).Get(p.app.URL + prefix + "/login?tenant=Cust12345&login_hint=admin@tenant.example")
	must(t, err)
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "welcome admin@tenant.example of Cust12345") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	checkAdminLogin(t, p, p.login(t))

	authz := p.srv.Requests(superidtest.EndpointAuthorize)
	q, _ := url.ParseQuery(authz[len(authz)-1].RawQuery)
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
		q.Get("state") == "" || q.Get("acr_values") != "tenant:Cust12345" || q.Get("scope") != "openid" {
		t.Errorf("authorize query: %v", q)
	}
	tr := p.srv.Requests(superidtest.EndpointToken)
	form, _ := url.ParseQuery(string(tr[len(tr)-1].Body))
	if form.Get("client_secret") != "partner-secret" || form.Get("code_verifier") == "" || tr[len(tr)-1].Header.Get("Authorization") != "" {
		t.Errorf("token request is not client_secret_post with a verifier: %v", tr[len(tr)-1].Header)
	}
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
		if !strings.Contains(page, id) {
			t.Fatalf("sign-in page lacks %s:\n%s", id, page)
		}
	}
	action, v := form(t, resp.Request.URL, page)

	v.Set("username", "admin@tenant.example")
	v.Set("password", "wrong")
	v.Set("action", "signin")
	resp, err = b.PostForm(action, v)
	must(t, err)
	if page := body(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `id="error"`) {
		t.Fatalf("wrong password: status %d", resp.StatusCode)
	}

	v.Set("password", "pw-admin")
	resp, err = b.PostForm(action, v)
	must(t, err)
	page = body(t, resp)
	if !strings.Contains(page, `id="approve"`) || !strings.Contains(page, `id="deny"`) {
		t.Fatalf("no approve page:\n%s", page)
	}
	action, v = form(t, resp.Request.URL, page)
	v.Set("action", "approve")
	resp, err = b.PostForm(action, v)
	must(t, err)
	if page := body(t, resp); !strings.Contains(page, "welcome admin@tenant.example of Cust12345") {
		t.Fatalf("after approval: %d %s", resp.StatusCode, page)
	}
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
	if page := body(t, resp); !strings.Contains(page, "welcome user@tenant.example") {
		t.Fatalf("plain user: %d %s", resp.StatusCode, page)
	}
	l := p.login(t)
	admin, _ := p.srv.Approve("Cust12345", "partner-app")
	if l.Claims.IsAdministrator || l.Claims.SystemUserToken != admin {
		t.Errorf("plain user's claims: admin %v, system token matches %v", l.Claims.IsAdministrator, l.Claims.SystemUserToken == admin)
	}
}

func TestFullLoginFormPost(t *testing.T) {
	p := setup(t, true, superid.ResponseModeFormPost)
	rec := httptest.NewRecorder()
	p.client.LoginHandler(superid.WithResponseMode(superid.ResponseModeFormPost), superid.LoginHint("admin@tenant.example")).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.app.URL+prefix+"/login", nil))
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].SameSite != http.SameSiteNoneMode || !ck[0].Secure || !ck[0].HttpOnly {
		t.Fatalf("form_post login cookie: %+v", ck)
	}
	loc := rec.Header().Get("Location")
	if u, _ := url.Parse(loc); u.Query().Get("response_mode") != "form_post" {
		t.Fatalf("authorize URL %s", loc)
	}
	resp, err := p.srv.Client().Get(loc)
	must(t, err)
	page := body(t, resp)
	base, _ := url.Parse(loc)
	action, v := form(t, base, page)
	if action != p.app.URL+prefix+"/callback" || v.Get("code") == "" || v.Get("state") == "" {
		t.Fatalf("form_post page: %s", page)
	}
	req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ck[0])
	rec = httptest.NewRecorder()
	p.app.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	checkAdminLogin(t, p, p.login(t))
}

// startLogin runs LoginHandler and the headless emulator by hand and
// returns the login cookie and the callback URL SuperID sent back.
func startLogin(t *testing.T, p *partner, user string) (*http.Cookie, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.client.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.app.URL+prefix+"/login?login_hint="+url.QueryEscape(user), nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].SameSite != http.SameSiteLaxMode || !cookies[0].HttpOnly || cookies[0].MaxAge <= 0 {
		t.Fatalf("login cookie: %+v", cookies)
	}
	noFollow := *p.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(rec.Header().Get("Location"))
	must(t, err)
	body(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
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
		t.Fatalf("unexpected login %+v", l.Claims)
	}
	return nil
}

func TestCallbackRejects(t *testing.T) {
	p := setup(t, true, "")

	t.Run("missing cookie", func(t *testing.T) {
		_, target := startLogin(t, p, "admin@tenant.example")
		rec := callback(p, target, nil)
		if err := p.err(t); !errors.Is(err, superid.ErrLoginState) || rec.Code != http.StatusBadRequest {
			t.Errorf("got %v, status %d", err, rec.Code)
		}
	})
	t.Run("state mismatch", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		u, _ := url.Parse(target)
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		callback(p, u.String(), ck)
		if err := p.err(t); !errors.Is(err, superid.ErrLoginState) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("cookie of another login", func(t *testing.T) {
		ck, _ := startLogin(t, p, "admin@tenant.example")
		_, target := startLogin(t, p, "admin@tenant.example")
		callback(p, target, ck)
		if err := p.err(t); !errors.Is(err, superid.ErrLoginState) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("tampered cookie", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		b := []byte(ck.Value)
		b[len(b)/2] ^= 1
		ck.Value = string(b)
		callback(p, target, ck)
		if err := p.err(t); !errors.Is(err, superid.ErrLoginState) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("replayed state", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		if rec := callback(p, target, ck); rec.Code != http.StatusOK {
			t.Fatalf("first callback: %d %s", rec.Code, rec.Body)
		}
		p.login(t)
		callback(p, target, ck)
		if err := p.err(t); !errors.Is(err, superid.ErrLoginState) || !strings.Contains(err.Error(), "already used") {
			t.Errorf("replay: got %v", err)
		}
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
		var e *superid.Error
		if err := p.err(t); !errors.Is(err, superid.ErrTokenRequest) || !errors.As(err, &e) || e.Code != "invalid_grant" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("error response", func(t *testing.T) {
		p.srv.RevokeApproval("Cust12345", "partner-app")
		ck, target := startLogin(t, p, "user@tenant.example") // not an administrator, app not approved
		u, _ := url.Parse(target)
		if u.Query().Get("error") != "access_denied" {
			t.Fatalf("emulator answered %s", target)
		}
		q := u.Query()
		q.Set("error_description", `<script>alert("x")</script>`)
		u.RawQuery = q.Encode()
		rec := callback(p, u.String(), ck)
		err := p.err(t)
		var e *superid.Error
		if !errors.Is(err, superid.ErrAccessDenied) || !errors.Is(err, superid.ErrAuthorization) || !errors.As(err, &e) || e.Code != "access_denied" {
			t.Errorf("got %v", err)
		}
		if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "<script>") ||
			!strings.Contains(rec.Body.String(), "&lt;script&gt;") {
			t.Errorf("error page %d not escaped:\n%s", rec.Code, rec.Body)
		}
	})
	t.Run("other SuperID error", func(t *testing.T) {
		ck, target := startLogin(t, p, "admin@tenant.example")
		u, _ := url.Parse(target)
		q := url.Values{"state": {u.Query().Get("state")}, "error": {"invalid_request"}}
		u.RawQuery = q.Encode()
		callback(p, u.String(), ck)
		if err := p.err(t); errors.Is(err, superid.ErrAccessDenied) || !errors.Is(err, superid.ErrAuthorization) {
			t.Errorf("got %v", err)
		}
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
	if err := p.err(t); !errors.Is(err, superid.ErrAccessDenied) || resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %v, status %d: %s", err, resp.StatusCode, page)
	}
}

func TestRefreshAndTokenSource(t *testing.T) {
	p := setup(t, true, "")
	ck, target := startLogin(t, p, "admin@tenant.example")
	callback(p, target, ck)
	l := p.login(t)
	ctx := context.Background()
	r, err := p.client.Refresh(ctx, l.Token.RefreshToken)
	must(t, err)
	if r.Token.AccessToken == l.Token.AccessToken || !strings.HasPrefix(r.Token.AccessToken, "8A:Cust12345.") ||
		r.Token.RefreshToken != l.Token.RefreshToken || r.Claims == nil || r.Claims.SystemUserToken != l.Claims.SystemUserToken {
		t.Errorf("refresh: %+v", r.Claims)
	}
	if _, err := p.client.Refresh(ctx, "not-a-refresh-token"); !errors.Is(err, superid.ErrTokenRequest) {
		t.Errorf("bad refresh token: %v", err)
	}
	expired := *l.Token
	expired.Expiry = time.Now().Add(-time.Minute)
	ts := p.client.TokenSource(ctx, &expired)
	tok, err := ts.Token()
	must(t, err)
	if tok.AccessToken == l.Token.AccessToken || !tok.Valid() {
		t.Errorf("token source did not refresh")
	}
	if again, _ := ts.Token(); again.AccessToken != tok.AccessToken {
		t.Errorf("token source did not reuse a valid token")
	}
	var _ oauth2.TokenSource = ts

	// A refused refresh is a *superid.Error with SuperID's status, like
	// Refresh's, so callers can tell "sign in again" from "SuperID is down".
	bad := oauth2.Token{RefreshToken: "not-a-refresh-token", Expiry: time.Now().Add(-time.Minute)}
	var e *superid.Error
	if _, err := p.client.TokenSource(ctx, &bad).Token(); !errors.Is(err, superid.ErrTokenRequest) ||
		!errors.As(err, &e) || e.StatusCode < 400 || e.StatusCode >= 500 {
		t.Errorf("refused refresh through TokenSource: %v", err)
	}
}

func TestExchangeErrors(t *testing.T) {
	p := setup(t, true, "")
	ctx := context.Background()
	_, err := p.client.Exchange(ctx, "no-such-code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
	var e *superid.Error
	if !errors.Is(err, superid.ErrTokenRequest) || !errors.As(err, &e) || e.Code != "invalid_grant" || e.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown code: %v", err)
	}
	if strings.Contains(err.Error(), "partner-secret") {
		t.Error("error holds the client secret")
	}
	p.srv.Fail(superidtest.EndpointToken, superidtest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	_, err = p.client.Exchange(ctx, "x", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"})
	if !errors.Is(err, superid.ErrTokenRequest) || !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("503: %v", err)
	}
	bad, err := superid.New(superid.Config{Environment: p.srv.Environment(), ClientID: "partner-app", ClientSecret: "wrong",
		RedirectURL: p.app.URL + prefix + "/callback", HTTPClient: p.srv.Client()})
	must(t, err)
	if _, err := bad.Exchange(ctx, "x", superid.LoginRequest{Verifier: "v", Nonce: "n"}); !errors.As(err, &e) || e.Code != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}
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
		if _, err := superid.New(cfg); !errors.Is(err, superid.ErrConfig) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := superid.New(ok); err != nil {
		t.Errorf("minimal config: %v", err)
	}
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
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Scheme+"://"+u.Host+u.Path != superid.SOD.AuthorizeURL() {
		t.Errorf("endpoint %s", u)
	}
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
			must(t, err)
			ctx := context.Background()
			var e *superid.Error
			if _, err := c.Exchange(ctx, "THECODE", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"}); !errors.Is(err, superid.ErrTokenRequest) ||
				!errors.As(err, &e) || e.StatusCode != http.StatusTemporaryRedirect {
				t.Errorf("Exchange: %v", err)
			}
			if _, err := c.Refresh(ctx, "REFRESH"); !errors.Is(err, superid.ErrTokenRequest) {
				t.Errorf("Refresh: %v", err)
			}
			if _, err := c.TokenSource(ctx, &oauth2.Token{RefreshToken: "REFRESH"}).Token(); err == nil {
				t.Error("TokenSource: no error")
			}
			if n := stolen.Load(); n != 0 {
				t.Errorf("the redirect target received %d token requests", n)
			}
		})
	}
	if idp.Client().CheckRedirect != nil {
		t.Error("New changed the caller's HTTPClient")
	}
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
			if !errors.Is(err, superid.ErrLoginState) || errors.Is(err, superid.ErrAuthorization) {
				t.Errorf("%s (cookie %v): got %v, want ErrLoginState", name, withCookie, err)
			}
			if strings.Contains(err.Error(), "Forged") || strings.Contains(rec.Body.String(), "Forged") || strings.Contains(rec.Body.String(), "access_denied") {
				t.Errorf("%s: the forged text is reported: %v\n%s", name, err, rec.Body)
			}
			if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("%s (cookie %v): the login cookie is touched: %q", name, withCookie, sc)
			}
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s: status %d", name, rec.Code)
			}
		}
	}
	if n := p.srv.Count(superidtest.EndpointToken); n != 0 {
		t.Errorf("%d token requests for forged callbacks", n)
	}
	// The real answer still completes the sign-in.
	if rec := callback(p, target, ck); rec.Code != http.StatusOK {
		t.Fatalf("real callback after forged ones: %d %s", rec.Code, rec.Body)
	}
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
			if len(set) != 1 || set[0].Secure != tc.secure || set[0].SameSite != tc.sameSite {
				t.Fatalf("login cookie %+v", set)
			}
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
			if !errors.Is(got, superid.ErrAccessDenied) {
				t.Errorf("callback: %v", got)
			}
			del := rec.Result().Cookies()
			if len(del) != 1 {
				t.Fatalf("deletion cookies %q", rec.Header().Values("Set-Cookie"))
			}
			d := del[0]
			if d.Name != set[0].Name || d.Path != set[0].Path || d.MaxAge >= 0 || d.Value != "" ||
				d.Secure != set[0].Secure || d.SameSite != set[0].SameSite || !d.HttpOnly {
				t.Errorf("deletion %q does not match %q", rec.Header().Get("Set-Cookie"), set[0].String())
			}
		})
	}
}

// A Client not made by New, and a callback without onLogin, answer with
// ErrConfig instead of panicking.
func TestZeroClientAndNilHandlers(t *testing.T) {
	ctx := context.Background()
	var nilClient *superid.Client
	for name, c := range map[string]*superid.Client{"zero": {}, "nil": nilClient} {
		if _, err := c.Exchange(ctx, "code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"}); !errors.Is(err, superid.ErrConfig) {
			t.Errorf("%s Exchange: %v", name, err)
		}
		if _, err := c.Refresh(ctx, "r"); !errors.Is(err, superid.ErrConfig) {
			t.Errorf("%s Refresh: %v", name, err)
		}
		if _, err := c.VerifyIDToken(ctx, "a.b.c"); !errors.Is(err, superid.ErrConfig) {
			t.Errorf("%s VerifyIDToken: %v", name, err)
		}
		if _, err := c.TokenSource(ctx, &oauth2.Token{}).Token(); !errors.Is(err, superid.ErrConfig) {
			t.Errorf("%s TokenSource: %v", name, err)
		}
		if u := c.AuthCodeURL(superid.LoginRequest{State: "s", Nonce: "n", Verifier: "v"}); u != "" {
			t.Errorf("%s AuthCodeURL = %q", name, u)
		}
		if c.Environment() != "" || c.KeySet() != nil {
			t.Errorf("%s Environment/KeySet not empty", name)
		}
		rec := httptest.NewRecorder()
		c.LoginHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s LoginHandler: %d", name, rec.Code)
		}
		rec = httptest.NewRecorder()
		c.CallbackHandler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/cb?state=s&code=c", nil))
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%s CallbackHandler: %d", name, rec.Code)
		}
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
	if !errors.Is(got, superid.ErrConfig) || rec.Code != http.StatusInternalServerError {
		t.Errorf("CallbackHandler without onLogin: %v, status %d", got, rec.Code)
	}
	if n := p.srv.Count(superidtest.EndpointToken); n != 0 {
		t.Errorf("the code was redeemed (%d token requests) with nowhere to deliver the login", n)
	}

	// A nil ctx is refused with ErrConfig; x/oauth2 would panic on it.
	var nilCtx context.Context
	if _, err := p.client.Exchange(nilCtx, "code", superid.LoginRequest{Verifier: "verifier", Nonce: "nonce"}); !errors.Is(err, superid.ErrConfig) {
		t.Errorf("Exchange(nil ctx): %v", err)
	}
	if _, err := p.client.Refresh(nilCtx, "r"); !errors.Is(err, superid.ErrConfig) {
		t.Errorf("Refresh(nil ctx): %v", err)
	}
	if _, err := p.client.VerifyIDToken(nilCtx, "a.b.c"); !errors.Is(err, superid.ErrConfig) {
		t.Errorf("VerifyIDToken(nil ctx): %v", err)
	}
	if _, err := p.client.TokenSource(nilCtx, &oauth2.Token{RefreshToken: "r"}).Token(); !errors.Is(err, superid.ErrConfig) {
		t.Errorf("TokenSource(nil ctx): %v", err)
	}
}
