package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/go-superoffice/superoffice/internal/flight"
	"github.com/go-superoffice/superoffice/internal/httpx"
	"github.com/go-superoffice/superoffice/superid"
)

// StateName is a tenant state as the state API names it. Unknown names
// pass through unchanged.
type StateName string

// The documented tenant states.
const (
	StateUnknown            StateName = "Unknown"
	StateProvisioning       StateName = "Provisioning"
	StateRunning            StateName = "Running"
	StateDeleted            StateName = "Deleted"
	StateSuspended          StateName = "Suspended"
	StateOnlineMaintenance  StateName = "OnlineMaintenance"
	StateOfflineMaintenance StateName = "OfflineMaintenance"
	StateProvisioningFailed StateName = "ProvisioningFailed"
	StateDeleting           StateName = "Deleting"
	StateDeleteFailed       StateName = "DeleteFailed"
	StateMigrationPending   StateName = "MigrationPending"
)

// Running reports whether the tenant's APIs are available in this state:
// Running and OnlineMaintenance.
func (s StateName) Running() bool { return s == StateRunning || s == StateOnlineMaintenance }

// State is where a tenant lives and whether it can be called, as the
// tenant state API answers.
type State struct {
	ContextIdentifier string
	// Endpoint is the root of the installation; its host changes as
	// SuperOffice balances load between clusters.
	Endpoint string
	State    StateName
	// IsRunning is the server's own verdict: true for Running and
	// OnlineMaintenance.
	IsRunning bool
	// ValidUntil is when the state should be looked up again.
	ValidUntil time.Time
	// API is the REST base URL (no trailing slash), such as
	// https://sod2.superoffice.com/Cust12345/api.
	API string `json:"Api"`
}

// Running reports whether the tenant's APIs can be called.
func (s *State) Running() bool { return s != nil && (s.IsRunning || s.State.Running()) }

// Lookup asks env's state API where the tenant contextID lives and
// whether it runs. It does not cache; a Resolver does. It returns an
// *Error that matches ErrForeignHost when the answer names an Api or
// Endpoint outside env, but not an error for a tenant that is not running.
func Lookup(ctx context.Context, env superid.Environment, contextID string) (*State, error) {
	r, err := NewResolver(ResolverConfig{Environment: env})
	if err != nil {
		return nil, err
	}
	return r.Lookup(ctx, contextID)
}

// ResolverConfig configures a Resolver. The zero value of every field but
// Environment is usable.
type ResolverConfig struct {
	// Environment is the SuperOffice environment whose state API is asked;
	// required.
	Environment superid.Environment
	// HTTPClient sends the state requests; nil means a client with a 30s
	// timeout. Redirects are never followed.
	HTTPClient *http.Client
	// Logger receives debug lines (no credentials); nil is silent.
	Logger *slog.Logger
	// Now is the clock for ValidUntil; nil means time.Now.
	Now func() time.Time
	// MinTTL is the shortest time an answer is cached, however near its
	// ValidUntil (clock skew must not turn into a lookup per request);
	// 0 means 30s. MaxTTL and NotRunningMaxTTL win over it.
	MinTTL time.Duration
	// MaxTTL is the longest time the answer for a running tenant is
	// cached, however far its ValidUntil (a ValidUntil in year 9999 must
	// not pin a tenant to a host for good); 0 means DefaultMaxTTL.
	MaxTTL time.Duration
	// NotRunningMaxTTL is the same for a tenant that is not running, so
	// that it is called again soon after it comes back; 0 means
	// DefaultNotRunningMaxTTL.
	NotRunningMaxTTL time.Duration
	// LookupTimeout bounds a state request, so that a hung one (an
	// HTTPClient without Timeout) cannot stall the tenant for good.
	// Callers waiting for one tenant share one request, which runs on its
	// own until it answers or LookupTimeout ends it: a caller whose ctx
	// ends returns at once with its ctx's error, and the others go on
	// waiting for the answer. 0 means DefaultLookupTimeout.
	LookupTimeout time.Duration
	// Retry bounds retries of the state request; zero values pick the
	// defaults.
	Retry RetryPolicy
	// Meter counts the state requests per tenant (Counters.StateLookups);
	// nil counts nothing.
	Meter *Meter
}

