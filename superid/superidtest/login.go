package superidtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The lifetimes SuperOffice documents.
const (
	codeLifetime    = 10 * time.Minute
	accessLifetime  = time.Hour
	idTokenLifetime = 5 * time.Minute
	flowLifetime    = 30 * time.Minute
)

// idClaim is the prefix of every SuperOffice-specific id_token claim name
// (systemuser.go has the same prefix as claimPrefix).
const idClaim = "http://schemes.superoffice.net/identity/"

// WithHeadlessLogin makes the authorize endpoint answer at once, with no
// sign-in page: it signs in the login_hint user (no password asked) and,
// for an administrator, approves an app with system-user rights. Tests
// that drive the login with a plain HTTP client use it.
func WithHeadlessLogin() Option { return func(e *Emulator) { e.login.headless = true } }

// loginState is the SuperID half's state: sign-ins in progress, codes and
// tokens.
type loginState struct {
	headless bool
	flows    map[string]*authFlow
	codes    map[string]*authCode
	access   map[string]*grant
	refresh  map[string]*grant
}

// authRequest is a validated authorization request.
type authRequest struct {
	app           *App
	redirectURI   string
	state         string
	nonce         string
	responseMode  string
	challenge     string
	method        string
	loginHint     string
	tenant        string // from acr_values or the path; empty: any
	pathTenant    string // as it appeared in the path, for the form action
	redirectQuery url.Values
}

// authFlow is a sign-in page in progress.
type authFlow struct {
	req     authRequest
	user    string // lower-case user name, once the password was right
	expires time.Time
}

type authCode struct {
	req     authRequest
	user    string
	expires time.Time
}

// grant is what an access or refresh token stands for.
type grant struct {
	clientID string
	user     string
	expires  time.Time // zero: no expiry
}

func (e *Emulator) loginRoutes() {
	e.login.flows = map[string]*authFlow{}
	e.login.codes = map[string]*authCode{}
	e.login.access = map[string]*grant{}
	e.login.refresh = map[string]*grant{}
	e.route("GET /login/{tenant}/oauth/authorize", EndpointAuthorize, e.serveAuthorize)
	e.route("POST /login/{tenant}/oauth/authorize", EndpointAuthorize, e.serveAuthorize)
	e.route("POST /login/{tenant}/oauth/tokens", EndpointToken, e.serveToken)
}

// accessTokenUserLocked returns the user an unexpired access token was
// issued to, or nil. e.mu must be held.
func (e *Emulator) accessTokenUserLocked(token string) *User {
	g := e.login.access[token]
	if g == nil || !e.now().Before(g.expires) {
		return nil
	}
	return e.users[g.user]
}

// newAccessTokenLocked issues an access token for the user, shaped like
// SuperID's ("8A:<ctx>.<opaque>"). e.mu must be held.
func (e *Emulator) newAccessTokenLocked(clientID string, u *User) string {
	tok := "8A:" + e.tenantIDLocked(u.ContextIdentifier) + "." + randomString(40)
	e.login.access[tok] = &grant{clientID: clientID, user: strings.ToLower(u.Username), expires: e.now().Add(accessLifetime)}
	return tok
}

// authError is an OAuth error to send back to the app.
type authError struct{ code, description string }

func (e *Emulator) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, errorTemplate, pageData{Error: "The request could not be read."})
		return
	}
	if flowID := r.PostForm.Get("flow"); r.Method == http.MethodPost && flowID != "" {
		e.continueFlow(w, r, flowID)
		return
	}
	req, fatal, aerr := e.parseAuthRequest(r)
	if fatal != "" {
		// Without a trusted redirect URL the error can only be shown.
		writePage(w, http.StatusBadRequest, errorTemplate, pageData{Error: fatal})
		return
	}
	if aerr != nil {
		e.redirectError(w, req, aerr)
		return
	}
	if e.login.headless {
		e.headless(w, req)
		return
	}
	flowID := randomString(32)
	e.mu.Lock()
	e.pruneLocked()
	e.login.flows[flowID] = &authFlow{req: *req, expires: e.now().Add(flowLifetime)}
	users := e.pageUsersLocked()
	e.mu.Unlock()
	writePage(w, http.StatusOK, signInTemplate, pageData{
		Action: e.formAction(req), Flow: flowID, Username: req.loginHint, App: req.app.Name, Users: users,
	})
}

