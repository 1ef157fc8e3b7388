package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A ticket stored with a run's end comes back, sealed at rest, with the next claim of
// any instance; every end of a claim stores it, and a write refused by the fence stores
// nothing.
func TestTicketTravelsWithTheClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t) // two instances
		mustUpsert(t, a, approval(1))
		now := db.clock.Now()

		c := claimOne(t, a, "a", now)
		require.Nil(t, c.Ticket, "a new tenant has a ticket")
		tk := &Ticket{Value: "7T:SECRET-TICKET-1", IssuedAt: now, LastUsed: now.Add(time.Second)}
		c.Ticket = tk
		require.NoError(t, a.Complete(ctx, c, Result{At: now, NextRun: now}))
		var raw []byte
		require.NoError(t, a.DB().QueryRowContext(ctx, `SELECT ticket FROM tenants`).Scan(&raw))
		require.NotEmpty(t, raw, "ticket not stored")
		require.NotContains(t, string(raw), "SECRET-TICKET", "ticket stored in the clear")

		c2 := claimOne(t, b, "b", now)
		require.Equal(t, tk, c2.Ticket, "the other instance's claim")
		tn := mustTenant(t, b, c2.ContextIdentifier)
		require.NotNil(t, tn.Ticket, "Tenant")
		assert.Equal(t, tk.Value, tn.Ticket.Value, "Tenant")
		assert.Equal(t, tk.LastUsed, tn.TicketUsedAt, "Tenant")
		assert.Equal(t, now, tn.TicketIssuedAt, "Tenant")
		require.NoError(t, b.Release(ctx, c2))

		// Each end of a claim stores what the run left behind.
		ends := []struct {
			name string
			end  func(Claim) error
		}{
			{"reschedule", func(c Claim) error { return b.Reschedule(ctx, c, Retry{NextRun: now, Err: "503"}) }},
			{"postpone", func(c Claim) error { return b.Postpone(ctx, c, now, "offline") }},
			{"release", func(c Claim) error { return b.Release(ctx, c) }},
			{"failure", func(c Claim) error { return b.Complete(ctx, c, Result{NextRun: now, Err: "400"}) }},
			{"batch", func(c Claim) error {
				errs, err := b.CompleteSuccesses(ctx, []Success{{Claim: c, NextRun: now}})
				if err == nil {
					err = errs[0]
				}
				return err
			}},
		}
		for i, e := range ends {
			c := claimOne(t, b, "b", now)
			c.Ticket = &Ticket{Value: fmt.Sprintf("7T:ticket-%d", i), IssuedAt: now, LastUsed: now.Add(time.Duration(i) * time.Minute)}
			require.NoError(t, e.end(c), e.name)
			got := claimOne(t, a, "a", now)
			require.NotNil(t, got.Ticket, "%s stored no ticket", e.name)
			require.Equal(t, c.Ticket.Value, got.Ticket.Value, "%s stored", e.name)
			require.Equal(t, c.Ticket.LastUsed, got.Ticket.LastUsed, "%s stored", e.name)
			// A refused ticket (nil) drops the stored one.
			got.Ticket = nil
			require.NoError(t, a.Release(ctx, got))
			c = claimOne(t, b, "b", now)
			require.Nil(t, c.Ticket, "%s: a dropped ticket came back", e.name)
			require.NoError(t, b.Release(ctx, c))
		}

		// A write refused by the fence stores no ticket.
		stale := claimOne(t, a, "a", now)
		later := db.clock.Advance(2 * time.Minute)
		current := claimOne(t, b, "b", later)
		stale.Ticket = &Ticket{Value: "7T:late", IssuedAt: later, LastUsed: later}
		require.ErrorIs(t, a.Complete(ctx, stale, Result{NextRun: later}), ErrLeaseLost, "stale write")
		require.NoError(t, b.Release(ctx, current))
		require.Nil(t, claimOne(t, a, "a", later).Ticket, "the refused write stored a ticket")
	})
}