// Defaults for the zero values of ResolverConfig.
const (
	DefaultMaxTTL           = time.Hour
	DefaultNotRunningMaxTTL = 5 * time.Minute
	DefaultLookupTimeout    = 30 * time.Second
)

// Resolver finds tenants through the state API and caches each answer
// until its ValidUntil, within ResolverConfig's MinTTL and MaxTTL. It is
// safe for concurrent use, and concurrent lookups of one tenant share one
// request. Cached and Remember let a service that runs as several
// instances, or as runs that each start afresh, share the answers through
// its own store (with each tenant in its database, say).
type Resolver struct {
	env    superid.Environment
	hc     *retryablehttp.Client
	logger *slog.Logger
	now    func() time.Time
	minTTL time.Duration
	maxTTL time.Duration // for a running tenant
	offTTL time.Duration // for one that is not running
	lookup time.Duration // LookupTimeout
	meter  *Meter

	flights flight.Group[*resolved] // lookups under way, by key

	mu    sync.Mutex
	cache map[string]*resolved
	// current is the lookup under way for a key whose answer may be
	// cached; Forget and Apply delete it, so that a lookup that started
	// before them cannot put back what they dropped (a state before a
	// redirect, Running over a Suspend).
	current map[string]*byte
}

type resolved struct {
	state   *State
	base    *url.URL // API + "/"
	expires time.Time
}

// NewResolver validates cfg; it does no I/O.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if cfg.Environment == "" {
		return nil, errors.New("tenant: ResolverConfig.Environment is required")
	}
	env, err := superid.ParseEnvironment(string(cfg.Environment))
	if err != nil {
		return nil, errors.New("tenant: ResolverConfig.Environment: " + err.Error())
	}
	r := &Resolver{
		env:     env,
		hc:      httpx.NewClient(cfg.HTTPClient, cfg.Logger, cfg.Retry),
		logger:  cfg.Logger,
		now:     cfg.Now,
		minTTL:  positive(cfg.MinTTL, 30*time.Second),
		meter:   cfg.Meter,
		cache:   map[string]*resolved{},
		current: map[string]*byte{},
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.maxTTL = positive(cfg.MaxTTL, DefaultMaxTTL)
	r.offTTL = positive(cfg.NotRunningMaxTTL, DefaultNotRunningMaxTTL)
	r.lookup = positive(cfg.LookupTimeout, DefaultLookupTimeout)
	return r, nil
}

// Environment is the environment the resolver asks.
func (r *Resolver) Environment() superid.Environment {
	if r == nil {
		return ""
	}
	return r.env
}

// usable reports a resolver or ctx that cannot make a request, for a
// clear error instead of a panic.
func (r *Resolver) usable(ctx context.Context) error {
	switch {
	case r == nil || r.hc == nil:
		return errors.New("tenant: Resolver not created with NewResolver")
	case ctx == nil:
		return errors.New("tenant: nil context")
	}
	return nil
}

// Resolve returns the tenant's state, from the cache while it is valid.
// A tenant that is not running gives an *Error matching
// ErrTenantNotRunning, with the state.
func (r *Resolver) Resolve(ctx context.Context, contextID string) (*State, error) {
	res, err := r.resolve(ctx, contextID)
	if err != nil {
		return nil, err
	}
	return res.state, nil
}

// Forget drops the cached state of a tenant, so that the next Resolve
// asks the state API again, rather than join a request under way: after
// a 421 or a redirect, say. A lookup already under way still answers its
// callers, but its answer is not cached.
func (r *Resolver) Forget(contextID string) {
	if r == nil {
		return
	}
	key := strings.ToLower(contextID)
	r.mu.Lock()
	delete(r.cache, key)
	delete(r.current, key)
	r.mu.Unlock()
	r.flights.Forget(key)
}

