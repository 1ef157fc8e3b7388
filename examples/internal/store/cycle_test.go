package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ClaimDueBy claims only what was due by the cycle's start, so a tenant the
// cycle rescheduled is not claimed again in it.
func TestClaimDueByEndsACycle(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 3 {
			mustUpsert(t, s, approval(i))
		}
		start := db.clock.Now()
		cs, _, err := s.ClaimDueBy(ctx, "w", start, start, time.Minute, 10)
		require.NoError(t, err, "claim")
		require.Len(t, cs, 3, "claim")
		later := db.clock.Advance(5 * time.Second)
		require.NoError(t, s.Reschedule(ctx, cs[0], Retry{NextRun: later.Add(-time.Second), Err: "503"}))
		require.NoError(t, s.Release(ctx, cs[1]))
		// Due again by now, but not by the cycle's start: only the released one.
		cs2, _, err := s.ClaimDueBy(ctx, "w", later, start, time.Minute, 10)
		require.NoError(t, err, "second claim")
		require.Len(t, cs2, 1, "second claim")
		require.Equal(t, cs[1].ContextIdentifier, cs2[0].ContextIdentifier, "second claim")
		// The next cycle takes the rescheduled one.
		cs3, _, err := s.ClaimDueBy(ctx, "w", later, later, time.Minute, 10)
		require.NoError(t, err, "next cycle")
		require.Len(t, cs3, 1, "next cycle")
		require.Equal(t, cs[0].ContextIdentifier, cs3[0].ContextIdentifier, "next cycle")
		_, _, err = s.ClaimDueBy(ctx, "", later, later, time.Minute, 10)
		require.ErrorIs(t, err, ErrInvalid, "empty owner")
	})
}

// CompleteSuccesses writes a batch, each item fenced by its own claim.
func TestCompleteSuccessesIsFencedPerItem(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 3 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		cs := claimAll(t, s, "a", now)
		require.Len(t, cs, 3)
		// cs[2]'s lease runs out and b takes it over.
		later := db.clock.Advance(2 * time.Minute)
		require.NoError(t, s.Complete(ctx, cs[0], Result{NextRun: later.Add(time.Hour)}))
		_, err := s.Renew(ctx, cs[1], later, time.Minute)
		require.NoError(t, err)
		taken, err := s.ClaimDue(ctx, "b", later, time.Minute, 10)
		require.NoError(t, err, "takeover")
		require.Len(t, taken, 1, "takeover")
		var items []Success
		for _, c := range cs {
			items = append(items, Success{Claim: c, NextRun: later.Add(time.Hour), Summary: "done"})
		}
		errs, err := s.CompleteSuccesses(ctx, items)
		require.NoError(t, err)
		require.Len(t, errs, 3)
		assert.ErrorIs(t, errs[0], ErrLeaseLost, "the completed tenant")
		assert.NoError(t, errs[1], "the renewed tenant")
		assert.ErrorIs(t, errs[2], ErrLeaseLost, "the taken-over tenant")
		tn := mustTenant(t, s, cs[1].ContextIdentifier)
		assert.Equal(t, OutcomeOK, tn.LastOutcome)
		assert.Equal(t, "done", tn.LastResult)
		assert.Empty(t, tn.LeaseOwner)
		tn = mustTenant(t, s, cs[2].ContextIdentifier)
		assert.Equal(t, "b", tn.LeaseOwner, "the taken-over tenant changed")
		assert.Equal(t, OutcomeNone, tn.LastOutcome, "the taken-over tenant changed")
		_, err = s.CompleteSuccesses(ctx, []Success{{Claim: cs[1]}})
		require.ErrorIs(t, err, ErrInvalid, "no next run")
	})
}

// The messages a run ends with come from the job and the tenant's server:
// a NUL or invalid UTF-8 in them (a message clipped mid-letter) must not
// fail the write that ends the claim, nor the batch of successes it is in.
func TestOddBytesInMessagesAreStored(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		for i := range 5 {
			mustUpsert(t, s, approval(i))
		}
		now := db.clock.Now()
		cs := claimAll(t, s, "w", now)
		require.Len(t, cs, 5)
		const odd = "bad \xc3 and \x00 end"
		next := now.Add(time.Hour)
		assert.NoError(t, s.Reschedule(ctx, cs[0], Retry{NextRun: next, Err: odd}), "reschedule")
		assert.NoError(t, s.Postpone(ctx, cs[1], next, odd), "postpone")
		assert.NoError(t, s.Complete(ctx, cs[2], Result{NextRun: next, Err: odd, Deactivate: true, Reason: odd}), "complete")
		errs, err := s.CompleteSuccesses(ctx, []Success{{Claim: cs[3], NextRun: next, Summary: odd}, {Claim: cs[4], NextRun: next, Summary: "fine"}})
		require.NoError(t, err, "complete successes")
		require.Equal(t, []error{nil, nil}, errs, "complete successes")
		for i, c := range cs {
			tn := mustTenant(t, s, c.ContextIdentifier)
			require.Empty(t, tn.LeaseOwner, "%d: still leased", i)
			for _, v := range []string{tn.LastError, tn.LastResult, tn.StatusReason} {
				if v != "" {
					assert.Contains(t, []string{"fine", "bad \uFFFD and  end"}, v, "%d: stored", i)
				}
			}
		}
	})
}

// The writes of one SQLite Store never meet SQLite's lock: its callers
// queue for its one connection, so a run's intent or end never fails busy
// (nor sleeps in SQLite's busy handler) because another goroutine writes.
func TestSQLiteWritersOfOneStoreDoNotContend(t *testing.T) {
	ctx := context.Background()
	db := newSQLiteDB(t)
	s, err := OpenConfig(ctx, Config{DSN: db.dsn, SealKey: db.key, Now: db.clock.Now, BusyTimeout: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	const workers, each = 8, 25
	for i := range workers * each {
		mustUpsert(t, s, approval(i))
	}
	now := db.clock.Now()
	claims, err := s.ClaimDue(ctx, "w", now, time.Minute, workers*each)
	require.NoError(t, err)
	require.Len(t, claims, workers*each)

	errs := make(chan error, 2*workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, c := range claims[w*each : (w+1)*each] {
				_, err := s.RecordIntent(ctx, c, "create-company", "Acme "+c.ContextIdentifier)
				errs <- err
				_, err = s.CompleteSuccesses(ctx, []Success{{Claim: c, NextRun: now.Add(time.Hour), Summary: "ok"}})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, err := s.Counts(ctx, now)
	require.NoError(t, err)
	assert.Zero(t, n.Due, "every run recorded")
}
