package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A run's intent is recorded once: every later attempt of the same run (a
// takeover after a crash, a retry) gets it back as it was, with Resumed;
// the steps of one run share its run id; a recorded success ends them all,
// in the same write, and the next run starts a new one. A failure, a
// retry and a release keep them.
func TestIntentStandsUntilASuccessIsRecorded(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		id := approval(1).ContextIdentifier

		cs := claimAll(t, s, "a", db.clock.Now())
		require.Len(t, cs, 2)
		first, err := s.RecordIntent(ctx, cs[0], "create-company", "SuperId-1")
		require.NoError(t, err)
		assert.False(t, first.Resumed)
		assert.NotEmpty(t, first.RunID)
		assert.Equal(t, "SuperId-1", first.Plan)
		second, err := s.RecordIntent(ctx, cs[0], "create-person", "Ada")
		require.NoError(t, err)
		assert.Equal(t, first.RunID, second.RunID, "the steps of one run share its id")
		other, err := s.RecordIntent(ctx, cs[1], "create-company", "SuperId-1")
		require.NoError(t, err)
		assert.NotEqual(t, first.RunID, other.RunID, "another tenant's run")

		// The instance dies; its lease runs out; b takes the tenant over and
		// gets the intent back, not its own plan.
		db.clock.Advance(2 * time.Minute)
		bs := claimAll(t, s, "b", db.clock.Now())
		require.Len(t, bs, 2)
		again, err := s.RecordIntent(ctx, bs[0], "create-company", "SuperId-2")
		require.NoError(t, err)
		assert.True(t, again.Resumed)
		assert.Equal(t, first.RunID, again.RunID)
		assert.Equal(t, "SuperId-1", again.Plan)
		assert.True(t, first.RecordedAt.Equal(again.RecordedAt))

		// The other tenant's run succeeds: CompleteSuccesses ends its intent.
		errs, err := s.CompleteSuccesses(ctx, []Success{{Claim: bs[1], NextRun: db.clock.Now().Add(time.Hour), Summary: "created"}})
		require.NoError(t, err)
		require.NoError(t, errs[0])
		open, err := s.Intents(ctx, approval(2).ContextIdentifier)
		require.NoError(t, err)
		assert.Empty(t, open)

		// The dead instance's claim records nothing.
		_, err = s.RecordIntent(ctx, cs[0], "create-company", "SuperId-3")
		require.ErrorIs(t, err, ErrLeaseLost)

		// A retry, a failure and a release keep the intents.
		next := db.clock.Now().Add(time.Minute)
		require.NoError(t, s.Reschedule(ctx, bs[0], Retry{NextRun: next, Err: "503"}))
		db.clock.Advance(time.Minute)
		cs = claimAll(t, s, "c", db.clock.Now())
		require.Len(t, cs, 1)
		require.NoError(t, s.Complete(ctx, cs[0], Result{NextRun: db.clock.Now(), Err: "400"}))
		cs = claimAll(t, s, "c", db.clock.Now())
		require.Len(t, cs, 1)
		require.NoError(t, s.Release(ctx, cs[0]))
		open, err = s.Intents(ctx, id)
		require.NoError(t, err)
		require.Len(t, open, 2)
		assert.Equal(t, []string{"create-company", "create-person"}, []string{open[0].Step, open[1].Step})

		// A success ends them; the next run has a new id and its own plan.
		cs = claimAll(t, s, "c", db.clock.Now())
		require.Len(t, cs, 1)
		require.NoError(t, s.Complete(ctx, cs[0], Result{NextRun: db.clock.Now().Add(time.Hour), Summary: "created"}))
		open, err = s.Intents(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, open)

		db.clock.Advance(time.Hour)
		cs = claimAll(t, s, "c", db.clock.Now())
		require.Len(t, cs, 2)
		fresh, err := s.RecordIntent(ctx, cs[0], "create-company", "SuperId-4")
		require.NoError(t, err)
		assert.False(t, fresh.Resumed)
		assert.NotEqual(t, first.RunID, fresh.RunID)
		assert.Equal(t, "SuperId-4", fresh.Plan)
	})
}

// A success whose write is refused as a whole (the lease was lost) keeps
// the intent: the tenant's new owner must still look before it acts.
func TestIntentKeptWhenTheSuccessIsRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		mustUpsert(t, s, approval(1))
		cs := claimAll(t, s, "a", db.clock.Now())
		require.Len(t, cs, 1)
		_, err := s.RecordIntent(ctx, cs[0], "create-company", "SuperId-1")
		require.NoError(t, err)
		db.clock.Advance(2 * time.Minute)
		require.Len(t, claimAll(t, s, "b", db.clock.Now()), 1)

		err = s.Complete(ctx, cs[0], Result{NextRun: db.clock.Now().Add(time.Hour), Summary: "late"})
		require.ErrorIs(t, err, ErrLeaseLost)
		errs, err := s.CompleteSuccesses(ctx, []Success{{Claim: cs[0], NextRun: db.clock.Now().Add(time.Hour)}})
		require.NoError(t, err)
		require.ErrorIs(t, errs[0], ErrLeaseLost)
		open, err := s.Intents(ctx, cs[0].ContextIdentifier)
		require.NoError(t, err)
		assert.Len(t, open, 1)
	})
}

