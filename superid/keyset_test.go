package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/superid"
	"github.com/go-superoffice/superoffice/superid/superidtest"
)

// clock is a settable time source for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func parseWith(ctx context.Context, ks *superid.KeySet, raw string) error {
	_, err := jwt.Parse(raw, ks.Keyfunc(ctx), jwt.WithValidMethods([]string{"RS256"}))
	return err
}

func signed(t testing.TB, srv *superidtest.Server) string {
	t.Helper()
	raw, err := srv.SignJWT(map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	return raw
}

func TestKeySetMatchesX5TOnly(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	raw := signed(t, srv)
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	require.NoError(t, err)
	require.NotContains(t, tok.Header, "kid", "this test needs a token with x5t only")
	require.Contains(t, tok.Header, "x5t")
	assert.NoError(t, parseWith(context.Background(), ks, raw))
}

// A key given by its certificate alone (x5c, no n or e), as some of
// SuperID's key sets write it, verifies as well.
func TestKeySetCertificateOnlyKey(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.Environment().JWKSURL())
	require.NoError(t, err)
	var doc struct{ Keys []map[string]any }
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	require.NoError(t, err)
	require.NotEmpty(t, doc.Keys)
	require.NotNil(t, doc.Keys[0]["x5c"], "the emulator's keys carry x5c")
	for _, k := range doc.Keys {
		delete(k, "n")
		delete(k, "e")
	}
	body, _ := json.Marshal(doc)
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusOK, Body: string(body)})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	assert.NoError(t, parseWith(context.Background(), ks, signed(t, srv)), "certificate-only key")
}

func TestKeySetMatchesKID(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	assert.NoError(t, parseWith(context.Background(), ks, signed(t, srv)), "kid token")
}

func TestKeySetRotationFetchesOnce(t *testing.T) {
	for _, kid := range []bool{false, true} {
		t.Run(fmt.Sprintf("kid=%v", kid), func(t *testing.T) {
			var opts []superidtest.Option
			if kid {
				opts = append(opts, superidtest.WithKeyID())
			}
			srv := superidtest.NewServer(opts...)
			defer srv.Close()
			ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
			ctx := context.Background()
			require.NoError(t, parseWith(ctx, ks, signed(t, srv)))
			require.NoError(t, srv.RotateKey())
			raw := signed(t, srv)
			before := srv.Count(superidtest.EndpointJWKS)
			var wg sync.WaitGroup
			var failed atomic.Int32
			for range 100 {
				wg.Go(func() {
					if err := parseWith(ctx, ks, raw); err != nil {
						failed.Add(1)
						t.Log(err)
					}
				})
			}
			wg.Wait()
			assert.Zero(t, failed.Load(), "verifications of 100 that failed after a rotation")
			assert.Equal(t, 1, srv.Count(superidtest.EndpointJWKS)-before, "key set fetches after a rotation")
		})
	}
}

// foreignToken is signed by a key SuperID never published, under the
// given header ids.
func foreignToken(t testing.TB, key *rsa.PrivateKey, kid, x5t string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "x"})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	if x5t != "" {
		tok.Header["x5t"] = x5t
	}
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

func TestKeySetUnknownKeyFloodIsRateLimited(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	ctx := context.Background()
	require.NoError(t, parseWith(ctx, ks, signed(t, srv)))
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	flood := func() int {
		before := srv.Count(superidtest.EndpointJWKS)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				raw := foreignToken(t, key, fmt.Sprintf("kid-%d-%d", i, time.Now().UnixNano()), fmt.Sprintf("x5t-%d", i))
				assert.ErrorIs(t, parseWith(ctx, ks, raw), superid.ErrUnknownKey, "random key id")
			})
		}
		wg.Wait()
		return srv.Count(superidtest.EndpointJWKS) - before
	}
	assert.LessOrEqual(t, flood(), 1, "fetches for a flood of unknown keys")
	assert.Zero(t, flood(), "fetches for a second flood within the interval")
	clk.Add(31 * time.Second)
	assert.Equal(t, 1, flood(), "fetches for a flood after the interval")
	// A known key still verifies without a fetch during the flood's aftermath.
	before := srv.Count(superidtest.EndpointJWKS)
	assert.NoError(t, parseWith(ctx, ks, signed(t, srv)), "known key")
	assert.Equal(t, before, srv.Count(superidtest.EndpointJWKS), "fetches for a known key")
}

func TestKeySetWaitEndsWithCallerContext(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	gate := make(chan struct{})
	started := make(chan struct{}, 8)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-gate // the key endpoint answers once the impatient caller has left
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	ks := superid.NewKeySet(hs.URL+"/login/.well-known/jwks", hs.Client())
	raw := signed(t, srv)

	impatient, cancel := context.WithCancel(context.Background())
	impatientErr := make(chan error, 1)
	go func() { impatientErr <- parseWith(impatient, ks, raw) }()
	<-started // the impatient caller's fetch is in flight
	patientErr := make(chan error, 1)
	go func() { patientErr <- parseWith(context.Background(), ks, raw) }()
	cancel()
	err := <-impatientErr // returns while the fetch still hangs
	assert.ErrorIs(t, err, superid.ErrKeySet, "impatient caller")
	assert.ErrorIs(t, err, context.Canceled, "impatient caller")
	close(gate)
	assert.NoError(t, <-patientErr, "patient caller failed because another gave up")
	assert.Len(t, started, 0, "a second fetch")
}

func TestKeySetFetchFailure(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusServiceUnavailable})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	raw := signed(t, srv)
	for range 3 {
		err := parseWith(context.Background(), ks, raw)
		require.ErrorIs(t, err, superid.ErrKeySet)
		var e *superid.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
	}
	assert.Equal(t, 1, srv.Count(superidtest.EndpointJWKS), "fetches of a failing endpoint within the backoff")
	srv.ClearFaults()
	clk.Add(2 * time.Second)
	assert.NoError(t, parseWith(context.Background(), ks, raw), "after recovery")
}

