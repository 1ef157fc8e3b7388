package webapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// hookSetup is an emulated tenant (whose retry waits return at once) and
// a receiver: a webhook.Handler with secrets derived per tenant, which
// can be made to fail.
type hookSetup struct {
	api    *webapi.API
	srv    *superidtest.Server
	target string
	master []byte
	down   atomic.Bool
	mu     sync.Mutex
	events []*webhook.Event
}

func newHookSetup(t *testing.T) *hookSetup {
	t.Helper()
	s := &hookSetup{master: []byte("a master key of 32 bytes or more.")}
	s.srv = superidtest.NewServer(superidtest.WithKeySize(1024),
		superidtest.WithWebhookWait(func(context.Context, time.Duration) error { return nil }))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.srv.WaitWebhooks)
	const ctxID, clientID, secret = "Cust888", "app", "app-secret"
	require.NoError(t, s.srv.AddTenant(superidtest.Tenant{ContextIdentifier: ctxID}))
	require.NoError(t, s.srv.RegisterApp(superidtest.App{ClientID: clientID, ClientSecret: secret}))
	ticket, err := s.srv.TicketFor(ctxID, clientID)
	require.NoError(t, err)
	c, err := tenant.New(tenant.Config{BaseURL: s.srv.WebAPIURL(ctxID), Environment: s.srv.Environment(), Credentials: tenant.SystemUser(staticTicket(ticket), secret),
		HTTPClient: s.srv.Client(), Retry: tenant.RetryPolicy{MaxRetries: -1}})
	require.NoError(t, err)
	s.api = webapi.New(c)

	h, err := webhook.New(webhook.Config{
		Secret: webhook.DerivedSecrets(s.master, func(r *http.Request) string { return r.PathValue("tenant") }, nil),
		Handle: func(_ context.Context, ev *webhook.Event) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.events = append(s.events, ev)
			return nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{tenant}", h)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() && r.Header.Get("X-Hook-Test") == "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(recv.Close)
	s.target = recv.URL + "/webhooks/" + ctxID
	return s
}

func (s *hookSetup) received() []*webhook.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*webhook.Event(nil), s.events...)
}

func (s *hookSetup) sub() webapi.WebhookSubscription {
	return webapi.WebhookSubscription{
		Name: "example app", TargetURL: s.target, Secret: webhook.DerivedSecret(s.master, "Cust888"),
		Events: []string{"contact.created", "contact.changed", "contact.deleted"},
	}
}

func TestEnsureIsIdempotentAndDelivers(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	first, err := s.api.WebhookAgent.Ensure(ctx, s.sub())
	require.NoError(t, err, "the save's test event passed the Handler")
	assert.Equal(t, webapi.WebhookStateActive, first.State)
	second, err := s.api.WebhookAgent.Ensure(ctx, s.sub())
	require.NoError(t, err)
	assert.Equal(t, first.WebhookID, second.WebhookID)
	all, err := s.api.WebhookAgent.GetAllWebhooks(ctx, webapi.WebhookGetAllWebhooksRequest{})
	require.NoError(t, err)
	assert.Len(t, all, 1, "twice makes one webhook")

	c, err := s.api.ContactAgent.CreateDefaultContactEntity(ctx)
	require.NoError(t, err)
	c.Name = "Hooked AS"
	c, err = s.api.ContactAgent.SaveContactEntity(ctx, c)
	require.NoError(t, err)
	s.srv.WaitWebhooks()
	got := s.received()
	require.Len(t, got, 1, "the test events never reach the app")
	assert.Equal(t, "contact.created", got[0].Event)
	assert.Equal(t, c.ContactID, got[0].PrimaryKey)
	assert.Equal(t, "Cust888", got[0].ContextIdentifier)
	vals, err := webhook.DecodeValues(got[0].FieldValues)
	require.NoError(t, err)
	assert.Equal(t, c.ContactID, vals["contact_id"].Int)
	assert.Equal(t, "Hooked AS", vals["name"].Text)

	// A changed target or events update the same webhook.
	sub := s.sub()
	sub.Events = []string{"contact.created"}
	third, err := s.api.WebhookAgent.Ensure(ctx, sub)
	require.NoError(t, err)
	assert.Equal(t, first.WebhookID, third.WebhookID)
	assert.Equal(t, []string{"contact.created"}, third.Events)
}

