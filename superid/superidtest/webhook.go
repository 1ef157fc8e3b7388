package superidtest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Webhooks, as SuperOffice delivers them (PROTOCOL.md section 9): rows of
// the tenant managed through v1/Webhook and the Webhook agent, a test POST
// on every save that fails the save unless the target answers 200, and a
// signed delivery to every Active webhook subscribed to the event whenever
// the tenant API creates, changes or deletes a contact or person. Each
// delivery is tried up to three times, again after 1 s and after 4 s, with
// one EventId; a failed cycle counts a consecutive error, nine of them set
// the webhook TooManyErrors, and an answer of 410 Gone stops it at once.
// Only 200 counts as success.

// WithWebhookClient sets the HTTP client the emulator delivers webhooks
// with (default: one with a 10 s timeout).
func WithWebhookClient(c *http.Client) Option {
	return func(e *Emulator) { e.hooks.client = c }
}

// WithWebhookWait replaces how the emulator waits between delivery
// attempts (1 s, then 4 s). Tests pass a function that records d and
// returns at once, so that a whole retry cycle runs without sleeping;
// returning an error abandons the cycle like a failed attempt. The
// default waits on a timer.
func WithWebhookWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(e *Emulator) { e.hooks.wait = wait }
}

// webhookRetryWaits are the waits before the second and third attempt of
// a delivery cycle.
var webhookRetryWaits = [...]time.Duration{time.Second, 4 * time.Second}

// webhookMaxConsecutive is how many failed cycles in a row set a webhook
// TooManyErrors.
const webhookMaxConsecutive = 9

// defaultHookClient delivers webhooks unless WithWebhookClient says
// otherwise.
var defaultHookClient = &http.Client{Timeout: 10 * time.Second}

// webhookUserAgent is the User-Agent of every delivery.
const webhookUserAgent = "NetServer-Webhook/11.1.9207.1064"

// Webhook states, by their names on the wire and their codes.
var webhookStates = []string{"Unknown", "Active", "Stopped", "TooManyErrors"}

// webhookState is the emulator's webhook rows and its deliveries; its
// maps are guarded by e.mu.
type webhookState struct {
	client *http.Client
	wait   func(ctx context.Context, d time.Duration) error
	tenant map[string]*tenantHooks // by lower-case context identifier
	wg     sync.WaitGroup          // one per queued delivery
	// ctx bounds every delivery; stop (Server.Close) ends the ones under
	// way, so that none outlives the server.
	ctx  context.Context
	stop context.CancelFunc
}

type tenantHooks struct {
	hooks []*storedHook // by id, ascending
	next  int
}

type storedHook struct {
	wireWebhook
	consecutive int
	queue       []hookDelivery
	running     bool // a goroutine drains queue
}

type hookDelivery struct {
	event   string
	payload map[string]any // without EventId, which each cycle adds
}

// wireWebhook is a Webhook row as the API sends and receives it.
type wireWebhook struct {
	WebhookId           int
	Name                string
	Description         string
	Events              []string
	TargetUrl           string
	Secret              string
	State               string
	Type                string
	Headers             map[string]string
	Properties          map[string]any
	ErrorsEmail         string
	Registered          string
	RegisteredAssociate *wireAssociate
	Updated             string
	UpdatedAssociate    *wireAssociate
	ConsecutiveErrors   int
	TotalCalls          int
	TotalErrors         int
	LastError           string
}

// wireWebhookIn is what a save reads: State may come as a name or a code.
type wireWebhookIn struct {
	WebhookId   int
	Name        string
	Description string
	Events      []string
	TargetUrl   string
	Secret      string
	State       json.RawMessage
	Type        string
	Headers     map[string]string
	Properties  map[string]any
	ErrorsEmail string
}

func parseWebhookState(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "Active", true
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		if n >= 0 && n < len(webhookStates) {
			return webhookStates[n], true
		}
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	for _, st := range webhookStates {
		if strings.EqualFold(st, s) {
			return st, true
		}
	}
	return "", false
}

func (e *Emulator) webhookRoutes() {
	for _, rt := range []struct {
		pattern string
		h       func(r *http.Request, t *Tenant, p apiPrincipal) (int, any)
	}{
		{"GET /{ctx}/api/v1/Webhook/default", e.hookDefault},
		{"GET /{ctx}/api/v1/Webhook/{id}", e.hookGet},
		{"GET /{ctx}/api/v1/Webhook/{id}/LastError", e.hookLastError},
		{"GET /{ctx}/api/v1/Webhook", e.hookList},
		{"POST /{ctx}/api/v1/Webhook", e.hookCreate},
		{"PUT /{ctx}/api/v1/Webhook/{id}", e.hookPut},
		{"PATCH /{ctx}/api/v1/Webhook/{id}", e.hookPatch},
		{"DELETE /{ctx}/api/v1/Webhook/{id}", e.hookDelete},
		{"POST /{ctx}/api/v1/Webhook/Test", e.hookTest},
		{"POST /{ctx}/api/v1/Webhook/{event}/{pk}", e.hookSignal},
		{"POST /{ctx}/api/v1/Agents/Webhook/CreateDefaultWebhook", e.hookDefault},
		{"POST /{ctx}/api/v1/Agents/Webhook/GetWebhook", e.agentHookGet},
		{"POST /{ctx}/api/v1/Agents/Webhook/GetAllWebhooks", e.agentHookList},
		{"POST /{ctx}/api/v1/Agents/Webhook/SaveWebhook", e.agentHookSave},
		{"POST /{ctx}/api/v1/Agents/Webhook/DeleteWebhook", e.agentHookDelete},
		{"POST /{ctx}/api/v1/Agents/Webhook/TestWebhook", e.agentHookTest},
		{"POST /{ctx}/api/v1/Agents/Webhook/GetLastError", e.agentHookLastError},
		{"POST /{ctx}/api/v1/Agents/Webhook/SignalEvent", e.agentHookSignal},
	} {
		e.route(rt.pattern, EndpointTenantAPI, e.hookAPI(rt.h))
	}
}

// hookAPI authenticates like tenantAPI but calls h without e.mu held: a
// save POSTs its test event to the target, which may call the emulator.
func (e *Emulator) hookAPI(h func(r *http.Request, t *Tenant, p apiPrincipal) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		t, p, refuse := e.admitLocked(r)
		e.mu.Unlock()
		if refuse != nil {
			refuse(w)
			return
		}
		status, v := h(r, t, p)
		writeAPIResult(w, status, v)
	}
}

// hooksLocked returns the tenant's webhooks, creating the record on first
// use.
func (e *Emulator) hooksLocked(t *Tenant) *tenantHooks {
	return entry(&e.hooks.tenant, strings.ToLower(t.ContextIdentifier))
}

func (th *tenantHooks) find(id int) *storedHook {
	for _, h := range th.hooks {
		if h.WebhookId == id {
			return h
		}
	}
	return nil
}

// wireLocked is h as the API answers it.
func (h *storedHook) wireLocked() wireWebhook {
	w := h.wireWebhook
	w.ConsecutiveErrors = h.consecutive
	w.Events = slices.Clone(h.Events)
	return w
}
