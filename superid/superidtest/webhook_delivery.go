package superidtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-superoffice/superoffice/tenant/webhook"
)

// Webhook deliveries: the test event on save, the events the tenant API
// fires, and the retry cycle (webhook.go has the rows and the routes).

// ---- the test event ----

// testHook POSTs the test event to in's target and reports whether it
// answered 200; without e.mu held. ctx is the request that asked for it.
func (e *Emulator) testHook(ctx context.Context, t *Tenant, p apiPrincipal, in *wireWebhookIn) (bool, string) {
	payload := map[string]any{
		"EventId": newGUID(), "Timestamp": e.hookNow(), "Changes": []string{}, "Event": "test", "PrimaryKey": 0,
		"Entity": "test", "ContextIdentifier": "Default", "ChangedByAssociateId": p.associateID, "WebhookName": in.Name,
	}
	for k, v := range in.Properties {
		if _, taken := payload[k]; !taken {
			payload[k] = v
		}
	}
	status, err := e.post(ctx, in.TargetUrl, in.Secret, in.Headers, "test", payload, 0, true)
	switch {
	case err != nil:
		return false, err.Error()
	case status != http.StatusOK:
		return false, "it answered " + strconv.Itoa(status) + " " + http.StatusText(status)
	}
	return true, ""
}

