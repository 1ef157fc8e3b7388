package superidtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SystemUserAssociateID is the associate id of the system user in every
// emulated tenant: what currentPrincipal answers for a system user ticket,
// and the CreatedBy of what it creates. AddUser never assigns it.
const SystemUserAssociateID = 1

// WithTenantStateValidity sets how far ahead of now the state API's
// ValidUntil lies (default 10 minutes).
func WithTenantStateValidity(d time.Duration) Option {
	return func(e *Emulator) { e.tenant.validFor = d }
}

// WithODataPageSize sets how many rows one OData list response holds at
// most before it adds an odata.nextLink (default 200).
func WithODataPageSize(n int) Option {
	return func(e *Emulator) { e.tenant.pageSize = n }
}

// tenantAPIState is the in-memory database of every tenant, plus the
// credentials minted by TicketFor and AccessTokenFor.
type tenantAPIState struct {
	validFor time.Duration
	pageSize int
	stores   map[string]*tenantStore // by lower-case context identifier
}

func (e *Emulator) tenantRoutes() {
	e.route("GET /api/state/{ctx}", EndpointTenantState, e.serveTenantState)
	e.route("GET /{ctx}/api", EndpointTenantAPI, e.serveVersion)
	e.route("GET /{ctx}/api/{$}", EndpointTenantAPI, e.serveVersion)
	for _, rt := range []struct {
		pattern string
		h       apiHandler
	}{
		{"GET /{ctx}/api/v1/User/currentPrincipal", e.apiCurrentPrincipal},
	} {
		e.route(rt.pattern, EndpointTenantAPI, e.tenantAPI(rt.h))
	}
	entityRoutes(e, contactKind)
	entityRoutes(e, personKind)
}

// ---- credentials for tests ----

// TicketFor mints a system user ticket for the app's system user in the
// tenant, as if the app had made the exchange, so that tests of code that
// calls the tenant API need no key pair. The tenant API accepts it (with
// the app's client secret as SO-AppToken) like an exchanged ticket, and
// ExpireTickets and RevokeApproval end it like one.
func (e *Emulator) TicketFor(contextID, clientID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, a := e.tenants[strings.ToLower(contextID)], e.apps[clientID]
	switch {
	case t == nil:
		return "", fmt.Errorf("superidtest: unknown tenant %q", contextID)
	case a == nil:
		return "", fmt.Errorf("superidtest: unknown app %q", clientID)
	}
	// A ticket lives only while the tenant approves the app; approve it
	// here, whatever the app's rights, since no key pair is involved.
	e.consentLocked(t, a)
	return e.newTicketLocked(contextID, clientID), nil
}

// AccessTokenFor mints an access token for a user, as if the user had
// signed in, that the tenant API accepts as "Authorization: Bearer".
func (e *Emulator) AccessTokenFor(username string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.users[strings.ToLower(username)]
	if u == nil {
		return "", fmt.Errorf("superidtest: unknown user %q", username)
	}
	return e.newAccessTokenLocked("", u), nil
}

// ---- tenant REST API ----

// apiPrincipal is who a tenant API request runs as: the system user
// (user == nil) or a signed-in user.
type apiPrincipal struct {
	associateID int
	user        *User
	clientID    string
}

// servedTenantLocked returns the tenant the request's path names, when
// this host serves it; otherwise nil and the error to answer: 404 for an
// unknown tenant, 421 for one that lives on another host.
func (e *Emulator) servedTenantLocked(r *http.Request) (t *Tenant, status int, msg string) {
	t = e.tenants[strings.ToLower(r.PathValue("ctx"))]
	switch {
	case t == nil:
		return nil, http.StatusNotFound, "unknown tenant"
	case !strings.EqualFold(r.Host, e.tenantHostLocked(t)):
		return nil, http.StatusMisdirectedRequest, "tenant " + t.ContextIdentifier + " is not served by this host"
	}
	return t, 0, ""
}

// apiHandler serves one tenant API request with e.mu held and returns
// the status and the JSON body; nothing is written while the lock is held.
type apiHandler func(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any)

func (e *Emulator) tenantAPI(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Read the body (route capped it) before taking e.mu: a client
		// whose body is slow must hold up its own request only, not every
		// endpoint. The handlers then decode from memory.
		if r.Body != http.NoBody { // a GET has none: nothing to read
			if _, err := readBody(r); err != nil {
				writeAPIError(w, http.StatusBadRequest, "cannot read body")
				return
			}
		}
		e.mu.Lock()
		t, p, refuse := e.admitLocked(r)
		if refuse != nil {
			e.mu.Unlock()
			refuse(w)
			return
		}
		status, v := e.watchHooks(h, r, t, e.storeLocked(t), p) // webhook.go: runs h, then delivers webhooks
		e.mu.Unlock()
		writeAPIResult(w, status, v)
	}
}

// admitLocked finds the tenant a tenant API request is for, checks that
// it runs and who is calling. When it refuses, refuse writes the answer;
// the caller calls it after releasing e.mu, as nothing is written under
// the lock.
func (e *Emulator) admitLocked(r *http.Request) (t *Tenant, p apiPrincipal, refuse func(http.ResponseWriter)) {
	t, status, msg := e.servedTenantLocked(r)
	if t == nil {
		return nil, p, func(w http.ResponseWriter) { writeAPIError(w, status, msg) }
	}
	if t.State != "Running" && t.State != "OnlineMaintenance" {
		msg := "tenant " + t.ContextIdentifier + " is " + t.State
		return nil, p, func(w http.ResponseWriter) { writeAPIError(w, http.StatusServiceUnavailable, msg) }
	}
	p, msg = e.principalLocked(r, t)
	if msg != "" {
		return nil, p, func(w http.ResponseWriter) {
			w.Header().Set("WWW-Authenticate", `SOTicket, Bearer`)
			writeAPIError(w, http.StatusUnauthorized, msg)
		}
	}
	return t, p, nil
}

