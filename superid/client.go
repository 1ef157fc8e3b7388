package superid

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// MaxTokenSize caps the length of an id_token, checked before any parsing.
// SuperID's id_tokens are under 2 KiB.
const MaxTokenSize = 16 << 10

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 5 * time.Minute

// defaultHTTPTimeout bounds each request of a Client built without an
// HTTPClient; http.DefaultClient would wait forever on a hung SuperID.
const defaultHTTPTimeout = 30 * time.Second

// Config configures a Client. Its zero values are safe defaults, except
// for the required Environment, ClientID and ClientSecret.
type Config struct {
	// Environment is SuperID's root URL: SOD, Stage, Online, or any root
	// URL such as the emulator's. Required.
	Environment Environment
	// ClientID is the application id from the developer portal. Required.
	ClientID string
	// ClientSecret is the application token. Required; never logged.
	ClientSecret string
	// RedirectURL is the registered callback URL. Empty: AuthCodeURL and
	// Exchange send none, which SuperID refuses, so every login needs it.
	RedirectURL string
	// HTTPClient makes every request to SuperID. Nil: a client with a
	// 30-second timeout. Token requests go through a copy of it that
	// never follows redirects, so a 3xx from the token endpoint cannot
	// carry the client secret, a code or a refresh token to another host.
	HTTPClient *http.Client
	// Logger receives warnings (a failed key fetch...). Nil: silent.
	Logger *slog.Logger
	// Now is the clock for validating tokens. Nil: time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero:
	// DefaultLeeway; negative: none.
	Leeway time.Duration
	// KeySet verifies id_tokens. Nil: a new key set for Environment;
	// share one with systemuser to fetch SuperID's keys once.
	KeySet *KeySet
	// CookieKey seals the login cookie (AES-256-GCM): 32 bytes. Empty: a
	// random key per Client, so a login must finish on the process that
	// started it; give every instance the same key to scale out.
	CookieKey []byte
	// CookieName names the login cookie. Empty: "superid_login".
	CookieName string
	// CookiePath scopes the login cookie. Empty: "/".
	CookiePath string
	// LoginTimeout is how long a started login may take to come back.
	// Zero: 10 minutes, as long as SuperID's codes live.
	LoginTimeout time.Duration
}

// Client signs users in with SuperID and validates its tokens. It is safe
// for concurrent use.
type Client struct {
	cfg         Config
	tokenClient *http.Client // cfg.HTTPClient that never follows redirects
	oauth       oauth2.Config
	keys        *KeySet
	parser      *jwt.Parser
	validator   *jwt.Validator
	now         func() time.Time
	sealer      *sealer
	used        usedStates
}

