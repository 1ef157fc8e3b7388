package webapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
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
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: ctxID}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: secret}); err != nil {
		t.Fatal(err)
	}
	ticket, err := srv.TicketFor(ctxID, clientID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tenant.New(tenant.Config{
		BaseURL:     srv.WebAPIURL(ctxID),
		Credentials: tenant.SystemUser(staticTicket(ticket), secret),
		HTTPClient:  srv.Client(),
		Retry:       tenant.RetryPolicy{MaxRetries: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return webapi.New(c), srv
}

func TestEmulatedContactAgentAnswersLikeREST(t *testing.T) {
	ctx := context.Background()
	api, srv := emulated(t)

	def, err := api.ContactAgent.CreateDefaultContactEntity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	restDef, err := api.Contact.GetDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if def.ContactID != 0 || def.Country == nil || restDef.Country == nil || def.Country.CountryID != restDef.Country.CountryID {
		t.Errorf("agent default %+v differs from REST default %+v", def, restDef)
	}

	def.Name = "Agent AS"
	def.Emails = []webapi.EntityElement{{Value: "post@agent.example"}}
	saved, err := api.ContactAgent.SaveContactEntity(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ContactID == 0 || saved.Name != "Agent AS" || len(saved.Emails) != 1 {
		t.Fatalf("saved %+v", saved)
	}
	viaREST, err := api.Contact.GetByID(ctx, saved.ContactID)
	if err != nil || viaREST.Name != "Agent AS" {
		t.Fatalf("REST GetByID: %+v, %v", viaREST, err)
	}
	viaAgent, err := api.ContactAgent.GetContactEntity(ctx, saved.ContactID)
	if err != nil || viaAgent.Name != viaREST.Name || !viaAgent.CreatedDate.Equal(viaREST.CreatedDate.Time) {
		t.Fatalf("agent GetContactEntity: %+v, %v", viaAgent, err)
	}

	// Saving an existing entity updates it.
	viaAgent.Department = "Sales"
	upd, err := api.ContactAgent.SaveContactEntity(ctx, viaAgent)
	if err != nil || upd.ContactID != saved.ContactID || upd.Department != "Sales" {
		t.Fatalf("update: %+v, %v", upd, err)
	}
	if n := len(srv.Contacts("Cust777")); n != 1 {
		t.Errorf("%d contacts stored, want 1", n)
	}

	// The REST service's validation applies, as a 400.
	if _, err := api.ContactAgent.SaveContactEntity(ctx, &webapi.ContactEntity{}); !errors.Is(err, tenant.ErrBadRequest) {
		t.Errorf("nameless contact: %v", err)
	}

	// A missing item is null with 200, not 404, as agents answer.
	missing, err := api.ContactAgent.GetContactEntity(ctx, 999)
	if err != nil || missing != nil {
		t.Errorf("missing: %+v, %v", missing, err)
	}
	if _, err := api.Contact.GetByID(ctx, 999); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("REST missing: %v", err)
	}

	if err := api.ContactAgent.DeleteContactEntity(ctx, saved.ContactID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Contact.GetByID(ctx, saved.ContactID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}

	// The requests the agents received, as the spec gives them.
	var paths []string
	for _, r := range srv.Requests(superidtest.EndpointTenantAPI) {
		if r.Method == "POST" {
			paths = append(paths, r.Path+"?"+r.RawQuery)
		}
	}
	want := "/Cust777/api/v1/Agents/Contact/GetContactEntity?contactEntityId=1"
	found := false
	for _, p := range paths {
		found = found || p == want
	}
	if !found {
		t.Errorf("no %s among %v", want, paths)
	}
}

func TestEmulatedAgentsRefuseBadInput(t *testing.T) {
	api, _ := emulated(t)
	var zero webapi.API
	if _, err := zero.ContactAgent.CreateDefaultContactEntity(context.Background()); err == nil {
		t.Error("zero API made a call")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := api.ContactAgent.GetContactEntity(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}
