package tenant_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"

	"golang.org/x/oauth2"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
)

// tracing stands in for otelhttp.NewTransport: it sees every attempt
// the client makes.
type tracing struct {
	mu   sync.Mutex
	next http.RoundTripper
}

func (t *tracing) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.mu.Lock()
		// A span would record these; never req.Header, which holds the
		// ticket.
		fmt.Println("span:", req.Method, req.URL.Path, resp.StatusCode)
		t.mu.Unlock()
	}
	return resp, err
}

// Tracing goes on the HTTPClient's transport (with OpenTelemetry:
// Transport: otelhttp.NewTransport(http.DefaultTransport)), counting on a
// Meter shared by the resolver and every client.
func Example_observability() {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()
	if err := srv.RegisterApp(superidtest.App{ClientID: "my-app", ClientSecret: "my-secret"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddUser(superidtest.User{Username: "ada@example.com", Password: "pw", ContextIdentifier: "Cust12345"}); err != nil {
		log.Fatal(err)
	}
	token, err := srv.AccessTokenFor("ada@example.com")
	if err != nil {
		log.Fatal(err)
	}

	meter := tenant.NewMeter() // expvar.Publish("superoffice", meter) serves it on /debug/vars
	hc := &http.Client{Transport: &tracing{next: http.DefaultTransport}}
	resolver, err := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment(), HTTPClient: hc, Meter: meter})
	if err != nil {
		log.Fatal(err)
	}
	client, err := tenant.New(tenant.Config{
		Resolver: resolver, ContextIdentifier: "Cust12345",
		Credentials: tenant.AccessToken(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})),
		HTTPClient:  hc,
		Meter:       meter,
	})
	if err != nil {
		log.Fatal(err)
	}
	var me struct{ UserType string }
	if err := client.Do(context.Background(), http.MethodGet, "v1/User/currentPrincipal", nil, &me); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", meter.Tenant("Cust12345"))
	// Output:
	// span: GET /api/state/Cust12345 200
	// span: GET /Cust12345/api/v1/User/currentPrincipal 200
	// {Calls:1 Retries:0 RateLimited:0 Exchanges:1 StateLookups:1}
}

// A StateChangeHandler mounted at the app's state change URL keeps the
// resolver up to date: a suspended tenant fails at once.
func ExampleStateChangeHandler() {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024))
	defer srv.Close()
	if err := srv.RegisterApp(superidtest.App{ClientID: "my-app", ClientSecret: "my-secret"}); err != nil {
		log.Fatal(err)
	}
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: "Cust12345"}); err != nil {
		log.Fatal(err)
	}
	resolver, err := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment()})
	if err != nil {
		log.Fatal(err)
	}
	h, err := tenant.NewStateChangeHandler(tenant.StateChangeConfig{
		Environment: srv.Environment(),
		Resolver:    resolver,
		OnChange: func(_ context.Context, c *tenant.StateChange) error {
			fmt.Println("tenant", c.ContextIdentifier, c.Type)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /superoffice/state", h)
	app := httptest.NewServer(mux)
	defer app.Close()
	if err := srv.SetStateChangeURL("my-app", app.URL+"/superoffice/state", nil); err != nil {
		log.Fatal(err)
	}

	if err := srv.SetTenantState("Cust12345", "Suspended"); err != nil { // SuperOffice notifies the app
		log.Fatal(err)
	}
	_, err = resolver.Resolve(context.Background(), "Cust12345")
	fmt.Println(err)
	fmt.Println("state requests:", srv.Count(superidtest.EndpointTenantState))
	// Output:
	// tenant Cust12345 Suspend
	// tenant: tenant Cust12345 is Suspended
	// state requests: 0
}
