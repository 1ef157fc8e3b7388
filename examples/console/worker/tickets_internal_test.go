package worker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
)

// An exchange runs on the goroutine of the caller that starts it; when that
// caller gives up, the callers waiting for the same ticket exchange again
// rather than fail with its cancellation.
func TestTicketWaitersOutliveTheCallerThatLeaves(t *testing.T) {
	// The emulator behind a front that holds the first exchange until its
	// caller gives up, and says when it has it.
	hs := httptest.NewUnstartedServer(nil)
	em, err := superidtest.New("http://"+hs.Listener.Addr().String(), superidtest.WithKeySize(1024), superidtest.WithRequestLogLimit(0))
	require.NoError(t, err)
	var exchanges atomic.Int32
	held, release := make(chan struct{}), make(chan struct{})
	hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "PartnerSystemUser/Authenticate") && exchanges.Add(1) == 1 {
			// Read to the end, so that the server notices the client leave.
			_, _ = io.Copy(io.Discard, r.Body)
			close(held)
			select { // the first never answers
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		em.ServeHTTP(w, r)
	})
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(release) }) // before hs.Close, which waits for the handlers

	app, err := demo.NewApp("tickets-test", 1024)
	require.NoError(t, err)
	require.NoError(t, app.Register(em))
	id := demo.ContextID(0)
	require.NoError(t, em.AddTenant(superidtest.Tenant{ContextIdentifier: id, Serial: "1"}))
	token, err := em.Approve(id, app.ClientID)
	require.NoError(t, err)
	// Each caller about to wait for the held exchange says so.
	waiting := make(chan struct{}, 3)
	testHookWait = func() {
		select {
		case waiting <- struct{}{}:
		default: // one that waits again after the first left
		}
	}
	t.Cleanup(func() { testHookWait = nil })
	su, err := systemuser.New(systemuser.Config{Environment: em.Environment(), ClientSecret: app.ClientSecret,
		PrivateKey: app.PrivateKey, Retry: systemuser.RetryPolicy{MaxRetries: -1}})
	require.NoError(t, err)
	r := &runTickets{su: su, contextID: id, token: token, now: time.Now, reuse: time.Hour, timeout: 20 * time.Second}

	first, leave := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := r.Ticket(first)
		firstErr <- err
	}()
	<-held
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tk, err := r.Ticket(ctx)
			if assert.NoError(t, err, "a caller waiting when the first left") {
				assert.NotEmpty(t, tk.Value)
			}
		})
	}
	for range 3 {
		<-waiting // the three wait on the held exchange
	}
	leave()
	require.ErrorIs(t, <-firstErr, context.Canceled, "the caller that left")
	wg.Wait()
	assert.Equal(t, int32(2), exchanges.Load(), "exchanges: the held one, and one that the three shared")
}
