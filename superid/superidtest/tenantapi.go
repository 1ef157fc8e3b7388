package superidtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// tenantStore is what the emulator keeps of one tenant beyond its
// registration: its database and its system user tickets (sys, kept by
// systemuser.go). One record per tenant in one map, and rows in id order
// found by binary search rather than maps of their own: a demo holds ten
// thousand tenants with a ticket and a company each.
type tenantStore struct {
	contacts    []storedContact // by id, ascending
	people      *personStore    // nil until a person is stored
	nextContact int
	sys         sysTenant
}

type personStore struct {
	persons []*Person // by id, ascending
	next    int
}

// storedContact is a company as a tenant store keeps it: the fields a
// new company has, and the whole Contact only when it has more (or a
// value that does not pack exactly), so that the companies a demo creates
// by the ten thousand cost some fifty bytes each rather than a few
// hundred. Ids are int32, as SuperOffice's are; the creation time is UTC
// unix nanoseconds, as the API stamps it.
type storedContact struct {
	id, associateID, createdBy, countryID int32
	name                                  string
	created                               int64    // 0: the zero time
	full                                  *Contact // nil: every other field is empty
}

// packContact packs c, whose ContactID must fit in an int32 (AddContact
// and the id counter see to that).
func packContact(c *Contact) storedContact {
	sc := storedContact{id: int32(c.ContactID), associateID: int32(c.AssociateID), createdBy: int32(c.CreatedBy),
		countryID: int32(c.CountryID), name: c.Name}
	if !c.Created.IsZero() {
		sc.created = c.Created.UnixNano()
	}
	if c.Department != "" || c.OrgNr != "" || c.Number1 != "" || c.Number2 != "" || c.Description != "" ||
		c.CategoryID != 0 || c.BusinessID != 0 || len(c.Emails) > 0 || len(c.Phones) > 0 || len(c.URLs) > 0 ||
		c.UpdatedBy != 0 || !c.Updated.IsZero() || sc.createdTime() != c.Created ||
		int(sc.associateID) != c.AssociateID || int(sc.createdBy) != c.CreatedBy || int(sc.countryID) != c.CountryID {
		cc := *c
		// The store's own slices: c may be a caller's (AddContact).
		cc.Emails, cc.Phones, cc.URLs = slices.Clone(c.Emails), slices.Clone(c.Phones), slices.Clone(c.URLs)
		sc.full = &cc
	}
	return sc
}

func (sc *storedContact) createdTime() time.Time {
	if sc.created == 0 {
		return time.Time{}
	}
	return time.Unix(0, sc.created).UTC()
}

// unpack returns the stored company as a Contact of the caller's own.
func (sc *storedContact) unpack() *Contact {
	if sc.full == nil {
		return &Contact{ContactID: int(sc.id), Name: sc.name, CountryID: int(sc.countryID), AssociateID: int(sc.associateID),
			CreatedBy: int(sc.createdBy), Created: sc.createdTime()}
	}
	c := *sc.full
	c.Emails = slices.Clone(c.Emails)
	c.Phones = slices.Clone(c.Phones)
	c.URLs = slices.Clone(c.URLs)
	return &c
}

func (st *tenantStore) contactIndex(id int) (int, bool) {
	return slices.BinarySearchFunc(st.contacts, id, func(sc storedContact, id int) int { return cmp.Compare(int(sc.id), id) })
}

// contact returns a copy of company id, or nil.
func (st *tenantStore) contact(id int) *Contact {
	if i, ok := st.contactIndex(id); ok {
		return st.contacts[i].unpack()
	}
	return nil
}

// contactName is the name of company id; empty when there is none.
func (st *tenantStore) contactName(id int) string {
	if i, ok := st.contactIndex(id); ok {
		return st.contacts[i].name
	}
	return ""
}

// contactList returns copies of every company, by id.
func (st *tenantStore) contactList() []*Contact {
	out := make([]*Contact, len(st.contacts))
	for i := range st.contacts {
		out[i] = st.contacts[i].unpack()
	}
	return out
}

// updateContact stores c over the company with its id, which must exist.
func (st *tenantStore) updateContact(c *Contact) {
	if i, ok := st.contactIndex(c.ContactID); ok {
		st.contacts[i] = packContact(c)
	}
}

