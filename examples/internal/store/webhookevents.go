package store

import (
	"context"
	"time"
)

// WebhookEvent is one webhook delivery the web app received for a tenant: what
// happened to which row, not the row's values (a webhook is a hint to re-read the
// entity, not a copy of it).
type WebhookEvent struct {
	// ContextIdentifier is the tenant, as the event spelled it. Required.
	ContextIdentifier string
	// EventID is SuperOffice's EventId: the same for every retry of one delivery, so a
	// second event of the tenant with the same id is a duplicate. Empty: none was sent,
	// and no duplicate can be told.
	EventID string
	// Event is the event name, "contact.created". Required.
	Event string
	// Entity is the table the event is about, "contact".
	Entity string
	// PrimaryKey is the id of the row.
	PrimaryKey int64
	// ChangedBy is the associate whose change fired the event; 0: not sent.
	ChangedBy int64
	// OccurredAt is when the event happened (its Timestamp); zero: not sent.
	OccurredAt time.Time
	// ReceivedAt is when the app stored it; AddWebhookEvent sets it from the store's
	// clock.
	ReceivedAt time.Time
}

// DefaultWebhookEventsKept is how many events of a tenant AddWebhookEvent keeps when
// asked to keep 0.
const DefaultWebhookEventsKept = 50

// AddWebhookEvent stores ev as its tenant's newest event and deletes the tenant's
// older events beyond the newest keep (0: DefaultWebhookEventsKept), so that the table
// stays a small window however many events arrive. It reports false, storing nothing,
// when the tenant already has an event of ev's EventID: a retried or replayed delivery,
// on this instance or another.
func (s *Store) AddWebhookEvent(ctx context.Context, ev WebhookEvent, keep int) (bool, error) {
	const op = "add webhook event"
	key, err := tenantKey(op, ev.ContextIdentifier)
	if err != nil {
		return false, err
	}
	switch {
	case ev.Event == "":
		return false, invalid(op, "empty event name")
	case keep < 0:
		return false, invalid(op, "keep must not be negative")
	case keep == 0:
		keep = DefaultWebhookEventsKept
	}
	var eventID any // NULL: no id, never a duplicate
	if ev.EventID != "" {
		eventID = text(ev.EventID)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO webhook_events
		(context_key, context_id, event_id, event, entity, primary_key, changed_by, occurred_at, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (context_key, event_id) DO NOTHING`,
		key, text(ev.ContextIdentifier), eventID, text(ev.Event), text(ev.Entity), ev.PrimaryKey, ev.ChangedBy,
		micros(ev.OccurredAt), micros(s.now()))
	if err != nil {
		return false, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap(op, err)
	}
	if n == 0 {
		return false, nil
	}
	// Trimming after the insert rather than in one transaction: two inserts at once
	// may leave a row or two over keep until the next one, which only costs space.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webhook_events WHERE context_key = $1 AND id NOT IN
		(SELECT id FROM webhook_events WHERE context_key = $1 ORDER BY id DESC LIMIT $2)`, key, keep); err != nil {
		return true, wrap(op, err)
	}
	return true, nil
}

// RecentWebhookEvents returns the tenant's newest events, newest first, at most limit
// of them (0: DefaultWebhookEventsKept).
func (s *Store) RecentWebhookEvents(ctx context.Context, contextID string, limit int) ([]WebhookEvent, error) {
	const op = "recent webhook events"
	key, err := tenantKey(op, contextID)
	if err != nil {
		return nil, err
	}
	switch {
	case limit < 0:
		return nil, invalid(op, "limit must not be negative")
	case limit == 0:
		limit = DefaultWebhookEventsKept
	}
	rows, err := s.db.QueryContext(ctx, `SELECT context_id, COALESCE(event_id, ''), event, entity, primary_key,
		changed_by, occurred_at, received_at FROM webhook_events WHERE context_key = $1 ORDER BY id DESC LIMIT $2`, key, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []WebhookEvent
	for rows.Next() {
		var ev WebhookEvent
		var occurred, received int64
		if err := rows.Scan(&ev.ContextIdentifier, &ev.EventID, &ev.Event, &ev.Entity, &ev.PrimaryKey,
			&ev.ChangedBy, &occurred, &received); err != nil {
			return nil, wrap(op, err)
		}
		ev.OccurredAt, ev.ReceivedAt = fromMicros(occurred), fromMicros(received)
		out = append(out, ev)
	}
	return out, wrap(op, rows.Err())
}
