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
	"time"
)

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
	return apiError(http.StatusNotFound, "Webhook "+r.PathValue("id")+" not found")
}

func (e *Emulator) agentHookGet(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "webhookId")
	if !ok {
		return apiError(http.StatusBadRequest, "webhookId is required and must be a number")
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
			return apiError(http.StatusBadRequest, msg)
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
			return apiError(http.StatusBadRequest, "unknown statusFilter "+strconv.Quote(status))
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
		return apiError(http.StatusBadRequest, msg)
	}
	in.WebhookId = 0
	return e.saveHook(r.Context(), t, p, &in)
}

func (e *Emulator) hookPut(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return apiError(http.StatusBadRequest, "the webhook id must be a number")
	}
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	if _, ok := e.hookByID(t, id); !ok {
		return apiError(http.StatusNotFound, "Webhook "+r.PathValue("id")+" not found")
	}
	in.WebhookId = id
	return e.saveHook(r.Context(), t, p, &in)
}

// hookPatch applies JSON Patch (RFC 6902) operations add, replace and
// remove on the webhook's top-level members, the form SuperOffice's REST
// PATCH takes, then saves it like PUT (testing the target). Other
// operations and nested paths are refused with 400.
func (e *Emulator) hookPatch(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return apiError(http.StatusBadRequest, "the webhook id must be a number")
	}
	var ops []struct {
		Op    string
		Path  string
		Value json.RawMessage
	}
	if msg := decodeBody(r, &ops); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	cur, ok := e.hookByID(t, id)
	if !ok {
		return apiError(http.StatusNotFound, "Webhook "+r.PathValue("id")+" not found")
	}
	b, _ := json.Marshal(cur)
	var doc map[string]json.RawMessage
	_ = json.Unmarshal(b, &doc)
	for _, op := range ops {
		name := strings.TrimPrefix(op.Path, "/")
		if !strings.HasPrefix(op.Path, "/") || name == "" || strings.Contains(name, "/") {
			return apiError(http.StatusBadRequest, "the emulator patches top-level members only, not "+strconv.Quote(op.Path))
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
			return apiError(http.StatusBadRequest, "the emulator supports the JSON Patch operations add, replace and remove, not "+strconv.Quote(op.Op))
		}
	}
	var in wireWebhookIn
	b, _ = json.Marshal(doc)
	if err := json.Unmarshal(b, &in); err != nil {
		return apiError(http.StatusBadRequest, "the patched webhook is invalid: "+err.Error())
	}
	in.WebhookId = id
	return e.saveHook(r.Context(), t, p, &in)
}

func (e *Emulator) agentHookSave(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in wireWebhookIn
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	if in.WebhookId != 0 {
		if _, ok := e.hookByID(t, in.WebhookId); !ok {
			return apiError(http.StatusBadRequest, "Webhook "+strconv.Itoa(in.WebhookId)+" does not exist")
		}
	}
	return e.saveHook(r.Context(), t, p, &in)
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
// stores the webhook only if it answered 200. ctx is the saving request's:
// a caller that gives up ends the test too.
func (e *Emulator) saveHook(ctx context.Context, t *Tenant, p apiPrincipal, in *wireWebhookIn) (int, any) {
	state, msg := validateHook(in)
	if msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	if ok, why := e.testHook(ctx, t, p, in); !ok {
		return apiError(http.StatusBadRequest, "the webhook target did not accept the test event: "+why)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	th := e.hooksLocked(t)
	now := wireTimes{}.format(e.now())
	h := th.find(in.WebhookId)
	if h == nil {
		if in.WebhookId != 0 { // deleted while the test ran
			return apiError(http.StatusNotFound, "Webhook "+strconv.Itoa(in.WebhookId)+" not found")
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
		return apiError(http.StatusNotFound, "Webhook "+r.PathValue("id")+" not found")
	}
	return http.StatusNoContent, nil
}

func (e *Emulator) agentHookDelete(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	id, ok := queryID(r, "WebhookId")
	if !ok {
		return apiError(http.StatusBadRequest, "WebhookId is required and must be a number")
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
		return apiError(http.StatusBadRequest, msg)
	}
	return e.runTest(r.Context(), t, p, &in)
}

func (e *Emulator) agentHookTest(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	var in struct{ Webhook *wireWebhookIn }
	if msg := decodeBody(r, &in); msg != "" || in.Webhook == nil {
		return apiError(http.StatusBadRequest, "the body must be {\"Webhook\": {...}}")
	}
	return e.runTest(r.Context(), t, p, in.Webhook)
}

func (e *Emulator) runTest(ctx context.Context, t *Tenant, p apiPrincipal, in *wireWebhookIn) (int, any) {
	if _, msg := validateHook(in); msg != "" {
		return http.StatusOK, wireWebhookResult{Message: msg}
	}
	ok, why := e.testHook(ctx, t, p, in)
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
	return apiError(http.StatusNotFound, "Webhook "+r.PathValue("id")+" not found")
}

func (e *Emulator) agentHookLastError(r *http.Request, t *Tenant, _ apiPrincipal) (int, any) {
	var in struct{ WebhookId int }
	if msg := decodeBody(r, &in); msg != "" {
		return apiError(http.StatusBadRequest, msg)
	}
	w, _ := e.hookByID(t, in.WebhookId)
	return http.StatusOK, w.LastError
}

func (e *Emulator) hookSignal(r *http.Request, t *Tenant, p apiPrincipal) (int, any) {
	pk, err := strconv.Atoi(r.PathValue("pk"))
	if err != nil {
		return apiError(http.StatusBadRequest, "the primary key must be a number")
	}
	var data map[string]any
	if r.ContentLength != 0 {
		if msg := decodeBody(r, &data); msg != "" {
			return apiError(http.StatusBadRequest, msg)
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
		return apiError(http.StatusBadRequest, "the body must name an EventName")
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
