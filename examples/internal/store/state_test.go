package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/tenant"
)

// A tenant state stored with a run's end comes back with the next claim of any
// instance, through every end of a claim and a re-approval; nil drops it, and a write
// refused by the fence stores nothing.
func TestStateTravelsWithTheClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		a, b := db.open(t), db.open(t) // two instances
		mustUpsert(t, a, approval(1))
		now := db.clock.Now()
		state := func(api string) *tenant.State {
			return &tenant.State{ContextIdentifier: "Cust00001", Endpoint: "https://sod2.superoffice.com/Cust00001",
				State: tenant.StateRunning, IsRunning: true, ValidUntil: now.Add(2 * time.Hour), API: api}
		}

		c := claimOne(t, a, "a", now)
		if c.State != nil || !c.StateUntil.IsZero() {
			t.Fatalf("a new tenant has a state: %+v until %v", c.State, c.StateUntil)
		}
		ends := []struct {
			name string
			end  func(*Store, Claim) error
		}{
			{"success", func(s *Store, c Claim) error { return s.Complete(ctx, c, Result{NextRun: now}) }},
			{"reschedule", func(s *Store, c Claim) error { return s.Reschedule(ctx, c, Retry{NextRun: now, Err: "503"}) }},
			{"postpone", func(s *Store, c Claim) error { return s.Postpone(ctx, c, now, "offline") }},
			{"release", func(s *Store, c Claim) error { return s.Release(ctx, c) }},
			{"failure", func(s *Store, c Claim) error { return s.Complete(ctx, c, Result{NextRun: now, Err: "400"}) }},
			{"batch", func(s *Store, c Claim) error {
				errs, err := s.CompleteSuccesses(ctx, []Success{{Claim: c, NextRun: now}})
				if err == nil {
					err = errs[0]
				}
				return err
			}},
		}
		c.State, c.StateUntil = state("https://sod2.superoffice.com/Cust1/api"), now.Add(time.Hour)
		if err := ends[0].end(a, c); err != nil {
			t.Fatal(err)
		}
		for i, e := range ends {
			c := claimOne(t, b, "b", now)
			want := state("https://sod" + string(rune('3'+i)) + ".superoffice.com/Cust1/api")
			c.State, c.StateUntil = want, now.Add(time.Duration(i+1)*time.Minute)
			if err := e.end(b, c); err != nil {
				t.Fatalf("%s: %v", e.name, err)
			}
			got := claimOne(t, a, "a", now)
			if !sameState(got.State, want) || !got.StateUntil.Equal(c.StateUntil) {
				t.Fatalf("%s stored %+v until %v, want %+v until %v", e.name, got.State, got.StateUntil, want, c.StateUntil)
			}
			if err := a.Release(ctx, got); err != nil {
				t.Fatal(err)
			}
		}

		// A re-approval keeps it: where a tenant lives does not depend on its token.
		mustUpsert(t, a, approval(1))
		c = claimOne(t, a, "a", now)
		if c.State == nil {
			t.Fatal("a re-approval dropped the state")
		}
		// nil drops it.
		c.State = nil
		if err := a.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
		c = claimOne(t, b, "b", now)
		if c.State != nil {
			t.Fatalf("a dropped state came back: %+v", c.State)
		}
		if err := b.Release(ctx, c); err != nil {
			t.Fatal(err)
		}

		// A write refused by the fence stores no state.
		stale := claimOne(t, a, "a", now)
		later := db.clock.Advance(2 * time.Minute)
		current := claimOne(t, b, "b", later)
		stale.State, stale.StateUntil = state("https://sod9.superoffice.com/Cust1/api"), later.Add(time.Hour)
		if err := a.Complete(ctx, stale, Result{NextRun: later}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("stale write: %v", err)
		}
		if err := b.Release(ctx, current); err != nil {
			t.Fatal(err)
		}
		if c := claimOne(t, a, "a", later); c.State != nil {
			t.Fatalf("the refused write stored %+v", c.State)
		}

		// A stored state that does not decode is as good as none.
		if _, err := a.DB().ExecContext(ctx, `UPDATE tenants SET state_json = '{not json', state_until = 1`); err != nil {
			t.Fatal(err)
		}
		later = db.clock.Advance(10 * time.Minute)
		c = claimOne(t, b, "b", later)
		if c.State != nil {
			t.Fatalf("an undecodable state: %+v", c.State)
		}
		// Nor one that is another tenant's.
		c.State, c.StateUntil = state("https://sod2.superoffice.com/Cust1/api"), later.Add(time.Hour)
		c.State.ContextIdentifier = "Cust00002"
		if err := b.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c := claimOne(t, a, "a", later); c.State != nil {
			t.Fatalf("another tenant's state: %+v", c.State)
		} else {
			// A deactivation drops the state; a re-approval does not bring it back.
			c.State, c.StateUntil = state("https://sod2.superoffice.com/Cust1/api"), later.Add(time.Hour)
			if err := a.Complete(ctx, c, Result{Deactivate: true, Reason: "tenant deleted"}); err != nil {
				t.Fatal(err)
			}
		}
		mustUpsert(t, a, approval(1))
		if c := claimOne(t, b, "b", later); c.State != nil {
			t.Fatalf("state after deactivation and re-approval: %+v", c.State)
		}
	})
}

func sameState(a, b *tenant.State) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.ValidUntil, y.ValidUntil = time.Time{}, time.Time{}
	return x == y && a.ValidUntil.Equal(b.ValidUntil)
}