// parseAuthRequest validates an authorization request. fatal is set when
// the app or its redirect URL cannot be trusted; aerr when the app should
// get an error redirect.
func (e *Emulator) parseAuthRequest(r *http.Request) (req *authRequest, fatal string, aerr *authError) {
	p := r.Form
	e.mu.Lock()
	app := e.apps[p.Get("client_id")]
	e.mu.Unlock()
	if app == nil {
		return nil, "Unknown client_id.", nil
	}
	redirect := p.Get("redirect_uri")
	registered := false
	for _, u := range app.RedirectURLs {
		registered = registered || u == redirect
	}
	if !registered {
		return nil, "The redirect_uri is not registered for this application.", nil
	}
	ru, _ := url.Parse(redirect)
	req = &authRequest{
		app: app, redirectURI: redirect, state: p.Get("state"), nonce: p.Get("nonce"),
		responseMode: p.Get("response_mode"), challenge: p.Get("code_challenge"),
		method: p.Get("code_challenge_method"), loginHint: p.Get("login_hint"),
		pathTenant: r.PathValue("tenant"), redirectQuery: ru.Query(),
	}
	switch req.responseMode {
	case "", "query", "form_post", "fragment":
	default:
		req.responseMode = "query"
		return req, "", &authError{"invalid_request", "unsupported response_mode"}
	}
	if rt := p.Get("response_type"); rt != "code" {
		return req, "", &authError{"unsupported_response_type", "this emulator supports the code flow only"}
	}
	if !hasScope(p.Get("scope"), "openid") {
		return req, "", &authError{"invalid_scope", "scope must include openid"}
	}
	if req.challenge != "" {
		switch req.method {
		case "":
			req.method = "plain" // SuperID's documented default
		case "plain", "S256":
		default:
			return req, "", &authError{"invalid_request", "code_challenge_method must be S256 or plain"}
		}
	}
	if !strings.EqualFold(req.pathTenant, "common") {
		req.tenant = req.pathTenant
	}
	for _, acr := range strings.Fields(p.Get("acr_values")) {
		if t, ok := strings.CutPrefix(acr, "tenant:"); ok {
			req.tenant = t
		}
	}
	if req.tenant != "" {
		e.mu.Lock()
		t := e.tenants[strings.ToLower(req.tenant)]
		e.mu.Unlock()
		if t == nil {
			return req, "", &authError{"invalid_request", "unknown tenant"}
		}
		req.tenant = t.ContextIdentifier
	}
	return req, "", nil
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// formAction is where the sign-in pages post to: the authorize endpoint,
// as a path under the environment's own path, so that an emulator mounted
// under a prefix (behind http.StripPrefix) receives its forms.
func (e *Emulator) formAction(req *authRequest) string {
	prefix := ""
	if u, err := url.Parse(e.env.Issuer()); err == nil {
		prefix = strings.TrimRight(u.EscapedPath(), "/")
	}
	return prefix + "/login/" + url.PathEscape(req.pathTenant) + "/oauth/authorize"
}

// headless signs in the login_hint user without a page.
func (e *Emulator) headless(w http.ResponseWriter, req *authRequest) {
	e.mu.Lock()
	u := e.users[strings.ToLower(req.loginHint)]
	var aerr *authError
	switch {
	case req.loginHint == "":
		aerr = &authError{"login_required", "the headless emulator signs in the login_hint user; none was given"}
	case u == nil:
		aerr = &authError{"access_denied", "unknown user"}
	case req.tenant != "" && !strings.EqualFold(req.tenant, u.ContextIdentifier):
		aerr = &authError{"access_denied", "the user does not belong to the tenant"}
	case e.needsApprovalLocked(req.app, u) && !u.Administrator:
		aerr = &authError{"access_denied", "an administrator must approve this application first"}
	case e.needsApprovalLocked(req.app, u):
		if _, err := e.approveLocked(u.ContextIdentifier, req.app.ClientID); err != nil {
			aerr = &authError{"server_error", "approval failed"}
		}
	}
	var code string
	if aerr == nil {
		code = e.issueCodeLocked(req, strings.ToLower(u.Username))
	}
	e.mu.Unlock()
	if aerr != nil {
		e.redirectError(w, req, aerr)
		return
	}
	e.redirectCode(w, req, code)
}

// needsApprovalLocked reports whether signing u in to app first needs an
// administrator's approval: the app has system-user rights and the tenant
// has not approved it.
func (e *Emulator) needsApprovalLocked(app *App, u *User) bool {
	if !app.SystemUser {
		return false
	}
	_, ok := e.consents[consentKey{e.tenantIDLocked(u.ContextIdentifier), app.ClientID}]
	return !ok
}

func (e *Emulator) tenantIDLocked(contextID string) string {
	if t := e.tenants[strings.ToLower(contextID)]; t != nil {
		return t.ContextIdentifier
	}
	return contextID
}

// continueFlow handles the sign-in and approve forms.
func (e *Emulator) continueFlow(w http.ResponseWriter, r *http.Request, flowID string) {
	e.mu.Lock()
	f := e.login.flows[flowID]
	if f != nil && !e.now().Before(f.expires) {
		delete(e.login.flows, flowID)
		f = nil
	}
	if f == nil {
		e.mu.Unlock()
		writePage(w, http.StatusBadRequest, errorTemplate, pageData{Error: "This sign-in has expired. Please start again."})
		return
	}
	req := f.req
	page := pageData{Action: e.formAction(&req), Flow: flowID, App: req.app.Name, Users: e.pageUsersLocked()}
	action := r.PostForm.Get("action")
	switch {
	case action == "signin" || (action == "" && f.user == ""):
		name := r.PostForm.Get("username")
		u := e.users[strings.ToLower(name)]
		page.Username = name
		switch {
		case u == nil || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostForm.Get("password"))) != 1:
			e.mu.Unlock()
			page.Error = "The user name or password is wrong."
			writePage(w, http.StatusUnauthorized, signInTemplate, page)
			return
		case req.tenant != "" && !strings.EqualFold(req.tenant, u.ContextIdentifier):
			e.mu.Unlock()
			page.Error = "This user does not belong to the tenant the application asked for."
			writePage(w, http.StatusForbidden, signInTemplate, page)
			return
		}
		f.user = strings.ToLower(u.Username)
		if e.needsApprovalLocked(req.app, u) {
			if !u.Administrator {
				delete(e.login.flows, flowID)
				e.mu.Unlock()
				e.redirectError(w, &req, &authError{"access_denied", "an administrator must approve this application first"})
				return
			}
			page.Tenant = e.tenantIDLocked(u.ContextIdentifier)
			e.mu.Unlock()
			writePage(w, http.StatusOK, approveTemplate, page)
			return
		}
	case f.user == "":
		e.mu.Unlock()
		writePage(w, http.StatusBadRequest, signInTemplate, pageData{Action: page.Action, Flow: flowID, App: page.App, Users: page.Users, Error: "Please sign in first."})
		return
	case action == "deny":
		delete(e.login.flows, flowID)
		e.mu.Unlock()
		e.redirectError(w, &req, &authError{"access_denied", "The user declined to approve the application."})
		return
	case action == "approve":
		u := e.users[f.user]
		if u == nil || !u.Administrator {
			delete(e.login.flows, flowID)
			e.mu.Unlock()
			e.redirectError(w, &req, &authError{"access_denied", "only an administrator may approve an application"})
			return
		}
		if _, err := e.approveLocked(u.ContextIdentifier, req.app.ClientID); err != nil {
			delete(e.login.flows, flowID)
			e.mu.Unlock()
			e.redirectError(w, &req, &authError{"server_error", "approval failed"})
			return
		}
	default:
		e.mu.Unlock()
		writePage(w, http.StatusBadRequest, errorTemplate, pageData{Error: "Unknown action."})
		return
	}
	delete(e.login.flows, flowID)
	code := e.issueCodeLocked(&req, f.user)
	e.mu.Unlock()
	e.redirectCode(w, &req, code)
}

