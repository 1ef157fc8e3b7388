package worker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

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
		if err != nil {
			t.Fatal(err)
		}
		if st.StoreErrors != 0 || st.OK != n-2 || st.Retried != 1 || st.Failed != 1 {
			t.Fatalf("stats %+v", st)
		}
		wants := map[int]store.Outcome{0: store.OutcomeRetry, 1: store.OutcomeFailed}
		for i := range n {
			tn := sc.tenant(t, i)
			want, ok := wants[i]
			if !ok {
				want = store.OutcomeOK
			}
			if tn.LastOutcome != want || tn.LeaseOwner != "" {
				t.Errorf("%s: outcome %q, lease owner %q; want %q and no lease", tn.ContextIdentifier, tn.LastOutcome, tn.LeaseOwner, want)
			}
		}
		if tn := sc.tenant(t, 0); !strings.Contains(tn.LastError, "503") || !strings.Contains(tn.LastError, "xxx") {
			t.Errorf("tenant 0's error %q", tn.LastError)
		}
		if tn := sc.tenant(t, 1); !strings.Contains(tn.LastError, "is required") {
			t.Errorf("tenant 1's error %q", tn.LastError)
		}
		if tn := sc.tenant(t, 2); !strings.HasPrefix(tn.LastResult, "created company") {
			t.Errorf("tenant 2's result %q", tn.LastResult)
		}
	})
}
