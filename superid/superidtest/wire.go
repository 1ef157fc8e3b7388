package superidtest

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// The entities on the wire are tenant/webapi's generated carriers, so that
// the emulator answers with every member SuperOffice's carriers have (the
// default contact has them all: Address, Faxes, Persons,
// UserDefinedFields, CustomFields, FieldProperties, TableRight, ...) and
// stores every member a client sends, without a copy of its own of the
// REST reference.

// fullRights is the TableRight of everything the emulator answers: every
// principal may do everything. SuperOffice writes full rights as the
// member FULL of ETableRight (PROTOCOL.md section 12; captured responses),
// not as a list of the single rights.
func fullRights() *webapi.TableRight {
	return &webapi.TableRight{Mask: webapi.ETableRightFULL}
}

// webTime is t as a response writes it (see wireTimes).
func (wt wireTimes) webTime(t time.Time) webapi.Time {
	switch {
	case t.IsZero():
		return webapi.Time{}
	case wt.offset:
		return webapi.Time{Time: t.UTC()}
	}
	return webapi.Time{Time: t.UTC().In(webapi.Unspecified)}
}

func elements(vs []string) []webapi.EntityElement {
	out := make([]webapi.EntityElement, len(vs))
	for i, v := range vs {
		out[i] = webapi.EntityElement{Value: v, StrippedValue: v}
	}
	return out
}

func values(es []webapi.EntityElement) []string {
	var out []string
	for _, e := range es {
		if v := strings.TrimSpace(e.Value); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func country(id int) *webapi.Country {
	c := countries[id]
	return &webapi.Country{CountryID: int64(id), Name: c[0], TwoLetterISOCountry: c[1]}
}

// associate is the associate id of tenant t as an entity member; an
// empty one for 0 (nobody), so that the member is there all the same.
func (e *Emulator) associate(t *Tenant, id int) *webapi.Associate {
	a := e.associateLocked(t, id)
	if a == nil {
		return &webapi.Associate{}
	}
	return &webapi.Associate{AssociateID: int64(a.AssociateId), Name: a.Name, FullName: a.FullName}
}

// contactWireLocked is company c as the API answers it: the members c
// does not model as last stored, the others from c.
func (e *Emulator) contactWireLocked(t *Tenant, st *tenantStore, c *Contact, wt wireTimes) *webapi.ContactEntity {
	w := cloneEntity(c.Entity)
	if w == nil {
		w = &webapi.ContactEntity{}
	}
	fillEmpty(reflect.ValueOf(w).Elem(), 1)
	w.ContactID, w.Name, w.Department, w.OrgNr = int64(c.ContactID), c.Name, c.Department, c.OrgNr
	w.Number1, w.Number2, w.Description = c.Number1, c.Number2, c.Description
	w.CreatedDate, w.UpdatedDate = wt.webTime(c.Created), wt.webTime(c.Updated)
	w.Emails, w.Phones, w.URLs = elements(c.Emails), elements(c.Phones), elements(c.URLs)
	w.UpdatedBy, w.CreatedBy = e.associate(t, c.UpdatedBy), e.associate(t, c.CreatedBy)
	w.Associate = e.associate(t, c.AssociateID)
	w.Business = &webapi.Business{ID: int64(c.BusinessID), Value: businesses[c.BusinessID]}
	w.Category = &webapi.Category{ID: int64(c.CategoryID), Value: categories[c.CategoryID]}
	w.Country = country(c.CountryID)
	w.TableRight = fullRights()
	w.Persons = w.Persons[:0]
	if c.ContactID != 0 {
		for _, p := range st.personList() {
			if p.ContactID == c.ContactID {
				w.Persons = append(w.Persons, webapi.Person{PersonID: int64(p.PersonID), ContactID: int64(c.ContactID),
					ContactName: c.Name, Firstname: p.Firstname, Lastname: p.Lastname, FullName: personName(p)})
			}
		}
	}
	return w
}

func personName(p *Person) string {
	return strings.Join(strings.Fields(p.Firstname+" "+p.MiddleName+" "+p.Lastname), " ")
}

// personWireLocked is person p as the API answers it, like
// contactWireLocked.
func (e *Emulator) personWireLocked(t *Tenant, st *tenantStore, p *Person, wt wireTimes) *webapi.PersonEntity {
	w := cloneEntity(p.Entity)
	if w == nil {
		w = &webapi.PersonEntity{}
	}
	fillEmpty(reflect.ValueOf(w).Elem(), 1)
	w.PersonID, w.Firstname, w.MiddleName, w.Lastname = int64(p.PersonID), p.Firstname, p.MiddleName, p.Lastname
	w.Mrmrs, w.Title, w.Description = p.Mrmrs, p.Title, p.Description
	w.CreatedDate, w.UpdatedDate = wt.webTime(p.Created), wt.webTime(p.Updated)
	w.Emails, w.OfficePhones = elements(p.Emails), elements(p.Phones)
	w.UpdatedBy, w.CreatedBy = e.associate(t, p.UpdatedBy), e.associate(t, p.CreatedBy)
	w.Associate = e.associate(t, p.AssociateID)
	if w.Country == nil || w.Country.CountryID == 0 {
		w.Country = country(578)
	}
	w.TableRight = fullRights()
	w.Contact = &webapi.Contact{} // none
	if i, ok := st.contactIndex(p.ContactID); ok {
		w.Contact = &webapi.Contact{ContactID: int64(p.ContactID), Name: st.contacts[i].name}
	}
	return w
}

// rest is what a stored entity keeps of in, a request's body decoded for
// this request alone, beyond the fields its record models: in itself, with
// those members cleared (clear does that) and empty lists, maps and
// members dropped; nil when nothing is left, so that the companies a demo
// creates by the ten thousand stay small.
func rest[W any](in *W, clear func(*W)) *W {
	if in == nil {
		return nil
	}
	clear(in)
	if dropEmpty(reflect.ValueOf(in).Elem()) {
		return nil
	}
	return in
}

// cloneEntity is a deep copy of v, by way of its JSON form (which is what
// the store keeps of it anyway); nil for nil.
func cloneEntity[W any](v *W) *W {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out W
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return &out
}

// fillEmpty gives every nil list and map of struct v an empty one, and
// (depth > 0) every nil struct member a zero struct filled one level less
// deep, so that an answer carries every member of its carrier, as
// SuperOffice's do, rather than leaving out what is empty.
func fillEmpty(v reflect.Value, depth int) {
	for i := range v.NumField() {
		// CanSet, not Type().Field(i).IsExported(): that builds a whole
		// StructField, and this runs for every member of every answer.
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			if f.IsNil() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
		case reflect.Map:
			if f.IsNil() {
				f.Set(reflect.MakeMap(f.Type()))
			}
		case reflect.Struct:
			if v.Type().Field(i).Anonymous { // the embedded Carrier
				fillEmpty(f, depth)
			}
		case reflect.Pointer:
			if f.IsNil() && depth > 0 && f.Type().Elem().Kind() == reflect.Struct {
				f.Set(reflect.New(f.Type().Elem()))
				fillEmpty(f.Elem(), depth-1)
			}
		}
	}
}

// dropEmpty undoes fillEmpty on struct v: empty lists and maps become nil,
// members that hold nothing nil. It reports whether v holds nothing.
func dropEmpty(v reflect.Value) bool {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() { // unexported (see fillEmpty)
			continue
		}
		switch f.Kind() {
		case reflect.Slice, reflect.Map:
			if !f.IsNil() && f.Len() == 0 {
				f.Set(reflect.Zero(f.Type()))
			}
		case reflect.Struct:
			if v.Type().Field(i).Anonymous {
				dropEmpty(f)
			}
		case reflect.Pointer:
			if !f.IsNil() && f.Type().Elem().Kind() == reflect.Struct && dropEmpty(f.Elem()) {
				f.Set(reflect.Zero(f.Type()))
			}
		}
	}
	return v.IsZero()
}

