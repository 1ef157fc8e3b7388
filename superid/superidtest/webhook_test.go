package superidtest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid/superidtest"
)

const hookCtx, hookApp, hookAppSecret, hookSecret = "Cust4242", "hookapp", "app-secret", "hook-secret-4242"

// hookTarget is a webhook receiver that records every request and
// answers the test event 200 and deliveries with status(n), n counting
// deliveries from 0.
type hookTarget struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivered
	status func(n int) int
}

type delivered struct {
	header http.Header
	body   []byte
	ev     map[string]any
}

func newHookTarget(t *testing.T) *hookTarget {
	ht := &hookTarget{status: func(int) int { return http.StatusOK }}
	ht.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		ht.mu.Lock()
		n := len(ht.deliveriesLocked())
		ht.got = append(ht.got, delivered{header: r.Header.Clone(), body: body, ev: ev})
		status := http.StatusOK
		if r.Header.Get("X-Hook-Test") != "true" {
			status = ht.status(n)
		}
		ht.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(ht.srv.Close)
	return ht
}

func (ht *hookTarget) deliveriesLocked() []delivered {
	var out []delivered
	for _, d := range ht.got {
		if d.header.Get("X-Hook-Test") == "" {
			out = append(out, d)
		}
	}
	return out
}

func (ht *hookTarget) deliveries() []delivered {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	return ht.deliveriesLocked()
}

func (ht *hookTarget) all() []delivered {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	return append([]delivered(nil), ht.got...)
}

func (ht *hookTarget) setStatus(f func(n int) int) {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	ht.status = f
}

// hookFixture is an emulator on a real port with one tenant and app, and
// a recorder of retry waits in place of the clock.
type hookFixture struct {
	srv    *superidtest.Server
	ticket string
	mu     sync.Mutex
	waits  []time.Duration
}

func newHookFixture(t *testing.T) *hookFixture {
	f := &hookFixture{}
	f.srv = superidtest.NewServer(superidtest.WithKeySize(1024), superidtest.WithWebhookWait(func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.waits = append(f.waits, d)
		return nil
	}))
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.srv.WaitWebhooks)
	require.NoError(t, f.srv.AddTenant(superidtest.Tenant{ContextIdentifier: hookCtx}))
	require.NoError(t, f.srv.RegisterApp(superidtest.App{ClientID: hookApp, ClientSecret: hookAppSecret}))
	tk, err := f.srv.TicketFor(hookCtx, hookApp)
	require.NoError(t, err)
	f.ticket = tk
	return f
}

