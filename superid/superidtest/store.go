package superidtest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/tenant/webapi"
)

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
		c.UpdatedBy != 0 || !c.Updated.IsZero() || c.Entity != nil || sc.createdTime() != c.Created ||
		int(sc.associateID) != c.AssociateID || int(sc.createdBy) != c.CreatedBy || int(sc.countryID) != c.CountryID {
		cc := *c
		// The store's own slices: c may be a caller's (AddContact).
		cc.Emails, cc.Phones, cc.URLs = slices.Clone(c.Emails), slices.Clone(c.Phones), slices.Clone(c.URLs)
		cc.Entity = cloneEntity(c.Entity)
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
	c.Entity = cloneEntity(c.Entity)
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
	// Entity holds the members of the ContactEntity that the fields above
	// do not model (an Address, Faxes, UserDefinedFields, ...) as last
	// POSTed or PUT; nil when there are none. The fields above win over
	// their counterparts in it.
	Entity *webapi.ContactEntity
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
	// Entity holds the members of the PersonEntity that the fields above
	// do not model, like Contact.Entity.
	Entity *webapi.PersonEntity
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
		out[i].Entity = cloneEntity(p.Entity)
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
	pp.Entity = cloneEntity(p.Entity)
	st.insertPerson(&pp)
	p.PersonID = pp.PersonID
	return p, nil
}
