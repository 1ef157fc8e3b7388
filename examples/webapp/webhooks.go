package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/tenant/webapi"
	"github.com/go-superoffice/superoffice/tenant/webhook"
	"golang.org/x/oauth2"
)

// Webhooks: when a tenant's administrator approves the app, the app
// subscribes the tenant's contact events, pointed at its own receiver,
// /webhooks/{tenant}, and stores what arrives for the home page's "Recent
// events" panel.
//
// Each tenant's webhook secret is webhook.DerivedSecret of one master key
// and the tenant, so the app stores no secret per tenant: the receiver
// derives it again from the tenant in the URL. The master key is itself
// derived from the seal key with HKDF under a label of its own
// (webhookMasterInfo), like the login cookie's key: no further setting, the
// same on every instance that shares the seal key, and never the seal key
// itself (a webhook secret, which a tenant's administrator can read in
// SuperOffice, reveals nothing of it). Neither key nor secret is logged.
// Changing the seal key changes every secret; the next approval or sign-in
// of each tenant saves its webhook again with the new one.

// webhookName names the app's webhook on each tenant: Ensure finds it by
// this name.
const webhookName = "superoffice-go webapp"

// webhookEvents are the events the app subscribes.
var webhookEvents = []string{"contact.created", "contact.changed", "contact.deleted"}

// webhookPath is the receiver's route; the tenant's context identifier
// is its last segment.
const webhookPath = "/webhooks/{tenant}"

// webhookMasterInfo names the webhook master key among the keys derived
// from the seal key; another purpose takes another name.
const webhookMasterInfo = "superoffice-go examples/webapp: webhook master key v1"

// ensureTimeout bounds subscribing a tenant's webhook at a sign-in:
// SuperOffice POSTs a test event to the receiver before it saves.
const ensureTimeout = 15 * time.Second

// recentEvents is how many events the panel shows, and the store keeps,
// per tenant.
const recentEvents = 20

// webhookMasterKey derives the webhook master key from the seal key with
// HKDF-SHA256.
func webhookMasterKey(sealKey []byte) ([]byte, error) {
	if len(sealKey) != 32 {
		return nil, errors.New("webapp: the seal key must be 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, sealKey, nil, webhookMasterInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("webapp: derive the webhook master key: %w", err)
	}
	return key, nil
}

// hookStatus is how the last attempt to subscribe a tenant's webhook went,
// in this process.
type hookStatus struct {
	At     time.Time
	Target string
	Error  string // empty: the webhook is subscribed
}

// webhooks is the app's part in webhooks: the receiver's dedupe (shared by
// every tenant's requests) and each tenant's subscription status.
type webhooks struct {
	master []byte // never logged
	base   string // the receiver's URL without the tenant: ".../webhooks/"
	dedupe webhook.Dedupe

	mu     sync.Mutex
	status map[string]hookStatus // by lower-case context identifier
}

// webhookBase is the receiver's URL up to the tenant: base (or, when empty,
// the redirect URL's scheme and host) and "/webhooks/".
func webhookBase(base, redirectURL string) (string, error) {
	if base == "" {
		u, err := url.Parse(redirectURL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("webapp: no webhook URL can be made from the redirect URL %q", redirectURL)
		}
		base = u.Scheme + "://" + u.Host
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("webapp: the webhook URL %q must be an absolute http(s) URL without query", base)
	}
	return strings.TrimSuffix(u.String(), "/") + "/webhooks/", nil
}

// webhookTarget is the receiver's URL for the tenant.
func (s *Server) webhookTarget(contextID string) string {
	return s.hooks.base + url.PathEscape(contextID)
}

// ensureWebhook subscribes the tenant's webhook (Ensure is idempotent)
// as the signed-in user, and records how it went. A failure is logged and
// shown on the home page, never fatal: the next approval or sign-in tries
// again.
//
// The signed-in user's token, not the system user's: at an approval it is
// the administrator's, who may manage the tenant's webhooks, and the
// system user's ticket stays the actions' to exchange and cache.
func (s *Server) ensureWebhook(ctx context.Context, t *store.Tenant, ts oauth2.TokenSource) {
	ctx, cancel := context.WithTimeout(ctx, ensureTimeout)
	defer cancel()
	target := s.webhookTarget(t.ContextIdentifier)
	err := func() error {
		tc, err := s.userClient(t.ContextIdentifier, ts)
		if err != nil {
			return err
		}
		_, err = webapi.New(tc).WebhookAgent.Ensure(ctx, webapi.WebhookSubscription{
			Name:      webhookName,
			TargetURL: target,
			Events:    webhookEvents,
			Secret:    webhook.DerivedSecret(s.hooks.master, t.ContextIdentifier),
		})
		return err
	}()
	st := hookStatus{At: s.now(), Target: target}
	if err != nil {
		st.Error = s.describe(err)
		s.log.Error("subscribing the tenant's webhook failed; the next sign-in tries again",
			"tenant", t.ContextIdentifier, "target", target, "err", err)
	} else {
		s.log.Info("tenant's webhook subscribed", "tenant", t.ContextIdentifier, "target", target, "events", webhookEvents)
	}
	s.hooks.mu.Lock()
	s.hooks.status[strings.ToLower(t.ContextIdentifier)] = st
	s.hooks.mu.Unlock()
}

// hookStatus returns how the tenant's last subscription went, and whether
// this process tried at all.
func (s *Server) hookStatus(contextID string) (hookStatus, bool) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	st, ok := s.hooks.status[strings.ToLower(contextID)]
	return st, ok
}

