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

var contactFields = knownFields(reflect.TypeFor[Contact]())

// UnmarshalJSON decodes a ContactEntity, keeping unnamed fields in Extra.
func (c *Contact) UnmarshalJSON(b []byte) error {
	type plain Contact
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := extraFields(b, contactFields)
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
	b, err := json.Marshal(plain(c))
	if err != nil {
		return nil, err
	}
	return withExtra(b, c.Extra, contactFields)
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

// Default returns a new company with the server's defaults (owner,
// country...), the documented start of a company to create.
func (s *ContactsService) Default(ctx context.Context) (*Contact, error) {
	var c Contact
	if err := s.client().Do(ctx, http.MethodGet, "v1/Contact/default", nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Get returns the company with the id; a missing one matches ErrNotFound.
func (s *ContactsService) Get(ctx context.Context, id int) (*Contact, error) {
	if id <= 0 {
		return nil, errors.New("tenant: contact id must be positive, not " + strconv.Itoa(id))
	}
	var c Contact
	if err := s.client().Do(ctx, http.MethodGet, "v1/Contact/"+strconv.Itoa(id), nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Create saves a new company (ContactID 0; start from Default) and
// returns it as saved, with its ContactID. It is sent once: a POST is not
// retried, as a retry could create the company twice.
func (s *ContactsService) Create(ctx context.Context, c *Contact) (*Contact, error) {
	switch {
	case c == nil:
		return nil, errors.New("tenant: Create: nil contact")
	case c.ContactID != 0:
		return nil, errors.New("tenant: Create: contact has an id already; use Update")
	}
	var out Contact
	if err := s.client().Do(ctx, http.MethodPost, "v1/Contact", c, &out); err != nil {
		return nil, err
	}
	return &out, nil
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
	switch {
	case c == nil:
		return nil, errors.New("tenant: Update: nil contact")
	case c.ContactID <= 0:
		return nil, errors.New("tenant: Update: contact has no id; use Create")
	}
	var out Contact
	if err := s.client().Do(ctx, http.MethodPut, "v1/Contact/"+strconv.Itoa(c.ContactID), c, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the company with the id.
func (s *ContactsService) Delete(ctx context.Context, id int) error {
	if id <= 0 {
		return errors.New("tenant: contact id must be positive, not " + strconv.Itoa(id))
	}
	return s.client().Do(ctx, http.MethodDelete, "v1/Contact/"+strconv.Itoa(id), nil, nil)
}

// List returns the first page of the company list; Next returns the
// following ones. opts may be nil.
func (s *ContactsService) List(ctx context.Context, opts *ListOptions) (*Page[ContactRow], error) {
	return firstPage[ContactRow](ctx, s.client(), "v1/Contact", opts)
}

// Next returns the page after p, or nil, nil after the last one.
func (s *ContactsService) Next(ctx context.Context, p *Page[ContactRow]) (*Page[ContactRow], error) {
	return next(ctx, s.client(), p)
}

// All iterates over every row of the company list, fetching pages as it
// goes; it stops at the first error, which it yields. opts may be nil.
func (s *ContactsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[ContactRow, error] {
	return all[ContactRow](ctx, s.client(), "v1/Contact", opts)
}

// client is the service's client; nil for a nil service (a zero Client's),
// which Do reports as an error.
func (s *ContactsService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}
