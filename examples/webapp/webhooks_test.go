package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// deliver POSTs body to the app's receiver for tenant, signed with secret
// (unsigned when secret is empty), as SuperOffice does, and returns the
// status.
func (h *harness) deliver(tenant string, body []byte, secret string) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.appURL+"/webhooks/"+url.PathEscape(tenant), bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if secret != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
	}
	resp, err := (&http.Client{Transport: h.transport}).Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// events is the tenant's stored webhook events, newest first.
func (h *harness) events(tenant string) []store.WebhookEvent {
	h.t.Helper()
	evs, err := h.st.RecentWebhookEvents(context.Background(), tenant, 0)
	require.NoError(h.t, err)
	return evs
}

func eventBody(eventID, event string, pk int, ctxID string) []byte {
	return fmt.Appendf(nil, `{"EventId":%q,"Timestamp":"2026-12-07T19:46:00.0000000Z","Event":%q,"Entity":"contact","PrimaryKey":%d,"ContextIdentifier":%q,"ChangedByAssociateId":5}`,
		eventID, event, pk, ctxID)
}

// eventRow is how the "Recent events" panel shows an event.
func eventRow(event, entity string, pk int) string {
	return "<tr><td>" + event + "</td><td>" + entity + "</td><td>" + strconv.Itoa(pk) + "</td>"
}

// An administrator's approval subscribes the tenant's webhook at the
// app's own receiver; a company created then arrives as contact.created,
// is stored, and shows in the panel. Nothing logs the webhook secret.
func TestWebhookEventArrivesAndShows(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	b := h.browser()
	home := b.signIn(admin.Username)
	target := h.appURL + "/webhooks/" + local.DemoContextID
	assert.Contains(t, home.body, `id="webhook-ok"`)
	assert.Contains(t, home.body, "<code>"+target+"</code>")
	assert.Contains(t, home.body, `id="events-none"`, "no events before any change")

	redirect := b.post("/actions/login-user", url.Values{"csrf": {csrfOf(t, home)}, "name": {"Hooked AS"}}, false)
	require.Equal(t, http.StatusSeeOther, redirect.status)
	h.em.WaitWebhooks() // the emulator delivers in the background
	contacts := h.em.Contacts(local.DemoContextID)
	require.NotEmpty(t, contacts)
	id := contacts[len(contacts)-1].ContactID

	evs := h.events(local.DemoContextID)
	require.Len(t, evs, 1)
	assert.Equal(t, "contact.created", evs[0].Event)
	assert.Equal(t, "contact", evs[0].Entity)
	assert.Equal(t, int64(id), evs[0].PrimaryKey)
	assert.Equal(t, local.DemoContextID, evs[0].ContextIdentifier)
	assert.NotEmpty(t, evs[0].EventID)
	assert.False(t, evs[0].OccurredAt.IsZero(), "the event's Timestamp")

	p := b.get("/")
	assert.Contains(t, p.body, `id="events"`)
	assert.Contains(t, p.body, eventRow("contact.created", "contact", id)+"<td>"+humanTime(evs[0].OccurredAt)+"</td>")

	// A second sign-in finds the webhook subscribed: no save, so no test
	// event, and still one webhook.
	saves := countHookSaves(h)
	b.signIn(admin.Username)
	assert.Equal(t, saves, countHookSaves(h), "webhook saved again at a sign-in")

	secret := webhook.DerivedSecret(h.app.hooks.master, local.DemoContextID)
	assert.NotContains(t, h.log.String(), secret, "the log shows the webhook secret")
	assert.NotContains(t, h.log.String(), base64.StdEncoding.EncodeToString(h.app.hooks.master), "the log shows the master key")
	assert.NotContains(t, p.body, secret, "the page shows the webhook secret")
}

// countHookSaves counts the app's saves of a webhook at the emulator.
func countHookSaves(h *harness) int {
	n := 0
	for _, r := range h.em.Requests(superidtest.EndpointTenantAPI) {
		if strings.HasSuffix(r.Path, "/Agents/Webhook/SaveWebhook") {
			n++
		}
	}
	return n
}