// ensureWebhookAtSignIn subscribes the webhook of the signed-in user's
// tenant unless this process did so already: after an approval (approved
// set), after a restart, and after a failure.
func (s *Server) ensureWebhookAtSignIn(ctx context.Context, l *superid.Login, approved bool) {
	contextID := l.Claims.ContextIdentifier
	if st, ok := s.hookStatus(contextID); ok && st.Error == "" && !approved && st.Target == s.webhookTarget(contextID) {
		return
	}
	t, err := s.store.Tenant(ctx, contextID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return // not approved: no system user to subscribe with
	case err != nil:
		s.log.Warn("reading the tenant to subscribe its webhook failed", "tenant", contextID, "err", err)
		return
	case t.Status != store.StatusActive:
		return
	}
	s.ensureWebhook(ctx, t, s.sid.TokenSource(ctx, l.Token))
}

// receiveWebhook is the receiver: tenant/webhook's Handler, bound to the
// tenant its URL names. The secret is that tenant's, and the event is
// stored under that tenant whatever the body says, so that a tenant's
// administrator, who can read their own webhook's secret, cannot sign an
// event into another tenant's panel.
func (s *Server) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	var t *store.Tenant
	h, err := webhook.New(webhook.Config{
		Secret: func(r *http.Request) ([]byte, error) {
			var err error
			t, err = s.store.Tenant(r.Context(), name)
			switch {
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
				return nil, fmt.Errorf("%w: no such tenant", webhook.ErrUnknownReceiver)
			case err != nil:
				return nil, err
			}
			return []byte(webhook.DerivedSecret(s.hooks.master, t.ContextIdentifier)), nil
		},
		Handle:  func(ctx context.Context, ev *webhook.Event) error { return s.storeEvent(ctx, t, ev) },
		MaxBody: 256 << 10,
		Dedupe:  s.hooks.dedupe,
		Logger:  s.log,
	})
	if err != nil {
		s.log.Error("webhook receiver", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.ServeHTTP(w, r)
}

// storeEvent keeps a verified event for the tenant's panel. A tenant whose
// approval no longer counts gets ErrGone, which stops its webhook: an
// approval subscribes it again.
func (s *Server) storeEvent(ctx context.Context, t *store.Tenant, ev *webhook.Event) error {
	if t.Status != store.StatusActive {
		s.log.Info("webhook event for an inactive tenant; telling SuperOffice to stop", "tenant", t.ContextIdentifier, "event", ev.Event)
		return webhook.ErrGone
	}
	if ev.ContextIdentifier != "" && !strings.EqualFold(ev.ContextIdentifier, t.ContextIdentifier) {
		s.log.Warn("webhook event names another tenant than its URL; stored under the URL's",
			"tenant", t.ContextIdentifier, "event_tenant", ev.ContextIdentifier)
	}
	added, err := s.store.AddWebhookEvent(ctx, store.WebhookEvent{
		ContextIdentifier: t.ContextIdentifier,
		EventID:           ev.EventID,
		Event:             ev.Event,
		Entity:            ev.Entity,
		PrimaryKey:        ev.PrimaryKey,
		ChangedBy:         ev.ChangedByAssociateID,
		OccurredAt:        ev.Timestamp,
	}, recentEvents)
	if err != nil {
		s.log.Error("storing a webhook event failed; SuperOffice will try again", "tenant", t.ContextIdentifier, "event", ev.Event, "err", err)
		return err
	}
	if added {
		s.log.Info("webhook event", "tenant", t.ContextIdentifier, "event", ev.Event, "entity", ev.Entity, "primary_key", ev.PrimaryKey)
	}
	return nil
}

// eventView is a row of the "Recent events" panel.
type eventView struct {
	Event      string
	Entity     string
	PrimaryKey int64
	When       time.Time
}

// recentEventsView reads the tenant's events for the panel; an error is
// logged and shown as a sentence.
func (s *Server) recentEventsView(ctx context.Context, contextID string) ([]eventView, string) {
	evs, err := s.store.RecentWebhookEvents(ctx, contextID, recentEvents)
	if err != nil {
		s.log.Warn("reading the tenant's webhook events failed", "tenant", contextID, "err", err)
		return nil, "The events could not be read."
	}
	out := make([]eventView, 0, len(evs))
	for _, ev := range evs {
		when := ev.OccurredAt
		if when.IsZero() {
			when = ev.ReceivedAt
		}
		out = append(out, eventView{Event: ev.Event, Entity: ev.Entity, PrimaryKey: ev.PrimaryKey, When: when})
	}
	return out, ""
}
