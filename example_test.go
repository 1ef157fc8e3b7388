package superoffice_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// createCompanies is the README's quick start: it creates a company the
// one documented way, first as the tenant's system user, then as the
// signed-in user.
func createCompanies(ctx context.Context, env superid.Environment, key *rsa.PrivateKey, clientSecret,
	contextID, systemUserToken, webAPIURL string, userTokens oauth2.TokenSource) error {
	// The system user: systemuser signs the tenant's system user token,
	// exchanges it at SuperID for a ticket, and caches the ticket.
	su, err := systemuser.New(systemuser.Config{Environment: env, ClientSecret: clientSecret, PrivateKey: key})
	if err != nil {
		return err
	}
	asSystemUser, err := tenant.New(tenant.Config{
		BaseURL:     webAPIURL, // the id_token's webapi_url claim
		Environment: env,       // a URL on any other domain never gets the ticket
		Credentials: tenant.SystemUser(su.TicketSource(contextID, systemUserToken), clientSecret),
	})
	if err != nil {
		return err
	}
	// The signed-in user: their access token (superid.Client.TokenSource
	// refreshes it).
	asUser, err := tenant.New(tenant.Config{
		BaseURL:     webAPIURL,
		Environment: env,
		Credentials: tenant.AccessToken(userTokens),
	})
	if err != nil {
		return err
	}
	for _, client := range []*tenant.Client{asSystemUser, asUser} {
		// GET v1/Contact/default, set the name, POST v1/Contact.
		company, err := webapi.New(client).Contact.CreateCompany(ctx, "Example AS")
		if err != nil {
			return err
		}
		fmt.Printf("created company %d %q as %s\n", company.ContactID, company.Name, company.CreatedBy.FullName)
	}
	return nil
}

// The quick start of the README (createCompanies, above) against the
// emulator: a partner app, a tenant that approved it, and a signed-in
// user of that tenant.
func Example() {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048) // the partner's key pair
	if err != nil {
		log.Fatal(err)
	}
	const contextID, clientID, secret = "Cust12345", "my-app", "my-app-secret"
	if err := srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: secret, SystemUser: true, PublicKey: &key.PublicKey}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: contextID}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddUser(superidtest.User{Username: "ada@example.com", Password: "pw", ContextIdentifier: contextID, FullName: "Ada Lovelace"}); err != nil {
		log.Fatal(err)
	}
	// What the app stored from the administrator's approval, and the
	// signed-in user's token (both from superid in a real app).
	systemUserToken, err := srv.Approve(contextID, clientID)
	if err != nil {
		log.Fatal(err)
	}
	accessToken, err := srv.AccessTokenFor("ada@example.com")
	if err != nil {
		log.Fatal(err)
	}
	userTokens := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken})

	err = createCompanies(context.Background(), srv.Environment(), key, secret,
		contextID, systemUserToken, srv.WebAPIURL(contextID), userTokens)
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// created company 1 "Example AS" as System User
	// created company 2 "Example AS" as Ada Lovelace
}
