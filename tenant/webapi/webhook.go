package webapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// WebhookSubscription is the webhook an app wants on a tenant: what
// WebhookAgent.Ensure makes true.
type WebhookSubscription struct {
	// Name identifies the app's webhook on the tenant; Ensure finds it by
	// this name (and TargetURL). Required.
	Name string
	// TargetURL is where SuperOffice POSTs the events: https in Online,
	// and answering the test event with 200, or the save fails. Required.
	TargetURL string
	// Events are the event names, such as "contact.created". Required.
	Events []string
	// Secret signs every delivery (X-SuperOffice-Signature); see
	// tenant/webhook.DerivedSecret for a secret per tenant that needs no
	// storage. Empty means a fresh random secret, returned in the saved
	// Webhook's Secret for the app to keep.
	Secret string
	// Headers are extra HTTP headers sent with each delivery; nil leaves
	// those of an existing webhook as they are.
	Headers map[string]string
	// Properties are extra members added to each payload; nil leaves
	// those of an existing webhook as they are.
	Properties map[string]any
}

// Ensure makes sure the tenant has the webhook sub describes, and returns
// it as saved. It updates the app's webhook of that name (preferring one
// with the same TargetURL) or creates one, always with a secret, and sets
// a Stopped or TooManyErrors webhook Active again; running it twice makes
// one webhook, and further webhooks of the same name and target are
// deleted. A webhook already exactly as asked is not saved again.
// Saving makes SuperOffice POST a test event to TargetURL, and the save
// fails unless the receiver answers 200.
func (s WebhookAgent) Ensure(ctx context.Context, sub WebhookSubscription) (*Webhook, error) {
	switch {
	case strings.TrimSpace(sub.Name) == "":
		return nil, errors.New("webapi: Ensure: the webhook needs a Name")
	case len(sub.Events) == 0:
		return nil, errors.New("webapi: Ensure: the webhook needs at least one event")
	}
	if u, err := url.Parse(sub.TargetURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("webapi: Ensure: TargetURL must be an absolute http(s) URL")
	}
	if sub.Secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("webapi: Ensure: %w", err)
		}
		sub.Secret = base64.RawURLEncoding.EncodeToString(b)
	}
	all, err := s.GetAllWebhooks(ctx, WebhookGetAllWebhooksRequest{NameFilter: sub.Name})
	if err != nil {
		return nil, err
	}
	var hook *Webhook
	for i := range all {
		h := &all[i]
		if !strings.EqualFold(h.Name, sub.Name) {
			continue // the filter may match by substring
		}
		switch {
		case hook == nil:
			hook = h
		case h.TargetURL == sub.TargetURL && hook.TargetURL != sub.TargetURL:
			hook = h
		}
	}
	// Others of the same name and target are duplicates (of an earlier
	// run that failed halfway, say): hook becomes that webhook.
	var twins []int64
	for i := range all {
		h := &all[i]
		if h != hook && strings.EqualFold(h.Name, sub.Name) && h.TargetURL == sub.TargetURL {
			twins = append(twins, h.WebhookID)
		}
	}
	if hook == nil {
		if hook, err = s.CreateDefaultWebhook(ctx); err != nil {
			return nil, err
		}
		if hook == nil {
			hook = &Webhook{}
		}
		hook.WebhookID = 0
	} else if upToDate(hook, sub) {
		return hook, s.deleteAll(ctx, twins)
	}
	hook.Name, hook.TargetURL, hook.Secret = sub.Name, sub.TargetURL, sub.Secret
	hook.Events = slices.Clone(sub.Events)
	hook.State, hook.Type = WebhookStateActive, "webhook"
	if sub.Headers != nil {
		hook.Headers = maps.Clone(sub.Headers)
	}
	if sub.Properties != nil {
		hook.Properties = maps.Clone(sub.Properties)
	}
	saved, err := s.SaveWebhook(ctx, hook)
	if err != nil {
		return nil, err
	}
	return saved, s.deleteAll(ctx, twins)
}

// upToDate reports whether h is already the webhook sub asks for. The
// server may not return the secret; then h is saved again to be sure.
func upToDate(h *Webhook, sub WebhookSubscription) bool {
	sameEvents := func(a, b []string) bool {
		a, b = slices.Clone(a), slices.Clone(b)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(slices.Compact(a), slices.Compact(b))
	}
	return h.State == WebhookStateActive && h.TargetURL == sub.TargetURL && h.Secret == sub.Secret &&
		h.Name == sub.Name && sameEvents(h.Events, sub.Events) && strings.EqualFold(h.Type, "webhook") &&
		(sub.Headers == nil || maps.Equal(h.Headers, sub.Headers)) && sub.Properties == nil
}

// Remove deletes every webhook of the tenant named name (the app's, on
// uninstall) and returns how many it deleted.
func (s WebhookAgent) Remove(ctx context.Context, name string) (int, error) {
	if strings.TrimSpace(name) == "" {
		return 0, errors.New("webapi: Remove: the webhook name is required")
	}
	all, err := s.GetAllWebhooks(ctx, WebhookGetAllWebhooksRequest{NameFilter: name})
	if err != nil {
		return 0, err
	}
	var ids []int64
	for _, h := range all {
		if strings.EqualFold(h.Name, name) {
			ids = append(ids, h.WebhookID)
		}
	}
	if err := s.deleteAll(ctx, ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}

func (s WebhookAgent) deleteAll(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if err := s.DeleteWebhook(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