func (e *Emulator) issueCodeLocked(req *authRequest, user string) string {
	e.pruneLocked()
	code := randomString(43)
	e.login.codes[code] = &authCode{req: *req, user: user, expires: e.now().Add(codeLifetime)}
	return code
}

// pruneLocked drops what has expired, so a long test run stays small.
func (e *Emulator) pruneLocked() {
	now := e.now()
	for k, f := range e.login.flows {
		if !now.Before(f.expires) {
			delete(e.login.flows, k)
		}
	}
	for k, c := range e.login.codes {
		if !now.Before(c.expires) {
			delete(e.login.codes, k)
		}
	}
	for k, g := range e.login.access {
		if !now.Before(g.expires) {
			delete(e.login.access, k)
		}
	}
}

func (e *Emulator) redirectCode(w http.ResponseWriter, req *authRequest, code string) {
	v := url.Values{"code": {code}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	e.respond(w, req, v)
}

func (e *Emulator) redirectError(w http.ResponseWriter, req *authRequest, aerr *authError) {
	v := url.Values{"error": {aerr.code}, "error_description": {aerr.description}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	e.respond(w, req, v)
}

// respond returns to the app in the requested response mode.
func (e *Emulator) respond(w http.ResponseWriter, req *authRequest, v url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	switch req.responseMode {
	case "form_post":
		var fields []field
		for k, vs := range v {
			fields = append(fields, field{k, vs[0]})
		}
		writePage(w, http.StatusOK, formPostTemplate, pageData{Action: req.redirectURI, Fields: fields})
	case "fragment":
		u, _ := url.Parse(req.redirectURI)
		u.Fragment = ""
		w.Header().Set("Location", u.String()+"#"+v.Encode())
		w.WriteHeader(http.StatusFound)
	default:
		u, _ := url.Parse(req.redirectURI)
		q := req.redirectQuery
		merged := url.Values{}
		for k, vs := range q {
			merged[k] = vs
		}
		for k, vs := range v {
			merged[k] = vs
		}
		u.RawQuery = merged.Encode()
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusFound)
	}
}

// tokenError is the token endpoint's JSON error.
func tokenError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="SuperID"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	// r.Form, not r.PostForm: SuperOffice's own example (auth-code-flow.md)
	// and its Node sample put the parameters in the query string. r.Form
	// lists body values first, so the body wins when both have one.
	p := r.Form
	id, secret, ok := clientCredentials(r)
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_request", "conflicting client credentials")
		return
	}
	e.mu.Lock()
	app := e.apps[id]
	e.mu.Unlock()
	if app == nil || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	switch p.Get("grant_type") {
	case "authorization_code":
		e.codeGrant(w, app, p)
	case "refresh_token":
		e.refreshGrant(w, app, p)
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "use authorization_code or refresh_token")
	}
}

