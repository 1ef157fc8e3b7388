package systemuser_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
)

// Example runs the whole system-user flow against the emulator: the
// partner's key, a tenant's approval, the exchange and the
// ticket cache that a partner service keeps per tenant.
func Example() {
	// SuperOffice Online, in-process.
	srv := superidtest.NewServer()
	defer srv.Close()

	// The partner's RSA key, whose public half SuperOffice keeps: here as
	// PKCS#8 PEM; the developer portal's XML (or so-keyconv's PEM of it)
	// reads the same way.
	generated, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(generated)
	keyFile := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	_ = srv.RegisterApp(superidtest.App{
		ClientID: "partner-app", ClientSecret: "the-application-token",
		SystemUser: true, PublicKey: &generated.PublicKey,
	})
	_ = srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"})
	// An administrator approves the app; its id_token carries this token.
	systemUserToken, _ := srv.Approve("Cust12345", "partner-app")

	// The partner service.
	key, err := systemuser.ParsePrivateKey(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	client, err := systemuser.New(systemuser.Config{
		Environment:  srv.Environment(),
		ClientSecret: "the-application-token",
		PrivateKey:   key,
	})
	if err != nil {
		log.Fatal(err)
	}
	tickets := client.TicketSource("Cust12345", systemUserToken)
	for range 3 { // three jobs, one exchange
		ticket, err := tickets.Ticket(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ticket.ContextIdentifier, strings.HasPrefix(ticket.Value, "7T:"),
			ticket.WebAPIURL == srv.WebAPIURL("Cust12345"))
	}
	fmt.Println("exchanges:", srv.Exchanges("Cust12345"))

	// A 401 from the tenant API means the ticket is gone: drop it.
	tickets.Invalidate()
	if _, err := tickets.Ticket(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("exchanges:", srv.Exchanges("Cust12345"))
	// Output:
	// Cust12345 true true
	// Cust12345 true true
	// Cust12345 true true
	// exchanges: 1
	// exchanges: 2
}

// ExampleError shows how to tell exchange failures apart.
func ExampleError() {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	_ = srv.RegisterApp(superidtest.App{ClientID: "app", ClientSecret: "secret", SystemUser: true, PublicKey: &key.PublicKey})
	_ = srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust1"})
	token, _ := srv.Approve("Cust1", "app")
	srv.RevokeApproval("Cust1", "app") // the tenant uninstalled the app

	client, _ := systemuser.New(systemuser.Config{Environment: srv.Environment(), ClientSecret: "secret", PrivateKey: key})
	_, err := client.Exchange(context.Background(), "Cust1", token)

	var e *systemuser.Error
	if !errors.As(err, &e) {
		fmt.Println("no exchange error:", err)
		return
	}
	switch {
	case errors.Is(err, systemuser.ErrClockSkew):
		fmt.Println("fix the clock, it is off by", e.ClockSkew)
	case e.Refused(): // SuperID's own answer: the token, the app or the tenant
		fmt.Printf("refused (HTTP %d): %s\n", e.StatusCode, e.ErrorMessage)
	case errors.Is(err, systemuser.ErrRejected): // a bare 4xx: look at the set-up
		fmt.Printf("rejected (HTTP %d)\n", e.StatusCode)
	case errors.Is(err, systemuser.ErrRateLimited), errors.Is(err, systemuser.ErrUnavailable):
		fmt.Println("try again later")
	case errors.Is(err, systemuser.ErrInvalidToken):
		fmt.Println("SuperID's answer failed validation")
	default:
		fmt.Println("other:", err)
	}
	// Output:
	// refused (HTTP 200): Unknown or revoked system user token.
}

// ExampleSign signs a system user token as SuperID expects it.
func ExampleSign() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	signed, err := systemuser.Sign(key, "MyApp-2d2D5KmBji", mustTime("2025-01-31T14:05:00Z"))
	if err != nil {
		log.Fatal(err)
	}
	parts := strings.Split(signed, ".")
	fmt.Println(parts[0], parts[1], len(parts[2]))
	// Output: MyApp-2d2D5KmBji 202501311405 344
}

func mustTime(s string) (t time.Time) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
