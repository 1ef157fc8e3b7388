package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
)

// An exchange runs on the goroutine of the caller that starts it; when that
// caller gives up, the callers waiting for the same ticket exchange again
// rather than fail with its cancellation.
func TestTicketWaitersOutliveTheCallerThatLeaves(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeySize(1024), superidtest.WithRequestLogLimit(0))
	t.Cleanup(srv.Close)
	app, err := demo.NewApp("tickets-test", 1024)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Register(srv.Emulator); err != nil {
		t.Fatal(err)
	}
	id := demo.ContextID(0)
	if err := srv.AddTenant(superidtest.Tenant{ContextIdentifier: id, Serial: "1"}); err != nil {
		t.Fatal(err)
	}
	token, err := srv.Approve(id, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	su, err := systemuser.New(systemuser.Config{Environment: srv.Environment(), ClientSecret: app.ClientSecret,
		PrivateKey: app.PrivateKey, Retry: systemuser.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	r := &runTickets{su: su, contextID: id, token: token, now: time.Now, reuse: time.Hour, timeout: 20 * time.Second}
	srv.Fail(superidtest.EndpointSystemUser, superidtest.Fault{Delay: time.Hour, Times: 1}) // the first never answers

	first, leave := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := r.Ticket(first)
		firstErr <- err
	}()
	for srv.Count(superidtest.EndpointSystemUser) == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tk, err := r.Ticket(ctx); err != nil || tk.Value == "" {
				t.Errorf("a caller waiting when the first left: %v", err)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // the three wait on the hung exchange
	leave()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that left: %v, want its cancellation", err)
	}
	wg.Wait()
	if n := srv.Count(superidtest.EndpointSystemUser); n != 2 {
		t.Fatalf("%d exchanges, want 2: the hung one, and one that the three shared", n)
	}
}
