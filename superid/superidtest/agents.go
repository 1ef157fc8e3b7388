package superidtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// The Agents API methods the examples and tenant/webapi use, answering
// like the Contact REST service they share a store with. Agents are all
// POSTs, take their id in the query string and answer 200 with null for a
// missing item instead of 404, as SuperOffice documents.

func (e *Emulator) agentRoutes() {
	for _, rt := range []struct {
		pattern string
		h       apiHandler
	}{
		{"POST /{ctx}/api/v1/Agents/Contact/CreateDefaultContactEntity", e.agentCreateDefaultContactEntity},
		{"POST /{ctx}/api/v1/Agents/Contact/GetContactEntity", e.agentGetContactEntity},
		{"POST /{ctx}/api/v1/Agents/Contact/SaveContactEntity", e.agentSaveContactEntity},
		{"POST /{ctx}/api/v1/Agents/Contact/DeleteContactEntity", e.agentDeleteContactEntity},
		{"POST /{ctx}/api/v1/Agents/Contact/Merge", e.agentMerge},
	} {
		e.route(rt.pattern, EndpointTenantAPI, e.tenantAPI(rt.h))
	}
}

// agentNull is the body of an agent's answer for nothing found.
var agentNull = json.RawMessage("null")

// queryID reads an agent's id parameter; the server binds query names
// without regard to case (the JavaScript client sends contactEntityId for
// Get and ContactEntityId for Delete).
func queryID(r *http.Request, name string) (int, bool) {
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			id, err := strconv.Atoi(vs[0])
			return id, err == nil
		}
	}
	return 0, false
}

func (e *Emulator) agentCreateDefaultContactEntity(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	return contactKind.serveDefault(e, r, t, st, p)
}

func (e *Emulator) agentGetContactEntity(r *http.Request, t *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "contactEntityId")
	if !ok {
		return apiError(http.StatusBadRequest, "contactEntityId is required and must be a number")
	}
	c := st.contact(id)
	if c == nil {
		return http.StatusOK, agentNull
	}
	return http.StatusOK, e.contactWireLocked(t, st, c, timesFor(r))
}

// agentSaveContactEntity creates the contact when ContactId is 0 and
// updates it otherwise, with the REST service's validation.
func (e *Emulator) agentSaveContactEntity(r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	var in webapi.ContactEntity
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	var c *Contact
	var msg string
	if in.ContactID == 0 {
		c, msg = contactKind.create(e, st, p, &in)
	} else if old := st.contact(int(in.ContactID)); old == nil {
		msg = "Contact " + strconv.FormatInt(in.ContactID, 10) + " does not exist"
	} else {
		c, msg = contactKind.change(e, st, p, old, &in)
	}
	if msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	return http.StatusOK, e.contactWireLocked(t, st, c, timesFor(r))
}

func (e *Emulator) agentDeleteContactEntity(r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "ContactEntityId")
	if !ok {
		return apiError(http.StatusBadRequest, "ContactEntityId is required and must be a number")
	}
	st.deleteContact(id)
	return http.StatusNoContent, nil
}

// agentMerge merges one company into another, as ContactAgent.Merge does:
// the source's persons move to the destination (with
// MergeIdenticalPersons, one whose first and last name match a person
// already there is dropped), with ReplaceEmptyFieldsOnDestination the
// source fills the destination's empty fields, and the source is deleted.
// Its body is one object of the method's parameters; like the server, it
// reads the keys without regard to case.
func (e *Emulator) agentMerge(r *http.Request, _ *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	var in struct {
		SourceContactID                 int  `json:"SourceContactId"`
		DestinationContactID            int  `json:"DestinationContactId"`
		MergeIdenticalPersons           bool `json:"MergeIdenticalPersons"`
		ReplaceEmptyFieldsOnDestination bool `json:"ReplaceEmptyFieldsOnDestination"`
	}
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	src, dst := st.contact(in.SourceContactID), st.contact(in.DestinationContactID)
	switch {
	case src == nil:
		return apiError(http.StatusBadRequest, "source contact "+strconv.Itoa(in.SourceContactID)+" does not exist")
	case dst == nil:
		return apiError(http.StatusBadRequest, "destination contact "+strconv.Itoa(in.DestinationContactID)+" does not exist")
	case src.ContactID == dst.ContactID:
		return apiError(http.StatusBadRequest, "a contact cannot be merged into itself")
	}
	if in.ReplaceEmptyFieldsOnDestination {
		for _, f := range []struct{ to, from *string }{
			{&dst.Department, &src.Department}, {&dst.OrgNr, &src.OrgNr}, {&dst.Number1, &src.Number1},
			{&dst.Number2, &src.Number2}, {&dst.Description, &src.Description},
		} {
			if *f.to == "" {
				*f.to = *f.from
			}
		}
		for _, f := range []struct{ to, from *[]string }{{&dst.Emails, &src.Emails}, {&dst.Phones, &src.Phones}, {&dst.URLs, &src.URLs}} {
			if len(*f.to) == 0 {
				*f.to = append([]string(nil), *f.from...)
			}
		}
		for _, f := range []struct{ to, from *int }{{&dst.CategoryID, &src.CategoryID}, {&dst.BusinessID, &src.BusinessID}, {&dst.CountryID, &src.CountryID}} {
			if *f.to == 0 {
				*f.to = *f.from
			}
		}
	}
	samePerson := func(a, b *Person) bool {
		return strings.EqualFold(a.Firstname, b.Firstname) && strings.EqualFold(a.Lastname, b.Lastname)
	}
	var kept []*Person
	for _, pn := range st.personList() {
		if pn.ContactID == src.ContactID {
			if in.MergeIdenticalPersons && st.hasPerson(dst.ContactID, pn, samePerson) {
				continue // dropped
			}
			pn.ContactID = dst.ContactID
		}
		kept = append(kept, pn)
	}
	if st.people != nil {
		st.people.persons = kept
	}
	dst.UpdatedBy, dst.Updated = p.associateID, e.now()
	st.updateContact(dst)
	st.deleteContact(src.ContactID)
	return http.StatusNoContent, nil
}

// hasPerson reports whether the company contactID has a person other than
// p for which same holds.
func (st *tenantStore) hasPerson(contactID int, p *Person, same func(a, b *Person) bool) bool {
	for _, o := range st.personList() {
		if o != p && o.ContactID == contactID && same(o, p) {
			return true
		}
	}
	return false
}
