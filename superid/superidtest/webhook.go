package superidtest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
		t, status, code, msg := e.servedTenantLocked(r)
		if t == nil {
			e.mu.Unlock()
			writeAPIError(w, status, code, msg)
			return
		}
		if t.State != "Running" && t.State != "OnlineMaintenance" {
			e.mu.Unlock()
			writeAPIError(w, http.StatusServiceUnavailable, "TenantNotRunning", "tenant "+t.ContextIdentifier+" is "+t.State)
			return
		}
		p, msg := e.principalLocked(r, t)
		e.mu.Unlock()
		if msg != "" {
			w.Header().Set("WWW-Authenticate", `SOTicket, Bearer`)
			writeAPIError(w, http.StatusUnauthorized, "Unauthorized", msg)
			return
		}
		status, v := h(r, t, p)
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	}
}

// hooksLocked returns the tenant's webhooks, creating the record on first
// use.
func (e *Emulator) hooksLocked(t *Tenant) *tenantHooks {
	k := strings.ToLower(t.ContextIdentifier)
	if e.hooks.tenant == nil {
		e.hooks.tenant = map[string]*tenantHooks{}
	}
	th := e.hooks.tenant[k]
	if th == nil {
		th = &tenantHooks{}
		e.hooks.tenant[k] = th
	}
	return th
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

// ---- REST v1/Webhook and the Webhook agent ----

func (e *Emulator) hookDefault(_ *http.Request, _ *Tenant, _ apiPrincipal) (int, any) {
	return http.StatusOK, wireWebhook{State: "Active", Type: "webhook", Events: []string{}, Headers: map[string]string{},
		Properties: map[string]any{}, Registered: wireTimes{}.format(time.Time{}), Updated: wireTimes{}.format(time.Time{})}
}

func (e *Emulator) hookGet(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if w, ok := e.hookByID(t, id); err == nil && ok {
		return http.StatusOK, w
	}
	return apiError(http.StatusNotFound, "NotFound", "Webhook "+r.PathValue("id")+" not found")
}

func (e *Emulator) agentHookGet(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "webhookId")
	if !ok {
		return apiError(http.StatusBadRequest, "BadRequest", "webhookId is required and must be a number")
	}
	if w, ok := e.hookByID(t, id); ok {
		return http.StatusOK, w
	}
	return http.StatusOK, agentNull
}

func (e *Emulator) hookByID(t *Tenant, id int) (wireWebhook, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.hooksLocked(t).find(id); h != nil {
		return h.wireLocked(), true
	}
	return wireWebhook{}, false
}

func (e *Emulator) hookList(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	q := r.URL.Query()
	return e.listHooks(t, q.Get("nameFilter"), q.Get("eventFilter"), q.Get("statusFilter"))
}

func (e *Emulator) agentHookList(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	var in struct{ NameFilter, EventFilter, StatusFilter string }
	if r.ContentLength != 0 {
		if msg := decodeBody(r, &in); msg != "" {
			return apiError(http.StatusBadRequest, "BadRequest", msg)
		}
	}
	return e.listHooks(t, in.NameFilter, in.EventFilter, in.StatusFilter)
}

