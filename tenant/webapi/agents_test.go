package webapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staticTicket is a TicketSource of one ticket the emulator minted.
type staticTicket string

func (s staticTicket) Ticket(context.Context) (*systemuser.Ticket, error) {
	return &systemuser.Ticket{Value: string(s)}, nil
}
func (staticTicket) Invalidate() {}

// emulated returns the web API of an emulated tenant, as the system user
// (with a ticket minted by the emulator, so no key pair is needed).
func emulated(t *testing.T) (*webapi.API, *superidtest.Server) {
	t.Helper()
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	t.Cleanup(srv.Close)
	const ctxID, clientID, secret = "Cust777", "app", "app-secret"
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: ctxID}))
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: secret}))
	ticket, err := srv.TicketFor(ctxID, clientID)
	require.NoError(t, err)
	c, err := tenant.New(tenant.Config{
		BaseURL:     srv.WebAPIURL(ctxID),
		Environment: srv.Environment(),
		Credentials: tenant.SystemUser(staticTicket(ticket), secret),
		HTTPClient:  srv.Client(),
		Retry:       tenant.RetryPolicy{MaxRetries: -1},
	})
	require.NoError(t, err)
	return webapi.New(c), srv
}

func TestEmulatedContactAgentAnswersLikeREST(t *testing.T) {
	ctx := context.Background()
	api, srv := emulated(t)

	def, err := api.ContactAgent.CreateDefaultContactEntity(ctx)
	require.NoError(t, err)
	restDef, err := api.Contact.GetDefault(ctx)
	require.NoError(t, err)
	assert.Zero(t, def.ContactID, "the agent's default has an id")
	if assert.NotNil(t, def.Country, "the agent's default country") && assert.NotNil(t, restDef.Country, "the REST default country") {
		assert.Equal(t, restDef.Country.CountryID, def.Country.CountryID, "the agent's default country differs from REST's")
	}

	def.Name = "Agent AS"
	def.Emails = []webapi.EntityElement{{Value: "post@agent.example"}}
	saved, err := api.ContactAgent.SaveContactEntity(ctx, def)
	require.NoError(t, err)
	require.NotZero(t, saved.ContactID, "saved")
	require.Equal(t, "Agent AS", saved.Name, "saved")
	require.Len(t, saved.Emails, 1, "saved")
	viaREST, err := api.Contact.GetByID(ctx, saved.ContactID)
	require.NoError(t, err, "REST GetByID")
	require.Equal(t, "Agent AS", viaREST.Name, "REST GetByID")
	viaAgent, err := api.ContactAgent.GetContactEntity(ctx, saved.ContactID)
	require.NoError(t, err, "agent GetContactEntity")
	require.Equal(t, viaREST.Name, viaAgent.Name, "agent GetContactEntity")
	require.True(t, viaAgent.CreatedDate.Equal(viaREST.CreatedDate.Time), "agent GetContactEntity: created %v, REST %v", viaAgent.CreatedDate, viaREST.CreatedDate)

	// Saving an existing entity updates it.
	viaAgent.Department = "Sales"
	upd, err := api.ContactAgent.SaveContactEntity(ctx, viaAgent)
	require.NoError(t, err, "update")
	require.Equal(t, saved.ContactID, upd.ContactID, "update")
	require.Equal(t, "Sales", upd.Department, "update")
	assert.Len(t, srv.Contacts("Cust777"), 1, "contacts stored")

	// The REST service's validation applies, as a 400.
	_, err = api.ContactAgent.SaveContactEntity(ctx, &webapi.ContactEntity{})
	assert.ErrorIs(t, err, tenant.ErrBadRequest, "nameless contact")

	// A missing item is null with 200, not 404, as agents answer.
	missing, err := api.ContactAgent.GetContactEntity(ctx, 999)
	assert.NoError(t, err, "missing")
	assert.Nil(t, missing, "missing")
	_, err = api.Contact.GetByID(ctx, 999)
	assert.ErrorIs(t, err, tenant.ErrNotFound, "REST missing")

	require.NoError(t, api.ContactAgent.DeleteContactEntity(ctx, saved.ContactID))
	_, err = api.Contact.GetByID(ctx, saved.ContactID)
	assert.ErrorIs(t, err, tenant.ErrNotFound, "after delete")

	// The requests the agents received, as the spec gives them.
	var paths []string
	for _, r := range srv.Requests(superidtest.EndpointTenantAPI) {
		if r.Method == "POST" {
			paths = append(paths, r.Path+"?"+r.RawQuery)
		}
	}
	assert.Contains(t, paths, "/Cust777/api/v1/Agents/Contact/GetContactEntity?contactEntityId=1")
}

