package tenant

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
)

// ContactRef is the company a person belongs to, as a Person names it.
type ContactRef struct {
	ContactID  int `json:"ContactId"`
	Name       string
	Department string
	OrgNr      string
}

// Person is a contact person: the web API's PersonEntity. Fields the
// package does not name travel in Extra, as with Contact.
type Person struct {
	PersonID      int `json:"PersonId"` // 0 for a new person
	Firstname     string
	MiddleName    string
	Lastname      string
	Mrmrs         string
	Title         string
	Description   string
	Contact       *ContactRef // the company; nil for none
	Emails        []EntityElement
	OfficePhones  []EntityElement
	MobilePhones  []EntityElement
	PrivatePhones []EntityElement
	Associate     *Associate // the owner
	Country       *Country
	// CustomFields holds user-defined and extra fields.
	CustomFields map[string]string `json:",omitempty"`
	CreatedDate  Time
	UpdatedDate  Time
	CreatedBy    *Associate
	UpdatedBy    *Associate
	// Extra holds every other field as received.
	Extra Extra `json:"-"`
}

var (
	personFields = knownFields(reflect.TypeFor[Person]())
	personIndex  = fieldIndex(reflect.TypeFor[Person]())
)

// UnmarshalJSON decodes a PersonEntity, keeping unnamed fields in Extra.
func (p *Person) UnmarshalJSON(b []byte) error { return p.decodeJSON(b) }

func (p *Person) decodeJSON(b []byte) error {
	type plain Person
	v, extra, err := decodeFast[plain](b, personIndex, personFields)
	if err != nil {
		return err
	}
	v.Extra = extra
	*p = Person(v)
	return nil
}

// MarshalJSON encodes a PersonEntity, Extra included.
func (p Person) MarshalJSON() ([]byte, error) {
	type plain Person
	return encodeEntity(plain(p), p.Extra, personFields)
}

func (p *Person) encodeJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil // as json.Marshal encodes a nil pointer
	}
	return p.MarshalJSON()
}

// PersonRow is a row of the Person list.
type PersonRow struct {
	Row
	PersonID    int
	Firstname   string
	Lastname    string
	FullName    string
	ContactID   int
	ContactName string
}

// UnmarshalJSON decodes a row, filling the named columns when present.
func (r *PersonRow) UnmarshalJSON(b []byte) error {
	if err := r.Row.UnmarshalJSON(b); err != nil {
		return err
	}
	r.PersonID = r.Int("personId")
	if r.PersonID == 0 {
		r.PersonID = r.PrimaryKey
	}
	r.Firstname, r.Lastname, r.FullName = r.String("firstname"), r.String("lastname"), r.String("fullName")
	r.ContactID, r.ContactName = r.Int("contactId"), r.String("contactName")
	return nil
}

// PersonsService reads and writes contact persons (v1/Person).
type PersonsService struct{ c *Client }

var persons = entityService[Person, PersonRow]{
	path: "v1/Person",
	noun: "person",
	id:   func(p *Person) int { return p.PersonID },
}

// Default returns a new person with the server's defaults.
func (s *PersonsService) Default(ctx context.Context) (*Person, error) {
	return persons.defaults(ctx, s.client())
}

// Get returns the person with the id; a missing one matches ErrNotFound.
func (s *PersonsService) Get(ctx context.Context, id int) (*Person, error) {
	return persons.get(ctx, s.client(), id)
}

// Create saves a new person (PersonID 0; start from Default) and returns
// it as saved. It is sent once, never retried.
func (s *PersonsService) Create(ctx context.Context, p *Person) (*Person, error) {
	// Only where create's own checks (nil, id set) pass, so that their
	// errors still come first.
	if p != nil && p.PersonID == 0 && strings.TrimSpace(p.Firstname) == "" && strings.TrimSpace(p.Lastname) == "" {
		return nil, errors.New("tenant: Create: person needs a first or last name")
	}
	return persons.create(ctx, s.client(), p)
}

// Update saves a changed person (a whole entity: Get it first).
func (s *PersonsService) Update(ctx context.Context, p *Person) (*Person, error) {
	return persons.update(ctx, s.client(), p)
}

// Delete deletes the person with the id (see Client.Do on a retried
// DELETE that finds it gone).
func (s *PersonsService) Delete(ctx context.Context, id int) error {
	return persons.delete(ctx, s.client(), id)
}

// List returns the first page of the person list. opts may be nil.
func (s *PersonsService) List(ctx context.Context, opts *ListOptions) (*Page[PersonRow], error) {
	return persons.list(ctx, s.client(), opts)
}

// Next returns the page after p, or nil, nil after the last one.
func (s *PersonsService) Next(ctx context.Context, p *Page[PersonRow]) (*Page[PersonRow], error) {
	return next(ctx, s.client(), p)
}

// All iterates over every row of the person list. opts may be nil.
func (s *PersonsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[PersonRow, error] {
	return persons.all(ctx, s.client(), opts)
}

// client is the service's client; nil for a nil service (a zero Client's),
// which Do reports as an error.
func (s *PersonsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}