// New checks cfg and returns a Client. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.Environment == "" {
		return nil, newError(opConfig, ErrConfig, errors.New("Environment is required"))
	}
	env, err := ParseEnvironment(string(cfg.Environment))
	if err != nil {
		return nil, newError(opConfig, ErrConfig, err)
	}
	cfg.Environment = env
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, newError(opConfig, ErrConfig, errors.New("ClientID and ClientSecret are required"))
	}
	if cfg.RedirectURL != "" {
		u, err := url.Parse(cfg.RedirectURL)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return nil, newError(opConfig, ErrConfig, errors.New("RedirectURL must be an absolute URL"))
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	// x/oauth2 would follow a 307/308 from the token endpoint and POST
	// the secret, code, verifier or refresh token again to its target.
	tokenClient := *cfg.HTTPClient
	tokenClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tokenClient.Transport = acceptJSON{tokenClient.Transport}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "superid_login"
	}
	if cfg.CookiePath == "" {
		cfg.CookiePath = "/"
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = 10 * time.Minute
	}
	s, err := newSealer(cfg.CookieKey)
	if err != nil {
		return nil, newError(opConfig, ErrConfig, err)
	}
	keys := cfg.KeySet
	if keys == nil {
		keys = newKeySet(env.JWKSURL(), cfg.HTTPClient, cfg.Now, cfg.Logger)
	}
	c := &Client{
		cfg:         cfg,
		tokenClient: &tokenClient,
		keys:        keys,
		now:         cfg.Now,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       []string{"openid"},
			Endpoint: oauth2.Endpoint{
				AuthURL:   env.AuthorizeURL(),
				TokenURL:  env.TokenURL(),
				AuthStyle: oauth2.AuthStyleInParams, // client_secret_post
			},
		},
		sealer: s,
	}
	// The parser checks the form and the signature; the claims are
	// validated once typed (see verifyIDToken).
	c.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithStrictDecoding(),
		jwt.WithoutClaimsValidation(),
	)
	c.validator = jwt.NewValidator(
		jwt.WithIssuer(env.Issuer()),
		jwt.WithAudience(cfg.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	return c, nil
}

var (
	errNotNew     = errors.New("Client not made by New")
	errNilContext = errors.New("nil context")
)

// ready refuses a Client that New did not make (a zero Client{} or a nil
// pointer), whose methods would otherwise panic.
func (c *Client) ready(op string) error {
	if c == nil || c.sealer == nil {
		return newError(op, ErrConfig, errNotNew)
	}
	return nil
}

// readyCtx is ready for a method that takes a ctx: a nil one is refused
// here rather than panicking deep inside x/oauth2 or the key set.
func (c *Client) readyCtx(ctx context.Context, op string) error {
	if err := c.ready(op); err != nil {
		return err
	}
	if ctx == nil {
		return newError(op, ErrConfig, errNilContext)
	}
	return nil
}

// Environment returns the client's environment ("" for a Client not made
// by New).
func (c *Client) Environment() Environment {
	if c == nil {
		return ""
	}
	return c.cfg.Environment
}

// KeySet returns the key set that verifies id_tokens, to share with
// systemuser (nil for a Client not made by New).
func (c *Client) KeySet() *KeySet {
	if c == nil {
		return nil
	}
	return c.keys
}

// AuthCodeOption adds a parameter to the authorization request.
type AuthCodeOption interface{ apply(url.Values) }

type paramOption struct{ k, v string }

func (p paramOption) apply(v url.Values) { v.Set(p.k, p.v) }

// Tenant skips SuperID's tenant selection by naming the tenant
// (acr_values=tenant:CustNNNNN).
func Tenant(contextID string) AuthCodeOption { return paramOption{"acr_values", "tenant:" + contextID} }

// LoginHint fills in the SuperID user name on the sign-in page.
func LoginHint(username string) AuthCodeOption { return paramOption{"login_hint", username} }

// WithResponseMode says how SuperID returns the code: ResponseModeQuery
// (the default) or ResponseModeFormPost.
func WithResponseMode(m ResponseMode) AuthCodeOption { return paramOption{"response_mode", string(m)} }

// ResponseMode is how SuperID returns to the redirect URL.
type ResponseMode string

// The response modes a callback handles.
const (
	ResponseModeQuery    ResponseMode = "query"     // GET with the code in the query
	ResponseModeFormPost ResponseMode = "form_post" // POST with the code in a form
)

// LoginRequest is one sign-in's secrets: sent to SuperID by AuthCodeURL
// and checked when it comes back. Keep it where the callback finds it and
// the browser cannot read it (LoginHandler seals it into a cookie).
type LoginRequest struct {
	// State ties the callback to this sign-in; compare it with the
	// callback's state parameter in constant time, once.
	State string
	// Nonce ties the id_token to this sign-in.
	Nonce string
	// Verifier is the PKCE code verifier (oauth2.GenerateVerifier).
	Verifier string
}

// NewLoginRequest returns a LoginRequest of fresh random values.
func NewLoginRequest() LoginRequest {
	return LoginRequest{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier()}
}

// AuthCodeURL returns the URL to send the user to for signing in with req:
// its state, its nonce, and its verifier as an S256 PKCE challenge, with
// the method named explicitly because SuperID defaults to plain. A Client
// not made by New returns "".
func (c *Client) AuthCodeURL(req LoginRequest, opts ...AuthCodeOption) string {
	if c.ready(opLogin) != nil {
		return ""
	}
	v := url.Values{}
	for _, o := range opts {
		o.apply(v)
	}
	params := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(req.Verifier)}
	if req.Nonce != "" {
		params = append(params, oauth2.SetAuthURLParam("nonce", req.Nonce))
	}
	for k := range v {
		params = append(params, oauth2.SetAuthURLParam(k, v.Get(k)))
	}
	return c.oauth.AuthCodeURL(req.State, params...)
}

// Login is a verified sign-in: the id_token's claims and the tokens that
// came with it.
type Login struct {
	// Claims are the id_token's verified claims: tenant, user, system
	// user token.
	Claims *Claims
	// Token holds the access token (for acting as the user), its expiry
	// and the refresh token. They are credentials: never log them.
	Token *oauth2.Token
	// IDToken is the raw id_token.
	IDToken string
}

