package tenant_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// exampleEmulator starts the emulator with one tenant, an app with
// system-user rights (whose private key it returns) and a user.
func exampleEmulator() (*superidtest.Server, *rsa.PrivateKey) {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.RegisterApp(superidtest.App{ClientID: "my-app", ClientSecret: "my-secret", SystemUser: true, PublicKey: &key.PublicKey}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddUser(superidtest.User{Username: "ada@example.com", Password: "pw", ContextIdentifier: "Cust12345", FullName: "Ada Lovelace"}); err != nil {
		log.Fatal(err)
	}
	return srv, key
}

// emulatorTickets stands in for a systemuser ticket cache: the emulator
// mints the ticket an exchange would return.
type emulatorTickets struct {
	srv *superidtest.Server
	mu  sync.Mutex
	cur string
}

func (s *emulatorTickets) Ticket(context.Context) (*systemuser.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == "" {
		t, err := s.srv.TicketFor("Cust12345", "my-app")
		if err != nil {
			return nil, err
		}
		s.cur = t
	}
	return &systemuser.Ticket{Value: s.cur, ContextIdentifier: "Cust12345"}, nil
}

func (s *emulatorTickets) Invalidate() { s.mu.Lock(); s.cur = ""; s.mu.Unlock() }

// Create a company as the tenant's system user, the one documented way:
// webapi's Contact.CreateCompany (GET v1/Contact/default, set the name,
// POST v1/Contact) on a tenant client. The ticket comes from systemuser's
// cache, which signs and exchanges the tenant's system user token; the
// tenant is found through the state API.
func ExampleSystemUser() {
	srv, partnerKey := exampleEmulator()
	defer srv.Close()
	ctx := context.Background()
	// The tenant's system user token, from the administrator's approval
	// (the system_token claim); the app stores it.
	systemUserToken, err := srv.Approve("Cust12345", "my-app")
	if err != nil {
		log.Fatal(err)
	}

	su, err := systemuser.New(systemuser.Config{
		Environment: srv.Environment(), ClientSecret: "my-secret", PrivateKey: partnerKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	resolver, err := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment()})
	if err != nil {
		log.Fatal(err)
	}
	client, err := tenant.New(tenant.Config{
		Resolver:          resolver,
		ContextIdentifier: "Cust12345",
		Credentials:       tenant.SystemUser(su.TicketSource("Cust12345", systemUserToken), "my-secret"),
	})
	if err != nil {
		log.Fatal(err)
	}
	company, err := webapi.New(client).Contact.CreateCompany(ctx, "Acme AS")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %q with id %d, by %s\n", company.Name, company.ContactID, company.CreatedBy.FullName)
	for _, c := range srv.Contacts("Cust12345") {
		fmt.Printf("stored %q, created by associate %d (the system user)\n", c.Name, c.CreatedBy)
	}
	// Output:
	// created "Acme AS" with id 1, by System User
	// stored "Acme AS", created by associate 1 (the system user)
}

// Create a company as the signed-in user, the same way as the system
// user: only the credentials differ. The access token comes from the
// user's sign-in (superid.Client.TokenSource refreshes it).
func ExampleAccessToken() {
	srv, _ := exampleEmulator()
	defer srv.Close()
	accessToken, err := srv.AccessTokenFor("ada@example.com")
	if err != nil {
		log.Fatal(err)
	}
	client, err := tenant.New(tenant.Config{
		BaseURL:     srv.WebAPIURL("Cust12345"), // the webapi_url claim
		Environment: srv.Environment(),
		Credentials: tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken})),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	api := webapi.New(client)
	me, err := api.UserAgent.CurrentPrincipal(ctx)
	if err != nil {
		log.Fatal(err)
	}
	company, err := api.Contact.CreateCompany(ctx, "Acme AS")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s created %q (owner %s)\n", me.FullName, company.Name, company.Associate.FullName)
	// Output:
	// Ada Lovelace created "Acme AS" (owner Ada Lovelace)
}

// List companies: All walks every page of an OData list, decoding each
// row into a type of the caller's, here with the columns asked for.
func ExampleAll() {
	srv, _ := exampleEmulator()
	defer srv.Close()
	for _, name := range []string{"Globex", "Acme AS", "Initech", "Acme Labs"} {
		if _, err := srv.AddContact("Cust12345", superidtest.Contact{Name: name}); err != nil {
			log.Fatal(err)
		}
	}
	client, err := tenant.New(tenant.Config{
		BaseURL:     srv.WebAPIURL("Cust12345"),
		Environment: srv.Environment(),
		Credentials: tenant.SystemUser(&emulatorTickets{srv: srv}, "my-secret"),
	})
	if err != nil {
		log.Fatal(err)
	}
	type company struct {
		ID   int    `json:"contactId"`
		Name string `json:"name"`
	}
	opts := &tenant.ListOptions{Select: []string{"contactId", "name"}, Filter: "name begins 'Acme'", OrderBy: "name"}
	for row, err := range tenant.All[company](context.Background(), client, "v1/Contact", opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(row.ID, row.Name)
	}
	// Output:
	// 2 Acme AS
	// 4 Acme Labs
}

// Tell errors apart with errors.Is; errors.As gives the details.
func ExampleError() {
	srv, _ := exampleEmulator()
	defer srv.Close()
	if err := srv.SetTenantState("Cust12345", "OfflineMaintenance"); err != nil {
		log.Fatal(err)
	}
	resolver, _ := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment()})
	client, err := tenant.New(tenant.Config{Resolver: resolver, ContextIdentifier: "Cust12345",
		Credentials: tenant.SystemUser(&emulatorTickets{srv: srv}, "my-secret")})
	if err != nil {
		log.Fatal(err)
	}
	_, err = webapi.New(client).Contact.GetByID(context.Background(), 42)
	var te *tenant.Error
	switch {
	case errors.Is(err, tenant.ErrTenantNotRunning) && errors.As(err, &te):
		fmt.Println("tenant not running, state:", te.State.State)
	case errors.Is(err, tenant.ErrNotFound):
		fmt.Println("no such company")
	case errors.Is(err, tenant.ErrUnauthorized):
		fmt.Println("the tenant withdrew its consent")
	case err != nil:
		fmt.Println("failed:", err)
	}
	// Output:
	// tenant not running, state: OfflineMaintenance
}

// A service with many tenants keeps each tenant's state with the tenant
// (here a map stands in for its database), so that a later run, in this
// process or another, makes no state request while the state is good.
func ExampleResolver_Remember() {
	srv, _ := exampleEmulator()
	defer srv.Close()
	ctx := context.Background()
	type kept struct {
		state *tenant.State
		until time.Time
	}
	saved := map[string]kept{}

	for run := 1; run <= 2; run++ {
		r, err := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment()})
		if err != nil {
			log.Fatal(err)
		}
		if s, ok := saved["Cust12345"]; ok {
			if err := r.Remember("Cust12345", s.state, s.until); err != nil {
				log.Print(err) // altered or foreign: looked up again instead
			}
		}
		st, err := r.Resolve(ctx, "Cust12345")
		if err != nil {
			log.Fatal(err)
		}
		state, until := r.Cached("Cust12345")
		saved["Cust12345"] = kept{state, until}
		fmt.Println("run", run, st.State, "state requests so far:", srv.Count(superidtest.EndpointTenantState))
	}
	// Output:
	// run 1 Running state requests so far: 1
	// run 2 Running state requests so far: 1
}