func TestEmulatedAgentsRefuseBadInput(t *testing.T) {
	api, _ := emulated(t)
	var zero webapi.API
	_, err := zero.ContactAgent.CreateDefaultContactEntity(context.Background())
	assert.Error(t, err, "zero API made a call")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = api.ContactAgent.GetContactEntity(ctx, 1)
	assert.ErrorIs(t, err, context.Canceled, "cancelled ctx")
}

// TestEmulatedMergeTakesARequestStruct merges two companies through
// ContactAgent.Merge, whose four parameters (two ids, two bools) are set
// by name, and checks the body the agent received and what it did.
func TestEmulatedMergeTakesARequestStruct(t *testing.T) {
	ctx := context.Background()
	api, srv := emulated(t)
	const ctxID = "Cust777"
	src, err := srv.AddContact(ctxID, superidtest.Contact{Name: "Dup AS", Department: "Sales", OrgNr: "999"})
	require.NoError(t, err)
	dst, err := srv.AddContact(ctxID, superidtest.Contact{Name: "Keep AS", OrgNr: "123"})
	require.NoError(t, err)
	for _, p := range []superidtest.Person{
		{ContactID: src.ContactID, Firstname: "Ada", Lastname: "Lovelace"},
		{ContactID: src.ContactID, Firstname: "Alan", Lastname: "Turing"},
		{ContactID: dst.ContactID, Firstname: "ada", Lastname: "lovelace"},
	} {
		_, err := srv.AddPerson(ctxID, p)
		require.NoError(t, err)
	}

	err = api.ContactAgent.Merge(ctx, webapi.ContactMergeRequest{
		SourceContactID:                 int64(src.ContactID),
		DestinationContactID:            int64(dst.ContactID),
		MergeIdenticalPersons:           true,
		ReplaceEmptyFieldsOnDestination: true,
	})
	require.NoError(t, err)
	var body []byte
	for _, r := range srv.Requests(superidtest.EndpointTenantAPI) {
		if strings.HasSuffix(r.Path, "/v1/Agents/Contact/Merge") {
			body = r.Body
		}
	}
	want := fmt.Sprintf(`{"SourceContactId":%d,"DestinationContactId":%d,"MergeIdenticalPersons":true,"ReplaceEmptyFieldsOnDestination":true}`, src.ContactID, dst.ContactID)
	assert.JSONEq(t, want, string(body), "the body Merge sent")

	_, err = api.Contact.GetByID(ctx, int64(src.ContactID))
	assert.ErrorIs(t, err, tenant.ErrNotFound, "source after merge")
	got, err := api.Contact.GetByID(ctx, int64(dst.ContactID))
	require.NoError(t, err)
	// The destination keeps its own name and org. no. and takes the source's department.
	assert.Equal(t, "Keep AS", got.Name, "destination")
	assert.Equal(t, "Sales", got.Department, "destination")
	assert.Equal(t, "123", got.OrgNr, "destination")
	var names []string
	for _, p := range srv.Persons(ctxID) {
		assert.Equal(t, dst.ContactID, p.ContactID, "person %s %s left at another company", p.Firstname, p.Lastname)
		names = append(names, p.Firstname)
	}
	assert.Equal(t, []string{"Alan", "ada"}, names, "persons after merge: Alan (moved) and ada (kept; the identical Ada dropped)")

	// A bad merge is the API's 400, not a silent no-op.
	err = api.ContactAgent.Merge(ctx, webapi.ContactMergeRequest{SourceContactID: int64(dst.ContactID), DestinationContactID: int64(dst.ContactID)})
	assert.ErrorIs(t, err, tenant.ErrBadRequest, "merge into itself")
}
