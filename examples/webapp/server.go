package main

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// Options configure the web app's handler.
type Options struct {
	// Config is the app registration and where things live. Required.
	Config *config.Config
	// Store holds tenants and sessions. Required.
	Store *store.Store
	// HTTPClient makes every call to SuperID and the tenants. Nil: a client
	// with a 30s timeout.
	HTTPClient *http.Client
	// Logger receives one line per request and the sign-in and action
	// events; never a token, ticket, secret, key or cookie. Nil: silent.
	Logger *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
	// SessionTTL is how long a sign-in lasts. Zero: 8 hours.
	SessionTTL time.Duration
	// ActionTimeout bounds each action as a whole: the ticket exchange,
	// the creation and the list share one deadline. Zero:
	// DefaultActionTimeout.
	ActionTimeout time.Duration
	// AllTenants shows every stored tenant on the tenants page, as a
	// partner's own operators would see it. False shows a signed-in user
	// only their own tenant: users of one customer must not learn who the
	// partner's other customers are. main sets it in local mode only.
	AllTenants bool
	// WebhookURL is where SuperOffice reaches the app, the receiver's URL
	// without "/webhooks/{tenant}": the app's public https origin. Empty:
	// the redirect URL's scheme and host.
	WebhookURL string
}

// DefaultActionTimeout is how long an action may take in all.
const DefaultActionTimeout = 30 * time.Second

// Server is the partner web app: sign-in with SuperID (storing the tenant
// when an administrator approves the app), the home page with the two
// documented actions, and the tenants page.
type Server struct {
	cfg      *config.Config
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	ttl      time.Duration
	actionTO time.Duration
	all      bool
	secure   bool // cookies only over TLS, and HSTS: the app is reached by https
	pages    *pages
	sid      *superid.Client
	su       *systemuser.Client
	resolver *tenant.Resolver
	http     *http.Client
	handler  http.Handler

	cookieKey   []byte // seals superid's login cookie; kept for tests
	loginCookie string // superid's name for the login cookie; each sign-in's adds its state

	// sysMu guards sys: one TicketSource and tenant client per tenant, kept
	// across requests so that a ticket is exchanged once and then reused.
	flashes *flashes // actions' outcomes until shown
	hooks   *webhooks
	// state receives tenant status notifications at statePath.
	state *tenant.StateChangeHandler

	sysMu sync.Mutex
	sys   map[string]*systemTenant
}