// TestKeySetTriesEveryKeyWithoutIDs serves keys without kid, x5t or x5c,
// so a token's x5t cannot be compared and every RSA key is tried.
func TestKeySetTriesEveryKeyWithoutIDs(t *testing.T) {
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},%s,%s,{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`, jwkJSON(k1), jwkJSON(k2))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(jwks))
	}))
	defer hs.Close()
	ks := superid.NewKeySet(hs.URL, hs.Client())
	assert.NoError(t, parseWith(context.Background(), ks, foreignToken(t, k2, "", "some-x5t")), "token by the second key")
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	assert.ErrorIs(t, parseWith(context.Background(), ks, foreignToken(t, other, "", "")), jwt.ErrTokenSignatureInvalid, "token by a foreign key")
}

func jwkJSON(k *rsa.PrivateKey) string {
	return fmt.Sprintf(`{"kty":"RSA","n":%q,"e":"AQAB"}`, base64.RawURLEncoding.EncodeToString(k.N.Bytes()))
}

func TestKeySetRefetchesAfterADay(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	ctx := context.Background()
	old := signed(t, srv)
	require.NoError(t, parseWith(ctx, ks, old))
	require.NoError(t, srv.RotateKey())
	srv.RetireKeys()
	clk.Add(time.Hour)
	require.NoError(t, parseWith(ctx, ks, old), "within the day")
	require.Equal(t, 1, srv.Count(superidtest.EndpointJWKS), "fetches within the day")
	clk.Add(24 * time.Hour)
	// The day-old set still serves while the new one is fetched in the
	// background; once it is in, the withdrawn key no longer verifies.
	assert.NoError(t, parseWith(ctx, ks, old), "old set while it is renewed")
	superid.WaitKeySetFetch(ks)
	assert.Equal(t, 2, srv.Count(superidtest.EndpointJWKS), "fetches")
	assert.ErrorIs(t, parseWith(ctx, ks, old), superid.ErrUnknownKey, "withdrawn key after a day")
	// While SuperID is down, the old set keeps working, and is asked for
	// again at most once per refresh interval.
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusBadGateway})
	clk.Add(25 * time.Hour)
	before := srv.Count(superidtest.EndpointJWKS)
	for range 5 {
		assert.NoError(t, parseWith(ctx, ks, signed(t, srv)), "stale set while the endpoint fails")
		superid.WaitKeySetFetch(ks)
	}
	assert.Equal(t, 1, srv.Count(superidtest.EndpointJWKS)-before, "fetches of a failing endpoint within the interval")
	clk.Add(31 * time.Second)
	assert.NoError(t, parseWith(ctx, ks, signed(t, srv)), "stale set while the endpoint fails")
	superid.WaitKeySetFetch(ks)
	assert.Equal(t, 2, srv.Count(superidtest.EndpointJWKS)-before, "fetches after the interval")
}

// A day-old key set is renewed in the background: while the key endpoint
// hangs, verifications go on with the keys held instead of waiting for it,
// only one fetch runs, and that fetch ends by its own timeout.
func TestKeySetRenewalDoesNotBlock(t *testing.T) {
	hs := httptest.NewUnstartedServer(nil)
	em, err := superidtest.New("http://" + hs.Listener.Addr().String())
	must(t, err)
	var gate atomic.Pointer[chan struct{}] // non-nil: JWKS requests hang until it closes
	var fetches atomic.Int32
	hs.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if g := gate.Load(); g != nil {
			select {
			case <-*g:
			case <-r.Context().Done():
			}
			return
		}
		em.ServeHTTP(w, r)
	})
	hs.Start()
	defer hs.Close()
	hang := func() chan struct{} {
		g := make(chan struct{})
		gate.Store(&g)
		return g
	}

	ks := superid.NewKeySet(em.Environment().JWKSURL(), hs.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	superid.SetKeySetFetchTimeout(ks, time.Minute)
	raw, err := em.SignJWT(map[string]any{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	must(t, err)
	must(t, parseWith(context.Background(), ks, raw))

	clk.Add(25 * time.Hour)
	g1 := hang()
	done := make(chan error, 20)
	for range 20 {
		go func() { done <- parseWith(context.Background(), ks, raw) }()
	}
	for range 20 { // all answer while the key endpoint still hangs
		assert.NoError(t, <-done, "verification during the renewal")
	}
	close(g1)
	superid.WaitKeySetFetch(ks)
	assert.Equal(t, int32(2), fetches.Load(), "fetches: the first load and one renewal")

	// A renewal that hangs gives up by its own timeout; its goroutine is
	// gone, and the next one waits for the refresh interval.
	g2 := hang()
	defer close(g2)
	superid.SetKeySetFetchTimeout(ks, 100*time.Millisecond)
	clk.Add(31 * time.Second)
	must(t, parseWith(context.Background(), ks, raw))
	superid.WaitKeySetFetch(ks) // returns once the hung renewal gave up, gate still closed
	must(t, parseWith(context.Background(), ks, raw))
	superid.WaitKeySetFetch(ks)
	assert.Equal(t, int32(3), fetches.Load(), "fetches")
}

// A KeySet not made by NewKeySet answers with an error, not a panic.
func TestKeySetZeroValue(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	raw := signed(t, srv)
	var nilSet *superid.KeySet
	for name, ks := range map[string]*superid.KeySet{"zero": {}, "nil": nilSet} {
		assert.ErrorIs(t, parseWith(context.Background(), ks, raw), superid.ErrKeySet, name)
	}
}
