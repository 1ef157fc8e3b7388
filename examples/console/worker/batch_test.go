package worker_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
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
		if err != nil {
			t.Fatal(err)
		}
		if st.OK != n-1 || st.StoreErrors != 1 {
			t.Fatalf("stats %+v; want %d recorded and 1 store error", st, n-1)
		}
		for i := range n {
			tn := sc.tenant(t, i)
			if recorded := tn.LastOutcome == store.OutcomeOK && tn.LeaseOwner == ""; recorded == (i == 3) {
				t.Errorf("%s: outcome %q, lease owner %q", tn.ContextIdentifier, tn.LastOutcome, tn.LeaseOwner)
			}
		}
	})
}

// refuseResult makes db refuse, with an error, any write of result as a
// tenant's last result.
func refuseResult(t *testing.T, db *database, result string) {
	t.Helper()
	driver, stmts := "sqlite", []string{
		`CREATE TRIGGER refuse BEFORE UPDATE OF last_result ON tenants WHEN NEW.last_result = '` + result + `'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
	}
	if store.IsPostgres(db.dsn) {
		driver, stmts = "pgx", []string{
			`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.last_result = '` + result + `' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION refuse()`,
		}
	}
	conn, err := sql.Open(driver, db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