// listHooks filters by name and event (substrings, case-insensitive) and
// state (a name or a code; Unknown and empty mean any).
func (e *Emulator) listHooks(t *Tenant, name, event, status string) (int, any) {
	state := ""
	if status != "" {
		s, ok := parseWebhookState(json.RawMessage(strconv.Quote(status)))
		if n, err := strconv.Atoi(status); err == nil {
			s, ok = parseWebhookState(json.RawMessage(strconv.Itoa(n)))
		}
		if !ok {
			return apiError(http.StatusBadRequest, "BadRequest", "unknown statusFilter "+strconv.Quote(status))
		}
		if s != "Unknown" {
			state = s
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []wireWebhook{}
	for _, h := range e.hooksLocked(t).hooks {
		if name != "" && !strings.Contains(strings.ToLower(h.Name), strings.ToLower(name)) ||
			state != "" && h.State != state ||
			event != "" && !slices.ContainsFunc(h.Events, func(ev string) bool { return strings.Contains(strings.ToLower(ev), strings.ToLower(event)) }) {
			continue
		}
		out = append(out, h.wireLocked())
	}
	return http.StatusOK, out
}

func (e *Emulator) hookCreate(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	in.WebhookId = 0
	return e.saveHook(t, p, &in)
}

func (e *Emulator) hookPut(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return apiError(http.StatusBadRequest, "BadRequest", "the webhook id must be a number")
	}
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if _, ok := e.hookByID(t, id); !ok {
		return apiError(http.StatusNotFound, "NotFound", "Webhook "+r.PathValue("id")+" not found")
	}
	in.WebhookId = id
	return e.saveHook(t, p, &in)
}

// hookPatch applies JSON Patch (RFC 6902) operations add, replace and
// remove on the webhook's top-level members, the form SuperOffice's REST
// PATCH takes, then saves it like PUT (testing the target). Other
// operations and nested paths are refused with 400.
func (e *Emulator) hookPatch(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return apiError(http.StatusBadRequest, "BadRequest", "the webhook id must be a number")
	}
	var ops []struct {
		Op    string
		Path  string
		Value json.RawMessage
	}
	if msg := decodeBody(r, &ops); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	cur, ok := e.hookByID(t, id)
	if !ok {
		return apiError(http.StatusNotFound, "NotFound", "Webhook "+r.PathValue("id")+" not found")
	}
	b, _ := json.Marshal(cur)
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(b, &doc)
	for _, op := range ops {
		name := strings.TrimPrefix(op.Path, "/")
		if !strings.HasPrefix(op.Path, "/") || name == "" || strings.Contains(name, "/") {
			return apiError(http.StatusBadRequest, "BadRequest", "the emulator patches top-level members only, not "+strconv.Quote(op.Path))
		}
		for k := range doc {
			if strings.EqualFold(k, name) {
				name = k
			}
		}
		switch strings.ToLower(op.Op) {
		case "add", "replace":
			doc[name] = op.Value
		case "remove":
			delete(doc, name)
		default:
			return apiError(http.StatusBadRequest, "BadRequest", "the emulator supports the JSON Patch operations add, replace and remove, not "+strconv.Quote(op.Op))
		}
	}
	var in wireWebhookIn
	b, _ = json.Marshal(doc)
	if err := json.Unmarshal(b, &in); err != nil {
		return apiError(http.StatusBadRequest, "BadRequest", "the patched webhook is invalid: "+err.Error())
	}
	in.WebhookId = id
	return e.saveHook(t, p, &in)
}

func (e *Emulator) agentHookSave(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	if in.WebhookId != 0 {
		if _, ok := e.hookByID(t, in.WebhookId); !ok {
			return apiError(http.StatusBadRequest, "ValidationError", "Webhook "+strconv.Itoa(in.WebhookId)+" does not exist")
		}
	}
	return e.saveHook(t, p, &in)
}

// validateHook checks a webhook to save and returns its state, or a
// message saying what is wrong.
func validateHook(in *wireWebhookIn) (string, string) {
	state, ok := parseWebhookState(in.State)
	switch {
	case strings.TrimSpace(in.Name) == "":
		return "", "Name is required"
	case len(in.Events) == 0:
		return "", "Events must name at least one event"
	case !ok:
		return "", "State must be Unknown, Active, Stopped or TooManyErrors (or 0-3)"
	}
	if in.Type == "" {
		in.Type = "webhook"
	}
	if !strings.EqualFold(in.Type, "webhook") {
		return "", "the emulator delivers only webhooks of Type \"webhook\""
	}
	u, err := url.Parse(in.TargetUrl)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return "", "TargetUrl must be an https URL (http only for a loopback host in the emulator)"
	}
	return state, ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// saveHook tests the target, as SuperOffice does on every save, and
