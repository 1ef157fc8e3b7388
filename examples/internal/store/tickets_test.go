package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
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
		if c.Ticket != nil {
			t.Fatalf("a new tenant has a ticket: %v", c.Ticket)
		}
		tk := &Ticket{Value: "7T:SECRET-TICKET-1", IssuedAt: now, LastUsed: now.Add(time.Second)}
		c.Ticket = tk
		if err := a.Complete(ctx, c, Result{At: now, NextRun: now}); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := a.DB().QueryRowContext(ctx, `SELECT ticket FROM tenants`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte("SECRET-TICKET")) {
			t.Fatalf("ticket stored in the clear or not at all: %d bytes", len(raw))
		}

		c2 := claimOne(t, b, "b", now)
		if c2.Ticket == nil || c2.Ticket.Value != tk.Value || !c2.Ticket.IssuedAt.Equal(tk.IssuedAt) || !c2.Ticket.LastUsed.Equal(tk.LastUsed) {
			t.Fatalf("the other instance's claim carries %+v", c2.Ticket)
		}
		tn, err := b.Tenant(ctx, c2.ContextIdentifier)
		if err != nil || tn.Ticket == nil || tn.Ticket.Value != tk.Value || !tn.TicketUsedAt.Equal(tk.LastUsed) || !tn.TicketIssuedAt.Equal(now) {
			t.Fatalf("Tenant: %+v, %v", tn, err)
		}
		if err := b.Release(ctx, c2); err != nil {
			t.Fatal(err)
		}

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
			if err := e.end(c); err != nil {
				t.Fatalf("%s: %v", e.name, err)
			}
			got := claimOne(t, a, "a", now)
			if got.Ticket == nil || got.Ticket.Value != c.Ticket.Value || !got.Ticket.LastUsed.Equal(c.Ticket.LastUsed) {
				t.Fatalf("%s stored %v", e.name, got.Ticket)
			}
			// A refused ticket (nil) drops the stored one.
			got.Ticket = nil
			if err := a.Release(ctx, got); err != nil {
				t.Fatal(err)
			}
			if c := claimOne(t, b, "b", now); c.Ticket != nil {
				t.Fatalf("%s: a dropped ticket came back", e.name)
			} else if err := b.Release(ctx, c); err != nil {
				t.Fatal(err)
			}
		}

		// A write refused by the fence stores no ticket.
		stale := claimOne(t, a, "a", now)
		later := db.clock.Advance(2 * time.Minute)
		current := claimOne(t, b, "b", later)
		stale.Ticket = &Ticket{Value: "7T:late", IssuedAt: later, LastUsed: later}
		if err := a.Complete(ctx, stale, Result{NextRun: later}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("stale write: %v", err)
		}
		if err := b.Release(ctx, current); err != nil {
			t.Fatal(err)
		}
		if c := claimOne(t, a, "a", later); c.Ticket != nil {
			t.Fatalf("the refused write stored %v", c.Ticket)
		}
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
		if err := s.Complete(ctx, c, Result{NextRun: now}); err != nil {
			t.Fatal(err)
		}

		a.SystemUserToken = "NEW-TOKEN-after-reapproval"
		mustUpsert(t, s, a)
		tn, err := s.Tenant(ctx, a.ContextIdentifier)
		if err != nil || tn.Ticket != nil || !tn.TicketIssuedAt.IsZero() || !tn.TicketUsedAt.IsZero() {
			t.Fatalf("after re-approval: %+v, %v", tn, err)
		}

		// A worker holding a claim from before the re-approval ends its run.
		c = claimOne(t, s, "w", now)
		mustUpsert(t, s, a) // approved once more while it runs
		c.Ticket = &Ticket{Value: "7T:exchanged-with-the-old-token", IssuedAt: now, LastUsed: now}
		if err := s.Complete(ctx, c, Result{NextRun: now}); err != nil {
			t.Fatal(err)
		}
		if tn, _ := s.Tenant(ctx, a.ContextIdentifier); tn.Ticket != nil || tn.LastOutcome != OutcomeOK {
			t.Fatalf("a ticket of the old token was stored after the re-approval: %v", tn.Ticket)
		}

		// Deactivation drops the ticket the claim brought.
		c = claimOne(t, s, "w", now)
		c.Ticket = &Ticket{Value: "7T:live", IssuedAt: now, LastUsed: now}
		if err := s.Complete(ctx, c, Result{NextRun: now}); err != nil {
			t.Fatal(err)
		}
		c = claimOne(t, s, "w", now)
		if c.Ticket == nil {
			t.Fatal("no ticket to drop")
		}
		if err := s.Complete(ctx, c, Result{Deactivate: true, Reason: "approval withdrawn"}); err != nil {
			t.Fatal(err)
		}
		tn, _ = s.Tenant(ctx, a.ContextIdentifier)
		if tn.Status != StatusInactive || tn.Ticket != nil || !tn.TicketUsedAt.IsZero() {
			t.Fatalf("deactivated: %+v ticket %v", tn.TenantSummary, tn.Ticket)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		now := db.clock.Now()
		cs, err := s.ClaimDue(ctx, "w", now, time.Minute, 10)
		if err != nil || len(cs) != 2 {
			t.Fatal(cs, err)
		}
		cs[0].Ticket = &Ticket{Value: "7T:SECRET-TICKET-of-1", IssuedAt: now, LastUsed: now}
		if err := s.Complete(ctx, cs[0], Result{NextRun: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.Release(ctx, cs[1]); err != nil {
			t.Fatal(err)
		}

		// Tenant 1's sealed ticket, with its times, copied into tenant 2's row.
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET
			ticket = (SELECT ticket FROM tenants WHERE context_key = 'cust00001'),
			ticket_issued_at = (SELECT ticket_issued_at FROM tenants WHERE context_key = 'cust00001'),
			ticket_used_at = (SELECT ticket_used_at FROM tenants WHERE context_key = 'cust00001')
			WHERE context_key = 'cust00002'`); err != nil {
			t.Fatal(err)
		}
		cs, err = s.ClaimDue(ctx, "w", now, time.Minute, 10)
		if err != nil || len(cs) != 2 {
			t.Fatal(cs, err)
		}
		if cs[0].Ticket == nil || cs[0].Ticket.Value != "7T:SECRET-TICKET-of-1" {
			t.Fatalf("tenant 1 lost its own ticket: %v", cs[0].Ticket)
		}
		if cs[1].Ticket != nil {
			t.Fatal("a ticket copied from another row opened")
		}
		if tn, err := s.Tenant(ctx, "Cust00002"); err != nil || tn.Ticket != nil || tn.Status != StatusActive {
			t.Fatalf("Tenant of the copied row: %+v, %v", tn, err)
		}
		if !strings.Contains(logs.String(), "Cust00002") || strings.Contains(logs.String(), "SECRET") {
			t.Fatalf("log: %s", logs.String())
		}
		for _, c := range cs {
			if err := s.Release(ctx, c); err != nil {
				t.Fatal(err)
			}
		}

		// The sealed ticket in its own row's token column does not open as a token.
		if _, err := s.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = ticket WHERE context_key = 'cust00001'`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Tenant(ctx, "Cust00001"); !errors.Is(err, ErrSealBroken) {
			t.Fatalf("a ticket opened as a token: %v", err)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(j)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("a ticket leaked:\n%s", buf.String())
	}
}
