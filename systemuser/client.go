package systemuser

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/go-superoffice/superoffice/internal/httpx"
	"github.com/go-superoffice/superoffice/superid"
)

// Defaults for the zero values of Config.
const (
	DefaultLeeway          = 5 * time.Minute // as SuperOffice's .NET validator
	DefaultTicketLifetime  = 6 * time.Hour   // SuperOffice's documented sliding life
	DefaultRenewBefore     = 5 * time.Minute
	DefaultExchangeTimeout = time.Minute
)

// Response size caps: a system-user JWT is a few KiB.
const (
	maxResponse  = 1 << 20
	maxErrorBody = 64 << 10
)

// RetryPolicy bounds the retries of an exchange. Connection errors, 429
// and 5xx are retried, with Retry-After honoured up to MaxWait; each retry
// is signed afresh.
type RetryPolicy struct {
	// MaxRetries is how many times an exchange is sent again after the
	// first try; 0 means 3, a negative value means never.
	MaxRetries int
	// MinWait is the first backoff; 0 means 250ms.
	MinWait time.Duration
	// MaxWait caps every single wait, Retry-After included; 0 means 30s.
	MaxWait time.Duration
}

// Config configures a Client. Environment, ClientSecret and PrivateKey are
// required; every other zero value is a safe default.
type Config struct {
	// Environment is the SuperID installation: superid.SOD, superid.Stage,
	// superid.Online or the emulator's root URL.
	Environment superid.Environment

	// ClientSecret is the app's client secret, which SuperOffice calls the
	// application token.
	ClientSecret string

	// PrivateKey is the app's RSA private key, whose public half is
	// registered with SuperOffice; ParsePrivateKey reads it.
	PrivateKey *rsa.PrivateKey

	// KeySet verifies the system-user JWTs. nil: a key set of its own on
	// Environment.JWKSURL(), fetched with HTTPClient. Pass the one the app's
	// superid.Client uses so that SuperID's keys are fetched once.
	KeySet *superid.KeySet

	// HTTPClient sends the exchange requests (its Transport and Timeout are
	// used; redirects are never followed whatever its CheckRedirect says).
	// nil: a client with a 30s timeout.
	HTTPClient *http.Client

	// Logger receives retries and exchanges at debug level, never a
	// credential. nil: silent.
	Logger *slog.Logger

	// Now is the clock for signing timestamps, JWT validation and the
	// ticket cache. nil: time.Now.
	Now func() time.Time

	// Leeway is the clock skew allowed when checking the JWT's exp and nbf.
	// 0: DefaultLeeway; negative: none.
	Leeway time.Duration

	// Retry bounds the retries of an exchange. Zero: 3 retries, 250ms to
	// 30s apart.
	Retry RetryPolicy

	// TicketLifetime is how long a ticket lives after its last use at
	// SuperOffice (sliding). 0: DefaultTicketLifetime (6 hours).
	TicketLifetime time.Duration

	// RenewBefore is how long before an idle ticket would lapse that a
	// TicketSource exchanges for a new one instead of handing it out: the
	// time a request may take between Ticket and its arrival at the
	// tenant, plus clock drift. 0: DefaultRenewBefore (5 minutes).
	RenewBefore time.Duration

	// ExchangeTimeout bounds an exchange that a TicketSource runs on behalf
	// of all its waiters (each waiter can still leave earlier on its own
	// ctx). 0: DefaultExchangeTimeout (1 minute).
	ExchangeTimeout time.Duration
}

// Client exchanges signed system user tokens for system user tickets. It
// is safe for concurrent use; make one per app and environment.
type Client struct {
	env        superid.Environment
	url        string
	secret     string
	key        *rsa.PrivateKey
	keys       *superid.KeySet
	http       *retryablehttp.Client
	logger     *slog.Logger
	now        func() time.Time
	parserOpts []jwt.ParserOption
	reuseFor   time.Duration    // a cached ticket is handed out while idle less than this
	clock      func() time.Time // Config.Now, possibly nil
	base       time.Time        // when New ran, by clock or with a monotonic reading
	xchTimeout time.Duration

	mu      sync.Mutex
	sources map[string]*cachedSource // by lower-case context identifier
}