// The receiver stores a delivery signed with the tenant's secret once,
// under the tenant its URL names, and refuses, storing nothing, one that
// is unsigned, tampered with, or signed with another tenant's secret, and
// one for a tenant the app does not know.
func TestWebhookReceiver(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	h.browser().signIn(admin.Username) // the tenant is known from here on
	master := h.app.hooks.master
	secret := webhook.DerivedSecret(master, local.DemoContextID)
	body := eventBody("ev-1", "contact.changed", 42, local.DemoContextID)

	tampered := bytes.Replace(body, []byte("42"), []byte("43"), 1)
	tamperedReq := func() int {
		h.t.Helper()
		req, err := http.NewRequest(http.MethodPost, h.appURL+"/webhooks/"+local.DemoContextID, bytes.NewReader(tampered))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, h.deliver(local.DemoContextID, body, ""), "unsigned")
	assert.Equal(t, http.StatusUnauthorized, h.deliver(local.DemoContextID, body, "not the secret"), "wrong secret")
	assert.Equal(t, http.StatusUnauthorized, h.deliver(local.DemoContextID, body, webhook.DerivedSecret(master, "Cust99999")), "another tenant's secret")
	assert.Equal(t, http.StatusUnauthorized, tamperedReq(), "tampered body")
	assert.Equal(t, http.StatusNotFound, h.deliver("Cust99999", body, webhook.DerivedSecret(master, "Cust99999")), "unknown tenant")
	assert.Empty(t, h.events(local.DemoContextID), "a refused delivery was stored")

	require.Equal(t, http.StatusOK, h.deliver(local.DemoContextID, body, secret))
	assert.Equal(t, http.StatusOK, h.deliver(strings.ToLower(local.DemoContextID), body, secret), "a retry, the tenant spelled otherwise")
	// Signed with this tenant's secret but naming another: stored under
	// this one, never in the other's panel.
	require.Equal(t, http.StatusOK, h.deliver(local.DemoContextID, eventBody("ev-2", "contact.deleted", 7, "Cust20000"), secret))
	evs := h.events(local.DemoContextID)
	require.Len(t, evs, 2, "one event per EventId")
	assert.Equal(t, "contact.deleted", evs[0].Event)
	assert.Equal(t, local.DemoContextID, evs[0].ContextIdentifier)
	assert.Equal(t, int64(42), evs[1].PrimaryKey)
	assert.Empty(t, h.events("Cust20000"))

	assert.Equal(t, http.StatusOK, h.deliver(local.DemoContextID,
		[]byte(`{"EventId":"t","Event":"test","Entity":"test","PrimaryKey":0,"ContextIdentifier":"Default"}`), secret), "the test event")
	assert.Len(t, h.events(local.DemoContextID), 2, "the test event was stored")

	// A tenant whose approval no longer counts tells SuperOffice to stop.
	h.deactivate(local.DemoContextID, "token revoked")
	assert.Equal(t, http.StatusGone, h.deliver(local.DemoContextID, eventBody("ev-3", "contact.created", 8, local.DemoContextID), secret))
	assert.Len(t, h.events(local.DemoContextID), 2)
}

// A failure to subscribe the webhook does not fail the approval: the
// sign-in goes on, the home page and the log say what failed, and the
// next sign-in subscribes it.
func TestWebhookEnsureFailureIsShownAndRetried(t *testing.T) {
	h := newHarness(t, harnessOptions{headless: true})
	h.em.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{Status: http.StatusForbidden, Times: 1,
		Body: `{"Error":"no rights to webhooks"}`})
	b := h.browser()
	home := b.signIn(admin.Username)
	require.Equal(t, http.StatusOK, home.status, home.body)
	assert.Contains(t, home.body, `id="tenant-approved">yes, `, "approved despite the failure")
	assert.Contains(t, home.body, `id="webhook-error"`)
	assert.Contains(t, home.body, "It is tried again at the next sign-in.")
	assert.Contains(t, h.log.String(), "subscribing the tenant's webhook failed")
	_, err := h.st.Tenant(context.Background(), local.DemoContextID)
	require.NoError(t, err, "the approval was stored")

	home = b.signIn(user.Username) // anyone's sign-in tries again
	assert.Contains(t, home.body, `id="webhook-ok"`)
	assert.NotContains(t, home.body, `id="webhook-error"`)
	assert.Equal(t, 1, countHookSaves(h))
}

func TestWebhookBase(t *testing.T) {
	for _, tc := range []struct{ base, redirect, want string }{
		{"", "http://localhost:8080/callback", "http://localhost:8080/webhooks/"},
		{"", "https://app.example.com/auth/callback", "https://app.example.com/webhooks/"},
		{"https://hooks.example.com/", "https://app.example.com/callback", "https://hooks.example.com/webhooks/"},
		{"https://example.com/partner", "https://app.example.com/callback", "https://example.com/partner/webhooks/"},
	} {
		got, err := webhookBase(tc.base, tc.redirect)
		require.NoError(t, err, tc)
		assert.Equal(t, tc.want, got, tc)
	}
	for _, bad := range []string{"ftp://example.com", "/relative", "https://example.com/?q=1"} {
		_, err := webhookBase(bad, "https://app.example.com/callback")
		assert.Error(t, err, bad)
	}
}

func TestWebhookMasterKeyIsNotTheSealKey(t *testing.T) {
	seal := bytes.Repeat([]byte{7}, 32)
	master, err := webhookMasterKey(seal)
	require.NoError(t, err)
	assert.Len(t, master, 32)
	assert.NotEqual(t, seal, master)
	cookie, err := loginCookieKey(seal)
	require.NoError(t, err)
	assert.NotEqual(t, cookie, master, "the login cookie's key")
	_, err = webhookMasterKey(seal[:16])
	assert.Error(t, err)
}