// deleteContact removes company id and reports whether there was one.
func (st *tenantStore) deleteContact(id int) bool {
	i, ok := st.contactIndex(id)
	if ok {
		st.contacts = slices.Delete(st.contacts, i, i+1)
	}
	return ok
}

// personList returns the stored persons, by id (not copies).
func (st *tenantStore) personList() []*Person {
	if st.people == nil {
		return nil
	}
	return st.people.persons
}

func (st *tenantStore) personIndex(id int) (int, bool) {
	return slices.BinarySearchFunc(st.personList(), id, func(p *Person, id int) int { return cmp.Compare(p.PersonID, id) })
}

// person returns person id as stored (handlers change it in place), or nil.
func (st *tenantStore) person(id int) *Person {
	if i, ok := st.personIndex(id); ok {
		return st.people.persons[i]
	}
	return nil
}

// Contact is a company in a tenant's emulated database.
type Contact struct {
	ContactID   int
	Name        string
	Department  string
	OrgNr       string
	Number1     string
	Number2     string
	Description string
	CategoryID  int
	BusinessID  int
	CountryID   int
	Emails      []string
	Phones      []string
	URLs        []string
	AssociateID int // the owner
	CreatedBy   int // the associate whose request created it
	UpdatedBy   int // the associate whose request last changed it; 0: never changed
	Created     time.Time
	Updated     time.Time
}

// Person is a contact person in a tenant's emulated database.
type Person struct {
	PersonID    int
	ContactID   int // the company; 0: none
	Firstname   string
	MiddleName  string
	Lastname    string
	Mrmrs       string
	Title       string
	Description string
	Emails      []string
	Phones      []string // office phones
	AssociateID int
	CreatedBy   int
	UpdatedBy   int
	Created     time.Time
	Updated     time.Time
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
		{"GET /{ctx}/api/v1/Contact/default", e.apiContactDefault},
		{"GET /{ctx}/api/v1/Contact/{id}", e.apiContactGet},
		{"PUT /{ctx}/api/v1/Contact/{id}", e.apiContactPut},
		{"DELETE /{ctx}/api/v1/Contact/{id}", e.apiContactDelete},
		{"POST /{ctx}/api/v1/Contact", e.apiContactPost},
		{"GET /{ctx}/api/v1/Contact", e.apiContactList},
		{"GET /{ctx}/api/v1/Person/default", e.apiPersonDefault},
		{"GET /{ctx}/api/v1/Person/{id}", e.apiPersonGet},
		{"PUT /{ctx}/api/v1/Person/{id}", e.apiPersonPut},
		{"DELETE /{ctx}/api/v1/Person/{id}", e.apiPersonDelete},
		{"POST /{ctx}/api/v1/Person", e.apiPersonPost},
		{"GET /{ctx}/api/v1/Person", e.apiPersonList},
	} {
		e.route(rt.pattern, EndpointTenantAPI, e.tenantAPI(rt.h))
	}
}

// ---- tenant state API ----

type wireTenantState struct {
	ContextIdentifier string
	Endpoint          string
	State             string
	IsRunning         bool
	ValidUntil        string
	Api               string
}

