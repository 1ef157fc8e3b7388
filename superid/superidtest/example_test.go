package superidtest_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// staticTicket is a ticket source for tests: the one ticket TicketFor
// minted, never renewed.
type staticTicket string

func (s staticTicket) Ticket(context.Context) (*systemuser.Ticket, error) {
	return &systemuser.Ticket{Value: string(s)}, nil
}

func (staticTicket) Invalidate() {}

// Test code that creates companies against the emulator, with no key pair
// and no sign-in: TicketFor and AccessTokenFor mint the credentials, the
// company is created the one documented way (webapi's
// Contact.CreateCompany), and Contacts shows what was stored, and by whom.
func Example() {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()
	if err := srv.RegisterApp(superidtest.App{ClientID: "my-app", ClientSecret: "my-secret"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddUser(superidtest.User{Username: "ada@example.com", Password: "pw", ContextIdentifier: "Cust12345", FullName: "Ada Lovelace"}); err != nil {
		log.Fatal(err)
	}
	ticket, err := srv.TicketFor("Cust12345", "my-app")
	if err != nil {
		log.Fatal(err)
	}
	accessToken, err := srv.AccessTokenFor("ada@example.com")
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for _, creds := range []tenant.Credentials{
		tenant.SystemUser(staticTicket(ticket), "my-secret"),
		tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken})),
	} {
		client, err := tenant.New(tenant.Config{BaseURL: srv.WebAPIURL("Cust12345"), Environment: srv.Environment(), Credentials: creds})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := webapi.New(client).Contact.CreateCompany(ctx, "Acme AS"); err != nil {
			log.Fatal(err)
		}
	}
	for _, c := range srv.Contacts("Cust12345") {
		fmt.Printf("company %d %q created by associate %d\n", c.ContactID, c.Name, c.CreatedBy)
	}
	// Output:
	// company 1 "Acme AS" created by associate 1
	// company 2 "Acme AS" created by associate 5
}
