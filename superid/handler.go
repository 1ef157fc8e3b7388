package superid

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// LoginHandler starts a sign-in: it seals a fresh state, nonce and PKCE
// verifier into a short-lived HttpOnly cookie and redirects to SuperID with
// opts. A request to it may add ?tenant=CustNNNNN (skipping the tenant
// choice) and ?login_hint=<user name>.
//
// With WithResponseMode(ResponseModeFormPost) SuperID returns by a
// cross-site POST, which only carries a SameSite=None; Secure cookie; in
// the default query mode the cookie is SameSite=Lax.
func (c *Client) LoginHandler(opts ...AuthCodeOption) http.Handler {
	v := url.Values{}
	for _, o := range opts {
		o.apply(v)
	}
	formPost := v.Get("response_mode") == string(ResponseModeFormPost)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		all := append([]AuthCodeOption(nil), opts...)
		q := r.URL.Query()
		if t := q.Get("tenant"); t != "" && ValidContextIdentifier(t) {
			all = append(all, Tenant(t))
		}
		if h := q.Get("login_hint"); h != "" && len(h) <= 256 {
			all = append(all, LoginHint(h))
		}
		lc := &loginCookie{
			State:    randomToken(),
			Nonce:    randomToken(),
			Verifier: oauth2.GenerateVerifier(),
			Expires:  c.now().Add(c.cfg.LoginTimeout).Unix(),
		}
		sealed, err := c.sealer.seal(c.cfg.CookieName, lc)
		if err != nil {
			http.Error(w, "superid: cannot start sign-in", http.StatusInternalServerError)
			return
		}
		ck := &http.Cookie{
			Name:     c.cfg.CookieName,
			Value:    sealed,
			Path:     c.cfg.CookiePath,
			MaxAge:   int(c.cfg.LoginTimeout / time.Second),
			HttpOnly: true,
			Secure:   isSecureURL(c.cfg.RedirectURL),
			SameSite: http.SameSiteLaxMode,
		}
		if formPost {
			ck.SameSite, ck.Secure = http.SameSiteNoneMode, true
		}
		http.SetCookie(w, ck)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, c.AuthCodeURL(lc.State, lc.Nonce, lc.Verifier, all...), http.StatusFound)
	})
}

// CallbackHandler finishes a sign-in at the redirect URL, in either
// response mode (GET with a query, or a form_post POST). It checks the
// state against the login cookie in constant time and only once, turns a
// SuperID error response into an *Error (ErrAccessDenied when the user
// declined), redeems the code, verifies the id_token and calls onLogin with
// the result. onLogin typically stores Claims.ContextIdentifier and
// Claims.SystemUserToken, starts the app's own session and redirects.
//
// Every failure goes to onError; nil means RenderError.
func (c *Client) CallbackHandler(onLogin func(w http.ResponseWriter, r *http.Request, l *Login),
	onError func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	if onError == nil {
		onError = func(w http.ResponseWriter, r *http.Request, err error) { RenderError(w, err) }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		l, err := c.callback(w, r)
		if err != nil {
			onError(w, r, err)
			return
		}
		onLogin(w, r, l)
	})
}

func (c *Client) callback(w http.ResponseWriter, r *http.Request) (*Login, error) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return nil, newError(opCallback, ErrAuthorization, errors.New("unreadable form"))
		}
		params = r.PostForm
	default:
		return nil, newError(opCallback, ErrAuthorization, errors.New("method not allowed"))
	}
	state, code, errCode := params.Get("state"), params.Get("code"), params.Get("error")

	ck, err := r.Cookie(c.cfg.CookieName)
	if err != nil {
		if errCode != "" && state == "" {
			return nil, authError(params)
		}
		return nil, newError(opCallback, ErrLoginState, errors.New("no sign-in in progress (login cookie missing or expired)"))
	}
	// The cookie has served its purpose whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: c.cfg.CookieName, Value: "", Path: c.cfg.CookiePath, MaxAge: -1,
		HttpOnly: true, Secure: ck.Secure, SameSite: http.SameSiteLaxMode})
	lc, err := c.sealer.open(c.cfg.CookieName, ck.Value)
	if err != nil {
		return nil, newError(opCallback, ErrLoginState, err)
	}
	now := c.now()
	expires := time.Unix(lc.Expires, 0)
	if now.After(expires) {
		return nil, newError(opCallback, ErrLoginState, errors.New("sign-in took too long"))
	}
	if errCode != "" && state == "" {
		return nil, authError(params)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(lc.State)) != 1 {
		return nil, newError(opCallback, ErrLoginState, errors.New("state does not match the sign-in"))
	}
	if !c.used.use(lc.State, expires, now) {
		return nil, newError(opCallback, ErrLoginState, errors.New("state already used"))
	}
	if errCode != "" {
		return nil, authError(params)
	}
	if code == "" {
		return nil, newError(opCallback, ErrAuthorization, errors.New("neither code nor error in the response"))
	}
	return c.Exchange(r.Context(), code, lc.Verifier, lc.Nonce)
}

func authError(params url.Values) *Error {
	kind := ErrAuthorization
	if params.Get("error") == "access_denied" {
		kind = ErrAccessDenied
	}
	e := newError(opCallback, kind, nil)
	e.Code = capString(params.Get("error"), 64)
	e.Description = capString(params.Get("error_description"), 512)
	return e
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head>
<body><main><h1>Sign-in failed</h1><p id="error">{{.Message}}</p>{{if .Code}}<p>SuperID said: <code id="error-code">{{.Code}}</code>{{with .Description}}: <span id="error-description">{{.}}</span>{{end}}</p>{{end}}</main></body></html>
`))

// RenderError writes a small HTML page for a sign-in failure, everything
// in it escaped, with a status that fits: 403 when access was denied, 400
// for a bad or replayed callback or another SuperID error, 502 when SuperID
// could not be reached or sent a bad token. It is the default error
// handler of CallbackHandler.
func RenderError(w http.ResponseWriter, err error) {
	status := http.StatusBadGateway
	msg := "SuperID's answer could not be used. Please try again."
	var data struct{ Message, Code, Description string }
	switch {
	case errors.Is(err, ErrAccessDenied):
		status, msg = http.StatusForbidden, "Access was denied."
	case errors.Is(err, ErrAuthorization):
		status, msg = http.StatusBadRequest, "SuperID could not sign you in."
	case errors.Is(err, ErrLoginState):
		status, msg = http.StatusBadRequest, "This sign-in is unknown, expired or already finished. Please start again."
	}
	var e *Error
	if errors.As(err, &e) {
		data.Code, data.Description = e.Code, e.Description
	}
	data.Message = msg
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, data)
}
