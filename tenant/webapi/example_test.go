package webapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// Create a company as the system user, against the emulator, the one
// documented way: Contact.CreateCompany (the default entity, which the
// server fills in, then the name, then save). Then create a duplicate with
// a department, taking the same steps by hand, and merge it into the
// first: Merge takes its two ids and two bools in a ContactMergeRequest,
// set by name, so the source and destination cannot be swapped by accident.
func Example() {
	ctx := context.Background()
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()

	// The partner app, a tenant that approved it, and the app's key pair.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	const ctxID, clientID, secret = "Cust12345", "my-app", "my-app-secret"
	if err := srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: secret, SystemUser: true, PublicKey: &key.PublicKey}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: ctxID}); err != nil {
		log.Fatal(err)
	}
	systemUserToken, err := srv.Approve(ctxID, clientID)
	if err != nil {
		log.Fatal(err)
	}

	// The system user: signed token -> ticket, cached and renewed.
	su, err := systemuser.New(systemuser.Config{Environment: srv.Environment(), ClientSecret: secret, PrivateKey: key, HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	client, err := tenant.New(tenant.Config{
		BaseURL:     srv.WebAPIURL(ctxID),
		Environment: srv.Environment(),
		Credentials: tenant.SystemUser(su.TicketSource(ctxID, systemUserToken), secret),
		HTTPClient:  srv.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	api := webapi.New(client)

	company, err := api.Contact.CreateCompany(ctx, "Example AS")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("saved contact %d %q, created by associate %d\n", company.ContactID, company.Name, company.CreatedBy.AssociateID)

	// The REST service sees the same company.
	same, err := api.Contact.GetByID(ctx, company.ContactID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(same.Name, same.CreatedDate.IsZero())

	dup, err := api.Contact.GetDefault(ctx)
	if err != nil {
		log.Fatal(err)
	}
	dup.Name, dup.Department = "Example AS", "Sales"
	if dup, err = api.Contact.Post(ctx, dup); err != nil {
		log.Fatal(err)
	}
	err = api.ContactAgent.Merge(ctx, webapi.ContactMergeRequest{
		SourceContactID:                 dup.ContactID,
		DestinationContactID:            company.ContactID,
		ReplaceEmptyFieldsOnDestination: true, // the duplicate's department fills the empty one
	})
	if err != nil {
		log.Fatal(err)
	}
	merged, err := api.Contact.GetByID(ctx, company.ContactID)
	if err != nil {
		log.Fatal(err)
	}
	_, err = api.Contact.GetByID(ctx, dup.ContactID)
	fmt.Printf("merged %d into %d: %s, %s; duplicate gone: %t\n", dup.ContactID, merged.ContactID, merged.Name, merged.Department, errors.Is(err, tenant.ErrNotFound))
	// Output:
	// saved contact 1 "Example AS", created by associate 1
	// Example AS false
	// merged 2 into 1: Example AS, Sales; duplicate gone: true
}
