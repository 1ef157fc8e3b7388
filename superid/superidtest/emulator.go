package superidtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-superoffice/superoffice/internal/httpx"
	"github.com/go-superoffice/superoffice/superid"
)

// Endpoint names one emulated endpoint, for faults and the request log.
type Endpoint string

// The emulated endpoints.
const (
	EndpointDiscovery   Endpoint = "discovery"   // GET /login/.well-known/openid-configuration
	EndpointJWKS        Endpoint = "jwks"        // GET /login/.well-known/jwks
	EndpointAuthorize   Endpoint = "authorize"   // GET|POST /login/{common|Cust}/oauth/authorize
	EndpointToken       Endpoint = "token"       // POST /login/common/oauth/tokens
	EndpointSystemUser  Endpoint = "systemuser"  // POST /Login/api/PartnerSystemUser/Authenticate
	EndpointTenantState Endpoint = "tenantstate" // GET /api/state/{ctx}
	EndpointTenantAPI   Endpoint = "tenantapi"   // /{ctx}/api/... (and moved tenants' paths)
)

// Option configures an Emulator.
type Option func(*Emulator)

// WithClock makes the emulator read time from now (for tokens, codes,
// timestamps and expiry), so tests can move time without sleeping.
func WithClock(now func() time.Time) Option { return func(e *Emulator) { e.now = now } }

// WithKeyID makes the emulator put a kid in JWT headers and in the JWKS, as
// well as the x5t it always sends. SuperID's documented tokens carry only x5t.
func WithKeyID() Option { return func(e *Emulator) { e.withKID = true } }

// WithKeySize sets the RSA key size of the signing keys (default 2048).
func WithKeySize(bits int) Option { return func(e *Emulator) { e.keyBits = bits } }

// WithRequestLogLimit caps how many requests Requests keeps (the newest;
// default 10000); 0 or less keeps none. Counters are kept regardless.
func WithRequestLogLimit(n int) Option { return func(e *Emulator) { e.logLimit = max(n, 0) } }

// Emulator is SuperOffice Online as an http.Handler. Create it with New (to
// serve it yourself, at a known root URL) or NewServer (on a free loopback
// port). All methods are safe for concurrent use.
type Emulator struct {
	env      superid.Environment
	now      func() time.Time
	withKID  bool
	keyBits  int
	logLimit int
	guess    guesses // guesses.go: what PROTOCOL.md leaves UNCERTAIN
	mux      *http.ServeMux

	mu       sync.Mutex
	keys     []*signingKey // the last one signs; all are published
	apps     map[string]*App
	tenants  map[string]*Tenant
	users    map[string]*User // by lower-case username
	consents map[consentKey]string
	faults   map[Endpoint][]*Fault
	log      []Request // a ring of at most logLimit entries
	logNext  int       // once the ring is full, the oldest entry: the next overwritten
	counts   map[Endpoint]int
	push     map[string]pushTarget // state change URLs by client id (statepush.go)
	pushed   []Notification

	login  loginState
	sys    systemUserState
	tenant tenantAPIState
	hooks  webhookState // webhook.go
}

type consentKey struct{ contextID, clientID string }

// New returns an emulator whose root URL (its superid.Environment) is
// baseURL, such as "http://127.0.0.1:8081". It generates a signing key, so
// it can fail only if the system's random source does.
func New(baseURL string, opts ...Option) (*Emulator, error) {
	env, err := superid.ParseEnvironment(baseURL)
	if err != nil {
		return nil, fmt.Errorf("superidtest: %w", err)
	}
	e := &Emulator{
		env:      env,
		now:      time.Now,
		keyBits:  2048,
		logLimit: 10000,
		apps:     map[string]*App{},
		tenants:  map[string]*Tenant{},
		users:    map[string]*User{},
		consents: map[consentKey]string{},
		faults:   map[Endpoint][]*Fault{},
		counts:   map[Endpoint]int{},
	}
	e.hooks.ctx, e.hooks.stop = context.WithCancel(context.Background())
	for _, o := range opts {
		o(e)
	}
	if err := e.RotateKey(); err != nil {
		return nil, err
	}
	e.mux = http.NewServeMux()
	e.route("GET /login/.well-known/openid-configuration", EndpointDiscovery, e.serveDiscovery)
	e.route("GET /login/.well-known/jwks", EndpointJWKS, e.serveJWKS)
	e.loginRoutes()
	e.systemUserRoutes()
	e.tenantRoutes()
	e.agentRoutes() // agents.go: the Agents API methods tenant/webapi's examples use
	e.webhookRoutes()
	return e, nil
}