// NewServer builds the app. It does no I/O.
func NewServer(o Options) (*Server, error) {
	if o.Config == nil || o.Store == nil {
		return nil, errors.New("webapp: Config and Store are required")
	}
	if u, err := url.Parse(o.Config.RedirectURL); err != nil || u.Path == "" || u.Path == "/" {
		// The callback is served at the redirect URL's path; "/" is the
		// home page, which would ignore SuperID's answer (config.Load
		// refuses such a URL too).
		return nil, fmt.Errorf("webapp: the redirect URL %q needs a path of its own for the callback, such as /callback", o.Config.RedirectURL)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = DefaultActionTimeout
	}
	cfg := o.Config
	cookieKey, err := loginCookieKey(cfg.SealKey)
	if err != nil {
		return nil, err
	}
	sid, err := superid.New(superid.Config{
		Environment:  cfg.Environment,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  cfg.RedirectURL,
		HTTPClient:   o.HTTPClient,
		Logger:       o.Logger,
		Now:          o.Now,
		// Derived from the seal key, so that a sign-in started on one
		// instance can finish on another, yet never the seal key itself.
		CookieKey: cookieKey,
		// Over https the login cookie, like the session cookie, is
		// __Host-: only this host, only over TLS, path /.
		CookieName: loginCookieName(cfg.RedirectURL),
		// As long as the store keeps a used sign-in (finishSignIn).
		LoginTimeout: loginTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("webapp: %w", err)
	}
	su, err := systemuser.New(systemuser.Config{
		Environment:  cfg.Environment,
		ClientSecret: cfg.ClientSecret,
		PrivateKey:   cfg.PrivateKey,
		KeySet:       sid.KeySet(), // SuperID's keys, fetched once for both
		HTTPClient:   o.HTTPClient,
		Logger:       o.Logger,
		Now:          o.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("webapp: %w", err)
	}
	resolver, err := tenant.NewResolver(tenant.ResolverConfig{
		Environment: cfg.Environment,
		HTTPClient:  o.HTTPClient,
		Logger:      o.Logger,
		Now:         o.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("webapp: %w", err)
	}
	hookMaster, err := webhookMasterKey(cfg.SealKey)
	if err != nil {
		return nil, err
	}
	hookBase, err := webhookBase(o.WebhookURL, cfg.RedirectURL)
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		store:    o.Store,
		log:      o.Logger,
		now:      o.Now,
		ttl:      o.SessionTTL,
		actionTO: o.ActionTimeout,
		all:      o.AllTenants,
		secure:   isHTTPS(cfg.RedirectURL),
		pages:    pg,
		sid:      sid,
		su:       su,
		resolver: resolver,
		http:     o.HTTPClient,
		sys:      map[string]*systemTenant{},
		flashes:  newFlashes(o.Now),
		hooks: &webhooks{master: hookMaster, base: hookBase, dedupe: webhook.NewMemoryDedupe(0),
			status: map[string]hookStatus{}},

		cookieKey:   cookieKey,
		loginCookie: loginCookieName(cfg.RedirectURL),
	}
	if s.state, err = s.newStateHandler(); err != nil {
		return nil, fmt.Errorf("webapp: %w", err)
	}
	if s.handler, err = s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// loginCookieInfo names the login-cookie key among the keys derived from
// the seal key; another purpose takes another name.
const loginCookieInfo = "superoffice-go examples/webapp: superid login cookie v1"

// loginCookieKey derives the login cookie's key from the seal key with
// HKDF-SHA256. The store seals secrets at rest with the seal key; a key
// used for one purpose only cannot be turned against the other (a login
// cookie is no oracle for the store's seals, or the reverse).
func loginCookieKey(sealKey []byte) ([]byte, error) {
	if len(sealKey) != 32 {
		return nil, errors.New("webapp: the seal key must be 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, sealKey, nil, loginCookieInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("webapp: derive the login cookie key: %w", err)
	}
	return key, nil
}

// isHTTPS reports whether the app is reached over TLS: its cookies are
// then Secure and __Host-.
func isHTTPS(redirectURL string) bool {
	return strings.HasPrefix(strings.ToLower(redirectURL), "https://")
}

func loginCookieName(redirectURL string) string {
	if isHTTPS(redirectURL) {
		return "__Host-superid_login"
	}
	return "superid_login"
}

// ServeHTTP serves the app.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() (_ http.Handler, err error) {
	// The callback's pattern comes from the configuration, and ServeMux
	// panics on a pattern that does not parse (an unclean path) or that
	// clashes with another (under /static/): that is a setting to correct.
	defer func() {
		if r := recover(); r != nil {
			msg, _, _ := strings.Cut(fmt.Sprint(r), "\n")
			err = fmt.Errorf("webapp: the callback cannot be served at the redirect URL %q: %s", s.cfg.RedirectURL, strings.TrimSuffix(msg, ":"))
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /tenants", s.tenants)
	mux.Handle("GET /login", s.startSignIn(s.sid.LoginHandler()))
	mux.Handle(s.callbackPath(), s.finishSignIn(s.sid.CallbackHandler(s.signedIn, s.signInFailed)))
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /actions/login-user", s.createWithLoginUser)
	mux.HandleFunc("POST /actions/system-user", s.createWithSystemUser)
	// Any method: the receiver answers all but POST with 405 itself.
	mux.HandleFunc(webhookPath, s.receiveWebhook)
	// Any method, as above: the handler answers all but POST with 405.
	mux.Handle(statePath, s.state)
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/", s.notFound)

	// Browsers say where a POST comes from; refusing cross-site ones is a
	// second line behind the CSRF tokens. SuperID's form_post answer is
	// the one cross-site POST the app expects.
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST " + s.callbackPath())
	// A delivery carries a signature, not a cookie: no browser can forge it.
	cop.AddInsecureBypassPattern("POST " + webhookPath)
	// So does a status notification: its token is signed by SuperID.
	cop.AddInsecureBypassPattern("POST " + statePath)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused.", "")
	}))
	// A path of the app's own (/login, /tenants) would take SuperID's
	// answer for itself, and no sign-in would finish.
	u, _ := url.Parse(s.cfg.RedirectURL)
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if _, p := mux.Handler(&http.Request{Method: m, Host: u.Host, URL: u}); p != s.callbackPath() {
			return nil, fmt.Errorf("webapp: the redirect URL %q has a path the app serves a page of its own at; give the callback its own, such as /callback", s.cfg.RedirectURL)
		}
	}
	return s.logRequests(s.securityHeaders(s.canonicalHost(cop.Handler(mux)))), nil
}

// callbackPath is where SuperID sends the browser back: the path of the
// registered redirect URL (NewServer checked it has one), escaped, as a
// pattern takes it: "/sign%20in" or "/cb%7Bx%7D" is a literal path, where
// "/sign in" would read as a method and "/cb{x}" as a wildcard.
func (s *Server) callbackPath() string {
	u, _ := url.Parse(s.cfg.RedirectURL)
	return u.EscapedPath()
}

// canonicalHost sends a browser that reached the app under another name
// (127.0.0.1:8080 for localhost:8080) to the redirect URL's host: cookies
// belong to a host name, so a sign-in started under one name would come
// back under the other without its login cookie, and a session would
// seem lost. A form posted to the other name is refused, not replayed.
// Local mode only: in production a proxy in front may rewrite the host.
func (s *Server) canonicalHost(next http.Handler) http.Handler {
	u, err := url.Parse(s.cfg.RedirectURL)
	if !s.cfg.Local || err != nil || u.Host == "" {
		return next
	}
	base := u.Scheme + "://" + u.Host
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" || sameHost(u.Scheme, r.Host, u.Host) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		s.renderError(w, r, http.StatusBadRequest,
			"This app is served at "+base+"/ and sign-in only works there. Open it at that address and try again.", "")
	})
}

