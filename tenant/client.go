package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/go-superoffice/superoffice/internal/httpx"
	"github.com/go-superoffice/superoffice/superid"
)

// RetryPolicy bounds retries: MaxRetries (0 means 3, negative means
// none), MinWait (0 means 250ms) and MaxWait (0 means 30s; it caps every
// wait, Retry-After included).
type RetryPolicy = httpx.RetryPolicy

const userAgent = "superoffice-go/tenant"

// Config configures a Client. Give it either BaseURL or Resolver with
// ContextIdentifier; every other field may be left zero.
type Config struct {
	// BaseURL is the tenant's REST base URL, such as
	// https://sod.superoffice.com/Cust12345/api/ (the webapi_url claim).
	// Request paths are relative to it. Empty: Resolver finds it.
	BaseURL string
	// Environment is the SuperOffice environment the tenant belongs to:
	// the client calls no URL outside it, so a ticket or token never
	// reaches another host. Empty: the Resolver's environment; without a
	// Resolver, with Credentials, the SuperOffice Online environment
	// (sod, qaonline or online) whose host BaseURL names, and any other
	// BaseURL (another domain, http, an IP, loopback) is refused with
	// ErrForeignHost; without Credentials, only BaseURL's own host. An
	// emulator or a test server is called with credentials only when
	// named here.
	Environment superid.Environment
	// Resolver finds the tenant ContextIdentifier through the state API
	// before requests (cached until ValidUntil), refuses to call a tenant
	// that is not running, after a 421 Misdirected Request looks the
	// tenant up again and retries once, and after a 5xx or no answer looks
	// it up again on the next request. Empty: BaseURL is used as is.
	Resolver *Resolver
	// ContextIdentifier is the tenant (CustNNNNN) the Resolver looks up;
	// required with Resolver, unused without.
	ContextIdentifier string
	// Credentials authorize every request: SystemUser or AccessToken.
	// Nil sends requests without credentials.
	Credentials Credentials
	// HTTPClient sends the requests; nil means a client with a 30s
	// timeout. Its CheckRedirect is replaced: redirects are never followed.
	HTTPClient *http.Client
	// Logger receives one debug line per request (method, redacted URL,
	// status, duration; never a credential); nil is silent.
	Logger *slog.Logger
	// Language (SO-Language), Culture (SO-Culture) and TimeZone
	// (SO-TimeZone) ask the server to translate, format and convert its
	// answers; empty sends no header.
	Language, Culture, TimeZone string
	// Retry bounds retries of GET, HEAD, PUT, DELETE and OPTIONS (and of
	// a POST or other request marked Idempotent) on connection errors,
	// 429 and 5xx.
	Retry RetryPolicy
	// Pacer paces the calls to the tenant, retries included (see Pacer).
	// Every Client of one tenant must share it: nil means one Pacer the
	// whole process shares, with PacerConfig's defaults (10 calls per
	// second and 10 under way per tenant). To turn pacing off, give a
	// Pacer made with Rate Unlimited and a negative MaxConcurrent.
	Pacer *Pacer
	// Meter counts the calls to the tenant (see Meter); nil counts
	// nothing.
	Meter *Meter
}

// Client calls one tenant's REST web API. Create it with New; it is safe
// for concurrent use.
type Client struct {
	base     *url.URL // nil with a resolver
	env      superid.Environment
	resolver *Resolver
	ctxID    string
	creds    Credentials
	hc       *retryablehttp.Client // retries as Config.Retry says
	once     *retryablehttp.Client // sends once: requests not safe to repeat
	logger   *slog.Logger
	static   http.Header // headers every request carries
	meter    *meterEntry // nil: not counted
}