func (f *hookFixture) retryWaits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// call sends a tenant API request as the system user and decodes the
// answer into out (when not nil).
func (f *hookFixture) call(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.srv.WebAPIURL(hookCtx)+"/"+path, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "SOTicket "+f.ticket)
	req.Header.Set("SO-AppToken", hookAppSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

type hookRow struct {
	WebhookId         int
	Name              string
	Events            []string
	TargetUrl         string
	Secret            string
	State             string
	Type              string
	ConsecutiveErrors int
	LastError         string
}

func (f *hookFixture) createHook(t *testing.T, target string, events ...string) hookRow {
	t.Helper()
	var h hookRow
	status := f.call(t, "POST", "v1/Webhook", map[string]any{"Name": "app events", "Events": events, "TargetUrl": target,
		"Secret": hookSecret, "State": "Active", "Type": "webhook", "Headers": map[string]string{"X-App": "1"},
		"Properties": map[string]any{"AppTag": "blue"}}, &h)
	require.Equal(t, http.StatusOK, status)
	require.NotZero(t, h.WebhookId)
	return h
}

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// PROTOCOL 9, "Test on save": the save POSTs a test event, and fails
// unless the target answers 200.
func TestWebhookSaveTestsTheTarget(t *testing.T) {
	f := newHookFixture(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	status := f.call(t, "POST", "v1/Webhook", map[string]any{"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": down.URL, "Secret": hookSecret}, nil)
	assert.Equal(t, http.StatusBadRequest, status)
	var list []hookRow
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook", nil, &list))
	assert.Empty(t, list, "a failed test saves nothing")

	for name, in := range map[string]map[string]any{
		"no name":       {"Events": []string{"contact.created"}, "TargetUrl": down.URL},
		"no events":     {"Name": "x", "TargetUrl": down.URL},
		"http remote":   {"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": "http://example.com/hook"},
		"bad state":     {"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": down.URL, "State": "Sleeping"},
		"not a webhook": {"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": down.URL, "Type": "crmscript"},
	} {
		assert.Equal(t, http.StatusBadRequest, f.call(t, "POST", "v1/Webhook", in, nil), name)
	}

	ht := newHookTarget(t)
	h := f.createHook(t, ht.srv.URL+"/hook", "contact.created")
	assert.Equal(t, "Active", h.State)
	assert.Equal(t, "webhook", h.Type)
	got := ht.all()
	require.Len(t, got, 1)
	test := got[0]
	assert.Equal(t, "test", test.header.Get("X-Superoffice-Event"))
	assert.Equal(t, "true", test.header.Get("X-Hook-Test"))
	assert.Equal(t, sign(test.body), test.header.Get("X-SuperOffice-Signature"))
	assert.Equal(t, "test", test.ev["Event"])
	assert.Equal(t, "test", test.ev["Entity"])
	assert.Equal(t, 0.0, test.ev["PrimaryKey"])
	assert.Equal(t, "Default", test.ev["ContextIdentifier"])
	assert.Equal(t, "app events", test.ev["WebhookName"])

	// The rest of the CRUD.
	var one hookRow
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook/"+strconv.Itoa(h.WebhookId), nil, &one))
	assert.Equal(t, h, one)
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook?nameFilter=APP&eventFilter=contact&statusFilter=Active", nil, &list))
	assert.Len(t, list, 1)
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook?statusFilter=2", nil, &list))
	assert.Empty(t, list)
	var def hookRow
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook/default", nil, &def))
	assert.Equal(t, hookRow{State: "Active", Type: "webhook", Events: []string{}}, def)
	var put hookRow
	require.Equal(t, http.StatusOK, f.call(t, "PUT", "v1/Webhook/"+strconv.Itoa(h.WebhookId),
		map[string]any{"Name": "renamed", "Events": []string{"person.created"}, "TargetUrl": ht.srv.URL, "Secret": hookSecret, "State": 2}, &put))
	assert.Equal(t, "Stopped", put.State)
	assert.Equal(t, "renamed", put.Name)
	assert.Len(t, ht.all(), 2, "every save tests the target")
	var patched hookRow
	require.Equal(t, http.StatusOK, f.call(t, "PATCH", "v1/Webhook/"+strconv.Itoa(h.WebhookId),
		[]map[string]any{{"op": "replace", "path": "/State", "value": "Active"}, {"op": "add", "path": "/events", "value": []string{"contact.deleted"}}}, &patched))
	assert.Equal(t, "Active", patched.State)
	assert.Equal(t, []string{"contact.deleted"}, patched.Events)
	assert.Equal(t, "renamed", patched.Name)
	assert.Len(t, ht.all(), 3, "a PATCH is a save too: it tests the target")
	assert.Equal(t, http.StatusBadRequest, f.call(t, "PATCH", "v1/Webhook/"+strconv.Itoa(h.WebhookId),
		[]map[string]any{{"op": "move", "from": "/Name", "path": "/Description"}}, nil))
	var lastErr string
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook/"+strconv.Itoa(h.WebhookId)+"/LastError", nil, &lastErr))
	assert.Equal(t, http.StatusNoContent, f.call(t, "DELETE", "v1/Webhook/"+strconv.Itoa(h.WebhookId), nil, nil))
	assert.Equal(t, http.StatusNotFound, f.call(t, "GET", "v1/Webhook/"+strconv.Itoa(h.WebhookId), nil, nil))
	assert.Equal(t, http.StatusNotFound, f.call(t, "DELETE", "v1/Webhook/"+strconv.Itoa(h.WebhookId), nil, nil))

	var res struct {
		Success bool
		Message string
	}
	require.Equal(t, http.StatusOK, f.call(t, "POST", "v1/Webhook/Test", map[string]any{"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": down.URL}, &res))
	assert.False(t, res.Success)
	assert.Contains(t, res.Message, "503")
}

// A save whose caller gives up ends its test POST with it: the emulator
// does not go on waiting for a target that does not answer.
func TestWebhookSaveTestEndsWithItsRequest(t *testing.T) {
	// A client without a timeout of its own, so that only the request's
	// end can end the test POST.
	srv := superidtest.NewServer(superidtest.WithKeySize(1024), superidtest.WithWebhookClient(&http.Client{}))
	t.Cleanup(srv.Close)
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: hookCtx}))
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: hookApp, ClientSecret: hookAppSecret}))
	ticket, err := srv.TicketFor(hookCtx, hookApp)
	require.NoError(t, err)

	arrived, ended := make(chan struct{}), make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Read first: only then does the server watch the connection,
		// and end r's context when the emulator drops it.
		_, _ = io.Copy(io.Discard, r.Body)
		close(arrived)
		<-r.Context().Done()
		close(ended)
	}))
	defer target.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, err := json.Marshal(map[string]any{"Name": "x", "Events": []string{"contact.created"}, "TargetUrl": target.URL, "Secret": hookSecret})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, "POST", srv.WebAPIURL(hookCtx)+"/v1/Webhook", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "SOTicket "+ticket)
	req.Header.Set("SO-AppToken", hookAppSecret)
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	<-ended // the emulator gave up on the target
	require.ErrorIs(t, <-errc, context.Canceled)
	var list []hookRow
	f := &hookFixture{srv: srv, ticket: ticket}
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook", nil, &list))
	assert.Empty(t, list, "an ended save saves nothing")
}

