package worker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A tenant whose stored token does not open (one tampered row) is
// deactivated by the claim itself, never run: the cycle still counts it,
// so that the summary does not say "deactivated 0". A batch of nothing but
// such tenants does not end the cycle before the rest are claimed.
func TestCycleCountsTenantsWhoseTokenDoesNotOpen(t *testing.T) {
	eachDB(t, func(t *testing.T, db *database) {
		sc := setup(t, db, 5, setupOpts{})
		ctx := context.Background()
		// Tenants 0 and 1 sort first, so they fill the first batch of two.
		for _, i := range []int{0, 1} {
			key := strings.ToLower(demo.ContextID(i))
			_, err := sc.st.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = $2`, []byte{1, 2, 3}, key)
			require.NoError(t, err, "tampering with tenant %d's token", i)
		}
		w := sc.newWorker(t, nil, func(c *worker.Config) { c.Batch = 2 })
		st, err := w.Cycle(ctx)
		require.NoError(t, err, "cycle")
		assert.Equal(t, int64(3), st.OK, "runs that succeeded: %+v", st)
		assert.Equal(t, int64(2), st.Deactivated, "tenants deactivated: %+v", st)
		assert.Equal(t, int64(5), st.Claimed, "tenants claimed: %+v", st)
		assert.Equal(t, int64(5), st.Done(), "runs that ended: %+v", st)
		assert.Zero(t, st.Remaining(), "tenants left: %+v", st)
		assert.Contains(t, worker.Summary(st), "deactivated 2", "summary")
		tn := sc.tenant(t, 2)
		assert.Equal(t, store.StatusActive, tn.Status, "untouched tenant: %+v", tn.TenantSummary)
	})
}
