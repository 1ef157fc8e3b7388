package worker_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One success the database refuses does not cost the others in its batch:
// they are recorded one by one, so that none of them runs again (a second
// company) when its lease ends. The refused one keeps its lease, as any
// run whose end could not be written.
func TestRefusedWriteCostsOnlyItsOwnRun(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 12
		sc := setup(t, db, n, setupOpts{})
		refuseResult(t, db, "boom")
		w := sc.newWorker(t, nil, func(c *worker.Config) {
			c.Job = worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
				s, err := worker.CreateCompany{}.Run(ctx, tn)
				if err == nil && tn.ContextIdentifier == demo.ContextID(3) {
					s = "boom"
				}
				return s, err
			})
		})
		st, err := w.Cycle(context.Background())
		require.NoError(t, err, "cycle")
		assert.Equal(t, int64(n-1), st.OK, "runs recorded: %+v", st)
		assert.Equal(t, int64(1), st.StoreErrors, "store errors: %+v", st)
		for i := range n {
			tn := sc.tenant(t, i)
			recorded := tn.LastOutcome == store.OutcomeOK && tn.LeaseOwner == ""
			assert.Equal(t, i != 3, recorded, "%s recorded: outcome %q, lease owner %q", tn.ContextIdentifier, tn.LastOutcome, tn.LeaseOwner)
		}
	})
}

// refuseResult makes db refuse, with an error, any write of result as a
// tenant's last result.
func refuseResult(t *testing.T, db *database, result string) {
	t.Helper()
	refuseWhen(t, db, "UPDATE OF last_result", "NEW.last_result = '"+result+"'")
}

// refuseWhen makes db refuse, with an error, the updates of tenants named
// by event ("UPDATE OF column") that meet cond, written for both databases.
func refuseWhen(t *testing.T, db *database, event, cond string) {
	t.Helper()
	if store.IsPostgres(db.dsn) {
		dbExec(t, db,
			`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF `+cond+` THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse BEFORE `+event+` ON tenants FOR EACH ROW EXECUTE FUNCTION refuse()`)
		return
	}
	dbExec(t, db, `CREATE TRIGGER refuse BEFORE `+event+` ON tenants WHEN `+cond+`
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`)
}

// dbExec runs statements on db, beside the store.
func dbExec(t *testing.T, db *database, stmts ...string) {
	t.Helper()
	driver := "sqlite"
	if store.IsPostgres(db.dsn) {
		driver = "pgx"
	}
	conn, err := sql.Open(driver, db.dsn)
	require.NoError(t, err, "opening the database beside the store")
	defer conn.Close()
	for _, q := range stmts {
		_, err := conn.Exec(q)
		require.NoError(t, err, q)
	}
}

// A database that refuses the claims for a while does not end the
// service: Run logs the cycle's error and tries again at the next poll.
// (-once still fails: it returns the error.)
func TestRunRidesOutAStoreError(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 5
		sc := setup(t, db, n, setupOpts{})
		dbExec(t, db, `CREATE TABLE down (x INTEGER)`, `INSERT INTO down VALUES (1)`)
		refuseWhen(t, db, "UPDATE OF lease_owner", "EXISTS (SELECT 1 FROM down)")
		var logs syncBuffer
		w := sc.newWorker(t, slog.New(slog.NewTextHandler(&logs, nil)), func(c *worker.Config) { c.Poll = 10 * time.Millisecond })

		require.Error(t, w.Run(context.Background(), 1, nil), "one cycle on a refusing database")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var cycles []worker.Stats
		err := w.Run(ctx, 0, func(st worker.Stats) {
			cycles = append(cycles, st)
			if len(cycles) == 2 {
				dbExec(t, db, `DELETE FROM down`) // the database is back
			}
			if st.OK == n {
				cancel()
			}
		})
		require.NoError(t, err, "Run")
		require.GreaterOrEqual(t, len(cycles), 3, "Run's cycles: %+v", cycles)
		assert.Zero(t, cycles[0].Claimed, "first cycle, on the refusing database: tenants claimed: %+v", cycles[0])
		assert.Equal(t, int64(n), cycles[len(cycles)-1].OK, "last cycle: runs that succeeded: %+v", cycles)
		assert.Contains(t, logs.String(), "trying again at the next poll", "the store error was not logged")
	})
}