// PROTOCOL 9, "Signature", "Delivery headers", "Payload": contact and
// person changes through the API are delivered, signed.
func TestWebhookDeliversContactAndPersonEvents(t *testing.T) {
	f := newHookFixture(t)
	ht := newHookTarget(t)
	f.createHook(t, ht.srv.URL, "contact.created", "contact.changed", "contact.deleted", "person.created")

	var c struct{ ContactId int }
	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Hooked AS"}, &c))
	ok2xx(t, f.call(t, "PUT", "v1/Contact/"+strconv.Itoa(c.ContactId), map[string]any{"Name": "Hooked ASA"}, nil))
	ok2xx(t, f.call(t, "POST", "v1/Person", map[string]any{"Firstname": "Ada", "Lastname": "Hook", "Contact": map[string]any{"ContactId": c.ContactId}}, nil))
	ok2xx(t, f.call(t, "DELETE", "v1/Contact/"+strconv.Itoa(c.ContactId), nil, nil))
	f.srv.WaitWebhooks()

	got := ht.deliveries()
	require.Len(t, got, 4)
	var names []string
	for _, d := range got {
		names = append(names, d.ev["Event"].(string))
		assert.Equal(t, sign(d.body), d.header.Get("X-SuperOffice-Signature"))
		assert.True(t, strings.HasPrefix(d.header.Get("User-Agent"), "NetServer-Webhook/"))
		assert.Equal(t, d.ev["Event"], d.header.Get("X-SuperOffice-Event"))
		assert.Equal(t, d.ev["EventId"], d.header.Get("X-SuperOffice-EventId"))
		assert.Equal(t, "0", d.header.Get("X-SuperOffice-Retry"))
		assert.Equal(t, "application/json; charset=utf-8", d.header.Get("Content-Type"))
		assert.Equal(t, "1", d.header.Get("X-App"), "the webhook's Headers")
		assert.Equal(t, "blue", d.ev["AppTag"], "the webhook's Properties")
		assert.Equal(t, hookCtx, d.ev["ContextIdentifier"])
		assert.Equal(t, "app events", d.ev["WebhookName"])
		assert.Equal(t, float64(superidtest.SystemUserAssociateID), d.ev["ChangedByAssociateId"])
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`, d.ev["Timestamp"])
	}
	assert.Equal(t, []string{"contact.created", "contact.changed", "person.created", "contact.deleted"}, names)
	assert.Equal(t, float64(c.ContactId), got[0].ev["PrimaryKey"])
	assert.Equal(t, "contact", got[0].ev["Entity"])
	assert.Equal(t, "[I:"+strconv.Itoa(c.ContactId)+"]", got[0].ev["FieldValues"].(map[string]any)["contact_id"], "created: encoded")
	assert.Contains(t, got[1].ev["Changes"], "name")
	assert.Equal(t, "person", got[2].ev["Entity"])
	assert.Equal(t, float64(c.ContactId), got[3].ev["Values"].(map[string]any)["contact_id"], "deleted: plain JSON")
	assert.NotEqual(t, got[0].ev["EventId"], got[1].ev["EventId"])
}

// PROTOCOL 9, "Retries": three attempts, +1 s and +4 s, one EventId; the
// next event gets a new one.
func TestWebhookRetriesWithOneEventID(t *testing.T) {
	f := newHookFixture(t)
	ht := newHookTarget(t)
	ht.setStatus(func(n int) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	f.createHook(t, ht.srv.URL, "contact.created")
	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Retry AS"}, nil))
	f.srv.WaitWebhooks()
	got := ht.deliveries()
	require.Len(t, got, 3)
	for i, d := range got {
		assert.Equal(t, got[0].ev["EventId"], d.ev["EventId"])
		assert.Equal(t, strconv.Itoa(i), d.header.Get("X-SuperOffice-Retry"))
	}
	assert.Equal(t, []time.Duration{time.Second, 4 * time.Second}, f.retryWaits())

	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Next AS"}, nil))
	f.srv.WaitWebhooks()
	got = ht.deliveries()
	require.Len(t, got, 4)
	assert.NotEqual(t, got[0].ev["EventId"], got[3].ev["EventId"])
}

// PROTOCOL 9, "Retries": nine failed cycles in a row set TooManyErrors,
// and delivery stops until the webhook is set Active again.
func TestWebhookTooManyErrors(t *testing.T) {
	f := newHookFixture(t)
	ht := newHookTarget(t)
	ht.setStatus(func(int) int { return http.StatusBadGateway })
	h := f.createHook(t, ht.srv.URL, "contact.created")
	hookPath := "v1/Webhook/" + strconv.Itoa(h.WebhookId)
	for i := range 9 {
		ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Fail " + strconv.Itoa(i)}, nil))
		f.srv.WaitWebhooks()
		var row hookRow
		require.Equal(t, http.StatusOK, f.call(t, "GET", hookPath, nil, &row))
		assert.Equal(t, i+1, row.ConsecutiveErrors)
		if i < 8 {
			assert.Equal(t, "Active", row.State, "after %d failed cycles", i+1)
		} else {
			assert.Equal(t, "TooManyErrors", row.State)
			assert.Contains(t, row.LastError, "502")
		}
	}
	assert.Len(t, ht.deliveries(), 27)
	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Unheard AS"}, nil))
	f.srv.WaitWebhooks()
	assert.Len(t, ht.deliveries(), 27, "a TooManyErrors webhook delivers nothing")

	ht.setStatus(func(int) int { return http.StatusOK })
	var row hookRow
	require.Equal(t, http.StatusOK, f.call(t, "PUT", hookPath, map[string]any{"Name": h.Name, "Events": h.Events, "TargetUrl": h.TargetUrl, "Secret": hookSecret, "State": "Active"}, &row))
	assert.Equal(t, "Active", row.State)
	assert.Zero(t, row.ConsecutiveErrors)
	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Heard AS"}, nil))
	f.srv.WaitWebhooks()
	assert.Len(t, ht.deliveries(), 28)
}

// PROTOCOL 9, "Retries": 410 Gone stops the webhook at once.
func TestWebhookGoneStops(t *testing.T) {
	f := newHookFixture(t)
	ht := newHookTarget(t)
	ht.setStatus(func(int) int { return http.StatusGone })
	h := f.createHook(t, ht.srv.URL, "person.created")
	ok2xx(t, f.call(t, "POST", "v1/Person", map[string]any{"Firstname": "Gone", "Lastname": "Soon"}, nil))
	f.srv.WaitWebhooks()
	assert.Len(t, ht.deliveries(), 1, "no retry after 410")
	var row hookRow
	require.Equal(t, http.StatusOK, f.call(t, "GET", "v1/Webhook/"+strconv.Itoa(h.WebhookId), nil, &row))
	assert.Equal(t, "Stopped", row.State)
	ok2xx(t, f.call(t, "POST", "v1/Person", map[string]any{"Firstname": "Not", "Lastname": "Sent"}, nil))
	f.srv.WaitWebhooks()
	assert.Len(t, ht.deliveries(), 1)
	assert.Empty(t, f.retryWaits())
}

// ok2xx requires a success status: the contact and person handlers
// answer 200 or 201 on create, 200 or 204 on delete.
func ok2xx(t *testing.T, status int) {
	t.Helper()
	require.True(t, status >= 200 && status < 300, "status %d", status)
}

// Close ends the deliveries under way: a cycle waiting to retry sees its
// ctx end, and none outlives the server.
func TestServerCloseEndsDeliveries(t *testing.T) {
	waiting := make(chan struct{})
	var waitErr error
	srv := superidtest.NewServer(superidtest.WithKeySize(1024), superidtest.WithWebhookWait(func(ctx context.Context, _ time.Duration) error {
		close(waiting)
		<-ctx.Done()
		waitErr = ctx.Err()
		return waitErr
	}))
	f := &hookFixture{srv: srv}
	require.NoError(t, srv.AddTenant(superidtest.Tenant{ContextIdentifier: hookCtx}))
	require.NoError(t, srv.RegisterApp(superidtest.App{ClientID: hookApp, ClientSecret: hookAppSecret}))
	tk, err := srv.TicketFor(hookCtx, hookApp)
	require.NoError(t, err)
	f.ticket = tk
	ht := newHookTarget(t)
	ht.setStatus(func(int) int { return http.StatusInternalServerError })
	f.createHook(t, ht.srv.URL, "contact.created")
	ok2xx(t, f.call(t, "POST", "v1/Contact", map[string]any{"Name": "Closing AS"}, nil))
	<-waiting // the first attempt failed; the cycle waits to retry

	srv.Close()
	assert.ErrorIs(t, waitErr, context.Canceled, "Close ended the wait, and returned after it")
	assert.Len(t, ht.deliveries(), 1, "no attempt after Close")
}