// Exchange redeems an authorization code of the sign-in req (whose state
// the caller has checked) at the token endpoint with req's PKCE verifier,
// verifies the returned id_token against req's nonce, and returns the
// login.
func (c *Client) Exchange(ctx context.Context, code string, req LoginRequest) (*Login, error) {
	if err := c.readyCtx(ctx, opExchange); err != nil {
		return nil, err
	}
	if req.Nonce == "" {
		return nil, newError(opExchange, ErrConfig, errors.New("LoginRequest.Nonce is required"))
	}
	tok, err := c.oauth.Exchange(c.httpContext(ctx), code, oauth2.VerifierOption(req.Verifier))
	if err != nil {
		return nil, tokenError(opExchange, err)
	}
	return c.login(ctx, opExchange, tok, req.Nonce, true)
}

// Refresh redeems a refresh token for a new access token. SuperID also
// returns a new id_token, verified here (without a nonce); Login.Claims is
// nil if it sent none. The refresh token is kept when SuperID sends no
// new one.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Login, error) {
	if err := c.readyCtx(ctx, opRefresh); err != nil {
		return nil, err
	}
	tok, err := c.oauth.TokenSource(c.httpContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, tokenError(opRefresh, err)
	}
	return c.login(ctx, opRefresh, tok, "", false)
}

func (c *Client) login(ctx context.Context, op string, tok *oauth2.Token, nonce string, needID bool) (*Login, error) {
	raw, _ := tok.Extra("id_token").(string)
	l := &Login{Token: tok, IDToken: raw}
	if raw == "" {
		if needID {
			return nil, newError(op, ErrMissingClaim, errors.New("token response has no id_token"))
		}
		return l, nil
	}
	claims, err := c.verifyIDToken(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	l.Claims = claims
	return l, nil
}

// TokenSource returns the signed-in user's tokens, refreshed when the
// access token expires; use it with tenant.AccessToken or oauth2.NewClient.
// ctx is kept for the refresh requests, as in x/oauth2.
func (c *Client) TokenSource(ctx context.Context, tok *oauth2.Token) oauth2.TokenSource {
	if err := c.readyCtx(ctx, opRefresh); err != nil {
		return errTokenSource{err}
	}
	return oauth2.ReuseTokenSource(tok, refreshSource{c.oauth.TokenSource(c.httpContext(ctx), tok)})
}

// refreshSource reports refresh failures as *Error, like Refresh does, so
// that errors.Is(err, ErrTokenRequest) and Error.StatusCode work for them.
type refreshSource struct{ ts oauth2.TokenSource }

func (s refreshSource) Token() (*oauth2.Token, error) {
	tok, err := s.ts.Token()
	if err != nil {
		return nil, tokenError(opRefresh, err)
	}
	return tok, nil
}

// errTokenSource is the TokenSource of a Client not made by New.
type errTokenSource struct{ err error }

func (s errTokenSource) Token() (*oauth2.Token, error) { return nil, s.err }

// acceptJSON asks for JSON on every token request, as SuperID's documents
// do (x/oauth2 sends no Accept header).
type acceptJSON struct{ next http.RoundTripper }

func (t acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// httpContext hands the token client to x/oauth2, which only takes it
// through a context.
func (c *Client) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.tokenClient)
}

func tokenError(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := newError(op, ErrTokenRequest, nil)
		e.Code, e.Description = re.ErrorCode, re.ErrorDescription
		if re.Response != nil {
			e.StatusCode = re.Response.StatusCode
			if e.Code == "" {
				e.Err = fmt.Errorf("status %s", re.Response.Status)
			}
		}
		return e
	}
	// Transport errors: x/oauth2 wraps the *url.Error, whose URL holds no
	// secret (the token request puts them in the body).
	return newError(op, ErrTokenRequest, err)
}

// VerifyOption adds a check to VerifyIDToken.
type VerifyOption interface{ applyVerify(*string) }

type nonceOption string

func (n nonceOption) applyVerify(nonce *string) { *nonce = string(n) }

// WithNonce makes VerifyIDToken require the token's nonce to be nonce,
// the one the sign-in sent (LoginRequest.Nonce).
func WithNonce(nonce string) VerifyOption { return nonceOption(nonce) }

// VerifyIDToken checks an id_token and returns its claims: size at most
// MaxTokenSize, RS256 signed by a key of SuperID's key set, iss exactly the
// environment's issuer, aud the client id (or a list holding it, when azp
// is the client id), exp present and not past, nbf and iat not in the
// future (each with the leeway), and, with WithNonce, the sign-in's nonce.
func (c *Client) VerifyIDToken(ctx context.Context, idToken string, opts ...VerifyOption) (*Claims, error) {
	var nonce string
	for _, o := range opts {
		if o != nil {
			o.applyVerify(&nonce)
		}
	}
	return c.verifyIDToken(ctx, idToken, nonce)
}

