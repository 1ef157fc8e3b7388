package superidtest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
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