// A re-approval (a new system user token) drops the stored ticket, and a run that
// claimed the tenant before it cannot store a ticket of the old token afterwards. A
// deactivation (approval withdrawn, tenant deleted) drops it too.
func TestTicketDroppedByReapprovalAndDeactivation(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		a := approval(1)
		mustUpsert(t, s, a)
		now := db.clock.Now()
		c := claimOne(t, s, "w", now)
		c.Ticket = &Ticket{Value: "7T:old-token-ticket", IssuedAt: now, LastUsed: now}
		require.NoError(t, s.Complete(ctx, c, Result{NextRun: now}))

		a.SystemUserToken = "NEW-TOKEN-after-reapproval"
		mustUpsert(t, s, a)
		tn := mustTenant(t, s, a.ContextIdentifier)
		assert.Nil(t, tn.Ticket, "after re-approval")
		assert.Zero(t, tn.TicketIssuedAt, "after re-approval")
		assert.Zero(t, tn.TicketUsedAt, "after re-approval")

		// A worker holding a claim from before the re-approval ends its run.
		c = claimOne(t, s, "w", now)
		mustUpsert(t, s, a) // approved once more while it runs
		c.Ticket = &Ticket{Value: "7T:exchanged-with-the-old-token", IssuedAt: now, LastUsed: now}
		require.NoError(t, s.Complete(ctx, c, Result{NextRun: now}))
		tn = mustTenant(t, s, a.ContextIdentifier)
		require.Nil(t, tn.Ticket, "a ticket of the old token was stored after the re-approval")
		require.Equal(t, OutcomeOK, tn.LastOutcome)

		// Deactivation drops the ticket the claim brought.
		c = claimOne(t, s, "w", now)
		c.Ticket = &Ticket{Value: "7T:live", IssuedAt: now, LastUsed: now}
		require.NoError(t, s.Complete(ctx, c, Result{NextRun: now}))
		c = claimOne(t, s, "w", now)
		require.NotNil(t, c.Ticket, "no ticket to drop")
		require.NoError(t, s.Complete(ctx, c, Result{Deactivate: true, Reason: "approval withdrawn"}))
		tn = mustTenant(t, s, a.ContextIdentifier)
		assert.Equal(t, StatusInactive, tn.Status, "deactivated")
		assert.Nil(t, tn.Ticket, "deactivated")
		assert.Zero(t, tn.TicketUsedAt, "deactivated")
	})
}

// A sealed ticket copied to another row, or into the token column, does not open: the
// claim carries no ticket (a new one is exchanged), the warning names the tenant and no
// secret, and the tenant stays active.
func TestTicketSealBoundToRowAndColumn(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		var logs bytes.Buffer
		s, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		defer s.Close()
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		now := db.clock.Now()
		cs, err := s.ClaimDue(ctx, "w", now, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, cs, 2)
		cs[0].Ticket = &Ticket{Value: "7T:SECRET-TICKET-of-1", IssuedAt: now, LastUsed: now}
		require.NoError(t, s.Complete(ctx, cs[0], Result{NextRun: now}))
		require.NoError(t, s.Release(ctx, cs[1]))

		// Tenant 1's sealed ticket, with its times, copied into tenant 2's row.
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET
			ticket = (SELECT ticket FROM tenants WHERE context_key = 'cust00001'),
			ticket_issued_at = (SELECT ticket_issued_at FROM tenants WHERE context_key = 'cust00001'),
			ticket_used_at = (SELECT ticket_used_at FROM tenants WHERE context_key = 'cust00001')
			WHERE context_key = 'cust00002'`)
		require.NoError(t, err)
		cs, err = s.ClaimDue(ctx, "w", now, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, cs, 2)
		require.NotNil(t, cs[0].Ticket, "tenant 1 lost its own ticket")
		require.Equal(t, "7T:SECRET-TICKET-of-1", cs[0].Ticket.Value, "tenant 1 lost its own ticket")
		require.Nil(t, cs[1].Ticket, "a ticket copied from another row opened")
		tn := mustTenant(t, s, "Cust00002")
		assert.Nil(t, tn.Ticket, "Tenant of the copied row")
		assert.Equal(t, StatusActive, tn.Status, "Tenant of the copied row")
		assert.Contains(t, logs.String(), "Cust00002", "the log does not name the tenant")
		assert.NotContains(t, logs.String(), "SECRET", "the log leaks a secret")
		for _, c := range cs {
			require.NoError(t, s.Release(ctx, c))
		}

		// The sealed ticket in its own row's token column does not open as a token.
		_, err = s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = ticket WHERE context_key = 'cust00001'`)
		require.NoError(t, err)
		_, err = s.Tenant(ctx, "Cust00001")
		require.ErrorIs(t, err, ErrSealBroken, "a ticket opened as a token")
	})
}

// Neither a claim nor a tenant nor a ticket prints or marshals the ticket.
func TestTicketNeverPrinted(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	tk := &Ticket{Value: "7T:SECRET-TICKET", IssuedAt: now, LastUsed: now}
	c := Claim{ContextIdentifier: "Cust1", Owner: "w", Ticket: tk}
	tn := Tenant{TenantSummary: TenantSummary{ContextIdentifier: "Cust1"}, Ticket: tk}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "claim", c, "tenant", tn, "ticket", tk, "ticket_value", *tk)
	for _, v := range []any{c, tn, tk, *tk} {
		fmt.Fprintf(&buf, "%v %+v %#v %s\n", v, v, v, v)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		buf.Write(j)
	}
	require.NotContains(t, buf.String(), "SECRET", "a ticket leaked")
}
