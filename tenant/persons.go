package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"reflect"
	"strconv"
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

var personFields = knownFields(reflect.TypeFor[Person]())

// UnmarshalJSON decodes a PersonEntity, keeping unnamed fields in Extra.
func (p *Person) UnmarshalJSON(b []byte) error {
	type plain Person
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	extra, err := extraFields(b, personFields)
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
	b, err := json.Marshal(plain(p))
	if err != nil {
		return nil, err
	}
	return withExtra(b, p.Extra, personFields)
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

// Default returns a new person with the server's defaults.
func (s *PersonsService) Default(ctx context.Context) (*Person, error) {
	var p Person
	if err := s.client().Do(ctx, http.MethodGet, "v1/Person/default", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Get returns the person with the id; a missing one matches ErrNotFound.
func (s *PersonsService) Get(ctx context.Context, id int) (*Person, error) {
	if id <= 0 {
		return nil, errors.New("tenant: person id must be positive, not " + strconv.Itoa(id))
	}
	var p Person
	if err := s.client().Do(ctx, http.MethodGet, "v1/Person/"+strconv.Itoa(id), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Create saves a new person (PersonID 0; start from Default) and returns
// it as saved. It is sent once, never retried.
func (s *PersonsService) Create(ctx context.Context, p *Person) (*Person, error) {
	switch {
	case p == nil:
		return nil, errors.New("tenant: Create: nil person")
	case p.PersonID != 0:
		return nil, errors.New("tenant: Create: person has an id already; use Update")
	case strings.TrimSpace(p.Firstname) == "" && strings.TrimSpace(p.Lastname) == "":
		return nil, errors.New("tenant: Create: person needs a first or last name")
	}
	var out Person
	if err := s.client().Do(ctx, http.MethodPost, "v1/Person", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update saves a changed person (a whole entity: Get it first).
func (s *PersonsService) Update(ctx context.Context, p *Person) (*Person, error) {
	switch {
	case p == nil:
		return nil, errors.New("tenant: Update: nil person")
	case p.PersonID <= 0:
		return nil, errors.New("tenant: Update: person has no id; use Create")
	}
	var out Person
	if err := s.client().Do(ctx, http.MethodPut, "v1/Person/"+strconv.Itoa(p.PersonID), p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the person with the id.
func (s *PersonsService) Delete(ctx context.Context, id int) error {
	if id <= 0 {
		return errors.New("tenant: person id must be positive, not " + strconv.Itoa(id))
	}
	return s.client().Do(ctx, http.MethodDelete, "v1/Person/"+strconv.Itoa(id), nil, nil)
}

// List returns the first page of the person list. opts may be nil.
func (s *PersonsService) List(ctx context.Context, opts *ListOptions) (*Page[PersonRow], error) {
	return firstPage[PersonRow](ctx, s.client(), "v1/Person", opts)
}

// Next returns the page after p, or nil, nil after the last one.
func (s *PersonsService) Next(ctx context.Context, p *Page[PersonRow]) (*Page[PersonRow], error) {
	return next(ctx, s.client(), p)
}

// All iterates over every row of the person list. opts may be nil.
func (s *PersonsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[PersonRow, error] {
	return all[PersonRow](ctx, s.client(), "v1/Person", opts)
}

// client is the service's client; nil for a nil service (a zero Client's),
// which Do reports as an error.
func (s *PersonsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}