// New validates cfg and returns a client; it does no I/O.
func New(cfg Config) (*Client, error) {
	c := &Client{
		creds:  cfg.Credentials,
		logger: cfg.Logger,
		static: http.Header{"User-Agent": {userAgent}},
	}
	if cfg.Pacer != nil && cfg.Pacer.tenants == nil {
		return nil, errors.New("tenant: Config.Pacer was not created with NewPacer")
	}
	switch cr := cfg.Credentials.(type) {
	case *systemUserCreds:
		if err := cr.check(); err != nil {
			return nil, err
		}
	case *accessTokenCreds:
		if cr.ts == nil {
			return nil, errors.New("tenant: AccessToken credentials have no token source")
		}
	}
	if cfg.Environment != "" {
		env, err := superid.ParseEnvironment(string(cfg.Environment))
		if err != nil {
			return nil, fmt.Errorf("tenant: Config.Environment: %w", err)
		}
		c.env = env
	}
	switch {
	case cfg.Resolver != nil:
		if cfg.BaseURL != "" {
			return nil, errors.New("tenant: set Config.BaseURL or Config.Resolver, not both")
		}
		if cfg.Resolver.hc == nil {
			return nil, errors.New("tenant: Config.Resolver was not created with NewResolver")
		}
		if !superid.ValidContextIdentifier(cfg.ContextIdentifier) {
			return nil, fmt.Errorf("tenant: Config.ContextIdentifier %q is not Cust followed by digits", cfg.ContextIdentifier)
		}
		if c.env != "" && c.env != cfg.Resolver.Environment() {
			return nil, errors.New("tenant: Config.Environment differs from the Resolver's environment")
		}
		c.resolver, c.ctxID, c.env = cfg.Resolver, cfg.ContextIdentifier, cfg.Resolver.Environment()
	case cfg.BaseURL == "":
		return nil, errors.New("tenant: Config.BaseURL or Config.Resolver is required")
	default:
		u, err := url.Parse(cfg.BaseURL)
		switch {
		case err != nil:
			return nil, errors.New("tenant: Config.BaseURL is not a URL")
		case (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return nil, errors.New("tenant: Config.BaseURL must be an absolute http(s) URL")
		case u.User != nil:
			// https://sod.superoffice.com@evil.example/ is evil.example.
			return nil, fmt.Errorf("tenant: Config.BaseURL must not carry user info: %w", ErrForeignHost)
		case u.RawQuery != "" || u.Fragment != "":
			return nil, errors.New("tenant: Config.BaseURL must not carry a query or a fragment")
		case c.env != "" && !c.env.OwnsHost(cfg.BaseURL):
			return nil, fmt.Errorf("tenant: Config.BaseURL %s: %w", httpx.RedactURL(u), ErrForeignHost)
		case c.env == "" && c.creds != nil:
			if c.env = onlineEnvironment(cfg.BaseURL); c.env == "" {
				return nil, fmt.Errorf("tenant: Config.BaseURL %s is not a SuperOffice Online host (https://sod, qaonline or online[N].superoffice.com), "+
					"and credentials go nowhere else unless Config.Environment names it: %w", httpx.RedactURL(u), ErrForeignHost)
			}
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
			if u.RawPath != "" {
				u.RawPath += "/"
			}
		}
		c.base = u
	}
	c.hc, c.once = c.transport(cfg)
	for k, v := range map[string]string{"SO-Language": cfg.Language, "SO-Culture": cfg.Culture, "SO-TimeZone": cfg.TimeZone} {
		if v = strings.TrimSpace(v); v != "" {
			c.static.Set(k, v)
		}
	}
	return c, nil
}

// RequestOption changes one request made with Do.
type RequestOption func(*requestOptions)

type requestOptions struct {
	idempotent bool
}

// Idempotent marks a request whose method is not retried by default
// (POST, PATCH, any other verb) as safe to retry (it only reads, or
// repeating it does no harm), so it is retried like a GET.
func Idempotent() RequestOption { return func(o *requestOptions) { o.idempotent = true } }

// Do sends a request to path, relative to the client's BaseURL (such as
// "v1/Contact/5" or "v1/Agents/Contact/GetContact?contactId=5"). A path
// that leads out of the BaseURL's path ("../../Cust99999/api/...", or
// with encoded dot segments) is refused with ErrForeignHost, unsent. A non-nil
// in is sent as JSON. out decides how the response is read: nil discards
// it, *[]byte reads raw bytes (Accept: application/octet-stream),
// *io.ReadCloser hands over the open body (the caller closes it; Accept:
// application/octet-stream too), anything else is decoded from JSON (one
// value; an empty body leaves out as it was). An out that is not nil nor a
// non-nil pointer is refused before the request is sent.
//
// GET, HEAD, PUT, DELETE and OPTIONS (in any case) are retried on
// connection errors, 408, 425, 429 and 5xx; any other method (POST, PATCH,
// a custom verb) only with Idempotent. A DELETE retried after no answer or
// a 5xx may find that its first attempt deleted the entity: it returns
// ErrNotFound then, as for an entity that never was, and a caller for whom
// gone is done treats ErrNotFound as success. A 3xx is not followed
// (ErrRedirect); with a Resolver it drops the tenant's cached state, so the
// next request asks the state API where the tenant is. Failures of the
// request are *Error; input refused before anything is sent (a path that
// is not relative, an out that is not a pointer, an in that does not
// encode, a Client not made by New) is a plain error naming what is wrong.
func (c *Client) Do(ctx context.Context, method, path string, in, out any, opts ...RequestOption) error {
	var o requestOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	ref, err := relativeRef(path)
	if err != nil {
		return err
	}
	if out != nil {
		// Checked before sending: a POST carried out and then not read
		// (a decode error, or a panic for *[]byte) would be lost work.
		if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("tenant: %s %s: out must be nil or a non-nil pointer, not %T", method, ref.Path, out)
		}
	}
	var body []byte
	if in != nil {
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("tenant: encode %s %s request body: %w", method, ref.Path, err)
		}
	}
	_, err = c.do(ctx, method, ref, body, out, o)
	return err
}

