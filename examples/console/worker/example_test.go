package worker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
	"github.com/go-superoffice/superoffice/tenant/webapi"
)

// A cycle over three tenants that approved the app, with a job of one's
// own: it runs as each tenant's system user.
func ExampleWorker_Cycle() {
	ctx := context.Background()
	srv := superidtest.NewServer(superidtest.WithKeySize(1024), superidtest.WithRequestLogLimit(0))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "worker-example-")
	defer os.RemoveAll(dir)
	st, _ := store.Open(ctx, filepath.Join(dir, "app.db"), store.GenerateSealKey())
	defer st.Close()
	app, _ := demo.NewApp("example-app", 1024)
	_ = app.Register(srv.Emulator)
	_ = demo.AddTenants(ctx, srv.Emulator, st, app, 0, 3, time.Now())

	su, _ := systemuser.New(systemuser.Config{Environment: srv.Environment(), ClientSecret: app.ClientSecret, PrivateKey: app.PrivateKey})
	res, _ := tenant.NewResolver(tenant.ResolverConfig{Environment: srv.Environment()})
	w, err := worker.New(worker.Config{
		Store: st, SystemUser: su, Resolver: res, ApplicationToken: app.ClientSecret,
		Job: worker.JobFunc(func(ctx context.Context, t *worker.Tenant) (string, error) {
			me, err := webapi.New(t.Client).UserAgent.CurrentPrincipal(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("signed in as associate %d", me.AssociateID), nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	stats, err := w.Cycle(ctx)
	fmt.Println(stats.OK, "ok,", stats.Failed, "failed,", err)
	tn, _ := st.Tenant(ctx, demo.ContextID(0))
	fmt.Println(tn.ContextIdentifier, tn.LastOutcome, tn.LastResult)
	// Output:
	// 3 ok, 0 failed, <nil>
	// Cust10000 ok signed in as associate 1
}
