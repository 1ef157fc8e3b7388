// Package webhook receives SuperOffice webhooks: the events (contact
// created, person changed...) SuperOffice POSTs to a partner app for each
// tenant that has a webhook subscribed to them.
//
// # Quick start
//
// Mount a Handler at the webhook's TargetUrl, with the tenant in the URL
// and each tenant's secret derived from one master key:
//
//	h, err := webhook.New(webhook.Config{
//		Secret: webhook.DerivedSecrets(masterKey,
//			func(r *http.Request) string { return r.PathValue("tenant") }, nil),
//		Handle: func(ctx context.Context, ev *webhook.Event) error {
//			return queue.Add(ctx, ev.ContextIdentifier, ev.Entity, ev.PrimaryKey)
//		},
//	})
//	mux.Handle("POST /webhooks/{tenant}", h)
//
// and subscribe each tenant with tenant/webapi's Ensure, passing
// webhook.DerivedSecret(masterKey, contextID) as the secret and
// "https://app.example.com/webhooks/"+contextID as the target.
//
// # What the Handler checks
//
// A delivery is a POST of a JSON body, signed when the webhook has a
// secret: the header X-SuperOffice-Signature holds the standard base64 of
// HMAC-SHA256 over the raw body, keyed with the secret (Verify; nothing
// else, no URL and no time, is signed). The Handler refuses, with a 4xx
// and without calling the app: another method (405), another content type
// (415), a body over Config.MaxBody (413), no signature or a wrong one
// (401), and a body that is not a payload (400). It answers the test event
// SuperOffice sends when a webhook is saved with 200 (the save fails
// otherwise), and a delivery whose EventId it has handled with 200 too;
// one whose EventId another request is handling right now gets 409, so
// that SuperOffice tries it again.
//
// # Retries and duplicates
//
// SuperOffice counts only 200 as success. It tries a delivery three times
// (again after one and after four seconds) with the same EventId, then
// discards it; after nine discarded deliveries in a row it sets the
// webhook to TooManyErrors and stops. An answer of 410 Gone stops it at
// once (return ErrGone from Handle). So Handle should be quick (store or
// queue the event, return) and must return an error when it could not:
// the Handler then answers 500 and forgets the EventId, so that the retry
// gets another chance. Deliveries are hints: re-read the entity through
// the API, and reconcile after a gap, since discarded events never come
// back.
//
// # Field values
//
// Event.FieldValues and Event.Values stay as sent, because SuperOffice
// sends them in two forms: encoded strings ("[I:6]", "[DT:09/16/2025
// 14:22:14.0000000]") in created and changed events, plain JSON (6,
// "2025-09-12T14:33:37") in deleted ones. DecodeValues reads both.
package webhook