// clearContact clears the members of a ContactEntity that Contact models
// (and those the server computes: TableRight, FieldProperties, Persons).
func clearContact(w *webapi.ContactEntity) {
	w.ContactID, w.Name, w.Department, w.OrgNr = 0, "", "", ""
	w.Number1, w.Number2, w.Description = "", "", ""
	w.CreatedDate, w.UpdatedDate = webapi.Time{}, webapi.Time{}
	w.Emails, w.Phones, w.URLs = nil, nil, nil
	w.UpdatedBy, w.CreatedBy, w.Associate = nil, nil, nil
	w.Business, w.Category, w.Country = nil, nil, nil
	w.TableRight, w.FieldProperties, w.Persons = nil, nil, nil
}

// clearPerson clears the members of a PersonEntity that Person models.
// The Country a client sends is kept (Person has none of its own).
func clearPerson(w *webapi.PersonEntity) {
	w.PersonID, w.Firstname, w.MiddleName, w.Lastname = 0, "", "", ""
	w.Mrmrs, w.Title, w.Description = "", "", ""
	w.CreatedDate, w.UpdatedDate = webapi.Time{}, webapi.Time{}
	w.Emails, w.OfficePhones = nil, nil
	w.UpdatedBy, w.CreatedBy, w.Associate, w.Contact = nil, nil, nil, nil
	w.TableRight, w.FieldProperties = nil, nil
	if w.Country != nil && w.Country.CountryID == 578 {
		w.Country = nil // the default: nothing to keep
	}
}