func (e *Emulator) serveTenantState(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	t := e.tenants[strings.ToLower(r.PathValue("ctx"))]
	if t == nil {
		e.mu.Unlock()
		writeAPIError(w, http.StatusNotFound, "NotFound", "unknown tenant "+r.PathValue("ctx"))
		return
	}
	valid := e.tenant.validFor
	if valid == 0 {
		valid = 10 * time.Minute
	}
	ep := e.tenantEndpointLocked(t.ContextIdentifier)
	st := wireTenantState{
		ContextIdentifier: t.ContextIdentifier,
		Endpoint:          ep,
		State:             t.State,
		IsRunning:         t.State == "Running" || t.State == "OnlineMaintenance",
		ValidUntil:        e.now().Add(valid).UTC().Format("2006-01-02T15:04:05.0000000Z"),
		Api:               ep + "/api",
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

// MoveTenant moves the tenant to the emulator's other loopback host name
// (127.0.0.1 <-> localhost, same port), as SuperOffice moves tenants between
// clusters: the state API then names the new host, and tenant API requests
// that still arrive on the old one are answered 421 Misdirected Request.
// Moving again moves it back. It works only for loopback roots. A move
// notifies the apps' state change URLs (see SetStateChangeURL) before it
// returns.
func (e *Emulator) MoveTenant(contextID string) (err error) {
	defer func() { // after the unlock below
		if err == nil {
			err = e.NotifyStateChange(contextID, StateChangeMove)
		}
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	if t.host != "" {
		t.host = ""
		return nil
	}
	u, err := url.Parse(e.env.String())
	if err != nil {
		return fmt.Errorf("superidtest: %w", err)
	}
	switch h := u.Hostname(); {
	case h == "localhost":
		t.host = net.JoinHostPort("127.0.0.1", u.Port())
	case net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback():
		t.host = net.JoinHostPort("localhost", u.Port())
	default:
		return fmt.Errorf("superidtest: MoveTenant needs a loopback root, not %q", h)
	}
	if u.Port() == "" {
		t.host = strings.TrimSuffix(t.host, ":")
	}
	return nil
}

// ---- version (no authentication) ----

// wireVersion is what GET {Api} answers, in the shape of DOCS
// status-page.md's example.
type wireVersion struct {
	V1                string `json:"v1"`
	NetServerVersion  string
	NetServerAssembly string
	NetServerDate     string
	NetServerLabel    string
	NetServer         string
	Services          string
	ServicesCurrent   string
	Version           string
}

// serveVersion is GET /{ctx}/api: the tenant's NetServer version, which
// SuperOffice answers without credentials (PROTOCOL.md section 6.3).
func (e *Emulator) serveVersion(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	t, status, code, msg := e.servedTenantLocked(r)
	if t == nil {
		e.mu.Unlock()
		writeAPIError(w, status, code, msg)
		return
	}
	v1 := e.tenantEndpointLocked(t.ContextIdentifier) + "/api/v1/"
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, wireVersion{
		V1:                v1,
		NetServerVersion:  "10.3.9107.101",
		NetServerAssembly: "10.3.0.0",
		NetServerDate:     "2024-06-04",
		NetServerLabel:    "Release10-Emulator",
		NetServer:         "SuperOffice 10.3 NetServer 10.3 Release (Build: Release10-Emulator)",
		Services:          "Services87",
		ServicesCurrent:   "Services88",
		Version:           "v1",
	})
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
func (e *Emulator) servedTenantLocked(r *http.Request) (t *Tenant, status int, code, msg string) {
	t = e.tenants[strings.ToLower(r.PathValue("ctx"))]
	switch {
	case t == nil:
		return nil, http.StatusNotFound, "NotFound", "unknown tenant"
	case !strings.EqualFold(r.Host, e.tenantHostLocked(t)):
		return nil, http.StatusMisdirectedRequest, "MisdirectedRequest", "tenant " + t.ContextIdentifier + " is not served by this host"
	}
	return t, 0, "", ""
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
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeAPIError(w, http.StatusBadRequest, "BadRequest", "cannot read body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		e.mu.Lock()
		t, status, code, msg := e.servedTenantLocked(r)
		if t == nil {
			e.mu.Unlock()
			writeAPIError(w, status, code, msg)
			return
		}
		if t.State != "Running" && t.State != "OnlineMaintenance" {
			e.mu.Unlock()
			writeAPIError(w, http.StatusServiceUnavailable, "TenantNotRunning", "tenant "+t.ContextIdentifier+" is "+t.State)
			return
		}
		p, msg := e.principalLocked(r, t)
		if msg != "" {
			e.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `SOTicket, Bearer`)
			writeAPIError(w, http.StatusUnauthorized, "Unauthorized", msg)
			return
		}
		status, v := h(r, t, e.storeLocked(t), p)
		e.mu.Unlock()
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	}
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
	k := strings.ToLower(t.ContextIdentifier)
	if e.tenant.stores == nil {
		e.tenant.stores = map[string]*tenantStore{}
	}
	st := e.tenant.stores[k]
	if st == nil {
		st = &tenantStore{}
		e.tenant.stores[k] = st
	}
	return st
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

type wireAPIError struct {
	Error     bool
	ErrorType string
	Message   string
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, wireAPIError{Error: true, ErrorType: typ, Message: msg})
}

func apiError(status int, typ, msg string) (int, any) {
	return status, wireAPIError{Error: true, ErrorType: typ, Message: msg}
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

// ---- wire entities ----

type wireAssociate struct {
	AssociateId int
	Name        string
	FullName    string
}

type wireListItem struct {
	Id      int
	Value   string
	Tooltip string
}

type wireCountry struct {
	CountryId           int
	Name                string
	TwoLetterISOCountry string
}

type wireElement struct {
	Value         string
	StrippedValue string
	Description   string
}

type wireContact struct {
	ContactId   int
	Name        string
	Department  string
	OrgNr       string
	Number1     string
	Number2     string
	Description string
	UpdatedDate string
	CreatedDate string
	Emails      []wireElement
	Phones      []wireElement
	Urls        []wireElement
	UpdatedBy   *wireAssociate
	CreatedBy   *wireAssociate
	Associate   *wireAssociate
	Business    *wireListItem
	Category    *wireListItem
	Country     *wireCountry
	NoMailing   bool
	Xstop       bool
	Deleted     int
	TableRight  wireTableRight
}

// wireTableRight is an entity's TableRight: what the caller may do with it.
type wireTableRight struct {
	Mask   string
	Reason string
}

// fullRights is the system user's TableRight: it may do everything.
var fullRights = wireTableRight{Mask: "Select, Update, Insert, Delete"}

type wireContactRef struct {
	ContactId int
	Name      string
}

type wirePerson struct {
	PersonId     int
	Firstname    string
	MiddleName   string
	Lastname     string
	Mrmrs        string
	Title        string
	Description  string
	UpdatedDate  string
	CreatedDate  string
	Contact      *wireContactRef
	Emails       []wireElement
	OfficePhones []wireElement
	UpdatedBy    *wireAssociate
	CreatedBy    *wireAssociate
	Associate    *wireAssociate
	Country      *wireCountry
	TableRight   wireTableRight
}

// wireTimes is how a response writes its dates. By default the web API
// sends them without an offset (2002-08-07T14:52:00, webapi README caveat
// 6); only a request with "SO-TimeZone: <tz>,includeTZOffset" gets one.
// The emulator keeps every time in UTC and does not convert to the zone
// named, so the offset it adds is always Z.
type wireTimes struct{ offset bool }

// timesFor reads the request's SO-TimeZone header.
func timesFor(r *http.Request) wireTimes {
	for _, part := range strings.Split(r.Header.Get("SO-TimeZone"), ",") {
		if strings.EqualFold(strings.TrimSpace(part), "includeTZOffset") {
			return wireTimes{offset: true}
		}
	}
	return wireTimes{}
}

func (wt wireTimes) format(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00"
	}
	if wt.offset {
		return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000")
}

var (
	categories = map[int]string{0: "", 1: "Customer", 2: "Prospect", 3: "Partner", 4: "Supplier"}
	businesses = map[int]string{0: "", 1: "IT", 2: "Finance", 3: "Manufacturing", 4: "Retail"}
	countries  = map[int][2]string{0: {"", ""}, 578: {"Norway", "NO"}, 752: {"Sweden", "SE"}, 208: {"Denmark", "DK"}, 528: {"Netherlands", "NL"}, 826: {"United Kingdom", "GB"}, 840: {"United States", "US"}, 276: {"Germany", "DE"}}
)

// associateLocked describes associate id of tenant t. Only t's users
// count: every tenant has a database of its own, so another tenant's user
// with the same id is somebody else.
func (e *Emulator) associateLocked(t *Tenant, id int) *wireAssociate {
	if id == 0 {
		return nil
	}
	if id == SystemUserAssociateID {
		return &wireAssociate{AssociateId: id, Name: "SYSTEM", FullName: "System User"}
	}
	for _, u := range e.users {
		if u.AssociateID == id && strings.EqualFold(u.ContextIdentifier, t.ContextIdentifier) {
			return &wireAssociate{AssociateId: id, Name: u.Initials, FullName: u.FullName}
		}
	}
	return &wireAssociate{AssociateId: id, Name: "A" + strconv.Itoa(id)}
}

func elements(vs []string) []wireElement {
	out := make([]wireElement, len(vs))
	for i, v := range vs {
		out[i] = wireElement{Value: v, StrippedValue: v}
	}
	return out
}

func values(es []wireElement) []string {
	var out []string
	for _, e := range es {
		if v := strings.TrimSpace(e.Value); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func country(id int) *wireCountry {
	c := countries[id]
	return &wireCountry{CountryId: id, Name: c[0], TwoLetterISOCountry: c[1]}
}

func listItem(m map[int]string, id int) *wireListItem {
	return &wireListItem{Id: id, Value: m[id]}
}

func (e *Emulator) contactWireLocked(t *Tenant, c *Contact, wt wireTimes) wireContact {
	return wireContact{
		ContactId: c.ContactID, Name: c.Name, Department: c.Department, OrgNr: c.OrgNr,
		Number1: c.Number1, Number2: c.Number2, Description: c.Description,
		UpdatedDate: wt.format(c.Updated), CreatedDate: wt.format(c.Created),
		Emails: elements(c.Emails), Phones: elements(c.Phones), Urls: elements(c.URLs),
		UpdatedBy: e.associateLocked(t, c.UpdatedBy), CreatedBy: e.associateLocked(t, c.CreatedBy),
		Associate: e.associateLocked(t, c.AssociateID),
		Business:  listItem(businesses, c.BusinessID), Category: listItem(categories, c.CategoryID),
		Country:    country(c.CountryID),
		TableRight: fullRights,
	}
}

func (e *Emulator) personWireLocked(t *Tenant, st *tenantStore, p *Person, wt wireTimes) wirePerson {
	w := wirePerson{
		PersonId: p.PersonID, Firstname: p.Firstname, MiddleName: p.MiddleName, Lastname: p.Lastname,
		Mrmrs: p.Mrmrs, Title: p.Title, Description: p.Description,
		UpdatedDate: wt.format(p.Updated), CreatedDate: wt.format(p.Created),
		Emails: elements(p.Emails), OfficePhones: elements(p.Phones),
		UpdatedBy: e.associateLocked(t, p.UpdatedBy), CreatedBy: e.associateLocked(t, p.CreatedBy),
		Associate: e.associateLocked(t, p.AssociateID), Country: country(578),
		TableRight: fullRights,
	}
	if i, ok := st.contactIndex(p.ContactID); ok {
		w.Contact = &wireContactRef{ContactId: p.ContactID, Name: st.contacts[i].name}
	}
	return w
}

// ---- Contact ----

func (e *Emulator) apiContactDefault(r *http.Request, t *Tenant, _ *tenantStore, p apiPrincipal) (int, any) {
	return http.StatusOK, e.contactWireLocked(t, &Contact{AssociateID: p.associateID, CountryID: 578}, timesFor(r))
}

func pathID(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	return id, err == nil && id > 0
}

func (e *Emulator) apiContactGet(r *http.Request, t *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	c := st.contact(id)
	if !ok || c == nil {
		return apiError(http.StatusNotFound, "NotFound", "Contact "+r.PathValue("id")+" not found")
	}
	return http.StatusOK, e.contactWireLocked(t, c, timesFor(r))
}

func decodeBody(r *http.Request, v any) string {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return "invalid JSON body: " + err.Error()
	}
	return ""
}

// contactFromWire validates an incoming ContactEntity and copies it onto c.
func contactFromWire(in *wireContact, c *Contact) string {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return "Name is required"
	case len(in.Name) > 255:
		return "Name is longer than 255 characters"
	}
	c.Name, c.Department, c.OrgNr = in.Name, in.Department, in.OrgNr
	c.Number1, c.Number2, c.Description = in.Number1, in.Number2, in.Description
	c.Emails, c.Phones, c.URLs = values(in.Emails), values(in.Phones), values(in.Urls)
	if in.Category != nil {
		c.CategoryID = in.Category.Id
	}
	if in.Business != nil {
		c.BusinessID = in.Business.Id
	}
	if in.Country != nil {
		c.CountryID = in.Country.CountryId
	}
	if in.Associate != nil {
		c.AssociateID = in.Associate.AssociateId
	}
	return ""
}

func (e *Emulator) apiContactPost(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	var in wireContact
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.ContactId != 0 {
		return apiError(http.StatusBadRequest, "ValidationError", "ContactId must be 0 for a new contact")
	}
	c := &Contact{AssociateID: p.associateID}
	if msg := contactFromWire(&in, c); msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	c.CreatedBy, c.Created = p.associateID, e.now().UTC()
	st.insertContact(c)
	return http.StatusOK, e.contactWireLocked(t, c, timesFor(r))
}

// insertContact stores a new company, giving it the next id when it has
// none (c.ContactID is set); an id that is taken is the caller's error.
func (st *tenantStore) insertContact(c *Contact) {
	if c.ContactID == 0 {
		st.nextContact++
		c.ContactID = st.nextContact
	} else if c.ContactID > st.nextContact {
		st.nextContact = c.ContactID
	}
	i, _ := st.contactIndex(c.ContactID)
	st.contacts = slices.Insert(st.contacts, i, packContact(c))
}

func (e *Emulator) apiContactPut(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	id, ok := pathID(r)
	c := st.contact(id)
	if !ok || c == nil {
		return apiError(http.StatusNotFound, "NotFound", "Contact "+r.PathValue("id")+" not found")
	}
	var in wireContact
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.ContactId != 0 && in.ContactId != id {
		return apiError(http.StatusBadRequest, "ValidationError", "ContactId in the body does not match the URL")
	}
	next := *c
	if msg := contactFromWire(&in, &next); msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	next.UpdatedBy, next.Updated = p.associateID, e.now()
	st.updateContact(&next)
	return http.StatusOK, e.contactWireLocked(t, &next, timesFor(r))
}

func (e *Emulator) apiContactDelete(r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	if !ok || !st.deleteContact(id) {
		return apiError(http.StatusNotFound, "NotFound", "Contact "+r.PathValue("id")+" not found")
	}
	return http.StatusNoContent, nil
}

// ---- Person ----

func (e *Emulator) apiPersonDefault(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	return http.StatusOK, e.personWireLocked(t, st, &Person{AssociateID: p.associateID}, timesFor(r))
}

func (e *Emulator) apiPersonGet(r *http.Request, t *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	p := st.person(id)
	if !ok || p == nil {
		return apiError(http.StatusNotFound, "NotFound", "Person "+r.PathValue("id")+" not found")
	}
	return http.StatusOK, e.personWireLocked(t, st, p, timesFor(r))
}

func personFromWire(st *tenantStore, in *wirePerson, p *Person) string {
	switch {
	case strings.TrimSpace(in.Firstname) == "" && strings.TrimSpace(in.Lastname) == "":
		return "Firstname or Lastname is required"
	case len(in.Firstname) > 50 || len(in.Lastname) > 50 || len(in.MiddleName) > 50:
		return "a name is longer than 50 characters"
	}
	if in.Contact != nil && in.Contact.ContactId != 0 {
		if _, ok := st.contactIndex(in.Contact.ContactId); !ok {
			return "Contact " + strconv.Itoa(in.Contact.ContactId) + " does not exist"
		}
		p.ContactID = in.Contact.ContactId
	} else {
		p.ContactID = 0
	}
	p.Firstname, p.MiddleName, p.Lastname = in.Firstname, in.MiddleName, in.Lastname
	p.Mrmrs, p.Title, p.Description = in.Mrmrs, in.Title, in.Description
	p.Emails, p.Phones = values(in.Emails), values(in.OfficePhones)
	if in.Associate != nil {
		p.AssociateID = in.Associate.AssociateId
	}
	return ""
}

func (e *Emulator) apiPersonPost(r *http.Request, t *Tenant, st *tenantStore, pr apiPrincipal) (int, any) {
	var in wirePerson
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.PersonId != 0 {
		return apiError(http.StatusBadRequest, "ValidationError", "PersonId must be 0 for a new person")
	}
	p := &Person{AssociateID: pr.associateID}
	if msg := personFromWire(st, &in, p); msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	p.CreatedBy, p.Created = pr.associateID, e.now()
	st.insertPerson(p)
	return http.StatusOK, e.personWireLocked(t, st, p, timesFor(r))
}

func (st *tenantStore) insertPerson(p *Person) {
	if st.people == nil {
		st.people = &personStore{}
	}
	ps := st.people
	if p.PersonID == 0 {
		ps.next++
		p.PersonID = ps.next
	} else if p.PersonID > ps.next {
		ps.next = p.PersonID
	}
	i, _ := st.personIndex(p.PersonID)
	ps.persons = slices.Insert(ps.persons, i, p)
}

func (e *Emulator) apiPersonPut(r *http.Request, t *Tenant, st *tenantStore, pr apiPrincipal) (int, any) {
	id, ok := pathID(r)
	p := st.person(id)
	if !ok || p == nil {
		return apiError(http.StatusNotFound, "NotFound", "Person "+r.PathValue("id")+" not found")
	}
	var in wirePerson
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.PersonId != 0 && in.PersonId != id {
		return apiError(http.StatusBadRequest, "ValidationError", "PersonId in the body does not match the URL")
	}
	next := *p
	if msg := personFromWire(st, &in, &next); msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	next.UpdatedBy, next.Updated = pr.associateID, e.now()
	*p = next
	return http.StatusOK, e.personWireLocked(t, st, p, timesFor(r))
}

func (e *Emulator) apiPersonDelete(r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	p := st.person(id)
	if !ok || p == nil {
		return apiError(http.StatusNotFound, "NotFound", "Person "+r.PathValue("id")+" not found")
	}
	i, _ := st.personIndex(id)
	st.people.persons = slices.Delete(st.people.persons, i, i+1)
	return http.StatusNoContent, nil
}

// ---- accessors for tests ----

// Contacts returns a copy of the tenant's companies, by id.
func (e *Emulator) Contacts(contextID string) []Contact {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.tenant.stores[strings.ToLower(contextID)]
	if st == nil {
		return nil
	}
	out := make([]Contact, len(st.contacts))
	for i := range st.contacts {
		out[i] = *st.contacts[i].unpack()
	}
	return out
}

// Persons returns a copy of the tenant's persons, by id.
func (e *Emulator) Persons(contextID string) []Person {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.tenant.stores[strings.ToLower(contextID)]
	if st == nil {
		return nil
	}
	out := make([]Person, len(st.personList()))
	for i, p := range st.personList() {
		out[i] = *p
		out[i].Emails = append([]string(nil), p.Emails...)
		out[i].Phones = append([]string(nil), p.Phones...)
	}
	return out
}

// AddContact stores a company in the tenant directly (no request is
// made), for tests that need data to read. A zero ContactID is assigned,
// a zero Created is now; it returns what was stored.
func (e *Emulator) AddContact(contextID string, c Contact) (Contact, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return Contact{}, fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	st := e.storeLocked(t)
	if _, taken := st.contactIndex(c.ContactID); c.ContactID < 0 || c.ContactID > math.MaxInt32 || taken {
		return Contact{}, fmt.Errorf("superidtest: contact id %d is taken, negative or over 2^31-1", c.ContactID)
	}
	if c.Created.IsZero() {
		c.Created = e.now().UTC()
	}
	cc := c
	st.insertContact(&cc)
	return cc, nil
}

// AddPerson stores a person in the tenant directly, like AddContact.
func (e *Emulator) AddPerson(contextID string, p Person) (Person, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(contextID)]
	if t == nil {
		return Person{}, fmt.Errorf("superidtest: unknown tenant %q", contextID)
	}
	st := e.storeLocked(t)
	if p.PersonID < 0 || st.person(p.PersonID) != nil {
		return Person{}, fmt.Errorf("superidtest: person id %d is taken or negative", p.PersonID)
	}
	if p.Created.IsZero() {
		p.Created = e.now()
	}
	// The store keeps its own slices, neither the caller's nor those of
	// the value returned.
	pp := p
	pp.Emails, pp.Phones = slices.Clone(p.Emails), slices.Clone(p.Phones)
	st.insertPerson(&pp)
	p.PersonID = pp.PersonID
	return p, nil
}
