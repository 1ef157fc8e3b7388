package worker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
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
			if _, err := sc.st.DB().ExecContext(ctx, `UPDATE tenants SET system_user_token = $1 WHERE context_key = $2`, []byte{1, 2, 3}, key); err != nil {
				t.Fatal(err)
			}
		}
		w := sc.newWorker(t, nil, func(c *worker.Config) { c.Batch = 2 })
		st, err := w.Cycle(ctx)
		if err != nil || st.OK != 3 || st.Deactivated != 2 || st.Claimed != 5 || st.Done() != 5 || st.Remaining() != 0 {
			t.Fatalf("%+v, %v", st, err)
		}
		if s := worker.Summary(st); !strings.Contains(s, "deactivated 2") {
			t.Fatalf("summary:\n%s", s)
		}
		if tn := sc.tenant(t, 2); tn.Status != store.StatusActive {
			t.Fatalf("untouched tenant: %+v", tn.TenantSummary)
		}
	})
}
