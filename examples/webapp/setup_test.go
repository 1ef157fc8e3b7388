package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/examples/internal/storetest"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/go-superoffice/superoffice/examples/internal/config"
	"github.com/go-superoffice/superoffice/examples/internal/local"
	"github.com/go-superoffice/superoffice/examples/internal/store"
	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// harness is the web app against the emulator, both on loopback ports, as
// local mode runs them, with a store in a temporary directory (or a
// private PostgreSQL schema).
type harness struct {
	t      *testing.T
	cfg    *config.Config
	em     *superidtest.Emulator
	st     *store.Store
	app    *Server
	appURL string
	log    *syncBuffer
	seen   *recorder // credentials that crossed the app's HTTP client

	emHandler *swapHandler
	emOpts    []superidtest.Option
	transport http.RoundTripper // the browsers' way to the app (and the emulator)
}

type harnessOptions struct {
	headless bool   // the emulator signs the login_hint user in without a page
	dsn      string // empty: SQLite in t.TempDir()
	tls      bool   // the app serves https, its redirect URL says so
	// actionTimeout is Options.ActionTimeout.
	actionTimeout time.Duration
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" }, t.TempDir())
	require.NoError(t, err)
	emSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(emSrv.Close)
	appSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(appSrv.Close)
	appURL := "http://" + appSrv.Listener.Addr().String()
	if o.tls {
		appURL = "https://" + appSrv.Listener.Addr().String()
	}
	cfg.Environment = superid.Environment("http://" + emSrv.Listener.Addr().String())
	cfg.RedirectURL = appURL + "/callback"

	var opts []superidtest.Option
	if o.headless {
		opts = append(opts, superidtest.WithHeadlessLogin())
	}
	em, err := local.NewEmulator(cfg, opts...)
	require.NoError(t, err)
	emHandler := &swapHandler{}
	emHandler.em.Store(em)
	emSrv.Config.Handler = emHandler
	emSrv.Start()

	logBuf := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dsn := o.dsn
	if dsn == "" {
		dsn = filepath.Join(t.TempDir(), "webapp.db")
	}
	st, err := store.OpenConfig(context.Background(), store.Config{DSN: dsn, SealKey: cfg.SealKey, Logger: logger})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })

	seen := &recorder{}
	app, err := NewServer(Options{
		Config: cfg, Store: st, Logger: logger,
		HTTPClient:    &http.Client{Transport: seen},
		AllTenants:    true, // as in local mode
		ActionTimeout: o.actionTimeout,
	})
	require.NoError(t, err)
	appSrv.Config.Handler = app
	transport := http.DefaultTransport
	if o.tls {
		appSrv.StartTLS()
		transport = appSrv.Client().Transport // trusts the test certificate
	} else {
		appSrv.Start()
	}
	return &harness{t: t, cfg: cfg, em: em, st: st, app: app, appURL: appURL, log: logBuf, seen: seen,
		emHandler: emHandler, emOpts: opts, transport: transport}
}

// swapHandler serves the current emulator, so that a test can restart it.
type swapHandler struct {
	em atomic.Pointer[superidtest.Emulator]
}

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.em.Load().ServeHTTP(w, r) }

// restartEmulator replaces the emulator by a new one, as a restart of the
// program in local mode does: same app, tenant and users, the stored
// approvals restored, and every sign-in, token and ticket forgotten.
func (h *harness) restartEmulator() {
	h.t.Helper()
	em, err := local.NewEmulator(h.cfg, h.emOpts...)
	require.NoError(h.t, err)
	_, err = local.RestoreApprovals(context.Background(), em, h.st, h.cfg.ClientID)
	require.NoError(h.t, err)
	h.emHandler.em.Store(em)
	h.em = em
}

// syncBuffer is a log destination for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder is the app's transport: it passes requests on and keeps every
// credential it sees go by (tokens in JSON answers, Authorization values),
// so that tests can look for them where they must not be.
type recorder struct {
	mu     sync.Mutex
	values []string
	// tenantCalls, when set, hears of each request to the demo tenant's
	// API as it is sent (watchTenantCalls).
	tenantCalls chan struct{}
}

// watchTenantCalls returns a channel that hears of the app's next request
// to the demo tenant's API as it is sent, so that a test can act while
// that request is under way.
func (h *harness) watchTenantCalls() <-chan struct{} {
	ch := make(chan struct{}, 1)
	h.seen.mu.Lock()
	h.seen.tenantCalls = ch
	h.seen.mu.Unlock()
	return ch
}

var credentialFields = []string{"access_token", "refresh_token", "id_token", "Token", "SignedSystemToken"}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/"+local.DemoContextID+"/api/") {
		r.mu.Lock()
		if r.tenantCalls != nil {
			select {
			case r.tenantCalls <- struct{}{}:
			default:
			}
		}
		r.mu.Unlock()
	}
	if a := req.Header.Get("Authorization"); a != "" {
		if _, v, ok := strings.Cut(a, " "); ok {
			r.add(v)
		}
	}
	if req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.addJSON(body)
		if form, err := url.ParseQuery(string(body)); err == nil {
			for _, k := range []string{"code", "code_verifier", "refresh_token", "client_secret"} {
				r.add(form.Get(k))
			}
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.addJSON(body)
	return resp, nil
}

func (r *recorder) addJSON(body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return
	}
	for _, k := range credentialFields {
		if v, ok := m[k].(string); ok {
			r.add(v)
		}
	}
}

func (r *recorder) add(v string) {
	if len(v) < 8 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values = append(r.values, v)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.values...)
}

// browser is a cookie-keeping client, like a browser tab.
type browser struct {
	h      *harness
	client *http.Client
	jar    *cookiejar.Jar
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, jar: jar, client: &http.Client{Jar: jar, Transport: h.transport}}
}

// page is an answer, read whole.
type page struct {
	status int
	header http.Header
	body   string
	url    string
}

func (b *browser) do(req *http.Request, follow bool) page {
	b.h.t.Helper()
	c := *b.client
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := c.Do(req)
	require.NoError(b.h.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL.String()}
}

func (b *browser) get(path string) page {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.h.appURL+path, nil)
	require.NoError(b.h.t, err)
	return b.do(req, true)
}

// post sends a same-origin form, as the app's own pages do, and follows
// the redirect unless follow is false.
func (b *browser) post(path string, form url.Values, follow bool) page {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.h.appURL+path, strings.NewReader(form.Encode()))
	require.NoError(b.h.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.appURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req, follow)
}

// signIn signs user in through the headless emulator and returns the home
// page it lands on.
func (b *browser) signIn(user string) page {
	b.h.t.Helper()
	p := b.get("/login?login_hint=" + url.QueryEscape(user))
	return p
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF token on the page:\n%s", p.body)
	return m[1]
}

// sessionID is the browser's session cookie, or "".
func (b *browser) sessionID() string {
	u, err := url.Parse(b.h.appURL)
	require.NoError(b.h.t, err)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "session" || c.Name == "__Host-session" {
			return c.Value
		}
	}
	return ""
}

// admin and user are the demo users.
var admin, user = local.DemoUsers[0], local.DemoUsers[1]

// postgresDSN gives the test a private schema at TEST_DATABASE_URL, or
// skips (fails under CI=true) without one.
func postgresDSN(t *testing.T) string {
	t.Helper()
	return storetest.PostgresDSN(t, "webapp_")
}
