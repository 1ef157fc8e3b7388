package superidtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// ---- wire entities ----

type wireAssociate struct {
	AssociateId int
	Name        string
	FullName    string
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
		return t.UTC().Format("2006-01-02T15:04:05.9999999Z")
	}
	return t.UTC().Format("2006-01-02T15:04:05.9999999")
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

// ---- Contact and Person: one REST handler ----

// entityKind is what the REST service of one entity type needs to know:
// T is the record the tenant store keeps, W its wire form. The handlers
// (entityRoutes) are the same for every kind.
type entityKind[T, W any] struct {
	name     string                                     // "Contact": the path segment and the noun of messages
	wireID   func(*W) int                               // the id a request body carries
	blank    func(p apiPrincipal) *T                    // the default entity (GET .../default)
	fresh    func(p apiPrincipal) *T                    // what a new entity starts from before its body
	load     func(st *tenantStore, id int) *T           // a copy of entity id, or nil
	insert   func(st *tenantStore, v *T)                // stores a new entity, assigning its id
	replace  func(st *tenantStore, v *T)                // stores v over the entity with its id
	remove   func(st *tenantStore, id int) bool         // deletes entity id; false if there was none
	fromWire func(st *tenantStore, in *W, v *T) string  // validates in onto v; non-empty says why not
	stamp    func(v *T, by int, at time.Time, new bool) // who created or changed it, and when
	wire     func(e *Emulator, t *Tenant, st *tenantStore, v *T, wt wireTimes) *W
	list     func(e *Emulator, st *tenantStore, wt wireTimes) ([]*T, []odataColumn[*T], func(*T) int)
}

// entityRoutes serves k's REST service: .../default, GET, PUT and DELETE
// by id, POST, and the OData list.
func entityRoutes[T, W any](e *Emulator, k *entityKind[T, W]) {
	base := "/{ctx}/api/v1/" + k.name
	for pattern, h := range map[string]func(*Emulator, *http.Request, *Tenant, *tenantStore, apiPrincipal) (int, any){
		"GET " + base + "/default": k.serveDefault,
		"GET " + base + "/{id}":    k.serveGet,
		"PUT " + base + "/{id}":    k.servePut,
		"DELETE " + base + "/{id}": k.serveDelete,
		"POST " + base:             k.servePost,
		"GET " + base:              k.serveList,
	} {
		e.route(pattern, EndpointTenantAPI, e.tenantAPI(func(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
			return h(e, r, t, st, p)
		}))
	}
}

func pathID(r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	return id, err == nil && id > 0
}

// decodeBody decodes the request's JSON body (tenantAPI read it) into v,
// or says what is wrong with it.
func decodeBody(r *http.Request, v any) string {
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		return "invalid JSON body: " + err.Error()
	}
	return ""
}

func (k *entityKind[T, W]) notFound(id string) (int, any) {
	return apiError(http.StatusNotFound, k.name+" "+id+" not found")
}

func (k *entityKind[T, W]) serveDefault(e *Emulator, r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	return http.StatusOK, k.wire(e, t, st, k.blank(p), timesFor(r))
}

func (k *entityKind[T, W]) serveGet(e *Emulator, r *http.Request, t *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	v := k.load(st, id)
	if !ok || v == nil {
		return k.notFound(r.PathValue("id"))
	}
	return http.StatusOK, k.wire(e, t, st, v, timesFor(r))
}

// create stores a new entity from in, as the principal p.
func (k *entityKind[T, W]) create(e *Emulator, st *tenantStore, p apiPrincipal, in *W) (*T, string) {
	v := k.fresh(p)
	if msg := k.fromWire(st, in, v); msg != "" {
		return nil, msg
	}
	k.stamp(v, p.associateID, e.now(), true)
	k.insert(st, v)
	return v, ""
}

// change stores in over the existing entity old, as the principal p.
func (k *entityKind[T, W]) change(e *Emulator, st *tenantStore, p apiPrincipal, old *T, in *W) (*T, string) {
	next := *old
	if msg := k.fromWire(st, in, &next); msg != "" {
		return nil, msg
	}
	k.stamp(&next, p.associateID, e.now(), false)
	k.replace(st, &next)
	return &next, ""
}

func (k *entityKind[T, W]) servePost(e *Emulator, r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	var in W
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	if k.wireID(&in) != 0 {
		return apiError(http.StatusBadRequest, k.name+"Id must be 0 for a new "+strings.ToLower(k.name))
	}
	v, msg := k.create(e, st, p, &in)
	if msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	return http.StatusOK, k.wire(e, t, st, v, timesFor(r))
}

func (k *entityKind[T, W]) servePut(e *Emulator, r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	id, ok := pathID(r)
	old := k.load(st, id)
	if !ok || old == nil {
		return k.notFound(r.PathValue("id"))
	}
	var in W
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	if wid := k.wireID(&in); wid != 0 && wid != id {
		return apiError(http.StatusBadRequest, k.name+"Id in the body does not match the URL")
	}
	v, msg := k.change(e, st, p, old, &in)
	if msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	return http.StatusOK, k.wire(e, t, st, v, timesFor(r))
}

func (k *entityKind[T, W]) serveDelete(e *Emulator, r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := pathID(r)
	if !ok || !k.remove(st, id) {
		return k.notFound(r.PathValue("id"))
	}
	return http.StatusNoContent, nil
}