// stores the webhook only if it answered 200.
func (e *Emulator) saveHook(t *Tenant, p apiPrincipal, in *wireWebhookIn) (int, any) {
	state, msg := validateHook(in)
	if msg != "" {
		return apiError(http.StatusBadRequest, "ValidationError", msg)
	}
	if ok, why := e.testHook(t, p, in); !ok {
		return apiError(http.StatusBadRequest, "WebhookTestFailed", "the webhook target did not accept the test event: "+why)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	th := e.hooksLocked(t)
	now := wireTimes{}.format(e.now())
	h := th.find(in.WebhookId)
	if h == nil {
		if in.WebhookId != 0 { // deleted while the test ran
			return apiError(http.StatusNotFound, "NotFound", "Webhook "+strconv.Itoa(in.WebhookId)+" not found")
		}
		th.next++
		h = &storedHook{wireWebhook: wireWebhook{WebhookId: th.next, Registered: now,
			RegisteredAssociate: e.associateLocked(t, p.associateID), Updated: wireTimes{}.format(time.Time{})}}
		th.hooks = append(th.hooks, h)
	} else {
		h.Updated, h.UpdatedAssociate = now, e.associateLocked(t, p.associateID)
	}
	if state == "Active" && h.State != "Active" {
		h.consecutive = 0 // set Active again: counting starts over
	}
	h.Name, h.Description, h.Events, h.TargetUrl, h.Secret = in.Name, in.Description, slices.Clone(in.Events), in.TargetUrl, in.Secret
	h.State, h.Type, h.Headers, h.Properties, h.ErrorsEmail = state, in.Type, in.Headers, in.Properties, in.ErrorsEmail
	return http.StatusOK, h.wireLocked()
}

func (e *Emulator) hookDelete(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || !e.deleteHook(t, id) {
		return apiError(http.StatusNotFound, "NotFound", "Webhook "+r.PathValue("id")+" not found")
	}
	return http.StatusNoContent, nil
}

func (e *Emulator) agentHookDelete(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "WebhookId")
	if !ok {
		return apiError(http.StatusBadRequest, "BadRequest", "WebhookId is required and must be a number")
	}
	e.deleteHook(t, id)
	return http.StatusNoContent, nil
}

func (e *Emulator) deleteHook(t *Tenant, id int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	th := e.hooksLocked(t)
	n := len(th.hooks)
	th.hooks = slices.DeleteFunc(th.hooks, func(h *storedHook) bool { return h.WebhookId == id })
	return len(th.hooks) < n
}

// wireWebhookResult is the answer of Test.
type wireWebhookResult struct {
	Success bool
	Message string
}

func (e *Emulator) hookTest(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	return e.runTest(t, p, &in)
}

func (e *Emulator) agentHookTest(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in struct{ Webhook *wireWebhookIn }
	if msg := decodeBody(r, &in); msg != "" || in.Webhook == nil {
		return apiError(http.StatusBadRequest, "BadRequest", "the body must be {\"Webhook\": {...}}")
	}
	return e.runTest(t, p, in.Webhook)
}

func (e *Emulator) runTest(t *Tenant, p apiPrincipal, in *wireWebhookIn) (int, any) {
	if _, msg := validateHook(in); msg != "" {
		return http.StatusOK, wireWebhookResult{Message: msg}
	}
	ok, why := e.testHook(t, p, in)
	if !ok {
		return http.StatusOK, wireWebhookResult{Message: why}
	}
	return http.StatusOK, wireWebhookResult{Success: true, Message: "OK"}
}

func (e *Emulator) hookLastError(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if w, ok := e.hookByID(t, id); err == nil && ok {
		return http.StatusOK, w.LastError
	}
	return apiError(http.StatusNotFound, "NotFound", "Webhook "+r.PathValue("id")+" not found")
}

func (e *Emulator) agentHookLastError(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	var in struct{ WebhookId int }
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, "BadRequest", msg)
	}
	w, _ := e.hookByID(t, in.WebhookId)
	return http.StatusOK, w.LastError
}

func (e *Emulator) hookSignal(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	pk, err := strconv.Atoi(r.PathValue("pk"))
	if err != nil {
		return apiError(http.StatusBadRequest, "BadRequest", "the primary key must be a number")
	}
	var data map[string]any
	if r.ContentLength != 0 {
		if msg := decodeBody(r, &data); msg != "" {
			return apiError(http.StatusBadRequest, "BadRequest", msg)
		}
	}
	e.signal(t, p, r.PathValue("event"), pk, data)
	return http.StatusNoContent, nil
}

func (e *Emulator) agentHookSignal(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in struct {
		EventName  string
		PrimaryKey int
		Data       map[string]any
	}
	if msg := decodeBody(r, &in); msg != "" || in.EventName == "" {
		return apiError(http.StatusBadRequest, "BadRequest", "the body must name an EventName")
	}
	e.signal(t, p, in.EventName, in.PrimaryKey, in.Data)
	return http.StatusNoContent, nil
}

func (e *Emulator) signal(t *Tenant, p apiPrincipal, event string, pk int, data map[string]any) {
	entity, _, _ := strings.Cut(event, ".")
	fields := map[string]any{}
	for k, v := range data {
		fields[k] = v
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fireLocked(t, p, event, entity, pk, nil, fields, nil)
}