func (e *Emulator) hookNow() string {
	return e.now().UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// post sends one delivery and returns the target's status.
func (e *Emulator) post(ctx context.Context, target, secret string, headers map[string]string, event string, payload map[string]any, retry int, test bool) (int, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set("X-SuperOffice-Event", event)
	req.Header.Set("X-SuperOffice-EventId", fmt.Sprint(payload["EventId"]))
	req.Header.Set("X-SuperOffice-Retry", strconv.Itoa(retry))
	if test {
		req.Header.Set("X-Hook-Test", "true")
	}
	if secret != "" {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), body))
	}
	c := e.hooks.client
	if c == nil {
		c = defaultHookClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST failed: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// ---- events from the tenant API ----

// watchHooks runs a tenant API handler for tenantAPI, with e.mu held:
// when the tenant has webhooks, it compares the contacts and persons
// before and after the handler and fires contact.* and person.* events
// for what was created, changed or deleted.
func (e *Emulator) watchHooks(h apiHandler, r *http.Request, t *Tenant, st *tenantStore, p apiPrincipal) (int, any) {
	th := e.hooks.tenant[strings.ToLower(t.ContextIdentifier)]
	if r.Method == http.MethodGet || th == nil || len(th.hooks) == 0 {
		return h(r, t, st, p)
	}
	before := snapshotRows(st)
	status, v := h(r, t, st, p)
	if status < 300 {
		after := snapshotRows(st)
		e.diffLocked(t, p, "contact", before.contacts, after.contacts)
		e.diffLocked(t, p, "person", before.persons, after.persons)
	}
	return status, v
}

// rows are the root-table columns of every contact and person, by id:
// SuperOffice fires only for the root table, so a change to a phone,
// an email or a description (a table of its own) emits nothing.
type rows struct{ contacts, persons map[int]map[string]any }

func snapshotRows(st *tenantStore) rows {
	rs := rows{contacts: map[int]map[string]any{}, persons: map[int]map[string]any{}}
	for _, c := range st.contactList() {
		rs.contacts[c.ContactID] = map[string]any{
			"contact_id": c.ContactID, "name": c.Name, "department": c.Department, "orgnr": c.OrgNr,
			"number1": c.Number1, "number2": c.Number2, "category_idx": c.CategoryID, "business_idx": c.BusinessID,
			"country_id": c.CountryID, "associate_id": c.AssociateID, "registered": c.Created,
			"registered_associate_id": c.CreatedBy, "updated": c.Updated, "updated_associate_id": c.UpdatedBy,
		}
	}
	for _, p := range st.personList() {
		rs.persons[p.PersonID] = map[string]any{
			"person_id": p.PersonID, "contact_id": p.ContactID, "firstname": p.Firstname, "middleName": p.MiddleName,
			"lastname": p.Lastname, "mrmrs": p.Mrmrs, "title": p.Title, "associate_id": p.AssociateID,
			"registered": p.Created, "registered_associate_id": p.CreatedBy, "updated": p.Updated,
			"updated_associate_id": p.UpdatedBy,
		}
	}
	return rs
}

// diffLocked fires entity.created, .changed and .deleted for the rows
// that differ between before and after.
func (e *Emulator) diffLocked(t *Tenant, p apiPrincipal, entity string, before, after map[int]map[string]any) {
	ids := make([]int, 0, len(after))
	for id := range after {
		ids = append(ids, id)
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		b, a := before[id], after[id]
		switch {
		case b == nil:
			var changes []string
			for k, v := range a {
				if !reflect.ValueOf(v).IsZero() {
					changes = append(changes, k)
				}
			}
			slices.Sort(changes)
			e.fireLocked(t, p, entity+".created", entity, id, changes, encodeFields(a), nil)
		case a == nil:
			e.fireLocked(t, p, entity+".deleted", entity, id, []string{}, plainFields(b), plainFields(b))
		default:
			var changes []string
			for k, v := range a {
				if !reflect.DeepEqual(v, b[k]) {
					changes = append(changes, k)
				}
			}
			slices.Sort(changes)
			if slices.ContainsFunc(changes, func(c string) bool { return c != "updated" && c != "updated_associate_id" }) {
				e.fireLocked(t, p, entity+".changed", entity, id, changes, encodeFields(a), nil)
			}
		}
	}
}

// encodeFields writes columns as created and changed events do: encoded
// by CultureDataFormatter ("[I:6]", "[DT:09/16/2025 14:22:14.0000000]");
// strings are not encoded.
func encodeFields(cols map[string]any) map[string]any {
	out := make(map[string]any, len(cols))
	for k, v := range cols {
		switch v := v.(type) {
		case int:
			out[k] = "[I:" + strconv.Itoa(v) + "]"
		case time.Time:
			out[k] = "[DT:" + v.UTC().Format("01/02/2006 15:04:05.0000000") + "]"
		default:
			out[k] = v
		}
	}
	return out
}

// plainFields writes columns as deleted events do: plain JSON.
func plainFields(cols map[string]any) map[string]any {
	out := make(map[string]any, len(cols))
	for k, v := range cols {
		if tm, ok := v.(time.Time); ok {
			out[k] = tm.UTC().Format("2006-01-02T15:04:05")
			continue
		}
		out[k] = v
	}
	return out
}

// fireLocked queues event for every Active webhook of t subscribed to it.
func (e *Emulator) fireLocked(t *Tenant, p apiPrincipal, event, entity string, pk int, changes []string, fields, values map[string]any) {
	th := e.hooks.tenant[strings.ToLower(t.ContextIdentifier)]
	if th == nil {
		return
	}
	if changes == nil {
		changes = []string{}
	}
	for _, h := range th.hooks {
		if h.State != "Active" || !slices.ContainsFunc(h.Events, func(s string) bool { return strings.EqualFold(s, event) }) {
			continue
		}
		payload := map[string]any{}
		for k, v := range h.Properties {
			payload[k] = v
		}
		for k, v := range map[string]any{
			"Timestamp": e.hookNow(), "Changes": changes, "Event": event, "PrimaryKey": pk, "Entity": entity,
			"ContextIdentifier": t.ContextIdentifier, "ChangedByAssociateId": p.associateID, "WebhookName": h.Name,
			"FieldValues": fields,
		} {
			payload[k] = v
		}
		if values != nil {
			payload["Values"] = values
		}
		e.hooks.wg.Add(1)
		h.queue = append(h.queue, hookDelivery{event: event, payload: payload})
		if !h.running {
			h.running = true
			go e.drain(t, h)
		}
	}
}

// drain delivers h's queue in order, one cycle at a time.
func (e *Emulator) drain(t *Tenant, h *storedHook) {
	for {
		e.mu.Lock()
		if len(h.queue) == 0 {
			h.running = false
			e.mu.Unlock()
			return
		}
		d := h.queue[0]
		h.queue = h.queue[1:]
		e.mu.Unlock()
		e.cycle(t, h, d)
		e.hooks.wg.Done()
	}
}

// cycle makes up to three attempts at one delivery, with one EventId.
func (e *Emulator) cycle(t *Tenant, h *storedHook, d hookDelivery) {
	ctx := e.hooks.ctx
	d.payload["EventId"] = newGUID()
	var lastErr string
	for attempt := range 3 {
		if attempt > 0 {
			if err := e.waitRetry(ctx, webhookRetryWaits[attempt-1]); err != nil {
				lastErr = err.Error()
				break
			}
		}
		e.mu.Lock()
		if h.State != "Active" || e.hooksLocked(t).find(h.WebhookId) != h {
			e.mu.Unlock()
			return // stopped or deleted meanwhile: the event is dropped
		}
		target, secret, headers := h.TargetUrl, h.Secret, h.Headers
		h.TotalCalls++
		e.mu.Unlock()
		status, err := e.post(ctx, target, secret, headers, d.event, d.payload, attempt, false)
		e.mu.Lock()
		switch {
		case err == nil && status == http.StatusOK:
			h.consecutive = 0
			e.mu.Unlock()
			return
		case err == nil && status == http.StatusGone:
			h.State, h.LastError = "Stopped", "the target answered 410 Gone"
			e.mu.Unlock()
			return
		case err != nil:
			lastErr = err.Error()
		default:
			lastErr = "the target answered " + strconv.Itoa(status) + " " + http.StatusText(status)
		}
		h.TotalErrors++
		h.LastError = lastErr
		e.mu.Unlock()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h.consecutive++
	h.LastError = lastErr
	if h.consecutive >= webhookMaxConsecutive && h.State == "Active" {
		h.State = "TooManyErrors"
	}
}

func (e *Emulator) waitRetry(ctx context.Context, d time.Duration) error {
	if e.hooks.wait != nil {
		return e.hooks.wait(ctx, d)
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitWebhooks blocks until every webhook delivery queued so far has
// ended, successfully or not (after its retries): the signal tests wait
// for instead of sleeping.
func (e *Emulator) WaitWebhooks() { e.hooks.wg.Wait() }