// Bad arguments are refused by name, before anything is written.
func TestRecordIntentRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	db := newSQLiteDB(t)
	s := db.open(t)
	mustUpsert(t, s, approval(1))
	cs := claimAll(t, s, "a", db.clock.Now())
	require.Len(t, cs, 1)
	noOwner := cs[0]
	noOwner.Owner = ""
	for name, tc := range map[string]struct {
		c          Claim
		step, plan string
		want       string
	}{
		"no owner":   {noOwner, "s", "p", "claim has no owner"},
		"no step":    {cs[0], "", "p", "step must be"},
		"long step":  {cs[0], strings.Repeat("s", 101), "p", "step must be"},
		"long plan":  {cs[0], "s", strings.Repeat("p", 4001), "plan is longer"},
		"no context": {Claim{Owner: "a"}, "s", "p", "empty context identifier"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.RecordIntent(ctx, tc.c, tc.step, tc.plan)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	open, err := s.Intents(ctx, cs[0].ContextIdentifier)
	require.NoError(t, err)
	assert.Empty(t, open)
}

// NextDue is the earliest next run of a free active tenant.
func TestNextDue(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		next, err := s.NextDue(ctx, time.Time{})
		require.NoError(t, err)
		assert.True(t, next.IsZero(), "no tenant: %s", next)

		mustUpsert(t, s, approval(1))
		mustUpsert(t, s, approval(2))
		now := db.clock.Now()
		cs := claimAll(t, s, "a", now)
		require.Len(t, cs, 2)
		require.NoError(t, s.Complete(ctx, cs[0], Result{NextRun: now.Add(time.Hour), Summary: "ok"}))
		require.NoError(t, s.Complete(ctx, cs[1], Result{NextRun: now.Add(30 * time.Minute), Summary: "ok"}))
		next, err = s.NextDue(ctx, now)
		require.NoError(t, err)
		assert.True(t, next.Equal(now.Add(30*time.Minute)), "next due %s", next)
	})
}

// Two steps of one run recorded at once share the run's id on PostgreSQL:
// the second waits for the tenant's row, which the first holds, and must
// then see the first's intent, committed while it waited.
func TestIntentStepRecordedWhileAnotherHoldsTheLockSharesTheRunID(t *testing.T) {
	db := newPostgresDB(t)
	ctx := context.Background()
	s := db.open(t)
	mustUpsert(t, s, approval(1))
	cs := claimAll(t, s, "a", db.clock.Now())
	require.Len(t, cs, 1)
	key, err := tenantKey("test", cs[0].ContextIdentifier)
	require.NoError(t, err)

	// The first step, recorded by a transaction that holds the row.
	first, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer first.Rollback()
	var xid string
	require.NoError(t, first.QueryRowContext(ctx,
		`SELECT pg_current_xact_id()::text FROM tenants WHERE context_key = $1 FOR UPDATE`, key).Scan(&xid))
	_, err = first.ExecContext(ctx, `INSERT INTO run_intents (context_key, step, run_id, plan, fence, recorded_at)
		VALUES ($1, 'create-company', 'run-1', 'SuperId-1', $2, 1)`, key, cs[0].Fence)
	require.NoError(t, err)

	type result struct {
		in  Intent
		err error
	}
	done := make(chan result, 1)
	go func() {
		in, err := s.RecordIntent(ctx, cs[0], "create-person", "Ada")
		done <- result{in, err}
	}()
	// The signal that the second step waits for the row: its lock on the
	// first's transaction, not granted.
	require.Eventually(t, func() bool {
		var waiting bool
		err := s.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'transactionid' AND transactionid::text = $1 AND NOT granted)`, xid).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, time.Millisecond, "the second step waits for the row")
	require.NoError(t, first.Commit())

	r := <-done
	require.NoError(t, r.err)
	assert.False(t, r.in.Resumed)
	assert.Equal(t, "run-1", r.in.RunID, "the steps of one run share its id")
}

// Migration 0008 rebuilds a SQLite database's run_intents as a WITHOUT
// ROWID table, and the intents recorded before it stand.
func TestSQLiteIntentsSurviveTheRebuildWithoutRowid(t *testing.T) {
	ctx := context.Background()
	db := newSQLiteDB(t)
	s := db.open(t)
	mustUpsert(t, s, approval(1))
	cs, err := s.ClaimDue(ctx, "w", db.clock.Now(), time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	before, err := s.RecordIntent(ctx, cs[0], "create-company", "Acme")
	require.NoError(t, err)

	// Back to the table 0007 made, as a database of an older program has it.
	for _, q := range []string{
		`CREATE TABLE run_intents_0007 (context_key TEXT NOT NULL, step TEXT NOT NULL, run_id TEXT NOT NULL,
			plan TEXT NOT NULL, fence INTEGER NOT NULL, recorded_at INTEGER NOT NULL, PRIMARY KEY (context_key, step)) STRICT`,
		`INSERT INTO run_intents_0007 SELECT context_key, step, run_id, plan, fence, recorded_at FROM run_intents`,
		`DROP TABLE run_intents`,
		`ALTER TABLE run_intents_0007 RENAME TO run_intents`,
		`DELETE FROM schema_version WHERE version >= 8`,
	} {
		_, err := s.DB().ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	s.Close()

	s = db.open(t)
	var ddl string
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'run_intents'`).Scan(&ddl))
	assert.Contains(t, ddl, "WITHOUT ROWID")
	after, err := s.Intents(ctx, cs[0].ContextIdentifier)
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.Equal(t, before.RunID, after[0].RunID)
	assert.Equal(t, "Acme", after[0].Plan)
}