func TestEnsureReactivatesAfterTooManyErrors(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	hook, err := s.api.WebhookAgent.Ensure(ctx, s.sub())
	require.NoError(t, err)

	s.down.Store(true) // the receiver is down during nine deliveries
	for range 9 {
		c, err := s.api.ContactAgent.CreateDefaultContactEntity(ctx)
		require.NoError(t, err)
		c.Name = "Lost AS"
		_, err = s.api.ContactAgent.SaveContactEntity(ctx, c)
		require.NoError(t, err)
		s.srv.WaitWebhooks()
	}
	stopped, err := s.api.WebhookAgent.GetWebhook(ctx, hook.WebhookID)
	require.NoError(t, err)
	assert.Equal(t, webapi.WebhookStateTooManyErrors, stopped.State)
	lastErr, err := s.api.WebhookAgent.GetLastError(ctx, hook.WebhookID)
	require.NoError(t, err)
	assert.Contains(t, lastErr, "503")

	s.down.Store(false)
	again, err := s.api.WebhookAgent.Ensure(ctx, s.sub())
	require.NoError(t, err)
	assert.Equal(t, hook.WebhookID, again.WebhookID)
	assert.Equal(t, webapi.WebhookStateActive, again.State)
	c, err := s.api.ContactAgent.CreateDefaultContactEntity(ctx)
	require.NoError(t, err)
	c.Name = "Found AS"
	_, err = s.api.ContactAgent.SaveContactEntity(ctx, c)
	require.NoError(t, err)
	s.srv.WaitWebhooks()
	assert.Len(t, s.received(), 1, "delivered again; the nine lost events are never replayed")
}

func TestEnsureFailsWhenTheReceiverRefusesTheTest(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	sub := s.sub()
	sub.Secret = webhook.DerivedSecret(s.master, "Cust999") // another tenant's secret: the Handler answers 401
	_, err := s.api.WebhookAgent.Ensure(ctx, sub)
	require.ErrorIs(t, err, tenant.ErrBadRequest)
	all, err := s.api.WebhookAgent.GetAllWebhooks(ctx, webapi.WebhookGetAllWebhooksRequest{})
	require.NoError(t, err)
	assert.Empty(t, all)

	for name, bad := range map[string]webapi.WebhookSubscription{
		"no name":    {TargetURL: s.target, Events: []string{"contact.created"}},
		"no events":  {Name: "x", TargetURL: s.target},
		"bad target": {Name: "x", TargetURL: "not a url", Events: []string{"contact.created"}},
	} {
		_, err := s.api.WebhookAgent.Ensure(ctx, bad)
		assert.Error(t, err, name)
	}
}

func TestEnsureWithoutSecretMakesOne(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	// A plain receiver: this test only looks at the saved secret.
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	h, err := s.api.WebhookAgent.Ensure(ctx, webapi.WebhookSubscription{Name: "n", TargetURL: plain.URL, Events: []string{"person.created"}})
	require.NoError(t, err)
	assert.Len(t, h.Secret, 43, "32 random bytes, base64url")
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	_, err := s.api.WebhookAgent.Ensure(ctx, s.sub())
	require.NoError(t, err)
	other := s.sub()
	other.Name = "another app"
	_, err = s.api.WebhookAgent.Ensure(ctx, other)
	require.NoError(t, err)

	n, err := s.api.WebhookAgent.Remove(ctx, "example app")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	all, err := s.api.WebhookAgent.GetAllWebhooks(ctx, webapi.WebhookGetAllWebhooksRequest{})
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "another app", all[0].Name)
	n, err = s.api.WebhookAgent.Remove(ctx, "example app")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.api.WebhookAgent.Remove(ctx, " ")
	assert.Error(t, err)
}

func TestWebhookAgentTestAndSignal(t *testing.T) {
	ctx := context.Background()
	s := newHookSetup(t)
	sub := s.sub()
	sub.Events = []string{"exampleapp.synced"}
	hook, err := s.api.WebhookAgent.Ensure(ctx, sub)
	require.NoError(t, err)

	res, err := s.api.WebhookAgent.TestWebhook(ctx, hook)
	require.NoError(t, err)
	assert.True(t, res.Success, res.Message)
	wrong := *hook
	wrong.Secret = "not the derived one"
	res, err = s.api.WebhookAgent.TestWebhook(ctx, &wrong)
	require.NoError(t, err)
	assert.False(t, res.Success)
	assert.Contains(t, res.Message, "401", "the Handler refused the signature")

	require.NoError(t, s.api.WebhookAgent.SignalEvent(ctx, webapi.WebhookSignalEventRequest{
		EventName: "exampleapp.synced", PrimaryKey: 42, Data: map[string]any{"batch": "7"},
	}))
	s.srv.WaitWebhooks()
	got := s.received()
	require.Len(t, got, 1)
	assert.Equal(t, "exampleapp.synced", got[0].Event)
	assert.Equal(t, int64(42), got[0].PrimaryKey)
	vals, err := webhook.DecodeValues(got[0].FieldValues)
	require.NoError(t, err)
	assert.Equal(t, "7", vals["batch"].Text)
}