// writeAPIResult writes a handler's answer: v as JSON, or the bare status
// when v is nil.
func writeAPIResult(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

func (e *Emulator) tenantHostLocked(t *Tenant) string {
	if t.host != "" {
		return t.host
	}
	u, _ := url.Parse(e.env.String())
	return u.Host
}

// storeLocked returns the tenant's record, creating it on first use.
func (e *Emulator) storeLocked(t *Tenant) *tenantStore {
	return entry(&e.tenant.stores, strings.ToLower(t.ContextIdentifier))
}

// entry returns (*m)[k], making the map and the entry on first use.
func entry[V any](m *map[string]*V, k string) *V {
	if *m == nil {
		*m = map[string]*V{}
	}
	v := (*m)[k]
	if v == nil {
		v = new(V)
		(*m)[k] = v
	}
	return v
}

// storeOfLocked returns the record of the tenant contextID, or nil when it
// has none yet.
func (e *Emulator) storeOfLocked(contextID string) *tenantStore {
	return e.tenant.stores[strings.ToLower(contextID)]
}

// principalLocked checks the request's credentials for tenant t; a
// non-empty msg says why they were refused.
func (e *Emulator) principalLocked(r *http.Request, t *Tenant) (apiPrincipal, string) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case cred == "":
		return apiPrincipal{}, "missing credentials"
	case strings.EqualFold(scheme, "SOTicket"):
		ctxID, clientID, tk, ok := e.lookupTicketLocked(cred)
		if !ok {
			return apiPrincipal{}, "invalid or expired ticket"
		}
		if !strings.EqualFold(ctxID, t.ContextIdentifier) {
			return apiPrincipal{}, "ticket belongs to another tenant"
		}
		a := e.apps[clientID]
		if a == nil || r.Header.Get("SO-AppToken") == "" || r.Header.Get("SO-AppToken") != a.ClientSecret {
			return apiPrincipal{}, "missing or wrong SO-AppToken"
		}
		// Only an accepted request is a use that slides the expiry.
		tk.renew(e.now())
		return apiPrincipal{associateID: SystemUserAssociateID, clientID: clientID}, ""
	case strings.EqualFold(scheme, "Bearer"):
		u := e.accessTokenUserLocked(cred)
		if u == nil {
			return apiPrincipal{}, "invalid or expired access token"
		}
		if !strings.EqualFold(u.ContextIdentifier, t.ContextIdentifier) {
			return apiPrincipal{}, "access token belongs to another tenant"
		}
		return apiPrincipal{associateID: u.AssociateID, user: u}, ""
	}
	return apiPrincipal{}, "unsupported authorization scheme"
}

// wireAPIError is the tenant API's error body in the shape SuperOffice
// documents (PROTOCOL.md section 12, SDK-Doc REST/Introduction.md):
// {"Error":true,"ErrorType":"SoNotFoundException","ErrorMessage":"...",
// "ErrorSource":"SuperOffice.Services.Implementation"}.
type wireAPIError struct {
	Error        bool
	ErrorType    string
	ErrorMessage string
	ErrorSource  string
}

// errorSource is the ErrorSource of every error body, as documented.
const errorSource = "SuperOffice.Services.Implementation"

// errorTypes names the exception behind each status the emulator answers
// with. Only SoNotFoundException is documented; the others are guesses
// in SuperOffice's style, listed as such in the package doc.
var errorTypes = map[int]string{
	http.StatusBadRequest:          "SoValidationException",
	http.StatusUnauthorized:        "SoCredentialsException",
	http.StatusForbidden:           "SoAccessDeniedException",
	http.StatusNotFound:            "SoNotFoundException",
	http.StatusConflict:            "SoConcurrencyException",
	http.StatusMisdirectedRequest:  "SoTenantMovedException",
	http.StatusInternalServerError: "SoServerException",
	http.StatusServiceUnavailable:  "SoTenantNotRunningException",
}

// errorBody is the error body for status with message msg.
func errorBody(status int, msg string) wireAPIError {
	typ, ok := errorTypes[status]
	if !ok {
		typ = "SoException"
	}
	return wireAPIError{Error: true, ErrorType: typ, ErrorMessage: msg, ErrorSource: errorSource}
}

func writeAPIError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody(status, msg))
}

func apiError(status int, msg string) (int, any) {
	return status, errorBody(status, msg)
}

// ---- currentPrincipal ----

type wirePrincipal struct {
	UserType                  string
	Associate                 string
	AssociateId               int
	IsPerson                  bool
	PersonId                  int
	ContactId                 int
	FullName                  string
	EMailAddress              string
	DatabaseContextIdentifier string
	UserName                  string
}

func (e *Emulator) apiCurrentPrincipal(r *http.Request, t *Tenant, _ *tenantStore, p apiPrincipal) (int, any) {
	if p.user == nil {
		return http.StatusOK, wirePrincipal{
			UserType: "SystemAssociate", Associate: "SU_" + strings.ToUpper(p.clientID), AssociateId: p.associateID,
			FullName: "System User", DatabaseContextIdentifier: t.ContextIdentifier,
		}
	}
	u := p.user
	return http.StatusOK, wirePrincipal{
		UserType: "InternalAssociate", Associate: u.Initials, AssociateId: u.AssociateID, IsPerson: true,
		PersonId: u.AssociateID, FullName: u.FullName, EMailAddress: u.Username,
		DatabaseContextIdentifier: t.ContextIdentifier, UserName: u.Username,
	}
}
