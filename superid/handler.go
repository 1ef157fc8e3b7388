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
		if err := c.ready(opLogin); err != nil {
			http.Error(w, "superid: sign-in is not set up (Client not made by New)", http.StatusInternalServerError)
			return
		}
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
		req := NewLoginRequest()
		lc := &loginCookie{
			State:    req.State,
			Nonce:    req.Nonce,
			Verifier: req.Verifier,
			Expires:  c.now().Add(c.cfg.LoginTimeout).Unix(),
			FormPost: formPost,
		}
		sealed, err := c.sealer.seal(c.cfg.CookieName, lc)
		if err != nil {
			http.Error(w, "superid: cannot start sign-in", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, c.loginCookie(sealed, int(c.cfg.LoginTimeout/time.Second), formPost))
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, c.AuthCodeURL(req, all...), http.StatusFound)
	})
}

// loginCookie is the login cookie with the attributes LoginHandler sets;
// the callback deletes it with the same ones, or a browser keeps a
// __Host-, __Secure- or SameSite=None cookie. A form_post login needs
// SameSite=None (the callback is a cross-site POST), which needs Secure.
func (c *Client) loginCookie(value string, maxAge int, formPost bool) *http.Cookie {
	ck := &http.Cookie{
		Name:     c.cfg.CookieName,
		Value:    value,
		Path:     c.cfg.CookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   isSecureURL(c.cfg.RedirectURL),
		SameSite: http.SameSiteLaxMode,
	}
	if formPost {
		ck.SameSite, ck.Secure = http.SameSiteNoneMode, true
	}
	return ck
}

// CallbackHandler finishes a sign-in at the redirect URL, in either
// response mode (GET with a query, or a form_post POST). It checks the
// state against the login cookie in constant time and only once, turns a
// SuperID error response into an *Error (ErrAccessDenied when the user
// declined), redeems the code, verifies the id_token and calls onLogin with
// the result. onLogin typically stores Claims.ContextIdentifier and
// Claims.SystemUserToken, starts the app's own session and redirects.
//
// Only a response whose state matches the login cookie is SuperID's
// answer: anything else, an error response included, is ErrLoginState
// (unknown or expired sign-in) and leaves the cookie alone, so that a
// forged link can neither put its text on the error page nor cancel a
// sign-in in progress.
//
// onLogin is required: without it every callback fails with ErrConfig.
// Every failure goes to onError; nil means RenderError.
func (c *Client) CallbackHandler(onLogin func(w http.ResponseWriter, r *http.Request, l *Login),
	onError func(w http.ResponseWriter, r *http.Request, err error)) http.Handler {
	if onError == nil {
		onError = func(w http.ResponseWriter, r *http.Request, err error) { RenderError(w, err) }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := c.ready(opCallback); err != nil {
			onError(w, r, err)
			return
		}
		if onLogin == nil {
			// Checked before the code is redeemed, which would waste it.
			err := newError(opCallback, ErrConfig, errors.New("CallbackHandler has no onLogin"))
			if c.cfg.Logger != nil {
				c.cfg.Logger.ErrorContext(r.Context(), err.Error())
			}
			onError(w, r, err)
			return
		}
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

	// Until the state matches the sealed cookie, the request may come from
	// anyone: nothing of it is reported and the cookie stays.
	ck, err := r.Cookie(c.cfg.CookieName)
	if err != nil {
		return nil, newError(opCallback, ErrLoginState, errors.New("no sign-in in progress (login cookie missing or expired)"))
	}
	lc, err := c.sealer.open(c.cfg.CookieName, ck.Value)
	if err != nil {
		return nil, newError(opCallback, ErrLoginState, err)
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(lc.State)) != 1 {
		msg := "state does not match the sign-in"
		if errCode != "" {
			msg = "an error response that does not belong to the sign-in in progress"
		}
		return nil, newError(opCallback, ErrLoginState, errors.New(msg))
	}
	// SuperID's answer to this sign-in, which ends here whatever follows.
	http.SetCookie(w, c.loginCookie("", -1, lc.FormPost))
	now := c.now()
	expires := time.Unix(lc.Expires, 0)
	if now.After(expires) {
		return nil, newError(opCallback, ErrLoginState, errors.New("sign-in took too long"))
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
	return c.Exchange(r.Context(), code, LoginRequest{State: lc.State, Nonce: lc.Nonce, Verifier: lc.Verifier})
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
// for a bad or replayed callback or another SuperID error, 500 for a
// handler that is not set up, 502 when SuperID could not be reached or
// sent a bad token. SuperID's error code and description are shown only
// for an error response that answered this browser's sign-in. It is the
// default error handler of CallbackHandler.
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
	case errors.Is(err, ErrConfig):
		status, msg = http.StatusInternalServerError, "Sign-in is not set up correctly."
	}
	var e *Error
	if errors.As(err, &e) && errors.Is(err, ErrAuthorization) {
		data.Code, data.Description = e.Code, e.Description
	}
	data.Message = msg
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, data)
}