// Server is an Emulator listening on a free loopback port, like
// httptest.Server.
type Server struct {
	*Emulator
	// URL is the root URL, such as http://127.0.0.1:38123.
	URL string
	srv *httptest.Server
}

// NewServer starts an emulator on a free loopback port. It panics, like
// httptest.NewServer, if it cannot listen; call Close when done.
func NewServer(opts ...Option) *Server {
	hs := httptest.NewUnstartedServer(nil)
	url := "http://" + hs.Listener.Addr().String()
	em, err := New(url, opts...)
	if err != nil {
		hs.Close()
		panic(err)
	}
	hs.Config.Handler = em
	hs.Start()
	return &Server{Emulator: em, URL: url, srv: hs}
}

// Close shuts the server down, ending open connections, and ends the
// webhook deliveries under way (their attempts fail), returning once
// none is left.
func (s *Server) Close() {
	s.srv.Close()
	s.hooks.stop()
	s.hooks.wg.Wait()
}

// Client returns an HTTP client for the server (it does not follow
// redirects to other hosts any differently from http.DefaultClient).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Environment is the emulator's root URL as a superid.Environment.
func (e *Emulator) Environment() superid.Environment { return e.env }

// ServeHTTP serves every emulated endpoint. Paths under /login are matched
// without regard to case, as SuperOffice's samples use /login and /Login
// (unless WithCaseSensitivePaths).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Path) >= 7 && strings.EqualFold(r.URL.Path[:7], "/login/") && !e.guess.servesPath(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	if len(r.URL.Path) >= 7 && strings.EqualFold(r.URL.Path[:7], "/login/") && r.URL.Path[:7] != "/login/" {
		r2 := r.Clone(context.WithValue(r.Context(), receivedPathKey{}, r.URL.Path))
		r2.URL.Path = "/login/" + r.URL.Path[7:]
		r2.URL.RawPath = ""
		r = r2
	}
	e.mux.ServeHTTP(w, r)
}

// receivedPathKey keeps the path as received when ServeHTTP folds the
// case of /Login, so that the request log shows what the client sent.
type receivedPathKey struct{}

// route registers h under pattern for endpoint ep, wrapped so that every
// request is counted, logged and offered to the endpoint's faults first.
func (e *Emulator) route(pattern string, ep Endpoint, h http.HandlerFunc) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody { // a GET has none: tenantAPI skips its read
			r.Body = io.NopCloser(io.LimitReader(r.Body, maxRequestBody))
		}
		if e.count(ep) {
			// The request log or a fault needs the body and the tenant.
			body, err := readBody(r)
			if err != nil {
				http.Error(w, "cannot read body", http.StatusBadRequest)
				return
			}
			ctxID := requestTenant(ep, r, body)
			e.record(ep, r, body, ctxID)
			if e.applyFault(w, r, ep, ctxID) {
				return
			}
		}
		h(w, r)
	})
}

// maxRequestBody bounds what the emulator reads of a request: the handler
// and the request log see the first 4 MiB.
const maxRequestBody = 4 << 20

// memBody is a request body already read into memory. It keeps the bytes,
// so that a later reader (readBody) takes them instead of copying them.
type memBody struct {
	*bytes.Reader
	b []byte
}

func (memBody) Close() error { return nil }

// readBody reads r's body into memory (route capped it) and leaves it in
// r.Body as a memBody; a body already read is returned as it is.
func readBody(r *http.Request) ([]byte, error) {
	if m, ok := r.Body.(memBody); ok {
		return m.b, nil
	}
	b, err := httpx.ReadAll(r.Body, r.ContentLength, maxRequestBody)
	if err != nil {
		return nil, err
	}
	r.Body = memBody{bytes.NewReader(b), b}
	return b, nil
}

// count counts a request to ep and reports whether the request log is on
// or ep has faults. Neither is the common case, as in a load test: then
// the body streams to the handler, not read twice, and the request costs
// one lock here.
func (e *Emulator) count(ep Endpoint) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[ep]++
	return e.logLimit > 0 || len(e.faults[ep]) > 0
}

