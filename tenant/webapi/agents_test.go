package webapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
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
		Environment: srv.Environment(),
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

// TestEmulatedMergeTakesARequestStruct merges two companies through
// ContactAgent.Merge, whose four parameters (two ids, two bools) are set
// by name, and checks the body the agent received and what it did.
func TestEmulatedMergeTakesARequestStruct(t *testing.T) {
	ctx := context.Background()
	api, srv := emulated(t)
	const ctxID = "Cust777"
	src, err := srv.AddContact(ctxID, superidtest.Contact{Name: "Dup AS", Department: "Sales", OrgNr: "999"})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := srv.AddContact(ctxID, superidtest.Contact{Name: "Keep AS", OrgNr: "123"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []superidtest.Person{
		{ContactID: src.ContactID, Firstname: "Ada", Lastname: "Lovelace"},
		{ContactID: src.ContactID, Firstname: "Alan", Lastname: "Turing"},
		{ContactID: dst.ContactID, Firstname: "ada", Lastname: "lovelace"},
	} {
		if _, err := srv.AddPerson(ctxID, p); err != nil {
			t.Fatal(err)
		}
	}

	err = api.ContactAgent.Merge(ctx, webapi.ContactMergeRequest{
		SourceContactID:                 int64(src.ContactID),
		DestinationContactID:            int64(dst.ContactID),
		MergeIdenticalPersons:           true,
		ReplaceEmptyFieldsOnDestination: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, r := range srv.Requests(superidtest.EndpointTenantAPI) {
		if strings.HasSuffix(r.Path, "/v1/Agents/Contact/Merge") {
			body = r.Body
		}
	}
	want := fmt.Sprintf(`{"SourceContactId":%d,"DestinationContactId":%d,"MergeIdenticalPersons":true,"ReplaceEmptyFieldsOnDestination":true}`, src.ContactID, dst.ContactID)
	if ok, err := jsonEq(body, []byte(want)); err != nil || !ok {
		t.Errorf("Merge sent %s, want %s (%v)", body, want, err)
	}

	if _, err := api.Contact.GetByID(ctx, int64(src.ContactID)); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("source after merge: %v", err)
	}
	got, err := api.Contact.GetByID(ctx, int64(dst.ContactID))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Keep AS" || got.Department != "Sales" || got.OrgNr != "123" {
		t.Errorf("destination %q %q %q: want its own name and org. no., the source's department", got.Name, got.Department, got.OrgNr)
	}
	var names []string
	for _, p := range srv.Persons(ctxID) {
		if p.ContactID != dst.ContactID {
			t.Errorf("person %s %s left at company %d", p.Firstname, p.Lastname, p.ContactID)
		}
		names = append(names, p.Firstname)
	}
	if strings.Join(names, ",") != "Alan,ada" {
		t.Errorf("persons after merge: %v, want Alan (moved) and ada (kept; the identical Ada dropped)", names)
	}

	// A bad merge is the API's 400, not a silent no-op.
	err = api.ContactAgent.Merge(ctx, webapi.ContactMergeRequest{SourceContactID: int64(dst.ContactID), DestinationContactID: int64(dst.ContactID)})
	if !errors.Is(err, tenant.ErrBadRequest) {
		t.Errorf("merge into itself: %v", err)
	}
}

// jsonEq compares two JSON texts as values.
func jsonEq(a, b []byte) (bool, error) {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return false, err
	}
	return reflect.DeepEqual(va, vb), nil
}