// New checks cfg and returns a Client. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.Environment == "" {
		return nil, errors.New("systemuser: Config.Environment is empty")
	}
	env, err := superid.ParseEnvironment(string(cfg.Environment))
	if err != nil {
		return nil, fmt.Errorf("systemuser: Config.Environment: %w", err)
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("systemuser: Config.ClientSecret (the application token) is empty")
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("systemuser: Config.PrivateKey is nil")
	}
	if cfg.PrivateKey.N == nil || len(cfg.PrivateKey.Primes) != 2 {
		return nil, badKey("Config.PrivateKey is not a complete two-prime RSA key")
	}
	if _, err := checkKey(cfg.PrivateKey); err != nil {
		return nil, err
	}
	c := &Client{
		env:        env,
		url:        env.SystemUserURL(),
		secret:     cfg.ClientSecret,
		key:        cfg.PrivateKey,
		keys:       cfg.KeySet,
		logger:     cfg.Logger,
		now:        cfg.Now,
		xchTimeout: cmp(cfg.ExchangeTimeout, DefaultExchangeTimeout),
		sources:    map[string]*cachedSource{},
	}
	c.clock = cfg.Now
	if c.now == nil {
		c.now = time.Now
	}
	c.base = c.now()
	if c.keys == nil {
		c.keys = superid.NewKeySet(env.JWKSURL(), cfg.HTTPClient)
	}
	lifetime := cmp(cfg.TicketLifetime, DefaultTicketLifetime)
	renew := cmp(cfg.RenewBefore, DefaultRenewBefore)
	if renew >= lifetime {
		return nil, fmt.Errorf("systemuser: Config.RenewBefore (%s) must be shorter than the ticket lifetime (%s)", renew, lifetime)
	}
	c.reuseFor = lifetime - renew
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	c.parserOpts = []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(superid.SystemUserIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(c.now),
	}
	c.http = httpx.NewClient(cfg.HTTPClient, cfg.Logger, httpx.RetryPolicy(cfg.Retry))
	return c, nil
}

// elapsed is the time since New in nanoseconds, for the ticket cache's
// idle tracking. Without an injected clock it reads only the monotonic
// clock, at half the cost of time.Now and immune to wall clock steps.
func (c *Client) elapsed() int64 {
	if c.clock == nil {
		return int64(time.Since(c.base))
	}
	return int64(c.clock().Sub(c.base))
}