// relativeRef parses a path relative to the base URL, refusing absolute
// URLs and absolute paths: either would escape the tenant's base path.
// Its errors quote the path without its query, user info or fragment, as
// every URL in an error is redacted: a query value may be a credential.
func relativeRef(path string) (*url.URL, error) {
	if strings.HasPrefix(path, "/") || strings.HasPrefix(path, `\`) {
		return nil, fmt.Errorf("tenant: path %q must be relative to the base URL (no leading slash)", pathOnly(path))
	}
	ref, err := url.Parse(path)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL is path, query included
		}
		return nil, fmt.Errorf("tenant: path %q: %w", pathOnly(path), err)
	}
	if ref.IsAbs() || ref.Host != "" || ref.User != nil {
		return nil, fmt.Errorf("tenant: path %q must be relative to the base URL, not a URL", pathOnly(path))
	}
	return ref, nil
}

// pathOnly is what an error may quote of a request path that may not
// parse: the part before any query or fragment, and after any user info
// ("https://user:pass@host/...").
func pathOnly(path string) string {
	path, _, _ = strings.Cut(path, "?")
	path, _, _ = strings.Cut(path, "#")
	if i := strings.LastIndex(path, "@"); i >= 0 {
		path = path[i+1:]
	}
	return path
}

// do sends one logical request: ref (relative to the base, or absolute
// and already vetted) with body, read into out. It retries once with a
// fresh credential after a 401 and once at a re-resolved host after a
// 421; the HTTP client resends it on its own (on a connection error, 429
// or 5xx) only when its method is safe to repeat or o marks it Idempotent.
// After a 3xx, a 5xx or no answer it drops the tenant's cached state, so
// that the next request looks it up again (PROTOCOL 6.1: re-resolve on
// connection errors). It returns the URL last requested.
func (c *Client) do(ctx context.Context, method string, ref *url.URL, body []byte, out any, o requestOptions) (*url.URL, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	authRetried, moveRetried := false, false
	for {
		base, state, err := c.currentBase(ctx)
		if err != nil {
			return nil, err
		}
		u := ref
		if !ref.IsAbs() {
			u = base.ResolveReference(ref)
		}
		if !c.owns(u, base) {
			return u, &Error{Method: method, URL: httpx.RedactURL(u), kind: ErrForeignHost}
		}
		if !underBase(u, base) {
			return u, &Error{Method: method, URL: httpx.RedactURL(u), kind: ErrForeignHost,
				cause: errors.New("the path leaves the base URL's path " + base.EscapedPath())}
		}
		resp, sent, err := c.send(ctx, method, u, body, out, o.idempotent || safeToRepeat(method))
		if err != nil {
			if ctx.Err() == nil {
				// No answer at all: the tenant may have moved.
				c.forgetState()
			}
			return u, err
		}
		switch s := resp.StatusCode; {
		case s >= 200 && s < 300:
			return u, c.decode(method, u, resp, out)
		case s == http.StatusUnauthorized && !authRetried && c.creds != nil && c.creds.Refresh(sent):
			authRetried = true
			drainClose(resp)
			c.meter.inc(countRetry)
			continue
		case s == http.StatusMisdirectedRequest && !moveRetried && c.resolver != nil:
			moveRetried = true
			drainClose(resp)
			c.meter.inc(countRetry)
			c.forgetState()
			continue
		default:
			if s >= 500 || (s >= 300 && s < 400) {
				// The tenant may have gone offline (503) or moved (a
				// redirect) since its state was looked up: the next
				// request asks the state API again.
				c.forgetState()
			}
			e := errorFromResponse(method, u, resp, sent)
			e.State = state
			return u, e
		}
	}
}

// transport returns the retrying and the send-once HTTP clients, both
// over cfg.HTTPClient's transport wrapped to pace (Config.Pacer) and
// count (Config.Meter) every request to the tenant, each retry included.
func (c *Client) transport(cfg Config) (hc, once *retryablehttp.Client) {
	name := c.ctxID
	if name == "" {
		// The tenant of a fixed BaseURL is the last context identifier in
		// its path (/Cust12345/api/, behind any prefix).
		for seg := range strings.SplitSeq(c.base.Path, "/") {
			if superid.ValidContextIdentifier(seg) {
				name = seg
			}
		}
		if name == "" {
			name = httpx.RedactURL(c.base)
		}
	}
	c.meter = cfg.Meter.entry(name)
	pacer := cfg.Pacer
	switch {
	case pacer == nil:
		pacer = defaultPacer
	case pacer.rate == 0 && pacer.conc == 0:
		pacer = nil // pacing turned off
	}
	// A tenant is its context identifier within its environment; without
	// one (no credentials), within its host.
	scope := string(c.env)
	if scope == "" {
		scope = hostKey(c.base)
	}
	base := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		cp := *cfg.HTTPClient
		base = &cp
	}
	base.Transport = &pacedTransport{base: base.Transport, pacer: pacer, key: scope + " " + strings.ToLower(name), meter: c.meter}
	hc = httpx.NewClient(base, cfg.Logger, cfg.Retry)
	if c.meter != nil {
		hc.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, attempt int) {
			if attempt > 0 {
				c.meter.inc(countRetry)
			}
		}
	}
	return hc, httpx.NewClient(base, cfg.Logger, RetryPolicy{MaxRetries: -1})
}

// forgetState drops the resolver's cached state of the client's tenant.
func (c *Client) forgetState() {
	if c.resolver != nil {
		c.resolver.Forget(c.ctxID)
	}
}

// usable reports a client or ctx that cannot make a request, for a clear
// error instead of a panic.
func (c *Client) usable(ctx context.Context) error {
	switch {
	case c == nil || c.hc == nil || (c.base == nil && c.resolver == nil):
		return errors.New("tenant: Client not created with New")
	case ctx == nil:
		return errors.New("tenant: nil context")
	}
	return nil
}

func (c *Client) currentBase(ctx context.Context) (*url.URL, *State, error) {
	if c.resolver == nil {
		return c.base, nil, nil
	}
	res, err := c.resolver.resolve(ctx, c.ctxID)
	if err != nil {
		return nil, nil, err
	}
	return res.base, res.state, nil
}

// owns reports whether u may be called: a host of the environment, or
// without one (and so without credentials, see New) the base URL's own
// host.
func (c *Client) owns(u, base *url.URL) bool {
	if c.env != "" {
		return c.env.OwnsHost(u.String())
	}
	return hostKey(u) == hostKey(base)
}

// onlineEnvironment returns the SuperOffice Online environment whose host
// rawURL names, or "" for any other URL.
func onlineEnvironment(rawURL string) superid.Environment {
	for _, env := range []superid.Environment{superid.SOD, superid.Stage, superid.Online} {
		if env.OwnsHost(rawURL) {
			return env
		}
	}
	return ""
}

// hostKey is u's scheme, host and port, whether or not the scheme's
// default port is written: servers write ":443" into their own links.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// underBase reports whether u lies under base's path (which ends in a
// slash), with no dot segment left that a server might still resolve:
// ResolveReference removes plain ones, but not "%2e%2e", "..%2f" or
// "..\", which some servers (IIS among them) decode or treat as "../".
// Otherwise a relative path could carry the ticket to another tenant's
// path on the same host.
func underBase(u, base *url.URL) bool {
	bp, p := base.EscapedPath(), u.EscapedPath()
	if len(p) < len(bp) || !strings.EqualFold(p[:len(bp)], bp) {
		return false
	}
	for seg := range strings.FieldsFuncSeq(u.Path, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return false
		}
		if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") { // escaped twice
			return false
		}
	}
	return true
}

// safeToRepeat reports whether a method may be retried without the
// caller's say-so: those HTTP defines as idempotent, in any case. POST,
// PATCH and any other verb might do their work twice.
func safeToRepeat(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// send makes one HTTP exchange (with the retrying client's retries).
// It returns the request's headers too, for Credentials.Refresh.
func (c *Client) send(ctx context.Context, method string, u *url.URL, body []byte, out any, retry bool) (*http.Response, http.Header, error) {
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), raw)
	if err != nil {
		return nil, nil, &Error{Method: method, URL: httpx.RedactURL(u), cause: err}
	}
	h := req.Header
	for k, v := range c.static {
		h[k] = v
	}
	switch out.(type) {
	case *[]byte, *io.ReadCloser:
		h["Accept"] = octetStream
	default:
		h["Accept"] = appJSON
	}
	if body != nil {
		h["Content-Type"] = appJSONUTF8
	}
	if c.creds != nil {
		if err := c.creds.Authorize(ctx, h); err != nil {
			return nil, nil, &Error{Method: method, URL: httpx.RedactURL(u), cause: err}
		}
		c.meter.credentials(h.Get("Authorization"))
	}
	var start time.Time
	logging := c.logger != nil && c.logger.Enabled(ctx, slog.LevelDebug)
	if logging {
		start = time.Now()
	}
	hc := c.once
	if retry {
		hc = c.hc
	}
	resp, err := hc.Do(req)
	if logging {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.logger.DebugContext(ctx, "tenant: request", "method", method, "url", httpx.RedactURL(u),
			"status", status, "duration", time.Since(start))
	}
	if err != nil {
		if resp != nil {
			drainClose(resp)
		}
		return nil, nil, &Error{Method: method, URL: httpx.RedactURL(u), cause: httpx.RedactURLError(err)}
	}
	return resp, h, nil
}

var (
	appJSON     = []string{"application/json"}
	appJSONUTF8 = []string{"application/json; charset=utf-8"}
	octetStream = []string{"application/octet-stream"}
)

// decode reads a 2xx response into out, as Do documents.
func (c *Client) decode(method string, u *url.URL, resp *http.Response, out any) error {
	switch out := out.(type) {
	case nil:
		drainClose(resp)
		return nil
	case *io.ReadCloser:
		*out = resp.Body
		return nil
	}
	defer resp.Body.Close()
	b, err := httpx.ReadBody(resp, math.MaxInt64)
	if err != nil {
		return &Error{StatusCode: resp.StatusCode, Method: method, URL: httpx.RedactURL(u),
			cause: fmt.Errorf("read response: %w", err)}
	}
	if out, ok := out.(*[]byte); ok {
		*out = b
		return nil
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &Error{StatusCode: resp.StatusCode, Method: method, URL: httpx.RedactURL(u),
			cause: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// errorFromResponse reads a failed response into an *Error and closes it.
// The credentials of sent, the request's headers, are replaced in the body,
// in case the server (or something in between) echoes the request.
func errorFromResponse(method string, u *url.URL, resp *http.Response, sent http.Header) *Error {
	body, _ := httpx.ReadBody(resp, maxErrorBody)
	_ = resp.Body.Close()
	body = redactCredentials(body, sent)
	e := &Error{
		StatusCode: resp.StatusCode,
		Method:     method,
		URL:        httpx.RedactURL(u),
		Body:       body,
	}
	e.Type, e.Message = decodeError(resp.Header.Get("Content-Type"), body)
	e.RetryAfter, _ = httpx.ServerWait(resp, time.Now())
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.kind = ErrRedirect
		if loc, err := resp.Location(); err == nil {
			e.Message = "redirect to " + loc.Scheme + "://" + loc.Host + " not followed"
		}
	}
	return e
}

// credentialHeaders are the request headers whose values are credentials.
var credentialHeaders = []string{"Authorization", "So-Apptoken"}

// redactCredentials replaces in body every credential that sent carries:
// each whole header value, and the credential after its scheme
// ("SOTicket 7T:...", "Bearer ...").
func redactCredentials(body []byte, sent http.Header) []byte {
	for _, name := range credentialHeaders {
		for _, v := range sent.Values(name) {
			_, cred, _ := strings.Cut(v, " ") // "" without a scheme: v is the credential
			for _, secret := range []string{v, strings.TrimSpace(cred)} {
				if secret != "" {
					body = bytes.ReplaceAll(body, []byte(secret), []byte("REDACTED"))
				}
			}
		}
	}
	return body
}