func (r *Resolver) resolve(ctx context.Context, contextID string) (*resolved, error) {
	if err := r.usable(ctx); err != nil {
		return nil, err
	}
	key := strings.ToLower(contextID)
	res := r.cached(key)
	if res == nil {
		var err error
		res, err = r.flights.Do(ctx, key, func(fctx context.Context) (*resolved, error) {
			// In one section with the cache: a change applied after this
			// withdraws the token, one applied before is found here.
			mine := new(byte)
			r.mu.Lock()
			if c := r.cachedLocked(key); c != nil { // a lookup or a change just ended
				r.mu.Unlock()
				return c, nil
			}
			r.current[key] = mine
			r.mu.Unlock()
			defer func() {
				r.mu.Lock()
				if r.current[key] == mine {
					delete(r.current, key)
				}
				r.mu.Unlock()
			}()
			lctx, cancel := context.WithTimeout(fctx, r.lookup)
			defer cancel()
			st, err := r.Lookup(lctx, contextID)
			if err != nil {
				return nil, err
			}
			now, exp := r.now(), st.ValidUntil
			if floor := now.Add(r.minTTL); exp.Before(floor) {
				exp = floor // clock skew must not turn into a lookup per request
			}
			return r.store(key, st, exp, now, mine), nil
		})
		if err != nil {
			if ctx.Err() != nil && !errors.As(err, new(*Error)) {
				err = &Error{Method: http.MethodGet, URL: r.env.TenantStateURL(contextID), cause: err}
			}
			return nil, err
		}
	}
	if !res.state.Running() {
		return nil, &Error{URL: res.state.API, State: res.state, kind: ErrTenantNotRunning}
	}
	return res, nil
}

// cached returns the cached state under key while it is in date.
func (r *Resolver) cached(key string) *resolved {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cachedLocked(key)
}

// cachedLocked is cached with r.mu held.
func (r *Resolver) cachedLocked(key string) *resolved {
	if c := r.cache[key]; c != nil && r.now().Before(c.expires) {
		return c
	}
	return nil
}

