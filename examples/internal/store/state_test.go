package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.Nil(t, c.State, "a new tenant has a state")
		require.Zero(t, c.StateUntil, "a new tenant has a state")
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
		require.NoError(t, ends[0].end(a, c))
		for i, e := range ends {
			c := claimOne(t, b, "b", now)
			want := state("https://sod" + string(rune('3'+i)) + ".superoffice.com/Cust1/api")
			c.State, c.StateUntil = want, now.Add(time.Duration(i+1)*time.Minute)
			require.NoError(t, e.end(b, c), e.name)
			got := claimOne(t, a, "a", now)
			require.Equal(t, want, got.State, "%s stored", e.name)
			require.Equal(t, c.StateUntil, got.StateUntil, "%s stored", e.name)
			require.NoError(t, a.Release(ctx, got))
		}

		// A re-approval keeps it: where a tenant lives does not depend on its token.
		mustUpsert(t, a, approval(1))
		c = claimOne(t, a, "a", now)
		require.NotNil(t, c.State, "a re-approval dropped the state")
		// nil drops it.
		c.State = nil
		require.NoError(t, a.Release(ctx, c))
		c = claimOne(t, b, "b", now)
		require.Nil(t, c.State, "a dropped state came back")
		require.NoError(t, b.Release(ctx, c))

		// A write refused by the fence stores no state.
		stale := claimOne(t, a, "a", now)
		later := db.clock.Advance(2 * time.Minute)
		current := claimOne(t, b, "b", later)
		stale.State, stale.StateUntil = state("https://sod9.superoffice.com/Cust1/api"), later.Add(time.Hour)
		require.ErrorIs(t, a.Complete(ctx, stale, Result{NextRun: later}), ErrLeaseLost, "stale write")
		require.NoError(t, b.Release(ctx, current))
		require.Nil(t, claimOne(t, a, "a", later).State, "the refused write stored a state")

		// A stored state that does not decode is as good as none.
		_, err := a.DB().ExecContext(ctx, `UPDATE tenants SET state_json = '{not json', state_until = 1`)
		require.NoError(t, err)
		later = db.clock.Advance(10 * time.Minute)
		c = claimOne(t, b, "b", later)
		require.Nil(t, c.State, "an undecodable state")
		// Nor one that is another tenant's.
		c.State, c.StateUntil = state("https://sod2.superoffice.com/Cust1/api"), later.Add(time.Hour)
		c.State.ContextIdentifier = "Cust00002"
		require.NoError(t, b.Release(ctx, c))
		c = claimOne(t, a, "a", later)
		require.Nil(t, c.State, "another tenant's state")
		// A deactivation drops the state; a re-approval does not bring it back.
		c.State, c.StateUntil = state("https://sod2.superoffice.com/Cust1/api"), later.Add(time.Hour)
		require.NoError(t, a.Complete(ctx, c, Result{Deactivate: true, Reason: "tenant deleted"}))
		mustUpsert(t, a, approval(1))
		require.Nil(t, claimOne(t, b, "b", later).State, "state after deactivation and re-approval")
	})
}

// A status notification's change reaches the next claim: Suspend and
// Delete store the tenant as not running until ttl from now, the other
// changes clear the stored state, and another tenant is not touched.
func TestApplyStateChange(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		now := db.clock.Now()
		running := func(id string) {
			t.Helper()
			for _, c := range claimAll(t, s, "test", now) {
				if c.ContextIdentifier == id {
					c.State = &tenant.State{ContextIdentifier: id, State: tenant.StateRunning, IsRunning: true,
						API: "https://sod2.superoffice.com/" + id + "/api", ValidUntil: now.Add(time.Hour)}
					c.StateUntil = now.Add(time.Hour)
				}
				require.NoError(t, s.Release(ctx, c))
			}
		}
		stateOf := func(id string) (*tenant.State, time.Time) {
			t.Helper()
			var st *tenant.State
			var until time.Time
			for _, c := range claimAll(t, s, "test", now) {
				if c.ContextIdentifier == id {
					st, until = c.State, c.StateUntil
				}
				require.NoError(t, s.Release(ctx, c))
			}
			return st, until
		}
		running("Cust00002")

		for _, tc := range []struct {
			change tenant.ChangeType
			want   tenant.StateName
		}{{tenant.ChangeSuspend, tenant.StateSuspended}, {tenant.ChangeDelete, tenant.StateDeleted}} {
			running("Cust00001")
			require.NoError(t, s.ApplyStateChange(ctx, &tenant.StateChange{Type: tc.change, ContextIdentifier: "cust00001"}, 3*time.Minute))
			st, until := stateOf("Cust00001")
			require.NotNil(t, st, tc.change.String())
			assert.Equal(t, tc.want, st.State)
			assert.False(t, st.Running())
			assert.Empty(t, st.API)
			assert.Equal(t, now.Add(3*time.Minute), until)
			assert.Equal(t, until, st.ValidUntil.UTC())
		}
		for _, c := range []tenant.ChangeType{tenant.ChangeMove, tenant.ChangeUpgrade, tenant.ChangeBackupRestored, tenant.ChangeResume} {
			running("Cust00001")
			require.NoError(t, s.ApplyStateChange(ctx, &tenant.StateChange{Type: c, ContextIdentifier: "Cust00001"}, 0))
			st, until := stateOf("Cust00001")
			assert.Nil(t, st, "%s kept the state", c)
			assert.Zero(t, until)
		}
		st, _ := stateOf("Cust00002")
		assert.NotNil(t, st, "another tenant's state was changed")

		assert.NoError(t, s.ApplyStateChange(ctx, &tenant.StateChange{Type: tenant.ChangeMove, ContextIdentifier: "Cust99999"}, 0), "an unknown tenant")
		assert.ErrorIs(t, s.ApplyStateChange(ctx, &tenant.StateChange{Type: 9, ContextIdentifier: "Cust00001"}, 0), ErrInvalid)
		assert.ErrorIs(t, s.ApplyStateChange(ctx, nil, 0), ErrInvalid)
		assert.Error(t, s.ApplyStateChange(ctx, &tenant.StateChange{Type: tenant.ChangeMove}, 0), "no tenant")
	})
}