// cmp returns d, or def when d is not positive.
func cmp(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ExchangeOption changes one exchange (or every exchange of a
// TicketSource).
type ExchangeOption func(*exchangeOptions)

type exchangeOptions struct {
	serial string
}

// WithSerial makes the exchange accept only a system-user JWT for the
// tenant database with this serial number: the serial claim of the
// administrator's id_token, recorded at sign-up. Without it, the serial is
// taken from the JWT itself, which only proves the JWT consistent.
func WithSerial(serial string) ExchangeOption {
	return func(o *exchangeOptions) { o.serial = serial }
}

// exchangeRequest is the REST body, as SuperOffice's SystemUserInfo
// serializes it.
type exchangeRequest struct {
	SignedSystemToken string
	ApplicationToken  string
	ContextIdentifier string
	ReturnTokenType   string
}

// exchangeResponse is SuperOffice's SystemUserResult. ErrorMessage may be
// null or missing on success.
type exchangeResponse struct {
	IsSuccessful *laxBool // nil when absent: not a SystemUserResult
	Token        string
	ErrorMessage string
}

// laxBool reads a JSON bool, or a string that spells one ("False", as
// .NET writes it), as go-oidc's stringAsBool does.
type laxBool bool

func (b *laxBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = laxBool(v)
		return nil
	case string:
		if t, err := strconv.ParseBool(v); err == nil {
			*b = laxBool(t)
			return nil
		}
	}
	return fmt.Errorf("IsSuccessful %.40s is not true or false", data)
}

// Exchange signs systemUserToken with a fresh timestamp, exchanges it at
// SuperID for the tenant contextID (CustNNNNN), validates the system-user
// JWT that comes back and returns its ticket.
//
// Retries follow Config.Retry, each signed afresh; every wait ends with
// ctx. Redirects are not followed. Exchange does not cache: every call
// makes SuperOffice create a new ticket, so services should use
// TicketSource.
//
// Every failure is one of these, told apart with errors.Is:
//   - an *Error that matches exactly one of ErrRejected (a 3xx or 4xx
//     included), ErrRateLimited, ErrUnavailable (an answer that is not a
//     SystemUserResult included) and ErrInvalidToken;
//   - an *Error that matches none of them but wraps ctx's error, when ctx
//     ended first;
//   - ErrInvalidArgument, before anything is signed or sent: a Client not
//     made by New, a nil ctx, an empty token, or a contextID that is not
//     "Cust" followed by digits (the error does not quote it: with the
//     arguments swapped, it would be the system user token).
func (c *Client) Exchange(ctx context.Context, contextID, systemUserToken string, opts ...ExchangeOption) (*Ticket, error) {
	var o exchangeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return c.exchange(ctx, contextID, systemUserToken, o)
}

var (
	errNotNew     = fmt.Errorf("%w: Client not created with New", ErrInvalidArgument)
	errNilContext = fmt.Errorf("%w: nil context", ErrInvalidArgument)
	errEmptyToken = fmt.Errorf("%w: empty system user token", ErrInvalidArgument)
	// errContextID never quotes the rejected value: with the arguments
	// swapped, it is the system user token.
	errContextID = fmt.Errorf("%w: the context identifier is not Cust followed by digits "+
		"(are the context identifier and the system user token swapped?)", ErrInvalidArgument)
)

func (c *Client) exchange(ctx context.Context, contextID, token string, o exchangeOptions) (*Ticket, error) {
	switch {
	case c == nil || c.http == nil:
		return nil, errNotNew
	case ctx == nil:
		return nil, errNilContext
	case !superid.ValidContextIdentifier(contextID):
		return nil, errContextID
	case token == "":
		return nil, errEmptyToken
	}
	fail := func(kind error, status int, cause error) *Error {
		return &Error{ContextIdentifier: contextID, URL: c.url, StatusCode: status, Err: cause, kind: kind}
	}

	// The body is rebuilt for every attempt, so that each carries a fresh
	// timestamp. Signing is deterministic and the stamp has minute
	// resolution, so a body is only re-signed when the minute changed.
	var (
		stampMinute = int64(-1 << 62)
		body        []byte
		signErr     error
	)
	reader := retryablehttp.ReaderFunc(func() (io.Reader, error) {
		now := c.now()
		if m := now.Unix() / 60; m != stampMinute {
			body, signErr = c.requestBody(contextID, token, now)
			if signErr != nil {
				return nil, signErr
			}
			stampMinute = m
		}
		return bytes.NewReader(body), nil
	})
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.url, reader)
	if err != nil {
		if signErr != nil {
			return nil, signErr // ErrInvalidKey
		}
		return nil, fail(ErrUnavailable, 0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		switch {
		case signErr != nil:
			return nil, signErr
		case ctx.Err() != nil:
			return nil, fail(nil, 0, ctx.Err())
		}
		return nil, fail(ErrUnavailable, 0, httpx.RedactURLError(err))
	}
	defer resp.Body.Close()
	raw, err := httpx.ReadBody(resp, maxResponse)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(nil, resp.StatusCode, ctx.Err())
		}
		return nil, fail(ErrUnavailable, resp.StatusCode, fmt.Errorf("reading the response: %w", err))
	}

	var out exchangeResponse
	decodeErr := json.Unmarshal(raw, &out)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := fail(statusKind(resp.StatusCode), resp.StatusCode, nil)
		e.RetryAfter, _ = httpx.ServerWait(resp, c.now())
		if decodeErr != nil || out.Token == "" {
			// A Token, whatever the status, holds a ticket: no Body then.
			e.Body = c.errorBody(raw, token)
		}
		if decodeErr == nil {
			e.ErrorMessage = out.ErrorMessage
			e.refused = e.kind == ErrRejected && resp.StatusCode >= 400 && out.IsSuccessful != nil && !bool(*out.IsSuccessful)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			// Not followed: the application token must not travel there.
			e.Err = fmt.Errorf("redirect to %s not followed (is Config.Environment right?)", redirectTarget(resp))
		}
		if e.kind == ErrRejected && resp.StatusCode >= 400 {
			e.ClockSkew = c.skew(resp)
		}
		return nil, e
	}
	if decodeErr != nil {
		// Something else answered in SuperID's place (a proxy's page, say).
		e := fail(ErrUnavailable, resp.StatusCode, errors.New("response is not the JSON SystemUserResult"))
		e.Body = c.errorBody(raw, token)
		return nil, e
	}
	if out.IsSuccessful == nil || !bool(*out.IsSuccessful) {
		e := fail(ErrRejected, resp.StatusCode, nil)
		e.ErrorMessage = out.ErrorMessage
		e.refused = out.IsSuccessful != nil
		if e.ErrorMessage == "" {
			e.Err = errors.New("IsSuccessful is false and there is no ErrorMessage")
		}
		e.ClockSkew = c.skew(resp)
		if out.Token == "" {
			e.Body = c.errorBody(raw, token)
		}
		return nil, e
	}
	if out.Token == "" {
		return nil, fail(ErrInvalidToken, resp.StatusCode, errors.New("IsSuccessful is true but there is no Token"))
	}
	t, err := c.validate(ctx, out.Token, contextID, o)
	if err != nil {
		kind := ErrInvalidToken
		switch {
		case ctx.Err() != nil:
			kind, err = nil, ctx.Err()
		case errors.Is(err, superid.ErrKeySet):
			kind = ErrUnavailable
		}
		return nil, fail(kind, resp.StatusCode, err)
	}
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "systemuser: exchanged a system user ticket",
			slog.String("context_identifier", t.ContextIdentifier))
	}
	return t, nil
}

