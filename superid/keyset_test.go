package superid_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

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
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestKeySetMatchesX5TOnly(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	raw := signed(t, srv)
	tok, _, _ := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if _, ok := tok.Header["kid"]; ok {
		t.Fatal("emulator token carries a kid; this test needs x5t only")
	}
	if err := parseWith(context.Background(), ks, raw); err != nil {
		t.Fatalf("x5t-only token refused: %v", err)
	}
}

// A key given by its certificate alone (x5c, no n or e), as some of
// SuperID's key sets write it, verifies as well.
func TestKeySetCertificateOnlyKey(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.Environment().JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Keys []map[string]any }
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || len(doc.Keys) == 0 || doc.Keys[0]["x5c"] == nil {
		t.Fatalf("the emulator's key set: %v, %v", doc, err)
	}
	for _, k := range doc.Keys {
		delete(k, "n")
		delete(k, "e")
	}
	body, _ := json.Marshal(doc)
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusOK, Body: string(body)})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	if err := parseWith(context.Background(), ks, signed(t, srv)); err != nil {
		t.Fatalf("certificate-only key refused: %v", err)
	}
}

func TestKeySetMatchesKID(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	if err := parseWith(context.Background(), ks, signed(t, srv)); err != nil {
		t.Fatalf("kid token refused: %v", err)
	}
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
			if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
				t.Fatal(err)
			}
			if err := srv.RotateKey(); err != nil {
				t.Fatal(err)
			}
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
			if n := failed.Load(); n != 0 {
				t.Errorf("%d of 100 verifications failed after a rotation", n)
			}
			if got := srv.Count(superidtest.EndpointJWKS) - before; got != 1 {
				t.Errorf("rotation caused %d key set fetches, want exactly 1", got)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestKeySetUnknownKeyFloodIsRateLimited(t *testing.T) {
	srv := superidtest.NewServer(superidtest.WithKeyID())
	defer srv.Close()
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	clk := newClock()
	superid.SetKeySetClock(ks, clk.Now)
	ctx := context.Background()
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
		t.Fatal(err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	flood := func() int {
		before := srv.Count(superidtest.EndpointJWKS)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				raw := foreignToken(t, key, fmt.Sprintf("kid-%d-%d", i, time.Now().UnixNano()), fmt.Sprintf("x5t-%d", i))
				if err := parseWith(ctx, ks, raw); !errors.Is(err, superid.ErrUnknownKey) {
					t.Errorf("random key id: got %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
		return srv.Count(superidtest.EndpointJWKS) - before
	}
	if got := flood(); got > 1 {
		t.Errorf("flood of unknown keys caused %d fetches, want at most 1", got)
	}
	if got := flood(); got != 0 {
		t.Errorf("second flood within the interval caused %d fetches, want 0", got)
	}
	clk.Add(31 * time.Second)
	if got := flood(); got != 1 {
		t.Errorf("flood after the interval caused %d fetches, want 1", got)
	}
	// A known key still verifies without a fetch during the flood's aftermath.
	before := srv.Count(superidtest.EndpointJWKS)
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil || srv.Count(superidtest.EndpointJWKS) != before {
		t.Errorf("known key: err %v, fetches %d", err, srv.Count(superidtest.EndpointJWKS)-before)
	}
}

func TestKeySetWaitEndsWithCallerContext(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Delay: 300 * time.Millisecond, Times: 1})
	ks := superid.NewKeySet(srv.Environment().JWKSURL(), srv.Client())
	raw := signed(t, srv)

	impatient, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	patientErr := make(chan error, 1)
	go func() { patientErr <- parseWith(context.Background(), ks, raw) }()
	start := time.Now()
	err := parseWith(impatient, ks, raw)
	if !errors.Is(err, superid.ErrKeySet) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: got %v, want ErrKeySet wrapping the deadline", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("impatient caller waited %v, past its context", d)
	}
	if err := <-patientErr; err != nil {
		t.Errorf("patient caller failed because another gave up: %v", err)
	}
	if n := srv.Count(superidtest.EndpointJWKS); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
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
		var e *superid.Error
		if !errors.Is(err, superid.ErrKeySet) || !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("got %v, want ErrKeySet with status 503", err)
		}
	}
	if n := srv.Count(superidtest.EndpointJWKS); n != 1 {
		t.Errorf("failing endpoint fetched %d times within the backoff, want 1", n)
	}
	srv.ClearFaults()
	clk.Add(2 * time.Second)
	if err := parseWith(context.Background(), ks, raw); err != nil {
		t.Errorf("after recovery: %v", err)
	}
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
	if err := parseWith(context.Background(), ks, foreignToken(t, k2, "", "some-x5t")); err != nil {
		t.Errorf("token by the second key: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if err := parseWith(context.Background(), ks, foreignToken(t, other, "", "")); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("token by a foreign key: got %v, want a signature error", err)
	}
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
	if err := parseWith(ctx, ks, old); err != nil {
		t.Fatal(err)
	}
	if err := srv.RotateKey(); err != nil {
		t.Fatal(err)
	}
	srv.RetireKeys()
	clk.Add(time.Hour)
	if err := parseWith(ctx, ks, old); err != nil || srv.Count(superidtest.EndpointJWKS) != 1 {
		t.Fatalf("within the day: %v, %d fetches", err, srv.Count(superidtest.EndpointJWKS))
	}
	clk.Add(24 * time.Hour)
	// The day-old set still serves while the new one is fetched in the
	// background; once it is in, the withdrawn key no longer verifies.
	if err := parseWith(ctx, ks, old); err != nil {
		t.Errorf("old set while it is renewed: %v", err)
	}
	superid.WaitKeySetFetch(ks)
	if n := srv.Count(superidtest.EndpointJWKS); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	if err := parseWith(ctx, ks, old); !errors.Is(err, superid.ErrUnknownKey) {
		t.Errorf("withdrawn key after a day: got %v, want ErrUnknownKey", err)
	}
	// While SuperID is down, the old set keeps working, and is asked for
	// again at most once per refresh interval.
	srv.Fail(superidtest.EndpointJWKS, superidtest.Fault{Status: http.StatusBadGateway})
	clk.Add(25 * time.Hour)
	before := srv.Count(superidtest.EndpointJWKS)
	for range 5 {
		if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
			t.Errorf("stale set while the endpoint fails: %v", err)
		}
		superid.WaitKeySetFetch(ks)
	}
	if n := srv.Count(superidtest.EndpointJWKS) - before; n != 1 {
		t.Errorf("%d fetches of a failing endpoint within the interval, want 1", n)
	}
	clk.Add(31 * time.Second)
	if err := parseWith(ctx, ks, signed(t, srv)); err != nil {
		t.Errorf("stale set while the endpoint fails: %v", err)
	}
	superid.WaitKeySetFetch(ks)
	if n := srv.Count(superidtest.EndpointJWKS) - before; n != 2 {
		t.Errorf("%d fetches after the interval, want 2", n)
	}
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
	timeout := time.After(5 * time.Second)
	for range 20 {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("verification during the renewal: %v", err)
			}
		case <-timeout:
			close(g1)
			t.Fatal("verifications wait for the hung key endpoint")
		}
	}
	close(g1)
	superid.WaitKeySetFetch(ks)
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (the first load and one renewal)", n)
	}

	// A renewal that hangs gives up by its own timeout; its goroutine is
	// gone, and the next one waits for the refresh interval.
	g2 := hang()
	defer close(g2)
	superid.SetKeySetFetchTimeout(ks, 100*time.Millisecond)
	clk.Add(31 * time.Second)
	must(t, parseWith(context.Background(), ks, raw))
	finished := make(chan struct{})
	go func() { superid.WaitKeySetFetch(ks); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("the renewal outlived its timeout")
	}
	must(t, parseWith(context.Background(), ks, raw))
	superid.WaitKeySetFetch(ks)
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

// A KeySet not made by NewKeySet answers with an error, not a panic.
func TestKeySetZeroValue(t *testing.T) {
	srv := superidtest.NewServer()
	defer srv.Close()
	raw := signed(t, srv)
	var nilSet *superid.KeySet
	for name, ks := range map[string]*superid.KeySet{"zero": {}, "nil": nilSet} {
		if err := parseWith(context.Background(), ks, raw); !errors.Is(err, superid.ErrKeySet) {
			t.Errorf("%s key set: got %v, want ErrKeySet", name, err)
		}
	}
}
