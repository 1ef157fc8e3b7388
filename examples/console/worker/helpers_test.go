package worker_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/console/demo"
	"github.com/go-superoffice/superoffice/examples/console/worker"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/examples/internal/storetest"
	"github.com/go-superoffice/superoffice/superid/superidtest"
	"github.com/go-superoffice/superoffice/systemuser"
	"github.com/go-superoffice/superoffice/tenant"
)

// clock is a settable test clock, shared by the emulator, the store and
// the worker: tests move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// database is one database a test runs against; open gives a new handle
// on it, as a separate process would have.
type database struct {
	name string
	dsn  string
	key  []byte
}

func (d *database) open(t testing.TB, now func() time.Time) *store.Store {
	t.Helper()
	s, err := store.OpenConfig(context.Background(), store.Config{DSN: d.dsn, SealKey: d.key, Now: now, MaxOpenConns: 20})
	require.NoError(t, err, "open %s", d.name)
	t.Cleanup(func() { s.Close() })
	return s
}

func sqliteDB(t testing.TB) *database {
	return &database{name: "sqlite", dsn: filepath.Join(t.TempDir(), "console.db"), key: store.GenerateSealKey()}
}

// postgresDB gives the test a schema of its own in TEST_DATABASE_URL,
// dropped afterwards. Without TEST_DATABASE_URL the test is skipped, except
// under CI=true, where that is a failure.
func postgresDB(t testing.TB) *database {
	t.Helper()
	return &database{name: "postgres", dsn: storetest.PostgresDSN(t, "console_"), key: store.GenerateSealKey()}
}

// eachDB runs f against SQLite and PostgreSQL.
func eachDB(t *testing.T, f func(t *testing.T, db *database)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteDB(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresDB(t)) })
}

// scenario is an emulator with n approved tenants stored in db.
type scenario struct {
	srv   *superidtest.Server
	app   *demo.App
	db    *database
	st    *store.Store
	clock *clock
	n     int
}

type setupOpts struct {
	keyBits    int  // 0: 1024, to keep tests quick
	requestLog bool // keep the emulator's request log
	realClock  bool
	emulator   []superidtest.Option // more options for the emulator
}

func setup(t testing.TB, db *database, n int, o setupOpts) *scenario {
	t.Helper()
	bits := o.keyBits
	if bits == 0 {
		bits = 1024
	}
	c := &clock{t: time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)}
	now := c.Now
	if o.realClock {
		now = time.Now
	}
	opts := []superidtest.Option{superidtest.WithKeySize(bits), superidtest.WithClock(now)}
	if !o.requestLog {
		opts = append(opts, superidtest.WithRequestLogLimit(0))
	}
	srv := superidtest.NewServer(append(opts, o.emulator...)...)
	t.Cleanup(srv.Close)
	app, err := demo.NewApp("console-test", bits)
	require.NoError(t, err)
	require.NoError(t, app.Register(srv.Emulator))
	sc := &scenario{srv: srv, app: app, db: db, clock: c, n: n}
	sc.st = db.open(t, sc.now())
	require.NoError(t, demo.AddTenants(context.Background(), srv.Emulator, sc.st, app, 0, n, now()))
	if o.realClock {
		sc.clock = nil
	}
	return sc
}

func (sc *scenario) now() func() time.Time {
	if sc.clock == nil {
		return time.Now
	}
	return sc.clock.Now
}

// newWorker is one console instance: its own store handle, ticket cache
// and resolver, as a separate process would have.
func (sc *scenario) newWorker(t testing.TB, logger *slog.Logger, mod func(*worker.Config)) *worker.Worker {
	t.Helper()
	cfg := sc.workerConfig(t, logger)
	if mod != nil {
		mod(&cfg)
	}
	w, err := worker.New(cfg)
	require.NoError(t, err)
	return w
}

// workerConfig is newWorker's configuration, for a test to change.
func (sc *scenario) workerConfig(t testing.TB, logger *slog.Logger) worker.Config {
	t.Helper()
	hc := httpClient()
	su, err := systemuser.New(systemuser.Config{
		Environment:  sc.srv.Environment(),
		ClientSecret: sc.app.ClientSecret,
		PrivateKey:   sc.app.PrivateKey,
		HTTPClient:   hc,
		Logger:       logger,
		Now:          sc.nowOrNil(),
		Retry:        systemuser.RetryPolicy{MaxRetries: -1},
	})
	require.NoError(t, err)
	res, err := tenant.NewResolver(tenant.ResolverConfig{Environment: sc.srv.Environment(), HTTPClient: hc, Logger: logger,
		Now: sc.nowOrNil(), Retry: tenant.RetryPolicy{MaxRetries: -1}})
	require.NoError(t, err)
	return worker.Config{
		Store:            sc.db.open(t, sc.now()),
		SystemUser:       su,
		Resolver:         res,
		ApplicationToken: sc.app.ClientSecret,
		HTTPClient:       hc,
		TenantRetry:      tenant.RetryPolicy{MaxRetries: -1},
		Workers:          4,
		Logger:           logger,
		Now:              sc.nowOrNil(),
	}
}

func (sc *scenario) nowOrNil() func() time.Time {
	if sc.clock == nil {
		return nil
	}
	return sc.clock.Now
}

// tenant reads demo tenant i from the store.
func (sc *scenario) tenant(t testing.TB, i int) *store.Tenant {
	t.Helper()
	tn, err := sc.st.Tenant(context.Background(), demo.ContextID(i))
	require.NoError(t, err)
	return tn
}

// httpClient keeps enough idle connections for every worker and, like
// the console's, has no Timeout: the worker's contexts bound every call.
func httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}
