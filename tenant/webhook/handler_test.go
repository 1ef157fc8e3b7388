package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

var master = []byte("0123456789abcdef0123456789abcdef")

// receiver is a Handler behind "POST /webhooks/{tenant}" with derived
// secrets, recording what reaches the app.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []*webhook.Event
	fail error // what the app returns
}

func setup(t *testing.T, cfg webhook.Config) *receiver {
	t.Helper()
	rc := &receiver{}
	if cfg.Secret == nil {
		cfg.Secret = webhook.DerivedSecrets(master, func(r *http.Request) string { return r.PathValue("tenant") },
			func(ctxID string) bool { return strings.HasPrefix(ctxID, "Cust") })
	}
	cfg.Handle = func(_ context.Context, ev *webhook.Event) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.fail != nil {
			return rc.fail
		}
		rc.got = append(rc.got, ev)
		return nil
	}
	h, err := webhook.New(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{tenant}", h)
	rc.srv = httptest.NewServer(mux)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) events() []*webhook.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*webhook.Event(nil), rc.got...)
}

func (rc *receiver) setFail(err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.fail = err
}

type delivery struct {
	method, tenant, contentType, sig string
	body                             []byte
	noSig                            bool
}

// post sends d, signed for d.tenant unless d.sig or d.noSig says
// otherwise, and returns the status and the answer's text.
func (rc *receiver) post(t *testing.T, d delivery) (int, string) {
	t.Helper()
	if d.method == "" {
		d.method = http.MethodPost
	}
	if d.tenant == "" {
		d.tenant = "Cust12345"
	}
	if d.contentType == "" {
		d.contentType = "application/json; charset=utf-8"
	}
	req, err := http.NewRequest(d.method, rc.srv.URL+"/webhooks/"+d.tenant, bytes.NewReader(d.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", d.contentType)
	req.Header.Set("User-Agent", "NetServer-Webhook/11.1.0.0")
	switch {
	case d.noSig:
	case d.sig != "":
		req.Header.Set("x-superoffice-signature", d.sig) // names are case-insensitive
	default:
		req.Header.Set("X-SuperOffice-Signature", webhook.Sign([]byte(webhook.DerivedSecret(master, d.tenant)), d.body))
	}
	resp, err := rc.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func eventBody(id, name string) []byte {
	return fmt.Appendf(nil, `{"EventId":%q,"Timestamp":"2025-09-16T14:22:14.1234567Z","Changes":["name"],"Event":%q,"PrimaryKey":6,"Entity":"contact","ContextIdentifier":"Cust12345","ChangedByAssociateId":5,"WebhookName":"app","FieldValues":{"contact_id":"[I:6]"}}`, id, name)
}

func TestHandlerDeliversOnce(t *testing.T) {
	rc := setup(t, webhook.Config{})
	body := eventBody("e-1", "contact.created")
	status, _ := rc.post(t, delivery{body: body})
	require.Equal(t, http.StatusOK, status)
	// A replay (SuperOffice's retry, or an attacker's copy) is answered
	// 200 and does not reach the app again.
	status, _ = rc.post(t, delivery{body: body})
	assert.Equal(t, http.StatusOK, status)
	got := rc.events()
	require.Len(t, got, 1)
	assert.Equal(t, "contact.created", got[0].Event)
	assert.Equal(t, int64(6), got[0].PrimaryKey)
}

func TestHandlerTestEventNeverReachesApp(t *testing.T) {
	rc := setup(t, webhook.Config{})
	status, _ := rc.post(t, delivery{body: []byte(testEventBody)})
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, rc.events())
	// Unsigned, even the test event is refused.
	status, _ = rc.post(t, delivery{body: []byte(testEventBody), noSig: true})
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestHandlerRetryAfterAppFailure(t *testing.T) {
	rc := setup(t, webhook.Config{})
	body := eventBody("e-2", "person.changed")
	rc.setFail(errors.New("database down"))
	status, text := rc.post(t, delivery{body: body})
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.NotContains(t, text, "database down", "the app's error stays in the log")
	rc.setFail(nil)
	status, _ = rc.post(t, delivery{body: body}) // the retry, same EventId
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, rc.events(), 1)

	rc.setFail(fmt.Errorf("tenant uninstalled: %w", webhook.ErrGone))
	status, _ = rc.post(t, delivery{body: eventBody("e-3", "person.changed")})
	assert.Equal(t, http.StatusGone, status)
}

func TestHandlerRefusals(t *testing.T) {
	rc := setup(t, webhook.Config{MaxBody: 64 << 10})
	body := eventBody("e-4", "contact.changed")
	otherTenant := webhook.Sign([]byte(webhook.DerivedSecret(master, "Cust99999")), body)
	tampered := bytes.Replace(body, []byte(`"PrimaryKey":6`), []byte(`"PrimaryKey":7`), 1)
	big := append(append([]byte(`{"Event":"contact.created","Pad":"`), bytes.Repeat([]byte("x"), 10<<20)...), `"}`...)
	tests := []struct {
		name string
		d    delivery
		want int
	}{
		{"GET", delivery{method: http.MethodGet, body: nil}, http.StatusMethodNotAllowed},
		{"PUT", delivery{method: http.MethodPut, body: body}, http.StatusMethodNotAllowed},
		{"form content type", delivery{contentType: "application/x-www-form-urlencoded", body: body}, http.StatusUnsupportedMediaType},
		{"no content type", delivery{contentType: "text/plain", body: body}, http.StatusUnsupportedMediaType},
		{"unsigned", delivery{body: body, noSig: true}, http.StatusUnauthorized},
		{"tampered body", delivery{body: tampered, sig: webhook.Sign([]byte(webhook.DerivedSecret(master, "Cust12345")), body)}, http.StatusUnauthorized},
		{"tampered signature", delivery{body: body, sig: "A" + webhook.Sign([]byte("x"), body)[1:]}, http.StatusUnauthorized},
		{"another tenant's secret", delivery{body: body, sig: otherTenant}, http.StatusUnauthorized},
		{"unknown tenant", delivery{tenant: "evil", body: body}, http.StatusNotFound},
		{"10 MB body", delivery{body: big}, http.StatusRequestEntityTooLarge},
		{"not JSON, signed", delivery{body: []byte("hello")}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, text := rc.post(t, tc.d)
			assert.Equal(t, tc.want, status, text)
			assert.True(t, strings.HasPrefix(text, "webhook: "), text)
		})
	}
	assert.Empty(t, rc.events(), "no refused request reaches the app")
}

func TestHandlerEmptySecretRefusesEverything(t *testing.T) {
	rc := setup(t, webhook.Config{Secret: func(*http.Request) ([]byte, error) { return nil, nil }})
	body := eventBody("e-5", "contact.created")
	status, _ := rc.post(t, delivery{body: body, sig: webhook.Sign(nil, body)})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Empty(t, rc.events())
}

func TestHandlerChunkedOversizeBody(t *testing.T) {
	rc := setup(t, webhook.Config{MaxBody: 1024})
	body := append(append([]byte(`{"Event":"contact.created","Pad":"`), bytes.Repeat([]byte("x"), 4096)...), `"}`...)
	req, err := http.NewRequest(http.MethodPost, rc.srv.URL+"/webhooks/Cust12345", io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-SuperOffice-Signature", webhook.Sign([]byte(webhook.DerivedSecret(master, "Cust12345")), body))
	resp, err := rc.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestHandlerUnknownEventAndExtraMembers(t *testing.T) {
	rc := setup(t, webhook.Config{})
	body := []byte(`{"EventId":"e-6","Event":"y_gadget.created","Entity":"y_gadget","PrimaryKey":9,"ContextIdentifier":"Cust12345","AppTenant":"blue"}`)
	status, _ := rc.post(t, delivery{body: body})
	require.Equal(t, http.StatusOK, status)
	got := rc.events()
	require.Len(t, got, 1)
	assert.Equal(t, "y_gadget.created", got[0].Event)
	assert.JSONEq(t, `"blue"`, string(got[0].Extra()["AppTenant"]))
}

func TestHandlerConcurrentRetryGets409(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	rc := &receiver{}
	h, err := webhook.New(webhook.Config{
		Secret: func(*http.Request) ([]byte, error) { return []byte(webhook.DerivedSecret(master, "Cust12345")), nil },
		Handle: func(context.Context, *webhook.Event) error {
			close(started)
			<-release
			return nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{tenant}", h)
	rc.srv = httptest.NewServer(mux)
	defer rc.srv.Close()
	body := eventBody("e-7", "contact.created")
	first := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, rc.srv.URL+"/webhooks/Cust12345", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-SuperOffice-Signature", webhook.Sign([]byte(webhook.DerivedSecret(master, "Cust12345")), body))
		resp, err := rc.srv.Client().Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-started
	status, _ := rc.post(t, delivery{body: body})
	assert.Equal(t, http.StatusConflict, status, "the retry while the first attempt runs")
	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	status, _ = rc.post(t, delivery{body: body})
	assert.Equal(t, http.StatusOK, status, "handled: a later replay is dropped with 200")
}

func TestNewValidates(t *testing.T) {
	handle := func(context.Context, *webhook.Event) error { return nil }
	secret := func(*http.Request) ([]byte, error) { return []byte("x"), nil }
	for name, cfg := range map[string]webhook.Config{
		"no Secret":        {Handle: handle},
		"no Handle":        {Secret: secret},
		"negative MaxBody": {Secret: secret, Handle: handle, MaxBody: -1},
	} {
		_, err := webhook.New(cfg)
		assert.Error(t, err, name)
	}
}

func TestDerivedSecret(t *testing.T) {
	a := webhook.DerivedSecret(master, "Cust12345")
	assert.Equal(t, a, webhook.DerivedSecret(master, "cust12345"), "context identifiers are case-insensitive")
	assert.NotEqual(t, a, webhook.DerivedSecret(master, "Cust12346"))
	assert.NotEqual(t, a, webhook.DerivedSecret([]byte("another master key, 32 bytes...."), "Cust12345"))
	assert.Len(t, a, 43)
	_, err := webhook.DerivedSecrets(nil, func(*http.Request) string { return "Cust1" }, nil)(httptest.NewRequest("POST", "/", nil))
	assert.ErrorIs(t, err, webhook.ErrNoSecret)
}

func TestMemoryDedupe(t *testing.T) {
	ctx := context.Background()
	d := webhook.NewMemoryDedupe(2)
	begin := func(id string) bool {
		ok, err := d.Begin(ctx, id)
		require.NoError(t, err)
		return ok
	}
	assert.True(t, begin("a"))
	ok, err := d.Begin(ctx, "a")
	assert.False(t, ok)
	assert.ErrorIs(t, err, webhook.ErrInProgress)
	require.NoError(t, d.Done(ctx, "a", false))
	assert.True(t, begin("a"), "forgotten after a failure")
	require.NoError(t, d.Done(ctx, "a", true))
	assert.False(t, begin("a"), "handled")
	for _, id := range []string{"b", "c"} {
		require.True(t, begin(id))
		require.NoError(t, d.Done(ctx, id, true))
	}
	assert.True(t, begin("a"), "the oldest is forgotten beyond the bound")
	assert.False(t, begin("c"))
}

// A Handler not made by New, or derived secrets without a way to find the
// tenant, answer 500 rather than panic.
func TestHandlerNotMadeByNewAnswers500(t *testing.T) {
	body := eventBody("e1", "contact.created")
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/Cust1", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(webhook.DerivedSecret(master, "Cust1")), body))
		return r
	}
	for name, h := range map[string]*webhook.Handler{"zero": {}, "nil": nil} {
		w := httptest.NewRecorder()
		require.NotPanics(t, func() { h.ServeHTTP(w, req()) }, name)
		assert.Equal(t, http.StatusInternalServerError, w.Code, name)
	}

	h, err := webhook.New(webhook.Config{
		Secret: webhook.DerivedSecrets(master, nil, nil),
		Handle: func(context.Context, *webhook.Event) error { return nil },
	})
	require.NoError(t, err)
	w := httptest.NewRecorder()
	require.NotPanics(t, func() { h.ServeHTTP(w, req()) })
	assert.Equal(t, http.StatusInternalServerError, w.Code)
}

// An app that panics gives its event up: the retry of the delivery
// reaches the app again, rather than a 409 for an event "being handled"
// for good.
func TestHandlerPanicReleasesTheEvent(t *testing.T) {
	var calls int
	h, err := webhook.New(webhook.Config{
		Secret: func(*http.Request) ([]byte, error) { return master, nil },
		Handle: func(context.Context, *webhook.Event) error {
			calls++
			if calls == 1 {
				panic("app bug")
			}
			return nil
		},
	})
	require.NoError(t, err)
	body := eventBody("e-panic", "contact.created")
	deliver := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/Cust1", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(webhook.SignatureHeader, webhook.Sign(master, body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	require.PanicsWithValue(t, "app bug", func() { deliver() }, "the panic goes on to net/http")
	assert.Equal(t, http.StatusOK, deliver().Code, "the retry")
	assert.Equal(t, 2, calls)
}
