package tenant

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
)

// Contact is a company: the web API's ContactEntity. Fields the package
// does not name (Address, Interests, UserDefinedFields...) travel in
// Extra, so an entity read, changed and saved keeps them.
type Contact struct {
	ContactID   int `json:"ContactId"` // 0 for a new company
	Name        string
	Department  string
	OrgNr       string // VAT number or similar
	Number1     string
	Number2     string
	Description string
	Emails      []EntityElement
	Phones      []EntityElement
	URLs        []EntityElement `json:"Urls"`
	Faxes       []EntityElement
	Associate   *Associate // the owner
	Business    *ListItem
	Category    *ListItem
	Country     *Country
	NoMailing   bool
	Xstop       bool
	// CustomFields holds user-defined and extra fields by ProgId or
	// "SuperOffice:<id>".
	CustomFields map[string]string `json:",omitempty"`
	CreatedDate  Time
	UpdatedDate  Time
	CreatedBy    *Associate
	UpdatedBy    *Associate
	// Extra holds every other field as received.
	Extra Extra `json:"-"`
}

var (
	contactFields = knownFields(reflect.TypeFor[Contact]())
	contactIndex  = fieldIndex(reflect.TypeFor[Contact]())
)

// UnmarshalJSON decodes a ContactEntity, keeping unnamed fields in Extra.
func (c *Contact) UnmarshalJSON(b []byte) error { return c.decodeJSON(b) }

func (c *Contact) decodeJSON(b []byte) error {
	type plain Contact
	p, extra, err := decodeFast[plain](b, contactIndex, contactFields)
	if err != nil {
		return err
	}
	p.Extra = extra
	*c = Contact(p)
	return nil
}

// MarshalJSON encodes a ContactEntity, Extra included.
func (c Contact) MarshalJSON() ([]byte, error) {
	type plain Contact
	return encodeEntity(plain(c), c.Extra, contactFields)
}

func (c *Contact) encodeJSON() ([]byte, error) {
	if c == nil {
		return []byte("null"), nil // as json.Marshal encodes a nil pointer
	}
	return c.MarshalJSON()
}

// ContactRow is a row of the Contact list.
type ContactRow struct {
	Row
	ContactID  int
	Name       string
	Department string
	OrgNr      string
}

// UnmarshalJSON decodes a row, filling the named columns when present.
func (r *ContactRow) UnmarshalJSON(b []byte) error {
	if err := r.Row.UnmarshalJSON(b); err != nil {
		return err
	}
	r.ContactID = r.Int("contactId")
	if r.ContactID == 0 {
		r.ContactID = r.PrimaryKey
	}
	r.Name, r.Department, r.OrgNr = r.String("name"), r.String("department"), r.String("orgNr")
	return nil
}

// ContactsService reads and writes companies (v1/Contact).
type ContactsService struct{ c *Client }

var contacts = entityService[Contact, ContactRow]{
	path: "v1/Contact",
	noun: "contact",
	id:   func(c *Contact) int { return c.ContactID },
}

// Default returns a new company with the server's defaults (owner,
// country...), the documented start of a company to create.
func (s *ContactsService) Default(ctx context.Context) (*Contact, error) {
	return contacts.defaults(ctx, s.client())
}

// Get returns the company with the id; a missing one matches ErrNotFound.
func (s *ContactsService) Get(ctx context.Context, id int) (*Contact, error) {
	return contacts.get(ctx, s.client(), id)
}

// Create saves a new company (ContactID 0; start from Default) and
// returns it as saved, with its ContactID. It is sent once: a POST is not
// retried, as a retry could create the company twice.
func (s *ContactsService) Create(ctx context.Context, c *Contact) (*Contact, error) {
	return contacts.create(ctx, s.client(), c)
}

// CreateCompany creates a company the documented way: the default
// entity, with its name set, saved.
func (s *ContactsService) CreateCompany(ctx context.Context, name string) (*Contact, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("tenant: CreateCompany: empty name")
	}
	c, err := s.Default(ctx)
	if err != nil {
		return nil, err
	}
	c.Name = name
	return s.Create(ctx, c)
}

// Update saves a changed company (a whole entity: Get it first) and
// returns it as saved.
func (s *ContactsService) Update(ctx context.Context, c *Contact) (*Contact, error) {
	return contacts.update(ctx, s.client(), c)
}

// Delete deletes the company with the id (see Client.Do on a retried
// DELETE that finds it gone).
func (s *ContactsService) Delete(ctx context.Context, id int) error {
	return contacts.delete(ctx, s.client(), id)
}

// List returns the first page of the company list; Next returns the
// following ones. opts may be nil.
func (s *ContactsService) List(ctx context.Context, opts *ListOptions) (*Page[ContactRow], error) {
	return contacts.list(ctx, s.client(), opts)
}

// Next returns the page after p, or nil, nil after the last one.
func (s *ContactsService) Next(ctx context.Context, p *Page[ContactRow]) (*Page[ContactRow], error) {
	return next(ctx, s.client(), p)
}

// All iterates over every row of the company list, fetching pages as it
// goes; it stops at the first error, which it yields. opts may be nil.
func (s *ContactsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[ContactRow, error] {
	return contacts.all(ctx, s.client(), opts)
}

// client is the service's client; nil for a nil service (a zero Client's),
// which Do reports as an error.
func (s *ContactsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}
