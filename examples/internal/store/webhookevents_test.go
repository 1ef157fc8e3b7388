package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebhookEvents: events are kept per tenant (case-insensitively),
// newest first, bounded; a second event of the same EventId is a
// duplicate, on another instance too; events without an id are all kept.
func TestWebhookEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t) // two instances on one database
		at := time.Date(2026, 12, 7, 19, 46, 0, 0, time.UTC)
		ev := func(n int) WebhookEvent {
			return WebhookEvent{ContextIdentifier: "Cust12345", EventID: fmt.Sprintf("ev-%d", n), Event: "contact.created",
				Entity: "contact", PrimaryKey: int64(n), ChangedBy: 7, OccurredAt: at}
		}
		added, err := a.AddWebhookEvent(ctx, ev(1), 3)
		require.NoError(t, err)
		assert.True(t, added)
		added, err = b.AddWebhookEvent(ctx, ev(1), 3)
		require.NoError(t, err)
		assert.False(t, added, "the same EventId again, on another instance")
		db.clock.Advance(time.Second)
		for n := 2; n <= 5; n++ {
			added, err := a.AddWebhookEvent(ctx, ev(n), 3)
			require.NoError(t, err)
			assert.True(t, added)
		}
		_, err = a.AddWebhookEvent(ctx, WebhookEvent{ContextIdentifier: "Cust00002", Event: "person.deleted"}, 3)
		require.NoError(t, err)

		got, err := b.RecentWebhookEvents(ctx, "CUST12345", 0)
		require.NoError(t, err)
		require.Len(t, got, 3, "bounded to the newest 3")
		assert.Equal(t, []int64{5, 4, 3}, []int64{got[0].PrimaryKey, got[1].PrimaryKey, got[2].PrimaryKey})
		want := ev(5)
		want.ReceivedAt = db.clock.Now()
		assert.Equal(t, want, got[0])

		got, err = a.RecentWebhookEvents(ctx, "Cust12345", 1)
		require.NoError(t, err)
		assert.Len(t, got, 1)

		for range 2 { // no EventId: no duplicate can be told, both are kept
			_, err := a.AddWebhookEvent(ctx, WebhookEvent{ContextIdentifier: "Cust00003", Event: "contact.changed"}, 0)
			require.NoError(t, err)
		}
		got, err = a.RecentWebhookEvents(ctx, "cust00003", 0)
		require.NoError(t, err)
		assert.Len(t, got, 2)
		got, err = a.RecentWebhookEvents(ctx, "Cust99999", 0)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
}

func TestWebhookEventsInvalid(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	_, err := s.AddWebhookEvent(ctx, WebhookEvent{Event: "contact.created"}, 0)
	assert.ErrorIs(t, err, ErrInvalid, "no tenant")
	_, err = s.AddWebhookEvent(ctx, WebhookEvent{ContextIdentifier: "Cust1"}, 0)
	assert.ErrorIs(t, err, ErrInvalid, "no event name")
	_, err = s.AddWebhookEvent(ctx, WebhookEvent{ContextIdentifier: "Cust1", Event: "x"}, -1)
	assert.ErrorIs(t, err, ErrInvalid, "negative keep")
	_, err = s.RecentWebhookEvents(ctx, "", 0)
	assert.ErrorIs(t, err, ErrInvalid, "no tenant")
	_, err = s.RecentWebhookEvents(ctx, "Cust1", -1)
	assert.ErrorIs(t, err, ErrInvalid, "negative limit")
}