// requestTenant finds which tenant a request is about, so that faults can
// target one tenant.
func requestTenant(ep Endpoint, r *http.Request, body []byte) string {
	switch ep {
	case EndpointSystemUser:
		var in struct{ ContextIdentifier string }
		_ = json.Unmarshal(body, &in)
		return in.ContextIdentifier
	case EndpointTenantState:
		return r.PathValue("ctx")
	case EndpointTenantAPI:
		return r.PathValue("ctx")
	}
	return ""
}

// Request is one request the emulator received.
type Request struct {
	Endpoint          Endpoint
	Method            string
	Path              string // as received
	RawQuery          string
	Header            http.Header
	Body              []byte // the first 64 KiB (the handler saw up to 4 MiB)
	ContextIdentifier string // the tenant it concerned, when known
	Time              time.Time
}

func (e *Emulator) record(ep Endpoint, r *http.Request, body []byte, ctxID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.logLimit <= 0 {
		return
	}
	path := r.URL.Path
	if p, ok := r.Context().Value(receivedPathKey{}).(string); ok {
		path = p
	}
	if len(body) > maxLoggedBody {
		// A copy, so that the log does not pin the whole body: the default
		// 10,000 entries of up to 4 MiB each would be 40 GB.
		body = bytes.Clone(body[:maxLoggedBody])
	}
	req := Request{
		Endpoint: ep, Method: r.Method, Path: path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, ContextIdentifier: ctxID, Time: e.now(),
	}
	// A ring: a long run (the console creates 10,000 companies through one
	// emulator) pays O(1) per request and never holds more than the limit.
	if len(e.log) < e.logLimit {
		e.log = append(e.log, req)
		return
	}
	e.log[e.logNext] = req
	e.logNext = (e.logNext + 1) % len(e.log)
}

// maxLoggedBody is how much of a request body the request log keeps.
const maxLoggedBody = 64 << 10

// Requests returns the requests received, oldest first; with a non-empty
// ep, only those to that endpoint.
func (e *Emulator) Requests(ep Endpoint) []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Request
	for i := range e.log {
		if r := e.log[(e.logNext+i)%len(e.log)]; ep == "" || r.Endpoint == ep {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests an endpoint has received (faulted ones
// included).
func (e *Emulator) Count(ep Endpoint) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[ep]
}

// ResetRequests empties the request log and the counters.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log, e.logNext = nil, 0
	e.counts = map[Endpoint]int{}
}

// Fault makes an endpoint misbehave. A fault with neither Status nor Delay
// does nothing.
type Fault struct {
	// Status, when not zero, is answered instead of the real response, with
	// Body and Header. Without a Body, the tenant API answers an error
	// status with its error body for that status; other endpoints answer
	// the status text.
	Status int
	Body   string
	Header http.Header
	// Delay is waited before answering (or before passing the request on,
	// when Status is zero); a client that gives up ends the wait.
	Delay time.Duration
	// Times is how many requests the fault applies to; 0 means until
	// ClearFaults.
	Times int
	// ContextIdentifier limits the fault to requests about one tenant.
	ContextIdentifier string
}

// Fail adds a fault to an endpoint. Faults apply in the order added.
func (e *Emulator) Fail(ep Endpoint, f Fault) {
	if f.Status == 0 && f.Delay <= 0 {
		// Kept, it would match first and stand in front of every fault
		// added after it (and count down its Times), not do nothing.
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ff := f
	e.faults[ep] = append(e.faults[ep], &ff)
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = map[Endpoint][]*Fault{}
}

func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, ep Endpoint, ctxID string) bool {
	e.mu.Lock()
	var f *Fault
	list := e.faults[ep]
	for i, c := range list {
		if c.ContextIdentifier != "" && !strings.EqualFold(c.ContextIdentifier, ctxID) {
			continue
		}
		f = c
		if c.Times > 0 {
			c.Times--
			if c.Times == 0 {
				e.faults[ep] = append(list[:i:i], list[i+1:]...)
			}
		}
		break
	}
	e.mu.Unlock()
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	body := f.Body
	if body == "" && ep == EndpointTenantAPI && f.Status >= 400 {
		// What the tenant API itself would say, so that a client's error
		// handling meets SuperOffice's shape (403 and 409, which the
		// emulator never answers on its own, included).
		writeJSON(w, f.Status, errorBody(f.Status, http.StatusText(f.Status)))
		return true
	}
	if body == "" {
		body = http.StatusText(f.Status)
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, body)
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	// With its length, so that an answer over 2 KiB (a system user JWT
	// with its claims) is not chunked and a client can size its read.
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
