package superidtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
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
	return e.apiContactDefault(r, t, st, p)
}

func (e *Emulator) agentGetContactEntity(r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "contactEntityId")
	if !ok {
		return apiError(http.StatusBadRequest, "BadRequest", "contactEntityId is required and must be a number")
	}
	c := st.contact(id)
	if c == nil {
		return http.StatusOK, agentNull
	}
	return http.StatusOK, e.contactWireLocked(c)
}

// agentSaveContactEntity creates the contact when ContactId is 0 and
// updates it otherwise, with the REST service's validation.
func (e *Emulator) agentSaveContactEntity(r *http.Request, _ *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	var in wireContact
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.ContactId == 0 {
		c := &Contact{AssociateID: p.associateID}
		if msg := contactFromWire(&in, c); msg != "" {
			return apiError(http.StatusBadRequest, "ValidationError", msg)
		}
		c.CreatedBy, c.Created = p.associateID, e.now().UTC()
		st.insertContact(c)
		return http.StatusOK, e.contactWireLocked(c)
	}
	c := st.contact(in.ContactId)
	if c == nil {
		return apiError(http.StatusBadRequest, "ValidationError", "Contact "+strconv.Itoa(in.ContactId)+" does not exist")
	}
	next := *c
	if msg := contactFromWire(&in, &next); msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	next.UpdatedBy, next.Updated = p.associateID, e.now()
	st.updateContact(&next)
	return http.StatusOK, e.contactWireLocked(&next)
}

func (e *Emulator) agentDeleteContactEntity(r *http.Request, _ *Tenant, st *tenantStore, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "ContactEntityId")
	if !ok {
		return apiError(http.StatusBadRequest, "BadRequest", "ContactEntityId is required and must be a number")
	}
	st.deleteContact(id)
	return http.StatusNoContent, nil
}