// store caches st under key until exp, bounded by MaxTTL (NotRunningMaxTTL
// for a tenant that is not running) from now, and returns it. For a lookup
// (lookup not nil), a Forget or an Apply that came after it started leaves
// st uncached.
func (r *Resolver) store(key string, st *State, exp, now time.Time, lookup *byte) *resolved {
	res := r.entry(st, exp, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if lookup != nil && r.current[key] != lookup {
		return res
	}
	r.cache[key] = res
	return res
}

// entry is st as cached until exp, bounded as store says.
func (r *Resolver) entry(st *State, exp, now time.Time) *resolved {
	ceiling := now.Add(r.maxTTL)
	if !st.Running() {
		ceiling = now.Add(r.offTTL)
	}
	if exp.After(ceiling) {
		exp = ceiling
	}
	base, _ := url.Parse(strings.TrimRight(st.API, "/") + "/")
	return &resolved{state: st, base: base, expires: exp}
}

// Cached returns the tenant's state from the cache, without a request,
// with the time the cache drops it; nil when the cache holds none in date.
//
// It is for a service that runs as several instances, or in runs that
// each start with an empty Resolver (a worker that serves thousands of
// tenants in turn, say): it keeps both with the tenant in its own shared
// store and hands them to Remember in the next run or on another
// instance, so that only one of them asks the state API per ValidUntil,
// and no instance keeps every tenant in memory.
func (r *Resolver) Cached(contextID string) (*State, time.Time) {
	if r == nil || r.cache == nil {
		return nil, time.Time{}
	}
	res := r.cached(strings.ToLower(contextID))
	if res == nil {
		return nil, time.Time{}
	}
	st := *res.state
	return &st, res.expires
}

// Remember caches st, the state of tenant contextID kept from Cached, until
// until, as if Resolve had just looked it up: Resolve and the clients
// using the resolver make no state request for the tenant before then
// (until a 421 drops it). st is checked as the state API's answers are, so
// that a stored state that was altered cannot send credentials outside the
// environment nor stand in for another tenant's, and is kept no longer
// than MaxTTL (NotRunningMaxTTL) from now. An until already past caches
// nothing and is not an error.
func (r *Resolver) Remember(contextID string, st *State, until time.Time) error {
	switch {
	case r == nil || r.cache == nil:
		return errors.New("tenant: Resolver not created with NewResolver")
	case st == nil:
		return errors.New("tenant: Remember: nil state")
	case !superid.ValidContextIdentifier(contextID):
		return &Error{URL: "state of " + contextID, kind: ErrBadRequest,
			cause: errors.New("context identifier is not Cust followed by digits")}
	case !strings.EqualFold(st.ContextIdentifier, contextID):
		return &Error{URL: "state of " + contextID, kind: ErrBadRequest,
			cause: errors.New("the state is another tenant's: " + st.ContextIdentifier)}
	case st.Running() && (st.API == "" || !r.env.OwnsHost(st.API)):
		return &Error{URL: "state of " + contextID, kind: ErrForeignHost,
			Message: "Api " + httpx.RedactRawURL(st.API) + " is not on " + r.env.String()}
	case st.Endpoint != "" && !r.env.OwnsHost(st.Endpoint):
		return &Error{URL: "state of " + contextID, kind: ErrForeignHost,
			Message: "Endpoint " + httpx.RedactRawURL(st.Endpoint) + " is not on " + r.env.String()}
	case st.Running() && !apiOfTenant(st.API, contextID):
		// The state API's own answers are taken as they come; a stored
		// one must also name the tenant's own path, or an altered row
		// could send one tenant's ticket to another's API.
		return &Error{URL: "state of " + contextID, kind: ErrForeignHost,
			Message: "Api " + httpx.RedactRawURL(st.API) + " is not " + contextID + "'s"}
	}
	now := r.now()
	if !now.Before(until) {
		return nil
	}
	kept := *st
	r.store(strings.ToLower(contextID), &kept, until, now, nil)
	return nil
}

// apiOfTenant reports whether api's path is the tenant's, /{contextID}/api,
// as every state answer documented writes it (PROTOCOL 6.5).
func apiOfTenant(api, contextID string) bool {
	u, err := url.Parse(api)
	return err == nil && strings.EqualFold(strings.TrimSuffix(u.EscapedPath(), "/"), "/"+contextID+"/api")
}

// Lookup asks the state API, without the cache.
func (r *Resolver) Lookup(ctx context.Context, contextID string) (*State, error) {
	if err := r.usable(ctx); err != nil {
		return nil, err
	}
	if !superid.ValidContextIdentifier(contextID) {
		return nil, &Error{URL: "state of " + contextID, kind: ErrBadRequest,
			cause: errors.New("context identifier is not Cust followed by digits")}
	}
	u := r.env.TenantStateURL(contextID)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Method: http.MethodGet, URL: u, cause: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	r.meter.entry(contextID).inc(countStateLookup)
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, &Error{Method: http.MethodGet, URL: u, cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errorFromResponse(http.MethodGet, req.URL, resp, nil)
	}
	var st State
	body, err := httpx.ReadBody(resp, maxErrorBody)
	if err == nil {
		err = json.Unmarshal(body, &st)
	}
	if err != nil {
		return nil, &Error{Method: http.MethodGet, URL: u, StatusCode: resp.StatusCode, cause: errors.New("decode state: " + err.Error())}
	}
	switch {
	case !strings.EqualFold(st.ContextIdentifier, contextID):
		return nil, &Error{Method: http.MethodGet, URL: u, StatusCode: resp.StatusCode,
			cause: errors.New("the state API answered for another tenant: " + st.ContextIdentifier)}
	case st.Running() && (st.API == "" || !r.env.OwnsHost(st.API)):
		return nil, &Error{Method: http.MethodGet, URL: u, StatusCode: resp.StatusCode, State: &st, kind: ErrForeignHost,
			Message: "Api " + httpx.RedactRawURL(st.API) + " is not on " + r.env.String()}
	case st.Endpoint != "" && !r.env.OwnsHost(st.Endpoint):
		return nil, &Error{Method: http.MethodGet, URL: u, StatusCode: resp.StatusCode, State: &st, kind: ErrForeignHost,
			Message: "Endpoint " + httpx.RedactRawURL(st.Endpoint) + " is not on " + r.env.String()}
	}
	if r.logger != nil {
		r.logger.Debug("tenant: state", "context", st.ContextIdentifier, "state", string(st.State), "api", httpx.RedactRawURL(st.API), "valid_until", st.ValidUntil)
	}
	return &st, nil
}

// positive returns d, or def when d is not positive.
func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