func (c *Client) requestBody(contextID, token string, now time.Time) ([]byte, error) {
	signed, err := Sign(c.key, token, now)
	if err != nil {
		return nil, err
	}
	return json.Marshal(exchangeRequest{
		SignedSystemToken: signed,
		ApplicationToken:  c.secret,
		ContextIdentifier: contextID,
		ReturnTokenType:   "JWT",
	})
}

// statusKind maps a non-2xx status to a sentinel. 408 and 425 ask for
// another try: SuperID did not judge the request. A redirect (3xx, never
// followed) is a rejection: the same request will meet it again, and only
// a change of Config.Environment helps.
func statusKind(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooEarly:
		return ErrUnavailable
	}
	return ErrRejected
}

// skew is SuperID's clock minus ours, from the response's Date header.
func (c *Client) skew(resp *http.Response) time.Duration {
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0
	}
	s := d.Sub(c.now())
	if s == 0 {
		return 0
	}
	return s.Round(time.Second)
}

func redirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return "(no Location)"
	}
	return httpx.RedactURL(loc)
}

// errorBody is what Error.Body keeps of a response: its start, with the
// application token and the system user token (which the signed token
// starts with) replaced, in case something in between echoes the request.
func (c *Client) errorBody(raw []byte, token string) []byte {
	for _, secret := range []string{c.secret, token} {
		if secret != "" {
			raw = bytes.ReplaceAll(raw, []byte(secret), []byte("REDACTED"))
		}
	}
	return capBytes(raw, maxErrorBody)
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return bytes.Clone(b)
}