// A lease renewal the store fails leaves the tenant claimed and unrun
// until its lease runs out; the stats count it, so that the cycle's
// numbers add up.
func TestFailedRenewalIsCounted(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		sc := setup(t, db, 2, setupOpts{})
		refuseWhen(t, db, "UPDATE OF lease_until",
			"NEW.lease_owner = OLD.lease_owner AND OLD.lease_owner <> '' AND NEW.lease_until > OLD.lease_until")
		job := worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
			sc.clock.Advance(time.Minute) // the other claim waits in the queue meanwhile
			return "ok", nil
		})
		w := sc.newWorker(t, nil, func(c *worker.Config) {
			c.Job, c.Workers, c.Batch, c.Lease, c.JobTimeout = job, 1, 2, 3*time.Minute, 2*time.Minute
		})
		st, err := w.Cycle(context.Background())
		require.NoError(t, err, "cycle")
		assert.Equal(t, int64(1), st.OK, "runs that succeeded: %+v", st)
		assert.Equal(t, int64(1), st.StoreErrors, "store errors: %+v", st)
		assert.Zero(t, st.Remaining(), "tenants left: %+v", st)
		tn := sc.tenant(t, 1)
		assert.NotEmpty(t, tn.LeaseOwner, "the unrenewed tenant lost its lease: %+v", tn.TenantSummary)
		assert.Empty(t, tn.LastOutcome, "the unrenewed tenant has an outcome: %+v", tn.TenantSummary)
	})
}

// Messages a tenant or a job makes up are recorded whatever bytes they
// hold. A job's summary may end in half a letter, and a server's JSON
// message may hold \u0000: PostgreSQL's text refuses both. Each such write
// must not fail, or the tenant stays claimed, unrecorded, and runs again
// when its lease ends; and one such success must not take the other
// successes of its batch down with it, or their companies are created
// twice. (A long server message with a letter across the tenant client's
// 300-byte clip is recorded too; the client cuts between letters.)
func TestOddBytesInMessagesAreRecorded(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n = 12
		sc := setup(t, db, n, setupOpts{})
		id := demo.ContextID
		// 299 bytes, then "ø": clipped at 300, half of it is left.
		long := strings.Repeat("x", 299) + "ø and more"
		sc.srv.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{ContextIdentifier: id(0), Status: 503,
			Body: `{"Message":"` + long + `"}`})
		sc.srv.Fail(superidtest.EndpointTenantAPI, superidtest.Fault{ContextIdentifier: id(1), Status: 400,
			Body: `{"Message":"Name\u0000 is required"}`})
		w := sc.newWorker(t, nil, func(c *worker.Config) {
			c.Job = worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
				s, err := worker.CreateCompany{}.Run(ctx, tn)
				if err == nil && tn.ContextIdentifier == id(2) {
					s += " \xc3" // half a letter, as a clipped summary would end
				}
				return s, err
			})
		})
		st, err := w.Cycle(context.Background())
		require.NoError(t, err, "cycle")
		assert.Zero(t, st.StoreErrors, "store errors: %+v", st)
		assert.Equal(t, int64(n-2), st.OK, "runs that succeeded: %+v", st)
		assert.Equal(t, int64(1), st.Retried, "runs retried: %+v", st)
		assert.Equal(t, int64(1), st.Failed, "runs failed: %+v", st)
		wants := map[int]store.Outcome{0: store.OutcomeRetry, 1: store.OutcomeFailed}
		for i := range n {
			tn := sc.tenant(t, i)
			want, ok := wants[i]
			if !ok {
				want = store.OutcomeOK
			}
			assert.Equal(t, want, tn.LastOutcome, "%s: outcome", tn.ContextIdentifier)
			assert.Empty(t, tn.LeaseOwner, "%s: lease owner", tn.ContextIdentifier)
		}
		e0 := sc.tenant(t, 0).LastError
		assert.Contains(t, e0, "503", "tenant 0's error")
		assert.Contains(t, e0, "xxx", "tenant 0's error")
		assert.Contains(t, sc.tenant(t, 1).LastError, "is required", "tenant 1's error")
		r2 := sc.tenant(t, 2).LastResult
		assert.True(t, strings.HasPrefix(r2, "created company"), "tenant 2's result %q", r2)
	})
}