func (c *Client) verifyIDToken(ctx context.Context, raw, nonce string) (*Claims, error) {
	if err := c.readyCtx(ctx, opVerify); err != nil {
		return nil, err
	}
	if len(raw) > MaxTokenSize {
		return nil, newError(opVerify, ErrMalformedToken, fmt.Errorf("token of %d bytes exceeds %d", len(raw), MaxTokenSize))
	}
	// encoding/base64 skips CR and LF, which would let a line break in
	// the signature segment (outside the signed input) give one token
	// many spellings.
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 { // not ContainsAny: a byte at a time
		return nil, newError(opVerify, ErrMalformedToken, errors.New("line break in token"))
	}
	// The parser decodes the payload once, into set, and checks the
	// signature; typed then reads the claims by their exact names.
	set := claimSets.Get().(claimSet)
	ic, err := c.decode(ctx, raw, &set)
	if set != nil && len(set) <= 64 { // a payload of "null" leaves none; keep no big ones
		clear(set)
		claimSets.Put(set)
	}
	if err != nil {
		return nil, err
	}
	if err := c.validator.Validate(ic); err != nil {
		return nil, verifyError(err, ic)
	}
	// OpenID Connect Core 3.1.3.7: a token for several audiences was
	// issued to the one its azp names; the client id merely being among
	// them does not make it ours.
	if len(ic.Audience) > 1 && ic.AuthorizedParty != c.cfg.ClientID {
		return nil, newError(opVerify, ErrAudience, errors.New("aud names other parties and azp is not the client id"))
	}
	if nonce != "" {
		if ic.Nonce == "" {
			return nil, newError(opVerify, ErrMissingClaim, errors.New("no nonce"))
		}
		if subtle.ConstantTimeCompare([]byte(ic.Nonce), []byte(nonce)) != 1 {
			return nil, newError(opVerify, ErrNonce, nil)
		}
	}
	_, payload, _ := strings.Cut(raw, ".") // the parser split it: it has two dots
	payload, _, _ = strings.Cut(payload, ".")
	return ic.claims(payload), nil
}

// decode parses raw into set, checks its signature and reads its claims.
func (c *Client) decode(ctx context.Context, raw string, set *claimSet) (*idTokenClaims, error) {
	if _, err := c.parser.ParseWithClaims(raw, set, c.keys.Keyfunc(ctx)); err != nil {
		return nil, verifyError(err, nil)
	}
	ic, err := set.typed()
	if err != nil {
		return nil, newError(opVerify, ErrMalformedToken, err)
	}
	return ic, nil
}

// verifyError maps the Parser's errors onto ours; the first match
// wins, from the most specific. ic (nil before the claims are read) says
// which required claim is missing.
func verifyError(err error, ic *idTokenClaims) error {
	var e *Error
	if errors.As(err, &e) { // from the key set
		return e
	}
	if ic != nil && errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		switch {
		case ic.Issuer == "":
			return newError(opVerify, ErrIssuer, errors.New("no iss"))
		case len(ic.Audience) == 0 || (len(ic.Audience) == 1 && ic.Audience[0] == ""):
			return newError(opVerify, ErrAudience, errors.New("no aud"))
		}
	}
	for _, m := range []struct{ jwt, ours error }{
		{jwt.ErrTokenMalformed, ErrMalformedToken},
		{jwt.ErrTokenSignatureInvalid, ErrSignature},
		{jwt.ErrTokenUnverifiable, ErrSignature},
		{jwt.ErrTokenRequiredClaimMissing, ErrMissingClaim},
		{jwt.ErrTokenInvalidIssuer, ErrIssuer},
		{jwt.ErrTokenInvalidAudience, ErrAudience},
		{jwt.ErrTokenExpired, ErrExpired},
		{jwt.ErrTokenNotValidYet, ErrNotYetValid},
		{jwt.ErrTokenUsedBeforeIssued, ErrNotYetValid},
	} {
		if errors.Is(err, m.jwt) {
			return newError(opVerify, m.ours, err)
		}
	}
	return newError(opVerify, ErrMalformedToken, err)
}

var contextIDPattern = regexp.MustCompile(`^(?i:cust)[0-9]{1,12}$`)

// ValidContextIdentifier reports whether s looks like a tenant id,
// "Cust" followed by digits.
func ValidContextIdentifier(s string) bool { return contextIDPattern.MatchString(s) }

func isSecureURL(raw string) bool { return strings.HasPrefix(strings.ToLower(raw), "https://") }
