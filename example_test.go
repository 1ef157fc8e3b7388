package superoffice_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"net/http"

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

// Example is SuperOffice's system-user scenario end to end, against the
// emulator: the partner loads its key, a tenant administrator signs in
// (headlessly here; superid's LoginHandler and CallbackHandler do it in a
// web app), the app reads the id_token's claims, and then creates a
// company as the tenant's system user (the ticket exchange happens on the
// way) and as the signed-in administrator (createCompanies, the README's
// quick start).
func Example() {
	ctx := context.Background()
	const clientID, clientSecret, redirectURL = "my-app", "my-app-secret", "https://app.example.com/callback"

	// The partner's key, as loaded from the file the developer portal
	// handed out (.NET RSA XML or PEM).
	key, err := systemuser.ParsePrivateKey(partnerKeyFile())
	if err != nil {
		log.Fatal(err)
	}

	// SuperOffice Online, in process: the app registered with its public
	// key, one tenant and its administrator.
	srv := superidtest.NewServer(superidtest.WithHeadlessLogin())
	defer srv.Close()
	must(srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: clientSecret, SystemUser: true,
		PublicKey: &key.PublicKey, RedirectURLs: []string{redirectURL}}))
	must(srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"}))
	must(srv.AddUser(superidtest.User{Username: "admin@example.com", Password: "pw",
		ContextIdentifier: "Cust12345", Administrator: true, FullName: "Ada Admin"}))

	// Steps 1-2: send the administrator to SuperID, take the code from
	// the redirect back, redeem it; Exchange validates the id_token.
	sid, err := superid.New(superid.Config{Environment: srv.Environment(),
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL})
	if err != nil {
		log.Fatal(err)
	}
	login := superid.NewLoginRequest()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(sid.AuthCodeURL(login, superid.LoginHint("admin@example.com"),
		superid.WithResponseMode(superid.ResponseModeQuery)))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	back, err := resp.Location()
	if err != nil {
		log.Fatal(err)
	}
	signedIn, err := sid.Exchange(ctx, back.Query().Get("code"), login)
	if err != nil {
		log.Fatal(err)
	}

	// Step 3: what the app stores for the tenant.
	c := signedIn.Claims
	fmt.Println("tenant:", c.ContextIdentifier, "administrator:", c.IsAdministrator,
		"system user token:", c.SystemUserToken != "")

	// Steps 4-6: the system user and the signed-in user each create a
	// company.
	err = createCompanies(ctx, srv.Environment(), key, clientSecret,
		c.ContextIdentifier, c.SystemUserToken, c.WebAPIURL, sid.TokenSource(ctx, signedIn.Token))
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// tenant: Cust12345 administrator: true system user token: true
	// created company 1 "Example AS" as System User
	// created company 2 "Example AS" as Ada Admin
}

// partnerKeyFile stands in for os.ReadFile("partner-key.pem").
func partnerKeyFile() []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		log.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
