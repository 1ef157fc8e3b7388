package worker_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
)

// An instance killed between creating a company and recording its run
// duplicates nothing: the instance that takes its tenants over once their
// leases run out finds the recorded intent, looks the company up by its
// name through the API and reports it, instead of creating a second one.
// Exactly one company per tenant per due run, over two due runs.
//
// The kill is in process: right after the emulator created the k-th
// company (k random), before the job returns, the instance's store is
// closed, so that nothing of it reaches the database again, as after a
// kill -9: not that run's success, not the successes waiting to be written
// in a batch, not the intents of runs that had not recorded one yet (those
// create nothing). Runs already past their intent still create their
// company afterwards, as the requests of a dying process may still arrive;
// the takeover starts only once the killed instance's cycle has ended.
func TestKilledInstanceDuplicatesNoCompany(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		const n, dueRuns = 40, 2
		sc := setup(t, db, n, setupOpts{})
		ctx := context.Background()
		names := map[string]map[string]bool{} // tenant -> company names
		for due := range dueRuns {
			killAfter := int32(1 + rand.IntN(8))
			cfg := sc.workerConfig(t, nil)
			dying := cfg.Store
			var created atomic.Int32
			var kill sync.Once
			cfg.Job = worker.JobFunc(func(ctx context.Context, tn *worker.Tenant) (string, error) {
				s, err := worker.CreateCompany{}.Run(ctx, tn)
				if err == nil && created.Add(1) >= killAfter {
					kill.Do(func() { dying.Close() })
				}
				return s, err
			})
			cfg.Workers, cfg.Batch, cfg.Lease, cfg.JobTimeout = 4, 8, 2*time.Minute, 30*time.Second
			a, err := worker.New(cfg)
			require.NoError(t, err)
			ast, _ := a.Cycle(ctx) // ends in the store error its death causes
			require.GreaterOrEqual(t, created.Load(), killAfter, "due run %d: the instance was not killed", due)
			assert.Less(t, ast.OK, int64(n), "due run %d: the killed instance recorded every run", due)

			sc.clock.Advance(3 * time.Minute) // the killed instance's leases run out
			b := sc.newWorker(t, nil, func(c *worker.Config) { c.Lease, c.JobTimeout = 2*time.Minute, 30*time.Second })
			bst, err := b.Cycle(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(n)-ast.OK, bst.OK, "due run %d: the takeover ran the rest", due)

			resumed := 0
			for i := range n {
				id := demo.ContextID(i)
				tn := sc.tenant(t, i)
				assert.Equal(t, store.OutcomeOK, tn.LastOutcome, "%s, due run %d", id, due)
				if strings.Contains(tn.LastResult, "earlier attempt") {
					resumed++
				}
				cs := sc.srv.Contacts(id)
				if !assert.Len(t, cs, due+1, "%s: companies after due run %d", id, due) {
					continue
				}
				if names[id] == nil {
					names[id] = map[string]bool{}
				}
				for _, c := range cs {
					names[id][c.Name] = true
				}
				assert.Len(t, names[id], due+1, "%s: company names after due run %d", id, due)
				open, err := sc.st.Intents(ctx, id)
				require.NoError(t, err)
				assert.Empty(t, open, "%s: intents left open", id)
			}
			assert.Positive(t, resumed, "due run %d: no run found its earlier attempt's company", due)
			t.Logf("due run %d: killed after %d companies; %d runs recorded by the killed instance, %d by the takeover, %d of them found their company",
				due, killAfter, ast.OK, bst.OK, resumed)
			sc.clock.Advance(time.Hour) // the next due run
		}
	})
}