func (k *entityKind[T, W]) serveList(e *Emulator, r *http.Request, t *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	rows, cols, key := k.list(e, st, timesFor(r))
	return odataList(r, e.tenantEndpointLocked(t.ContextIdentifier)+"/api/v1/"+k.name, strings.ToLower(k.name),
		rows, cols, key, e.pageSize())
}

// contactKind is the Contact entity (a company).
var contactKind = &entityKind[Contact, webapi.ContactEntity]{
	name:    "Contact",
	wireID:  func(w *webapi.ContactEntity) int { return int(w.ContactID) },
	blank:   func(p apiPrincipal) *Contact { return &Contact{AssociateID: p.associateID, CountryID: 578} },
	fresh:   func(p apiPrincipal) *Contact { return &Contact{AssociateID: p.associateID} },
	load:    (*tenantStore).contact,
	insert:  (*tenantStore).insertContact,
	replace: (*tenantStore).updateContact,
	remove:  (*tenantStore).deleteContact,
	fromWire: func(_ *tenantStore, in *webapi.ContactEntity, c *Contact) string {
		return contactFromWire(in, c)
	},
	stamp: func(c *Contact, by int, at time.Time, created bool) {
		if created {
			c.CreatedBy, c.Created = by, at.UTC()
			return
		}
		c.UpdatedBy, c.Updated = by, at
	},
	wire: func(e *Emulator, t *Tenant, st *tenantStore, c *Contact, wt wireTimes) *webapi.ContactEntity {
		return e.contactWireLocked(t, st, c, wt)
	},
	list: func(e *Emulator, st *tenantStore, wt wireTimes) ([]*Contact, []odataColumn[*Contact], func(*Contact) int) {
		return st.contactList(), e.contactColumnsLocked(wt), func(c *Contact) int { return c.ContactID }
	},
}

// personKind is the Person entity (a contact person).
var personKind = &entityKind[Person, webapi.PersonEntity]{
	name:   "Person",
	wireID: func(w *webapi.PersonEntity) int { return int(w.PersonID) },
	blank:  func(p apiPrincipal) *Person { return &Person{AssociateID: p.associateID} },
	fresh:  func(p apiPrincipal) *Person { return &Person{AssociateID: p.associateID} },
	load: func(st *tenantStore, id int) *Person {
		if p := st.person(id); p != nil {
			c := *p
			return &c
		}
		return nil
	},
	insert: (*tenantStore).insertPerson,
	replace: func(st *tenantStore, p *Person) {
		if old := st.person(p.PersonID); old != nil {
			*old = *p
		}
	},
	remove: func(st *tenantStore, id int) bool {
		i, ok := st.personIndex(id)
		if ok {
			st.people.persons = slices.Delete(st.people.persons, i, i+1)
		}
		return ok
	},
	fromWire: personFromWire,
	stamp: func(p *Person, by int, at time.Time, created bool) {
		if created {
			p.CreatedBy, p.Created = by, at
			return
		}
		p.UpdatedBy, p.Updated = by, at
	},
	wire: func(e *Emulator, t *Tenant, st *tenantStore, p *Person, wt wireTimes) *webapi.PersonEntity {
		return e.personWireLocked(t, st, p, wt)
	},
	list: func(e *Emulator, st *tenantStore, wt wireTimes) ([]*Person, []odataColumn[*Person], func(*Person) int) {
		return st.personList(), e.personColumnsLocked(st, wt), func(p *Person) int { return p.PersonID }
	},
}

// contactFromWire validates an incoming ContactEntity and copies it onto c.
func contactFromWire(in *webapi.ContactEntity, c *Contact) string {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return "Name is required"
	case len(in.Name) > 255:
		return "Name is longer than 255 characters"
	}
	c.Name, c.Department, c.OrgNr = in.Name, in.Department, in.OrgNr
	c.Number1, c.Number2, c.Description = in.Number1, in.Number2, in.Description
	c.Emails, c.Phones, c.URLs = values(in.Emails), values(in.Phones), values(in.URLs)
	if in.Category != nil {
		c.CategoryID = int(in.Category.ID)
	}
	if in.Business != nil {
		c.BusinessID = int(in.Business.ID)
	}
	if in.Country != nil {
		c.CountryID = int(in.Country.CountryID)
	}
	if in.Associate != nil {
		c.AssociateID = int(in.Associate.AssociateID)
	}
	c.Entity = rest(in, clearContact)
	return ""
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

func personFromWire(st *tenantStore, in *webapi.PersonEntity, p *Person) string {
	switch {
	case strings.TrimSpace(in.Firstname) == "" && strings.TrimSpace(in.Lastname) == "":
		return "Firstname or Lastname is required"
	case len(in.Firstname) > 50 || len(in.Lastname) > 50 || len(in.MiddleName) > 50:
		return "a name is longer than 50 characters"
	}
	if in.Contact != nil && in.Contact.ContactID != 0 {
		if _, ok := st.contactIndex(int(in.Contact.ContactID)); !ok {
			return "Contact " + strconv.FormatInt(in.Contact.ContactID, 10) + " does not exist"
		}
		p.ContactID = int(in.Contact.ContactID)
	} else {
		p.ContactID = 0
	}
	p.Firstname, p.MiddleName, p.Lastname = in.Firstname, in.MiddleName, in.Lastname
	p.Mrmrs, p.Title, p.Description = in.Mrmrs, in.Title, in.Description
	p.Emails, p.Phones = values(in.Emails), values(in.OfficePhones)
	if in.Associate != nil {
		p.AssociateID = int(in.Associate.AssociateID)
	}
	p.Entity = rest(in, clearPerson)
	return ""
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