// clientCredentials reads client_secret_basic or client_secret_post (in
// the body or, failing that, the query string); ok is false when both are
// used with different values. r.ParseForm must have run.
func clientCredentials(r *http.Request) (id, secret string, ok bool) {
	pid, psecret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	bid, bsecret, basic := r.BasicAuth()
	if !basic {
		return pid, psecret, true
	}
	// RFC 6749 2.3.1: both halves are form-encoded before base64.
	if u, err := url.QueryUnescape(bid); err == nil {
		bid = u
	}
	if u, err := url.QueryUnescape(bsecret); err == nil {
		bsecret = u
	}
	if (pid != "" && pid != bid) || (psecret != "" && psecret != bsecret) {
		return "", "", false
	}
	return bid, bsecret, true
}

func (e *Emulator) codeGrant(w http.ResponseWriter, app *App, p url.Values) {
	e.mu.Lock()
	c := e.login.codes[p.Get("code")]
	if c != nil {
		delete(e.login.codes, p.Get("code")) // single use, even when the request fails
	}
	e.mu.Unlock()
	switch {
	case c == nil:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	case !e.now().Before(c.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the code has expired")
		return
	case c.req.app.ClientID != app.ClientID:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		return
	case p.Get("redirect_uri") != c.req.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		return
	}
	if c.req.challenge != "" {
		verifier := p.Get("code_verifier")
		want := verifier
		if c.req.method == "S256" {
			sum := sha256.Sum256([]byte(verifier))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if verifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.req.challenge)) != 1 {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
	}
	e.issueTokens(w, app, c.user, c.req.nonce, true)
}

func (e *Emulator) refreshGrant(w http.ResponseWriter, app *App, p url.Values) {
	e.mu.Lock()
	g := e.login.refresh[p.Get("refresh_token")]
	var u *User
	revoked := false
	if g != nil {
		u = e.users[g.user]
		revoked = u != nil && app.SystemUser && e.needsApprovalLocked(app, u)
	}
	e.mu.Unlock()
	switch {
	case g == nil || g.clientID != app.ClientID:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
	case u == nil || revoked:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the application's authorization was withdrawn")
	default:
		e.issueTokens(w, app, g.user, "", false)
	}
}

// issueTokens answers a token request with an access token, an id_token
// and, for a code, a refresh token.
func (e *Emulator) issueTokens(w http.ResponseWriter, app *App, user, nonce string, withRefresh bool) {
	e.mu.Lock()
	u := e.users[user]
	if u == nil {
		e.mu.Unlock()
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the user no longer exists")
		return
	}
	now := e.now()
	claims := e.idTokenClaimsLocked(app, u, nonce, now)
	access := e.newAccessTokenLocked(app.ClientID, u)
	resp := map[string]any{
		"token_type":   "Bearer",
		"access_token": access,
		"expires_in":   int(accessLifetime / time.Second),
	}
	if withRefresh {
		rt := randomString(64)
		e.login.refresh[rt] = &grant{clientID: app.ClientID, user: user}
		resp["refresh_token"] = rt
	}
	key := e.keys[len(e.keys)-1]
	e.mu.Unlock()
	idToken, err := signJWT(key, claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "cannot sign the id_token")
		return
	}
	resp["id_token"] = idToken
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// idTokenClaimsLocked builds an id_token payload as SuperID writes it: iat
// and every custom claim as strings, nbf a minute back, exp five minutes on.
func (e *Emulator) idTokenClaimsLocked(app *App, u *User, nonce string, now time.Time) map[string]any {
	t := e.tenants[strings.ToLower(u.ContextIdentifier)]
	iat := now.Unix()
	endpoint := e.tenantEndpointLocked(u.ContextIdentifier)
	admin := "False"
	if u.Administrator {
		admin = "True"
	}
	c := map[string]any{
		"sub":                                u.Username,
		idClaim + "associateid":              strconv.Itoa(u.AssociateID),
		idClaim + "identityprovider":         "central-superid",
		idClaim + "email":                    u.Username,
		idClaim + "upn":                      u.Username,
		idClaim + "is_administrator":         admin,
		idClaim + "ctx":                      t.ContextIdentifier,
		idClaim + "company_name":             t.CompanyName,
		idClaim + "serial":                   t.Serial,
		idClaim + "netserver_url":            endpoint + "/Remote/Services88/",
		idClaim + "webapi_url":               endpoint + "/api/",
		"iat":                                strconv.FormatInt(iat, 10),
		idClaim + "initials":                 u.Initials,
		idClaim + "so_primary_email_address": u.Username,
		"nbf":                                iat - 60,
		"exp":                                iat + int64(idTokenLifetime/time.Second),
		"iss":                                e.env.Issuer(),
		"aud":                                app.ClientID,
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if app.SystemUser {
		if tok, ok := e.consents[consentKey{t.ContextIdentifier, app.ClientID}]; ok {
			c[idClaim+"system_token"] = tok
		}
	}
	return c
}

// Pages. They are small and plain so a browser test can drive them: the
// inputs have ids username and password, the buttons signin, approve and
// deny.

type field struct{ Name, Value string }

type pageData struct {
	Action, Flow, Username, App, Tenant, Error string
	Fields                                     []field
	Users                                      []User // listed on the sign-in and approve pages
}

// maxPageUsers caps the users the pages list: a few to pick from, not a
// load test's thousands.
const maxPageUsers = 20

// pageUsersLocked is the registered users by user name, for the pages:
// the emulator's users are test fixtures, their passwords public.
func (e *Emulator) pageUsersLocked() []User {
	if len(e.users) > maxPageUsers {
		return nil
	}
	us := make([]User, 0, len(e.users))
	for _, u := range e.users {
		us = append(us, *u)
	}
	slices.SortFunc(us, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	return us
}

func writePage(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = t.Execute(w, d)
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{block "title" .}}SuperID{{end}} - SuperOffice Online emulator</title>
<style>
:root { --fg: #1d2330; --muted: #5b6475; --bg: #f4f6f9; --card: #fff; --line: #dde2ea; --accent: #0b6e4f; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: .75rem 1.5rem; background: #16324f; color: #fff; font-weight: 600; }
main { max-width: 32rem; margin: 1.5rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.card h1, .card h2 { margin-top: .25rem; }
.card.failed { border-left: 4px solid var(--bad); }
label { display: block; color: var(--muted); font-size: .85rem; }
input[type=email], input[type=password] { width: 100%; font: inherit; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 6px; color: var(--fg); }
button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--fg); border: 1px solid var(--line); }
#error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
code { font-size: .9em; background: #eef1f5; padding: 0 .25em; border-radius: 3px; }
.sub { color: var(--muted); font-size: .85em; }
</style></head><body>
<header>SuperOffice Online <span class="sub">(emulator)</span></header>
<main>`

const pageFoot = `</main></body></html>
`

// usersCard lists the users the emulator knows, with their passwords: it
// is a stand-in for tests and local runs, whose users are public.
const usersCard = `{{with .Users}}
<section class="card" id="users">
<h2>Users of this emulator</h2>
<table>
<thead><tr><th>User name</th><th>Password</th><th>Role</th></tr></thead>
<tbody>
{{range .}}<tr><td><code>{{.Username}}</code></td><td><code>{{.Password}}</code></td><td>{{if .Administrator}}administrator of {{.ContextIdentifier}}: approves apps{{else}}user of {{.ContextIdentifier}}{{end}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}`

var (
	signInTemplate = template.Must(template.New("signin").Parse(pageHead + `
<section class="card">
<h1>Sign in to SuperOffice</h1>
<p>{{.App}} wants you to sign in.</p>
{{with .Error}}<p id="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<p><label for="username">User name</label>
<input id="username" name="username" type="email" autocomplete="username" required value="{{.Username}}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button id="signin" type="submit" name="action" value="signin">Sign in</button></p>
</form>
</section>` + usersCard + pageFoot))

	approveTemplate = template.Must(template.New("approve").Parse(pageHead + `
<section class="card">
<h1>Approve {{.App}}</h1>
<p>{{.App}} asks for access to {{.Tenant}}, including a system user that works when nobody is signed in.
As an administrator you may approve it for everyone in {{.Tenant}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<p><button id="approve" type="submit" name="action" value="approve">Approve</button>
<button id="deny" class="secondary" type="submit" name="action" value="deny">Deny</button></p>
</form>
</section>` + usersCard + pageFoot))

	errorTemplate = template.Must(template.New("error").Parse(pageHead + `
<section class="card failed">
<h1>Sign-in problem</h1>
<p id="error" role="alert">{{.Error}}</p>
</section>` + pageFoot))

	formPostTemplate = template.Must(template.New("formpost").Parse(pageHead + `
<h1>Returning to the application</h1>
<form id="response" method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button id="continue" type="submit">Continue</button></noscript>
</form>
<script>document.getElementById("response").submit()</script>` + pageFoot))
)
