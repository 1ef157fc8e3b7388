package superidtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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
	if app.SystemUser && (u.Administrator || !e.guess.systemTokenAdminsOnly) {
		if tok, ok := e.consents[consentKey{t.ContextIdentifier, app.ClientID}]; ok {
			c[idClaim+"system_token"] = tok
		}
	}
	return c
}