// sameHost reports whether two Host values name the same host for scheme.
// A browser leaves out the scheme's default port, so with -addr :80 the
// redirect URL's localhost:80 comes back as localhost: taken for another
// host, it would be redirected to itself without end.
func sameHost(scheme, a, b string) bool {
	return strings.EqualFold(withoutDefaultPort(scheme, a), withoutDefaultPort(scheme, b))
}

func withoutDefaultPort(scheme, host string) string {
	def := map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
	if h, port, err := net.SplitHostPort(host); err == nil && def != "" && port == def {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// hstsMaxAge is how long a browser keeps to https for the app's host once
// told: a year. Not for subdomains: they may be other people's sites.
const hstsMaxAge = 365 * 24 * time.Hour

// securityHeaders are the same on every answer: no framing, no sniffing,
// no referrer to other sites, nothing loaded from elsewhere; and over
// https (the redirect URL says so, or the request came over TLS), HSTS, so
// that the browser never again sends a cookie of the app over plain http.
// Over plain http there is none: a browser ignores it there, and it would
// hold localhost to https.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := "max-age=" + strconv.Itoa(int(hstsMaxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.secure || r.TLS != nil {
			h.Set("Strict-Transport-Security", hsts)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests logs method, path, status and duration. Never the query
// (the callback's holds the authorization code) nor any header (cookies).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", s.now().Sub(start)))
	})
}

// Sessions: the cookie holds only a random id; everything else, tokens
// included, is sealed in the store.

func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-session" // only over https, only for this host, path /
	}
	return "session"
}

func (s *Server) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: id, Path: "/",
		MaxAge: int(s.ttl / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/",
		MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// session returns the signed-in session of r, or nil.
func (s *Server) session(r *http.Request) *store.Session {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.store.Session(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("session lookup failed", "err", err)
		}
		return nil
	}
	return sess
}

// checkCSRF reports whether a POST carries the session's CSRF token.
func checkCSRF(r *http.Request, sess *store.Session) bool {
	if sess == nil || sess.Data.CSRFToken == "" {
		return false
	}
	got := r.PostFormValue("csrf")
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.Data.CSRFToken)) == 1
}

// postSession parses a POST form and returns its session if the user is
// signed in and the CSRF token matches; otherwise it answers and returns
// nil.
func (s *Server) postSession(w http.ResponseWriter, r *http.Request) *store.Session {
	if !s.readForm(w, r) {
		return nil
	}
	return s.csrfSession(w, r, s.session(r))
}

// readForm parses a POST form, or answers and returns false.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read.", "")
		return false
	}
	return true
}

// csrfSession returns sess if the form carries its CSRF token; otherwise
// it answers and returns nil.
func (s *Server) csrfSession(w http.ResponseWriter, r *http.Request, sess *store.Session) *store.Session {
	if !checkCSRF(r, sess) {
		s.log.Warn("form refused: missing or wrong CSRF token", "path", r.URL.Path, "signed_in", sess != nil)
		s.renderError(w, r, http.StatusForbidden,
			"This form has expired or did not come from this app. Go back, reload the page and try again.", "")
		return nil
	}
	return sess
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// CleanSessions deletes expired sessions, and the records of sign-ins
// that can no longer come back, every interval until ctx ends.
func (s *Server) CleanSessions(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.store.DeleteExpiredSessions(ctx); err != nil {
				s.log.Warn("deleting expired sessions failed", "err", err)
			} else if n > 0 {
				s.log.Debug("expired sessions deleted", "count", n)
			}
			if n, err := s.store.DeleteExpiredSignIns(ctx); err != nil {
				s.log.Warn("deleting the records of old sign-ins failed", "err", err)
			} else if n > 0 {
				s.log.Debug("records of old sign-ins deleted", "count", n)
			}
		}
	}
}
